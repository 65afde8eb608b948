"""Derived-indicator definitions, periods, org units of the Beijing profile, and panel analysis."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from megacity.indicators import orgunits, panel
from megacity.indicators.derive import evaluate, wide
from megacity.indicators.derived import (
    COUNTS,
    load_definitions,
    month_periods,
    parse_expression,
    parse_period,
)
from megacity.indicators.errors import IndicatorError
from megacity.indicators.service import definitions, profile_dir
from megacity.profiles import load_profile

PROFILE = load_profile()
FOLDER = profile_dir(None)


def test_expressions_allow_arithmetic_over_known_names_only() -> None:
    e = parse_expression("(satisfied + 0.5 * basically_satisfied) / 2")
    assert e.names == {"satisfied", "basically_satisfied"}
    assert e.evaluate({"satisfied": 3, "basically_satisfied": 2}) == 2.0
    assert math.isnan(parse_expression("tickets / population").evaluate({"tickets": 1, "population": 0}))
    assert math.isnan(parse_expression("tickets").evaluate({"tickets": None}))
    for bad, message in (
        ("__import__('os')", "may only use"),
        ("tickets ** 2", "may only use"),
        ("resolved_count", "unknown name 'resolved_count'"),
        ("'a'", "only numbers"),
        ("tickets +", "cannot parse"),
    ):
        with pytest.raises(IndicatorError, match=message):
            parse_expression(bad, "x")


def test_shipped_definitions_are_marked_and_valid() -> None:
    defs = {d.code: d for d in definitions(FOLDER)}
    plan = defs["hotline_resolution_rate"]
    assert (plan.name, plan.numerator.text, plan.denominator.text, plan.factor) == (
        "市民服务热线诉求解决率",
        "resolved",
        "rated",
        100.0,
    )
    assert plan.plan_indicator == "social_governance.hotline_resolution_rate"
    assert all(d.status.split()[0] in {"sourced", "placeholder"} for d in defs.values())
    assert defs["requests_per_10k"].direction == -1
    # DHIS2: a zero denominator gives no value; otherwise factor × numerator / denominator
    assert math.isnan(plan.value(dict.fromkeys(COUNTS, 0.0))[2])
    assert plan.value({**dict.fromkeys(COUNTS, 0.0), "resolved": 93, "rated": 100})[2] == 93.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("indicators: []", "non-empty list"),
        ("indicators: [{code: a, name: A, numerator: tickets, status: placeholder}]", "missing denominator"),
        (
            "indicators: [{code: a, name: A, numerator: tickets, denominator: rated, status: s, x: 1}]",
            "unknown key",
        ),
        (
            "indicators: [{code: a, name: A, numerator: tickets, denominator: b, status: s, direction: 2}]",
            "direction",
        ),
        (
            "indicators: [{code: a, name: A, numerator: x, denominator: rated, status: s}]",
            r"indicator 1 \(a\) numerator: unknown name 'x'",
        ),
        (
            "indicators:\n - {code: a, name: A, numerator: tickets, denominator: rated, status: s}\n"
            " - {code: a, name: B, numerator: tickets, denominator: rated, status: s}",
            "duplicate indicator code",
        ),
    ],
)
def test_definition_errors_name_the_file_and_indicator(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "derived.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IndicatorError, match=message):
        load_definitions(path)


def test_periods() -> None:
    march = parse_period("2025-03")
    assert march.window("Asia/Shanghai") == (
        datetime(2025, 2, 28, 16, tzinfo=UTC),
        datetime(2025, 3, 31, 16, tzinfo=UTC),
    )
    assert len(parse_period("2025").months) == 12 and parse_period("2025Q4").months[-1] == 2025 * 12 + 11
    assert [p.label for p in month_periods("2024-11", "2025-02")] == [
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
    ]
    for bad in ("2025-13", "2025Q5", "25-01", "march", "0000-01", "9999-12"):
        with pytest.raises(IndicatorError):
            parse_period(bad)
    with pytest.raises(IndicatorError, match="forwards"):
        month_periods("2025-03", "2025-01")


def test_org_units_of_the_beijing_profile() -> None:
    assert orgunits.levels(PROFILE) == ["city", "zone:zones_2012", "zone:assessment", "district", "street"]
    (city,) = orgunits.org_units(PROFILE, "city", FOLDER)
    assert city.population == 21_893_095  # 7th census total (BEIJING_RULES.md §7.3)
    for scheme in ("zone:zones_2012", "zone:assessment"):
        zones = orgunits.org_units(PROFILE, scheme, FOLDER)
        assert len(zones) == 4 and sum(z.population or 0 for z in zones) == 21_893_095
        assert sorted(d for z in zones for d in z.districts) == sorted(PROFILE.org.districts)
    core = orgunits.org_units(PROFILE, "zone:zones_2012", FOLDER)[0]
    assert (core.code, core.population) == ("首都功能核心区", 708_829 + 1_106_214)  # "1,815,043" (§7.3)
    streets = orgunits.org_units(PROFILE, "street", FOLDER)
    assert len(streets) == 349 and all(s.population_estimated for s in streets if s.population)
    with pytest.raises(IndicatorError, match="valid: city"):
        orgunits.org_units(PROFILE, "town", FOLDER)


def test_covariates_from_the_profile() -> None:
    table = orgunits.covariates(PROFILE, FOLDER)
    assert len(table) == 16 and table.loc["110105", "population"] == 3_452_460
    assert table.loc["110101", "area_km2"] == 42.0
    assert table.loc["110101", "density"] == pytest.approx(708_829 / 42)


def _counts(rows: list[tuple[str, str | None, dict[str, int]]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"district_code": d, "street_code": s, **{n: c.get(n, 0) for n in COUNTS}} for d, s, c in rows]
    )


def test_evaluate_sums_counts_before_dividing() -> None:
    counts = _counts(
        [
            ("110101", "110101001", {"tickets": 10, "rated": 8, "resolved": 6}),
            ("110102", None, {"tickets": 30, "rated": 2, "resolved": 2, "demo": 1}),
        ]
    )
    defs = [d for d in definitions(FOLDER) if d.code == "hotline_resolution_rate"]
    core = orgunits.org_units(PROFILE, "zone:zones_2012", FOLDER)
    result = evaluate(counts, core, defs, "2025-03").set_index("ou_code")
    assert result.loc["首都功能核心区", "value"] == 80.0  # (6 + 2) / (8 + 2), not the mean of 75 and 100
    assert bool(result.loc["首都功能核心区", "demo_data"]) is True
    assert math.isnan(result.loc["城市功能拓展区", "value"])
    table = wide(result.reset_index())
    assert list(table.columns) == ["uCode", "uName", "Time", "hotline_resolution_rate"] and len(table) == 4


PANEL = pd.DataFrame(
    {
        "uCode": ["A", "B", "C"] * 3,
        "Time": ["2025-01"] * 3 + ["2025-02"] * 3 + ["2025-03"] * 3,
        "rate": [90.0, 70, 80, 92, 60, 85, 95, 65, 50],
        "per10k": [5.0, 1, 3, 5, 2, 3, 6, 1, 2],
    }
)


def test_panel_strengths_respect_directions() -> None:
    found = panel.strengths(PANEL, "A", k=1, directions={"per10k": -1})
    assert found["period"] == "2025-03"
    assert found["strongest"][0]["indicator"] == "rate" and found["weakest"][0]["indicator"] == "per10k"
    assert found["weakest"][0] == {"indicator": "per10k", "value": 6.0, "rank": 3.0, "of": 3}
    with pytest.raises(IndicatorError, match="unknown unit"):
        panel.strengths(PANEL, "Z")
    with pytest.raises(IndicatorError, match="available: 2025-01, 2025-02, 2025-03"):
        panel.strengths(PANEL, "A", period="2024-12")


def test_panel_weak_areas_with_direction() -> None:
    assert panel.weak_areas(PANEL, "rate", threshold=75, consecutive=3)["units"] == ["B"]
    assert panel.weak_areas(PANEL, "rate", bottom_k=1, consecutive=1)["units"] == ["C"]
    # lower is better: weak = above the threshold / the highest
    assert panel.weak_areas(PANEL, "per10k", threshold=4, consecutive=3, direction=-1)["units"] == ["A"]
    assert panel.weak_areas(PANEL, "per10k", bottom_k=1, consecutive=2, direction=-1)["units"] == ["A"]
    assert panel.weak_areas(PANEL, "rate", threshold=75, consecutive=4)["enough_periods"] is False


def test_panel_zones_covariates_trend() -> None:
    chosen, zones = panel.compare_zones(
        PANEL,
        {"z1": ["A", "B"], "z2": ["C"]},
        standards=panel.parse_standards(["z1:rate=70", "z2:per10k=2"]),
        directions={"per10k": -1},
    )
    rows = {(r["zone"], r["iCode"]): r for r in zones.to_dict("records")}
    assert chosen == "2025-03" and rows[("z1", "rate")]["mean"] == 80.0
    assert rows[("z1", "rate")]["share_meeting"] == 0.5 and rows[("z2", "per10k")]["share_meeting"] == 1.0
    with pytest.raises(IndicatorError, match="ZONE:INDICATOR=VALUE"):
        panel.parse_standards(["z1=3"])
    facts = pd.DataFrame({"population": [100.0, 300.0, 200.0]}, index=["A", "B", "C"])
    r = panel.covariate(PANEL, facts, "per10k", "population")
    assert r["spearman"] == pytest.approx(-1.0) and r["n"] == 3.0  # per10k 6, 1, 2 against 100, 300, 200
    t = panel.trend(PANEL, "A", "rate")
    assert [p["value"] for p in t["series"]] == [90.0, 92.0, 95.0]
    assert t["slope_per_year"] == pytest.approx(2.5 * 12)  # least squares over months 0, 1, 2
    assert t["cagr"] == pytest.approx((95 / 90) ** (12 / 2) - 1)
    assert panel.period_years("2026Q3") == 2026.5 and panel.period_years("2026-10") == 2026.75


def test_read_panel_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("uCode,Time,rate\nA,2025,x\n", encoding="utf-8")
    with pytest.raises(IndicatorError, match="p.csv:2: column rate: 'x' is not a number"):
        panel.read_panel(path)
    path.write_text("uCode,rate\nA,1\nA,2\n", encoding="utf-8")
    with pytest.raises(IndicatorError, match="duplicate"):
        panel.read_panel(path)
