"""One Ibis code path, three engines: identical result tables on DuckDB, PostgreSQL and Spark.

A few thousand demo tickets (plus edge cases: unknown unit, merged, consult, excluded, a
month-boundary ticket) are loaded into SQLite, exported as canonical Parquet and, when
MEGACITY_TEST_DATABASE_URL is set, copied into a PostgreSQL database of this module.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, make_url, select, text

from megacity.assessment.backends import EngineName, open_tickets, spark_available
from megacity.assessment.engine import Result, run, source_window
from megacity.assessment.explain import Explanation, explain, explain_all
from megacity.assessment.rules import Options, Weights, month_indexes, parse_as_of
from megacity.bootstrap import bootstrap
from megacity.demo import generate
from megacity.services.demo_load import load_demo
from megacity.services.export import export_tickets
from megacity.settings import Settings
from megacity.store.database import init_database, normalise_url
from megacity.store.tables import tickets

PG_URL = os.environ.get("MEGACITY_TEST_DATABASE_URL")
EXPLAINED = ("110105", "D001")


@dataclass(frozen=True)
class Demo:
    sqlite_url: str
    parquet: Path
    pg_url: str | None


def _edge(n: int, received: datetime, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": f"edge-{n}",
        "received_at": received,
        "channel": "phone",
        "kind": "complaint",
        "urgency": "general",
        "title": "edge case",
        "text": "edge case",
        "district_code": "110105",
        "unit_code": "110105001",
        "dispatched_at": received + timedelta(hours=1),
        "contacted_at": received + timedelta(hours=25),  # exactly the 24 h limit after dispatch
        "callback_at": received + timedelta(days=2),
        "resolved": True,
        "satisfaction": "basically_satisfied",
        "excluded": False,
        "status": "closed",
        "deadline_provisional": False,
        "exclusion_state": "none",
        "extension_state": "none",
        "escalation": "none",
        "cohandlers": [],
        "overdue": False,
        "dispute_count": 0,
        "reopen_count": 0,
        "source": "test",
        "flags": [],
        "version": 1,
    }
    return row | over


EDGES = [
    _edge(1, datetime(2025, 10, 31, 16, 30, tzinfo=UTC)),  # 1 Nov 00:30 in Shanghai
    _edge(2, datetime(2025, 10, 31, 15, 59, 59, tzinfo=UTC)),  # 31 Oct 23:59:59
    _edge(3, datetime(2025, 11, 5, tzinfo=UTC), unit_code="X999", district_code="999999"),
    _edge(4, datetime(2025, 11, 5, tzinfo=UTC), status="merged"),
    _edge(5, datetime(2025, 11, 5, tzinfo=UTC), kind="consult"),
    _edge(6, datetime(2025, 11, 5, tzinfo=UTC), excluded=True, resolved=False),
    _edge(7, datetime(2025, 11, 5, tzinfo=UTC), urgency="emergency", resolved=None, satisfaction=None),
]


def _pg_database(worker: str) -> str:
    assert PG_URL
    base = make_url(normalise_url(PG_URL))
    name = f"{base.database}_assess_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    init_database(url)
    return url


def _copy_tickets(source_url: str, target_url: str) -> None:
    source, target = create_engine(source_url), create_engine(normalise_url(target_url))
    with source.connect() as src, target.begin() as dst:
        rows = [dict(r._mapping) for r in src.execute(select(tickets))]
        dst.execute(insert(tickets), rows)
    source.dispose()
    target.dispose()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Demo:
    folder = tmp_path_factory.mktemp("engines")
    url = f"sqlite:///{folder / 'demo.db'}"
    app = bootstrap(Settings(database_url=url, files_dir=folder / "files", environment="test"))
    load_demo(app=app, cases=generate(app.profile, count=1800, months=3, seed=7))
    with app.engine.begin() as conn:
        conn.execute(insert(tickets), EDGES)
    parquet = folder / "demo.parquet"
    export_tickets(app=app, path=parquet, format="parquet")
    pg_url = None
    if PG_URL:
        pg_url = _pg_database(worker_id)
        _copy_tickets(url, pg_url)
    return Demo(url, parquet, pg_url)


def options() -> Options:
    profile = bootstrap_profile()
    base = Options.build(
        profile,
        month_indexes(None, "2025-10:2025-12"),
        weights=Weights(0.2, 0.4, 0.4),
        as_of=parse_as_of("2025-12-20T12:00:00", profile.timezone),
    )
    return dataclasses.replace(base, min_rated=3, focus_count=5, basically_satisfied_weight=0.8)


def bootstrap_profile() -> Any:
    from megacity.profiles import load_profile

    return load_profile()


def compute(
    engine: EngineName, codes: tuple[str, ...] = EXPLAINED, **source: Any
) -> tuple[Result, list[Explanation]]:
    profile, opts = bootstrap_profile(), options()
    window = source_window(opts, profile.timezone)
    with open_tickets(engine=engine, timezone=profile.timezone, window=window, **source) as opened:
        result = run(opened, profile, opts)
        explained = [explain(opened.tickets, profile, opts, result, code) for code in codes]
    return result, explained


@pytest.fixture(scope="module")
def baseline(demo: Demo) -> tuple[Result, list[Explanation]]:
    return compute(EngineName.DUCKDB, tickets=demo.parquet, database=None)


def assert_identical(got: tuple[Result, list[Explanation]], want: tuple[Result, list[Explanation]]) -> None:
    result, explained = got
    assert result.columns == want[0].columns
    assert len(result.rows) == len(want[0].rows)
    for a, b in zip(result.rows, want[0].rows, strict=True):
        assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    for a_exp, b_exp in zip(explained, want[1][: len(explained)], strict=True):
        assert a_exp.tickets == b_exp.tickets
        assert a_exp.groups == b_exp.groups


def test_the_baseline_exercises_every_rule(baseline: tuple[Result, list[Explanation]]) -> None:
    result, explained = baseline
    rows = result.rows
    assert {r["month"] for r in rows} == {"2025-10", "2025-11", "2025-12"}
    assert {"district", "street", "department", "company", "district_gov", "unknown"} <= {
        r["unit_type"] for r in rows
    }
    assert any(r["rank"] for r in rows) and any(r["rank"] is None for r in rows)
    assert any(r["governance_focus"] for r in rows)
    assert {"entered", "stayed", "left"} & {r["focus_change"] for r in rows}
    assert any(r["rank_change"] for r in rows)
    assert sum(r["excluded"] for r in rows) > 0
    unknown = [r for r in rows if r["unit_code"] == "X999"]
    assert unknown and unknown[0]["unit_type"] == "unknown" and unknown[0]["rank"] is None
    assert explained[0].tickets  # the district 110105 lost points


def test_duckdb_reads_the_operational_database_like_the_file(
    demo: Demo, baseline: tuple[Result, list[Explanation]]
) -> None:
    assert_identical(compute(EngineName.DUCKDB, tickets=None, database=demo.sqlite_url), baseline)


def test_postgres_gives_the_identical_table(demo: Demo, baseline: tuple[Result, list[Explanation]]) -> None:
    if demo.pg_url is None:
        pytest.skip("PostgreSQL engine test needs MEGACITY_TEST_DATABASE_URL")
    assert_identical(compute(EngineName.POSTGRES, tickets=None, database=demo.pg_url), baseline)


def test_spark_gives_the_identical_table(demo: Demo, baseline: tuple[Result, list[Explanation]]) -> None:
    reason = spark_available()
    if reason:
        pytest.skip(f"Spark engine test: {reason}")
    assert_identical(compute(EngineName.SPARK, (), tickets=demo.parquet, database=None), baseline)


def test_one_pass_explains_every_unit_as_explaining_each_does(demo: Demo) -> None:
    """`explain_all` (what `megacity refresh` keeps for the ranking page) equals `explain` per code."""
    profile, opts = bootstrap_profile(), options()
    window = source_window(opts, profile.timezone)
    with open_tickets(
        engine=EngineName.DUCKDB,
        timezone=profile.timezone,
        window=window,
        tickets=demo.parquet,
        database=None,
    ) as o:
        result = run(o, profile, opts)
        every = explain_all(o.tickets, profile, opts, result)
        codes = sorted({str(r["unit_code"]) for r in result.rows})
        assert set(every) == set(codes)
        for code in codes:
            one = explain(o.tickets, profile, opts, result, code)
            assert every[code] == one, code
    assert sum(len(e.tickets) for e in every.values()) > 100  # a real test: many tickets lost points
