"""Data of the 指标监测 page: indicator tree, district radar, zone comparison, weak areas,
plan progress and decomposition. Reusable by the monthly report (no web framework here).

The shipped Beijing indicator systems (`profiles/beijing/indicators/`) hold city-level values
only; the district figures are the hotline's own indicators, taken from the monthly
assessment of the district rows (response, resolution, satisfaction, composite, requests per
10,000 residents) so the page never shows a number the data does not have. The analysis
functions (`zone_comparison`, `weak_areas`, `progress_status`, `check_escalation`) are the
indicator package's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

from megacity.assessment import service
from megacity.assessment.rules import month_label, parse_month
from megacity.bootstrap import Megacity
from megacity.domain.profile import Profile
from megacity.indicators import analysis, plans
from megacity.indicators.model import IndicatorError
from megacity.web.labels import N_

#: The systems shown in the tree, in this order.
SYSTEMS: tuple[str, ...] = ("qiyou_wuxing", "social_governance", "safe_beijing", "urban_renewal")
_ITEM_KEYS = ("dimensions", "categories", "first_level", "tasks")
#: District indicators from the assessment: column, label, direction (1: higher is better).
DISTRICT_INDICATORS: tuple[tuple[str, str, int], ...] = (
    ("response_rate", N_("Response rate"), 1),
    ("resolution_rate", N_("Resolution rate"), 1),
    ("satisfaction_rate", N_("Satisfaction rate"), 1),
    ("composite", N_("Composite score"), 1),
    ("requests_per_10k", N_("Requests per 10,000 residents"), -1),
)
RATES = frozenset({"response_rate", "resolution_rate", "satisfaction_rate"})
ZONE_SCHEME = "assessment"
PANEL_MONTHS = 3  # weak areas: a district weak in each of the last three months is persistently weak
BOTTOM_K = 3


def _node(item: Mapping[str, Any]) -> dict[str, Any]:
    value = item.get("value", item.get("target", item.get("grade_2023")))
    return {
        "code": item.get("code"),
        "name": item.get("name"),
        "group": item.get("group"),
        "value": value,
        "unit": item.get("unit", ""),
        "as_of": item.get("as_of"),
        "status": str(item.get("status", "")),
        "children": [_node(sub) for sub in item.get("indicators", []) or []],
    }


@cache
def indicator_tree() -> tuple[dict[str, Any], ...]:
    """The shipped systems as trees (system → dimension/category → indicator), with provenance."""
    systems = []
    for code in SYSTEMS:
        data = plans.load_system(code).data
        nodes = [_node(item) for key in _ITEM_KEYS for item in data.get(key, []) or []]
        review = data.get("mid_term_review")
        systems.append(
            {
                "code": code,
                "name": data.get("name", code),
                "source": data.get("source", ""),
                "status": data.get("status", ""),
                "nodes": nodes,
                "review": dict(review) if review else None,
            }
        )
    return tuple(systems)


@dataclass(frozen=True)
class DistrictPanel:
    """District rows of the assessment for the months ending at `month`, as indicator values."""

    month: str
    months: list[str]
    table: pd.DataFrame  # columns uCode, Time and one per DISTRICT_INDICATORS; rates in %
    rated: dict[str, int]  # requests with a callback result in `month`, per district

    def latest(self) -> pd.DataFrame:
        """The month's values indexed by district code."""
        part = self.table[self.table["Time"] == self.month]
        return part.set_index("uCode")[[c for c, _, _ in DISTRICT_INDICATORS]]


def district_panel(app: Megacity, month: str, months: int = PANEL_MONTHS) -> DistrictPanel:
    """One assessment run over the last `months` months; district rows only."""
    last = parse_month(month)
    indexes = list(range(last - months + 1, last + 1))
    result = service.ranking(app, service.options_for(app, indexes))
    records, rated = [], {}
    for row in result.rows:
        if row["unit_type"] != "district":
            continue
        record: dict[str, Any] = {"uCode": row["unit_code"], "Time": row["month"]}
        for column, _, _ in DISTRICT_INDICATORS:
            value = row.get(column)
            record[column] = math.nan if value is None else float(value) * (100 if column in RATES else 1)
        records.append(record)
        if row["month"] == month:
            rated[str(row["unit_code"])] = int(row["rated"] or 0)
    columns = ["uCode", "Time", *[c for c, _, _ in DISTRICT_INDICATORS]]
    table = pd.DataFrame(records, columns=columns)
    return DistrictPanel(month, [month_label(i) for i in indexes], table, rated)


def _clean(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 2)


def radar(
    panel: DistrictPanel, profile: Profile, district: str, translate: Callable[[str], str]
) -> dict[str, Any]:
    """Radar of one district against the mean of all districts (the four 0–100 indicators);
    `translate` turns the labels into the reader's language (the chart draws them as given)."""
    latest = panel.latest()
    shown = [(c, label) for c, label, direction in DISTRICT_INDICATORS if direction == 1]
    mean = latest.mean(numeric_only=True)
    own = latest.loc[district] if district in latest.index else None
    name = profile.org.districts[district].name if district in profile.org.districts else district
    return {
        "indicators": [{"name": translate(label), "max": 100} for _, label in shown],
        "series": [
            {"name": name, "value": [_clean(own[c]) if own is not None else None for c, _ in shown]},
            {
                "name": translate(N_("Mean of the districts")),
                "value": [_clean(mean.get(c, math.nan)) for c, _ in shown],
            },
        ],
    }


def zones(profile: Profile) -> dict[str, tuple[str, ...]]:
    scheme = profile.org.zone_schemes.get(ZONE_SCHEME) or next(iter(profile.org.zone_schemes.values()))
    return dict(scheme.zones)


def zone_table(panel: DistrictPanel, profile: Profile) -> list[dict[str, Any]]:
    """Mean of each indicator per zone (`indicators.analysis.zone_comparison`)."""
    compared = analysis.zone_comparison(panel.latest(), zones(profile))
    out = []
    for zone, part in compared.groupby("zone", sort=False):
        means = dict(zip(part["iCode"], part["mean"], strict=True))
        out.append(
            {
                "zone": zone,
                "units": int(part["units"].iloc[0]),
                "values": [_clean(means.get(c, math.nan)) for c, _, _ in DISTRICT_INDICATORS],
            }
        )
    return out


def weak(panel: DistrictPanel, k: int = BOTTOM_K) -> list[dict[str, Any]]:
    """Per indicator: the bottom-k districts this month and those weak in every month of the panel."""
    out = []
    for column, label, direction in DISTRICT_INDICATORS:
        now = analysis.weak_areas(panel.table, column, bottom_k=k, periods=1, direction=direction)
        always = analysis.weak_areas(
            panel.table, column, bottom_k=k, periods=len(panel.months), direction=direction
        )
        out.append({"column": column, "label": label, "now": now, "persistent": always})
    return out


@dataclass(frozen=True)
class PlanCheck:
    """The progress form: one plan indicator, its path and the value observed in a year."""

    baseline_year: int
    baseline: float
    target_year: int
    target: float
    year: int
    actual: float
    direction: int = 1


def progress(check: PlanCheck) -> dict[str, Any]:
    """Status (提前完成/达到预期/滞后/需调整) of the checked indicator on its linear path."""
    if check.target_year <= check.baseline_year:
        raise IndicatorError("the target year must come after the baseline year")
    indicator = plans.PlanIndicator(
        "checked", check.baseline_year, check.baseline, check.target_year, check.target, check.direction
    )
    return {
        "status": plans.progress_status(indicator, check.actual, check.year),
        "expected": round(indicator.expected(check.year), 4),
    }


def decomposition(
    panel: DistrictPanel, profile: Profile, city_target: float, targets: Mapping[str, float]
) -> dict[str, Any]:
    """Split a city resolution-rate target over the districts (weighted by this month's rated
    requests) and check the districts' own targets for 层层加码 (`plans.check_escalation`)."""
    rated = {d: float(n) for d, n in panel.rated.items() if n > 0 and d in profile.org.districts}
    if not rated:  # nothing rated yet: equal weights
        rated = dict.fromkeys(profile.org.districts, 1.0)
    latest = panel.latest()
    rows = [plans.DistrictTarget(d, w, targets.get(d)) for d, w in sorted(rated.items())]
    report = plans.check_escalation(city_target, rows, mode="rate")
    actual = latest["resolution_rate"] if "resolution_rate" in latest else pd.Series(dtype=float)
    return {
        "city_target": city_target,
        "implied": round(report.implied, 4),
        "overshoot": report.overshoot,
        "escalated": report.escalated,
        "rows": [
            {
                "district": r.district,
                "weight": r.weight,
                "target": r.target if r.target is not None else city_target,
                "actual": _clean(actual.get(r.district, math.nan)),
                "above": r.district in report.districts_above,
            }
            for r in rows
        ],
    }
