"""`megacity analyse forecast` as a user runs it (a real process) and GET /api/analysis/forecast
on a real server over SQLite and PostgreSQL: series, band alerts on an injected spike, the
backtest file, scoping and bad input."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from typer.testing import CliRunner

from megacity.bootstrap import Megacity
from megacity.cli import app as megacity_app
from megacity.io.rows import ParsedRow, empty_record
from megacity.services.bulk import import_rows

START = datetime(2022, 1, 3, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Beijing
WEEKS = 160
SPIKE_WEEK = WEEKS - 2


def weekly_rate(week: int, district: int) -> float:
    """A yearly cycle around 12 requests a week (district 1 gets half), slowly rising."""
    base = 12.0 + 6.0 * np.sin(2 * np.pi * week / (365.25 / 7)) + 0.02 * week
    return float(base) / (1 + district)


def synthetic_requests(
    category: str, districts: list[str], *, spike: bool
) -> Iterator[tuple[str, datetime, str, str]]:
    """(id, received_at, category, district); with `spike`, district 0 gets 40 more in SPIKE_WEEK."""
    rng = np.random.default_rng(8)
    for week in range(WEEKS):
        for d, district in enumerate(districts):
            count = int(rng.poisson(weekly_rate(week, d))) + (
                40 if spike and d == 0 and week == SPIKE_WEEK else 0
            )
            for n in range(count):
                moment = START + timedelta(weeks=week, minutes=int(rng.integers(0, 7 * 24 * 60 - 600)))
                yield f"f-{week}-{d}-{n}", moment, category, district


def megacity_cli(*args: str, cwd: Path, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "megacity", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_tickets(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ID", "Received At", "Category Code", "District Code", "text"])
        for category, spike in (("010201", True), ("020101", False)):
            for ident, moment, cat, district in synthetic_requests(
                category, ["110101", "110105"], spike=spike
            ):
                writer.writerow([f"{cat}-{ident}", moment.isoformat(), cat, district, "噪音扰民"])


def test_cli_forecasts_flags_the_spike_and_backtests_against_seasonal_naive(tmp_path: Path) -> None:
    source = tmp_path / "tickets.csv"
    write_tickets(source)
    out, scores = tmp_path / "f.csv", tmp_path / "b.csv"
    result = megacity_cli(
        "analyse", "forecast", "--tickets", str(source), "--by", "category,district",
        "--horizon", "6", "--out", str(out), "--backtest", str(scores), cwd=tmp_path,
    )  # fmt: skip
    assert result.stdout.startswith("series 4 weeks 160 alerts ")
    rows = rows_of(out)
    assert list(rows[0]) == [
        "category",
        "district",
        "week",
        "actual",
        "forecast",
        "lower",
        "upper",
        "alert",
        "method",
    ]
    spiked = [r for r in rows if (r["category"], r["district"]) == ("01", "110101") and r["actual"]]
    assert len(spiked) == 4  # the monitored weeks
    assert spiked[-2]["alert"] == "above", spiked
    ahead = [r for r in rows if not r["actual"]]
    assert len(ahead) == 4 * 6 and {r["method"] for r in ahead} == {"fourier-ets"}
    assert all(float(r["lower"]) <= float(r["forecast"]) <= float(r["upper"]) for r in ahead)
    board = rows_of(scores)
    assert [(r["category"], r["district"]) for r in board][-1] == ("ALL", "ALL")
    overall = board[-1]
    assert float(overall["mase_model"]) < float(overall["mase_snaive"]), overall
    assert "backtest series 4 MASE model" in result.stdout


def test_cli_bad_input_exits_2_with_one_error_line(tmp_path: Path) -> None:
    source = tmp_path / "tickets.csv"
    source.write_text("id,received_at,district_code\n1,2025-01-01T08:00:00+08:00,110101\n", encoding="utf-8")
    out = str(tmp_path / "f.csv")
    cases = [
        ("--tickets", str(source), "--database", "sqlite:///x.db", "--out", out),
        ("--out", out),
        ("--tickets", str(tmp_path / "missing.csv"), "--out", out),
        ("--tickets", str(source), "--by", "category", "--out", out),  # no category_code column
        ("--tickets", str(source), "--by", "street", "--out", out),
        ("--tickets", str(source), "--by", "district", "--out", out),  # no complete week
        ("--database", f"sqlite:///{tmp_path / 'none.db'}", "--out", out),
    ]
    for args in cases:  # in-process: the real process is exercised above, startup is slow
        result = CliRunner().invoke(megacity_app, ["analyse", "forecast", *args])
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)


def load(megacity: Megacity) -> None:
    def parsed() -> Iterator[ParsedRow]:
        for row, (ident, moment, category, district) in enumerate(
            synthetic_requests("010201", ["110101", "110105"], spike=True), start=1
        ):
            record = empty_record()
            record.update(id=ident, received_at=moment, channel="phone", kind="complaint", title="噪音")
            record.update(text="夜间施工噪音", category_code=category, district_code=district)
            yield ParsedRow(row, record)

    result = import_rows(app=megacity, rows=parsed(), actor="test")
    assert result.rejected == 0


def test_api_forecast_roles_scope_and_alerts(
    megacity: Megacity, login: Callable[[str], httpx.Client]
) -> None:
    load(megacity)
    answer = login("analyst").get("/api/analysis/forecast", params={"horizon": 3, "min_total": 10})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["dimensions"] == ["category", "district"] and body["history_weeks"] == WEEKS
    keys = [s["key"] for s in body["series"]]
    assert keys == [{"category": "01", "district": "110101"}, {"category": "01", "district": "110105"}]
    first = body["series"][0]["weeks"]
    assert [w["actual"] is None for w in first] == [False] * 4 + [True] * 3
    assert first[2]["alert"] == "above" and first[2]["actual"] > first[2]["upper"]
    assert body["alerts"] >= 1
    # A district reviewer sees their district only (110101 for `reviewer`).
    scoped = (
        login("reviewer").get("/api/analysis/forecast", params={"by": "district", "min_total": 10}).json()
    )
    assert [s["key"] for s in scoped["series"]] == [{"district": "110101"}]
    assert login("operator").get("/api/analysis/forecast").status_code == 403
    bad = login("analyst").get("/api/analysis/forecast", params={"by": "street"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "by"
    assert login("analyst").get("/api/analysis/forecast", params={"horizon": 0}).status_code == 422
