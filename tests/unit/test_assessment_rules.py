"""Every rule of the monthly assessment, on small hand-computed cases, through the DuckDB engine."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from megacity.assessment.backends import EngineName, open_tickets
from megacity.assessment.cohandling import cohandling
from megacity.assessment.engine import Result, assess, source_window
from megacity.assessment.engine import run as run_engine
from megacity.assessment.explain import explain
from megacity.assessment.rules import (
    FocusRule,
    Options,
    Weights,
    composite,
    month_indexes,
    month_windows,
    parse_as_of,
    round_for_ranking,
)
from megacity.domain.errors import ValidationError
from megacity.profiles import load_profile

PROFILE = load_profile()
# streets of 东城区 (110101, population estimates 41696 each), a town, a department
S1, S2, S3, S4 = "110101001", "110101002", "110101003", "110101004"
TOWN = "110106100"
DEPT = "D001"
FEB = datetime(2025, 2, 10, 2, 0, tzinfo=UTC)

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("kind", pa.string()),
        ("urgency", pa.string()),
        ("district_code", pa.string()),
        ("unit_code", pa.string()),
        ("category_code", pa.string()),
        ("dispatched_at", pa.timestamp("us", tz="UTC")),
        ("contacted_at", pa.timestamp("us", tz="UTC")),
        ("callback_at", pa.timestamp("us", tz="UTC")),
        ("resolved", pa.bool_()),
        ("satisfaction", pa.string()),
        ("excluded", pa.bool_()),
        ("status", pa.string()),
        ("repeat_of", pa.string()),
    ]
)

_ids = iter(range(1, 1_000_000))


def ticket(
    unit: str = S1,
    *,
    received: datetime = FEB,
    district: str | None = "110101",
    kind: str = "complaint",
    urgency: str = "general",
    dispatch: timedelta | None = timedelta(hours=1),
    contact: timedelta | None = timedelta(hours=2),
    callback: timedelta | None = timedelta(days=3),
    resolved: bool | None = True,
    satisfaction: str | None = "satisfied",
    excluded: bool = False,
    status: str = "closed",
    category: str = "010101",
) -> dict[str, Any]:
    """A ticket; `contact` counts from dispatch, `dispatch` and `callback` from receipt."""
    dispatched = received + dispatch if dispatch is not None else None
    return {
        "id": f"t{next(_ids):05d}",
        "received_at": received,
        "kind": kind,
        "urgency": urgency,
        "district_code": district,
        "unit_code": unit,
        "category_code": category,
        "dispatched_at": dispatched,
        "contacted_at": dispatched + contact if dispatched is not None and contact is not None else None,
        "callback_at": received + callback if callback is not None else None,
        "resolved": resolved,
        "satisfaction": satisfaction,
        "excluded": excluded,
        "status": status,
        "repeat_of": None,
    }


def run(tmp_path: Path, tickets: list[dict[str, Any]], month: str = "2025-02", **changes: Any) -> Result:
    path = tmp_path / f"t{next(_ids)}.parquet"
    pq.write_table(pa.Table.from_pylist(tickets, schema=SCHEMA), path)
    weights = changes.pop("weights", None)
    as_of = changes.pop("as_of", None)
    months = changes.pop("months", None)
    options = Options.build(
        PROFILE,
        month_indexes(None if months else month, months),
        weights=weights,
        as_of=parse_as_of(as_of, PROFILE.timezone) if as_of else None,
    )
    return assess(profile=PROFILE, options=dataclasses.replace(options, **changes), tickets=path)


def rows(result: Result, month: str = "2025-02") -> dict[str, dict[str, Any]]:
    return {r["unit_code"]: r for r in result.rows if r["month"] == month}


def test_month_is_the_local_month_of_shanghai(tmp_path: Path) -> None:
    tickets = [
        ticket(received=datetime(2025, 1, 31, 15, 59, 59, tzinfo=UTC)),  # 23:59:59 on 31 Jan: January
        ticket(received=datetime(2025, 1, 31, 16, 30, tzinfo=UTC)),  # 00:30 on 1 Feb: February
        ticket(received=datetime(2025, 2, 28, 15, 59, tzinfo=UTC)),  # 23:59 on 28 Feb: February
        ticket(received=datetime(2025, 2, 28, 16, 0, tzinfo=UTC)),  # 00:00 on 1 Mar: March
    ]
    result = run(tmp_path, tickets, months="2025-01:2025-03")
    assert [rows(result, m)[S1]["in_scope"] for m in ("2025-01", "2025-02", "2025-03")] == [1, 2, 1]
    window = month_windows([2025 * 12 + 1], "Asia/Shanghai")[0]
    assert window.start == datetime(2025, 1, 31, 16, tzinfo=UTC)


def test_the_response_limit_itself_is_on_time(tmp_path: Path) -> None:
    tickets = [
        ticket(contact=timedelta(hours=24)),  # exactly the general limit: on time
        ticket(contact=timedelta(hours=24, microseconds=1)),  # late
        ticket(urgency="emergency", contact=timedelta(hours=2)),  # emergency limit 2 h: on time
        ticket(urgency="emergency", contact=timedelta(hours=2, seconds=1)),  # late
        ticket(contact=None),  # never contacted: counted, not on time
    ]
    row = rows(run(tmp_path, tickets))[S1]
    assert (row["response_counted"], row["response_on_time"]) == (5, 2)
    assert row["response_rate"] == 2 / 5


def test_consults_undispatched_and_merged_requests_are_out(tmp_path: Path) -> None:
    tickets = [
        ticket(),
        ticket(kind="consult"),
        ticket(dispatch=None),
        ticket(status="merged"),  # a duplicate folded into its master
        ticket(status="closed"),  # the master counts
    ]
    assert rows(run(tmp_path, tickets))[S1]["in_scope"] == 2


def test_exclusions_leave_every_count_and_are_reported(tmp_path: Path) -> None:
    tickets = [
        ticket(),
        ticket(resolved=False, satisfaction="dissatisfied", contact=None, excluded=True),
    ]
    row = rows(run(tmp_path, tickets))[S1]
    assert (row["in_scope"], row["rated"], row["excluded"]) == (1, 1, 1)
    assert row["composite"] == 100.0
    # with the excluded ticket counted: response 1/2, resolution 1/2, satisfaction 1/2
    assert row["composite_with_excluded"] == round_for_ranking(
        composite((0.5, 0.5, 0.5), Weights(0.1, 0.45, 0.45))
    )


def test_missing_callbacks_leave_the_rated_denominators(tmp_path: Path) -> None:
    tickets = [
        ticket(resolved=True, satisfaction="satisfied"),
        ticket(resolved=False, satisfaction="dissatisfied"),
        ticket(resolved=None, satisfaction=None, callback=None),  # not reached
        ticket(resolved=True, satisfaction=None),  # resolved, no rating given
    ]
    row = rows(run(tmp_path, tickets))[S1]
    assert (row["in_scope"], row["rated"], row["satisfaction_rated"]) == (4, 3, 2)
    assert row["resolution_rate"] == 2 / 3
    assert row["satisfaction_rate"] == 1 / 2
    assert row["composite"] == round_for_ranking(composite((1.0, 2 / 3, 0.5), Weights(0.1, 0.45, 0.45)))


def test_basically_satisfied_weight(tmp_path: Path) -> None:
    tickets = [ticket(satisfaction="satisfied"), ticket(satisfaction="basically_satisfied")]
    tickets += [ticket(satisfaction="dissatisfied")]
    assert rows(run(tmp_path, tickets))[S1]["satisfaction_rate"] == 2 / 3  # default weight 1.0
    half = rows(run(tmp_path, tickets, basically_satisfied_weight=0.5))[S1]
    assert half["satisfaction_rate"] == (1 + 0.5 * 1) / 3


def test_an_empty_denominator_makes_the_rate_and_composite_null(tmp_path: Path) -> None:
    tickets = [ticket(resolved=None, satisfaction=None, callback=None) for _ in range(12)]
    row = rows(run(tmp_path, tickets))[S1]
    assert row["response_rate"] == 1.0
    assert row["resolution_rate"] is None and row["satisfaction_rate"] is None
    assert row["composite"] is None and row["rank"] is None


def _street(unit: str, contacted: int, resolved: int, satisfied: int, n: int) -> list[dict[str, Any]]:
    """n tickets of a street: the first `contacted` on time, `resolved` resolved, `satisfied` satisfied."""
    return [
        ticket(
            unit,
            contact=timedelta(hours=1) if i < contacted else None,
            resolved=i < resolved,
            satisfaction="satisfied" if i < satisfied else "dissatisfied",
        )
        for i in range(n)
    ]


# 100 / 45.0 / 44.99999999999999 (both are 45 exactly: equal after rounding to 9 decimals) / 0
TIES = _street(S1, 1, 1, 1, 1) + _street(S2, 0, 0, 1, 1) + _street(S3, 0, 1, 2, 3) + _street(S4, 0, 0, 0, 1)


def test_ties_share_the_smaller_rank_after_rounding_to_9_decimals(tmp_path: Path) -> None:
    assert composite((0.0, 1 / 3, 2 / 3), Weights(0.1, 0.45, 0.45)) != 45.0  # unrounded they differ
    result = rows(run(tmp_path, TIES, min_rated=1))
    assert [result[u]["rank"] for u in (S1, S2, S3, S4)] == [1, 2, 2, 4]
    assert result[S2]["composite"] == result[S3]["composite"] == 45.0


def test_minimum_volume_rule(tmp_path: Path) -> None:
    tickets = _street(S1, 10, 10, 10, 10) + _street(S2, 9, 9, 9, 9) + _street(S3, 10, 9, 9, 10)
    result = rows(run(tmp_path, tickets))  # default: at least 10 rated tickets
    assert result[S2]["rank"] is None  # 9 rated: listed, not ranked
    assert result[S2]["composite"] == 100.0
    assert (result[S1]["rank"], result[S3]["rank"]) == (1, 2)  # S2 does not count against S3


def test_governance_focus_takes_the_lowest_and_breaks_border_ties_by_code(tmp_path: Path) -> None:
    result = rows(run(tmp_path, TIES, min_rated=1, focus_count=2))
    # lowest: S4 (0); then S2 and S3 tie at 45 after rounding: S2 has the smaller code
    assert {u for u, r in result.items() if r["governance_focus"]} == {S4, S2}
    assert not result["110101"]["governance_focus"]  # district rows are never on the list


def test_governance_focus_by_requests_per_10k(tmp_path: Path) -> None:
    tickets = _street(S1, 1, 1, 1, 3) + _street(S2, 1, 1, 1, 1) + _street(S3, 0, 0, 0, 2)
    result = rows(run(tmp_path, tickets, min_rated=1, focus_count=1, focus_rule=FocusRule.REQUESTS))
    assert [u for u, r in result.items() if r["governance_focus"]] == [S1]


def test_focus_changes_month_to_month(tmp_path: Path) -> None:
    def month(start: datetime, low: str) -> list[dict[str, Any]]:
        units = [S1, S2, S3]
        return [ticket(u, received=start, resolved=u != low) for u in units]

    tickets = month(datetime(2025, 1, 10, tzinfo=UTC), S1) + month(FEB, S1)
    tickets += month(datetime(2025, 3, 10, tzinfo=UTC), S2)
    result = run(tmp_path, tickets, months="2025-02:2025-03", min_rated=1, focus_count=1)
    feb, mar = rows(result, "2025-02"), rows(result, "2025-03")
    assert feb[S1]["focus_change"] == "stayed"  # January (computed, not reported) had S1 too
    assert (mar[S1]["focus_change"], mar[S2]["focus_change"], mar[S3]["focus_change"]) == (
        "left",
        "entered",
        None,
    )


def test_subtype_ranks_and_unit_types(tmp_path: Path) -> None:
    tickets = _street(S1, 1, 1, 1, 1) + [ticket(TOWN, district="110106", resolved=False)]
    tickets += [ticket(DEPT), ticket("X999")]  # X999: a code the profile does not know
    result = rows(run(tmp_path, tickets, min_rated=1))
    assert (result[S1]["unit_type"], result[S1]["unit_subtype"]) == ("street", "street")
    assert (result[TOWN]["unit_type"], result[TOWN]["unit_subtype"]) == ("street", "town")
    assert (result[S1]["rank"], result[TOWN]["rank"]) == (1, 2)
    assert (result[S1]["rank_in_subtype"], result[TOWN]["rank_in_subtype"]) == (1, 1)
    assert (result[DEPT]["unit_type"], result[DEPT]["rank"], result[DEPT]["rank_in_subtype"]) == (
        "department",
        1,
        None,
    )
    assert (result["X999"]["unit_type"], result["X999"]["rank"]) == ("unknown", None)
    district = result["110101"]
    assert (district["unit_type"], district["in_scope"], district["unit_name"]) == ("district", 3, "东城区")


def test_requests_per_10k_residents(tmp_path: Path) -> None:
    result = rows(run(tmp_path, [ticket(S1), ticket(S1), ticket(DEPT)]))
    assert result[S1]["requests_per_10k"] == 2 / 41696 * 10000
    assert result[S1]["population_estimated"] is True
    assert result["110101"]["requests_per_10k"] == 3 / 708829 * 10000
    assert result["110101"]["population_estimated"] is False
    assert result[DEPT]["requests_per_10k"] is None


def test_as_of_counts_only_events_until_then(tmp_path: Path) -> None:
    t0 = datetime(2025, 2, 10, 0, 0, tzinfo=UTC)
    tickets = [
        ticket(received=t0, dispatch=timedelta(hours=1), contact=timedelta(hours=1)),  # on time, before T
        ticket(
            received=t0, dispatch=timedelta(hours=1), contact=timedelta(hours=30)
        ),  # contact after T: late
        ticket(
            received=t0 + timedelta(hours=20), contact=timedelta(hours=10)
        ),  # limit not passed at T: left out
        ticket(received=t0 + timedelta(hours=40)),  # dispatched after T: out of scope
    ]
    as_of = "2025-02-11T04:00:00+00:00"  # T = received + 28 h
    row = rows(run(tmp_path, tickets, as_of=as_of))[S1]
    assert row["in_scope"] == 3
    assert (row["response_counted"], row["response_on_time"]) == (2, 1)
    assert row["rated"] == 0  # every callback is after T
    full = rows(run(tmp_path, tickets))[S1]
    assert (full["in_scope"], full["response_counted"], full["response_on_time"], full["rated"]) == (
        4,
        4,
        3,
        4,
    )


def test_what_if_weights_rank_change(tmp_path: Path) -> None:
    tickets = _street(S1, 0, 1, 1, 1) + _street(S2, 1, 0, 1, 1)  # default: S1 (90) above S2 (55)
    result = rows(run(tmp_path, tickets, min_rated=1, weights=Weights(1.0, 0.0, 0.0)))
    assert (result[S1]["rank_default"], result[S1]["rank"], result[S1]["rank_change"]) == (1, 2, -1)
    assert (result[S2]["rank_default"], result[S2]["rank"], result[S2]["rank_change"]) == (2, 1, 1)
    assert (result[S2]["composite"], result[S2]["composite_default"]) == (100.0, 55.0)


def test_parsing_of_options() -> None:
    assert month_indexes("2025-02", None) == [2025 * 12 + 1]
    with pytest.raises(ValidationError):
        month_indexes("2025-02", "2025-01:2025-03")
    with pytest.raises(ValidationError):
        month_indexes(None, "2025-03:2025-01")
    with pytest.raises(ValidationError):
        Weights.parse("1,2")
    with pytest.raises(ValidationError):
        Weights.parse("0,0,0")
    with pytest.raises(ValidationError):
        parse_as_of("yesterday", "Asia/Shanghai")
    assert parse_as_of("2025-02-01T00:00", "Asia/Shanghai") == datetime(2025, 1, 31, 16, tzinfo=UTC)


def test_explanation_points_add_up_to_what_was_lost(tmp_path: Path) -> None:
    tickets = [
        ticket(contact=timedelta(hours=30)),  # late
        ticket(contact=None, resolved=False, satisfaction="dissatisfied"),
        ticket(satisfaction="basically_satisfied"),
        ticket(),
    ]
    path = tmp_path / "explain.parquet"
    pq.write_table(pa.Table.from_pylist(tickets, schema=SCHEMA), path)
    options = dataclasses.replace(
        Options.build(PROFILE, month_indexes("2025-02", None)), basically_satisfied_weight=0.5
    )
    window = source_window(options, PROFILE.timezone)
    with open_tickets(
        tickets=path, database=None, engine=EngineName.DUCKDB, timezone=PROFILE.timezone, window=window
    ) as opened:
        result = run_engine(opened, PROFILE, options)
        found = explain(opened.tickets, PROFILE, options, result, S1)
    reasons = sorted(t["reason"] for t in found.tickets)
    assert reasons == ["basically_satisfied", "dissatisfied", "late_contact", "not_contacted", "unresolved"]
    row = rows(result)[S1]
    assert sum(t["points_lost"] for t in found.tickets) == pytest.approx(100 - row["composite"])
    assert {(g["reason"], g["tickets"]) for g in found.groups} >= {("late_contact", 1), ("not_contacted", 1)}


def test_cohandled_requests_per_lead_and_cohandler(tmp_path: Path) -> None:
    tickets = [ticket(S1), ticket(S1, resolved=False), ticket(S2), ticket(S1, excluded=True)]
    path = tmp_path / "cohandled.parquet"
    pq.write_table(pa.Table.from_pylist(tickets, schema=SCHEMA), path)
    pairs = pa.table(
        {
            "ticket_id": [tickets[0]["id"], tickets[0]["id"], tickets[1]["id"], tickets[3]["id"]],
            "cohandler": [DEPT, "D002", DEPT, DEPT],
        }
    )
    options = Options.build(PROFILE, month_indexes("2025-02", None))
    window = source_window(options, PROFILE.timezone)
    with open_tickets(
        tickets=path, database=None, engine=EngineName.DUCKDB, timezone=PROFILE.timezone, window=window
    ) as opened:
        table = cohandling(opened.tickets, PROFILE, options, pairs)
    got = {(r["role"], r["unit_code"]): (r["requests"], r["resolution_rate"]) for r in table}
    # the excluded ticket leaves every count; S2's ticket has no co-handlers
    assert got == {("lead", S1): (2, 0.5), ("cohandler", DEPT): (2, 0.5), ("cohandler", "D002"): (1, 1.0)}
