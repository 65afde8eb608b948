"""Grades, ranks, weak areas, zones, trends and plan tracking."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from megacity.indicators import analysis
from megacity.indicators.model import IndicatorError
from megacity.indicators.plans import (
    DistrictTarget,
    ObservationNote,
    PlanIndicator,
    check_escalation,
    decompose,
    grassroots_assessable,
    load_system,
    notes_by_indicator,
    progress_status,
    progress_table,
)


def test_grades_with_safe_beijing_reported_scores() -> None:
    """平安北京 2023: 87.55 = 优秀; 2020 安全感 83.34 and 2019 81.97 = 良好 (BEIJING_RULES.md §5)."""
    bands = analysis.parse_bands("优秀:85,良好:75,一般:60,较差")
    assert [analysis.grade(s, bands) for s in (87.55, 83.34, 81.97, 50.0)] == ["优秀", "良好", "良好", "较差"]
    assert analysis.grade(math.nan, bands) is None


def test_rank_ties_and_groups() -> None:
    s = pd.Series([3.0, 5.0, 5.0, 1.0], index=list("abcd"))
    assert analysis.rank(s).tolist() == [3.0, 1.0, 1.0, 4.0]
    assert analysis.rank(s, pd.Series(["x", "x", "y", "y"], index=list("abcd"))).tolist() == [
        2.0,
        1.0,
        1.0,
        2.0,
    ]


def test_strengths_weaknesses() -> None:
    t = pd.DataFrame(
        {"p": [1.0, 2.0, 3.0], "q": [3.0, 2.0, 1.0], "r": [2.0, 3.0, 1.0]}, index=["A", "B", "C"]
    )
    assert analysis.strengths_weaknesses(t, "A", k=1) == (["q"], ["p"])


def test_weak_areas_for_consecutive_periods() -> None:
    panel = pd.DataFrame(
        {
            "uCode": ["A", "B", "C"] * 3,
            "Time": [1] * 3 + [2] * 3 + [3] * 3,
            "score": [50, 70, 80, 55, 40, 90, 58, 45, 95],
        }
    )
    assert analysis.weak_areas(panel, "score", threshold=60, periods=3) == ["A"]
    assert analysis.weak_areas(panel, "score", threshold=60, periods=2) == ["A", "B"]
    assert analysis.weak_areas(panel, "score", bottom_k=1, periods=2) == ["B"]


def test_zone_comparison_with_zone_standards() -> None:
    scores = pd.DataFrame({"s": [90.0, 70.0, 60.0]}, index=["110101", "110102", "110109"])
    zones = {"核心区": ["110101", "110102"], "生态涵养区": ["110109"]}
    out = analysis.zone_comparison(scores, zones, {"核心区": {"s": 80}, "生态涵养区": {"s": 55}})
    assert out.set_index("zone")["share_meeting"].to_dict() == {"核心区": 0.5, "生态涵养区": 1.0}


def test_covariate_trend_cagr() -> None:
    r = analysis.covariate_correlation(pd.Series([1.0, 2, 3, 4]), pd.Series([2.0, 4, 6, 9]))
    assert r["spearman"] == pytest.approx(1.0)
    assert analysis.trend(np.array([1.0, 2, 3]), np.array([2.0, 4, 6])) == pytest.approx(2.0)
    assert analysis.cagr(100, 121, 2) == pytest.approx(0.1)
    with pytest.raises(IndicatorError):
        analysis.cagr(0, 1, 1)


def test_progress_statuses_against_the_linear_path() -> None:
    up = PlanIndicator("cover", 2020, 50.0, 2025, 70.0, kind="约束性")
    assert up.expected(2023) == pytest.approx(62.0)
    assert progress_status(up, 71, 2023) == "提前完成"
    assert progress_status(up, 62, 2023) == "达到预期"
    assert progress_status(up, 58, 2023) == "滞后"
    assert progress_status(up, 49, 2023) == "需调整"
    assert progress_status(up, 51, 2024) == "需调整"  # 19 points in a year: over twice the planned pace
    down = PlanIndicator("ambulance", 2020, 13.0, 2025, 12.0, direction=-1)
    assert progress_status(down, 12.33, 2023) == "达到预期"  # expected 12.4 minutes


def test_progress_table_and_grassroots_flag() -> None:
    plan = [PlanIndicator("a", 2020, 0, 2025, 10), PlanIndicator("b", 2020, 0, 2025, 10, grassroots=False)]
    table = progress_table(plan, {("a", 2023): 7.0}, 2023)
    assert table["status"].tolist() == ["达到预期", "no data"]
    assert [p.code for p in grassroots_assessable(plan)] == ["a"]


def test_decomposition_and_escalation() -> None:
    assert decompose(90.0, {"a": 1, "b": 2}, "rate") == {"a": 90.0, "b": 90.0}
    fair = check_escalation(90.0, [DistrictTarget("a", 1), DistrictTarget("b", 2)])
    assert not fair.escalated
    raised = check_escalation(90.0, [DistrictTarget("a", 1, 95.0), DistrictTarget("b", 2, 92.0)])
    assert raised.escalated and raised.districts_above == ["a", "b"]
    assert raised.implied == pytest.approx((95 + 2 * 92) / 3)
    assert "层层加码: yes" in raised.lines()[0]


def test_observation_notes_grouped() -> None:
    notes = [
        ObservationNote("回龙观", "grid", "2023-06", "x"),
        ObservationNote("前门", "grid", "2023-05", "y"),
    ]
    assert [n.point for n in notes_by_indicator(notes)["grid"]] == ["前门", "回龙观"]


def test_beijing_systems_carry_the_seed_values() -> None:
    plan = load_system("social_governance").data
    values = {i["code"]: i["value"] for c in plan["categories"] for i in c["indicators"]}
    assert values["dual_report_rate"] == 99.4 and values["social_work_station_coverage"] == 68.2
    assert values["social_workers"] == 7.96 and values["hotline_resolution_rate"] == 93
    assert values["ambulance_response_time"] == 12.33 and values["property_service_coverage"] == 97.7
    assert values["petition_reply_rate"] == 99.99 and values["grid_coverage"] == 100
    assert values["food_safety_pass_rate"] == 98.52 and values["community_social_orgs"] == 7.8
    assert values["owners_committee_rate"] == 97.4 and values["registered_volunteers_share"] == 21
    assert values["green_travel_share"] == 73.4 and values["culture_space_per_capita"] == 0.384
    assert len(plan["categories"]) == 4
    review = plan["mid_term_review"]
    counts = {k: v["count"] for k, v in review["reported_statuses"].items()}
    assert counts == {"提前完成": 14, "达到预期": 9, "需调整": 4} and review["indicators"] == 27
    tasks = {t["code"]: t["target"] for t in load_system("urban_renewal").data["tasks"]}
    assert tasks == {
        "bungalow_lease_back": 2000,
        "bungalow_repair": 1200,
        "old_estates_started": 300,
        "old_estates_completed": 100,
        "lifts_started": 1000,
        "lifts_completed": 600,
        "dilapidated_rebuild": 20,
    }
    safe = load_system("safe_beijing").data
    assert len(safe["first_level"]) == 7 and safe["total_2023"]["score"] == 87.55
    qy = load_system("qiyou_wuxing").data["dimensions"]
    assert len(qy) == 12 and all(i["status"] == "placeholder" for d in qy for i in d["indicators"])
    with pytest.raises(IndicatorError, match="valid: qiyou_wuxing"):
        load_system("nope")
