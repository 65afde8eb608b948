"""Plan indicators (规划指标): targets per year with a baseline and a type (预期性 / 约束性),
progress status against the linear path, decomposition of a city target into district targets
with a 层层加码 check, observation-point notes, and the "not a grassroots responsibility" flag.
Also the loader of the shipped Beijing indicator systems (`profiles/beijing/indicators/`).

Status rules ([D], documented in docs/indicators.md): with the expected value on the straight
line from (baseline year, baseline) to (target year, target),

* 提前完成 (met early): the target is already reached before the target year;
* 达到预期 (on track): the actual value reaches the expected value (or the target in the target year);
* 需调整 (needs adjusting): the value moved away from the target since the baseline, or the pace
  still needed is more than `adjust_factor` times the planned pace;
* 滞后 (lagging): otherwise.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from megacity.indicators.model import IndicatorError

SYSTEMS_DIR = Path(__file__).resolve().parents[1] / "profiles" / "beijing" / "indicators"
SYSTEMS = {
    "qiyou_wuxing": "qiyou_wuxing.yaml",
    "social_governance": "social_governance_plan.yaml",
    "urban_renewal": "urban_renewal_2023.yaml",
    "safe_beijing": "safe_beijing.yaml",
}
TYPES = ("预期性", "约束性")
STATUSES = ("提前完成", "达到预期", "滞后", "需调整")


@dataclass(frozen=True)
class PlanIndicator:
    """One plan indicator with its baseline and target."""

    code: str
    baseline_year: int
    baseline: float
    target_year: int
    target: float
    direction: int = 1
    kind: str = "预期性"
    name: str = ""
    unit: str = ""
    grassroots: bool = True  # False: not a grassroots (街乡镇) responsibility, left out of their assessment

    def expected(self, year: int) -> float:
        """The value on the straight line from baseline to target (clamped to the plan years).

        >>> PlanIndicator("x", 2020, 60.0, 2025, 70.0).expected(2023)
        66.0
        """
        span = self.target_year - self.baseline_year
        share = min(max((year - self.baseline_year) / span, 0.0), 1.0) if span > 0 else 1.0
        return self.baseline + (self.target - self.baseline) * share


def _better_or_equal(a: float, b: float, direction: int) -> bool:
    return a >= b if direction == 1 else a <= b


def progress_status(ind: PlanIndicator, actual: float, year: int, adjust_factor: float = 2.0) -> str:
    """提前完成 / 达到预期 / 滞后 / 需调整 for the value `actual` observed in `year`.

    >>> ind = PlanIndicator("x", 2020, 60.0, 2025, 70.0)
    >>> [progress_status(ind, v, 2023) for v in (71.0, 66.0, 64.0, 59.0)]
    ['提前完成', '达到预期', '滞后', '需调整']
    """
    if math.isnan(actual):
        raise IndicatorError(f"{ind.code}: no actual value for {year}")
    if _better_or_equal(actual, ind.target, ind.direction):
        return "提前完成" if year < ind.target_year else "达到预期"
    if _better_or_equal(actual, ind.expected(year), ind.direction):
        return "达到预期"
    if not _better_or_equal(actual, ind.baseline, ind.direction) or year >= ind.target_year:
        return "需调整"
    planned_pace = abs(ind.target - ind.baseline) / max(ind.target_year - ind.baseline_year, 1)
    needed_pace = abs(ind.target - actual) / max(ind.target_year - year, 1)
    return "需调整" if needed_pace > adjust_factor * planned_pace else "滞后"


def read_plan(path: Path) -> list[PlanIndicator]:
    """Plan CSV: indicator,baseline_year,baseline,target_year,target[,direction,type,name,unit,grassroots]."""
    rows = _read_csv(path, ("indicator", "baseline_year", "baseline", "target_year", "target"))
    out = []
    for i, r in enumerate(rows, start=2):
        kind = r.get("type") or "预期性"
        if kind not in TYPES:
            raise IndicatorError(f"{path}:{i}: type must be 预期性 or 约束性 (got {kind!r})")
        try:
            out.append(
                PlanIndicator(
                    code=r["indicator"],
                    baseline_year=int(r["baseline_year"]),
                    baseline=float(r["baseline"]),
                    target_year=int(r["target_year"]),
                    target=float(r["target"]),
                    direction=int(r.get("direction") or 1),
                    kind=kind,
                    name=r.get("name", ""),
                    unit=r.get("unit", ""),
                    grassroots=(r.get("grassroots") or "yes").lower() not in ("no", "false", "0"),
                )
            )
        except ValueError as exc:
            raise IndicatorError(f"{path}:{i}: {exc}") from None
    return out


def read_actuals(path: Path) -> dict[tuple[str, int], float]:
    """Actuals CSV: indicator,year,value."""
    rows = _read_csv(path, ("indicator", "year", "value"))
    try:
        return {(r["indicator"], int(r["year"])): float(r["value"]) for r in rows}
    except ValueError as exc:
        raise IndicatorError(f"{path}: {exc}") from None


def _read_csv(path: Path, required: Sequence[str]) -> list[dict[str, str]]:
    if not path.is_file():
        raise IndicatorError(f"{path}: no such file")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = [{k.strip(): (v or "").strip() for k, v in r.items()} for r in csv.DictReader(f)]
    missing = [c for c in required if rows and c not in rows[0]]
    if missing or not rows:
        raise IndicatorError(f"{path}: needs columns {', '.join(required)}")
    return rows


def progress_table(
    plan: Sequence[PlanIndicator], actuals: Mapping[tuple[str, int], float], year: int
) -> pd.DataFrame:
    """One row per plan indicator: actual, expected, target and status for `year`."""
    rows = []
    for ind in plan:
        actual = actuals.get((ind.code, year), math.nan)
        status = progress_status(ind, actual, year) if not math.isnan(actual) else "no data"
        rows.append(
            {
                "indicator": ind.code,
                "type": ind.kind,
                "actual": actual,
                "expected": ind.expected(year),
                "target": ind.target,
                "status": status,
                "grassroots": ind.grassroots,
            }
        )
    return pd.DataFrame(rows)


def grassroots_assessable(plan: Sequence[PlanIndicator]) -> list[PlanIndicator]:
    """The indicators a street/township may be assessed on (those flagged not-grassroots are removed)."""
    return [ind for ind in plan if ind.grassroots]


@dataclass(frozen=True)
class DistrictTarget:
    district: str
    weight: float
    target: float | None = None


def read_district_targets(path: Path) -> list[DistrictTarget]:
    rows = _read_csv(path, ("district", "weight"))
    try:
        return [
            DistrictTarget(r["district"], float(r["weight"]), float(r["target"]) if r.get("target") else None)
            for r in rows
        ]
    except ValueError as exc:
        raise IndicatorError(f"{path}: {exc}") from None


def decompose(city_target: float, weights: Mapping[str, float], mode: str = "share") -> dict[str, float]:
    """Split a city target: `share` (district targets add up to it, in proportion to weights) or
    `rate` (every district gets the city rate, so the weighted mean equals it).

    >>> decompose(100.0, {"a": 1.0, "b": 3.0})
    {'a': 25.0, 'b': 75.0}
    """
    total = sum(weights.values())
    if total <= 0:
        raise IndicatorError("decomposition weights must add up to a positive number")
    if mode == "share":
        return {d: city_target * w / total for d, w in weights.items()}
    if mode == "rate":
        return dict.fromkeys(weights, city_target)
    raise IndicatorError(f"unknown decomposition mode {mode!r} (valid: share, rate)")


@dataclass
class EscalationReport:
    """The 层层加码 check: implied city value of the district targets against the city target."""

    city_target: float
    implied: float
    overshoot: float
    escalated: bool
    districts_above: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        flag = "层层加码: yes" if self.escalated else "层层加码: no"
        return [
            f"city target {self.city_target:g}; district targets imply {self.implied:.6g} "
            f"({self.overshoot:+.2%}); {flag}",
            *[f"above fair share: {d}" for d in self.districts_above],
        ]


def check_escalation(
    city_target: float, rows: Sequence[DistrictTarget], mode: str = "rate", tolerance: float = 0.0
) -> EscalationReport:
    """Compare district targets with the city target (higher-is-better targets)."""
    fair = decompose(city_target, {r.district: r.weight for r in rows}, mode)
    targets = {r.district: r.target if r.target is not None else fair[r.district] for r in rows}
    total_w = sum(r.weight for r in rows)
    implied = (
        sum(targets.values())
        if mode == "share"
        else sum(targets[r.district] * r.weight for r in rows) / total_w
    )
    overshoot = implied / city_target - 1 if city_target else math.inf
    above = [d for d, t in targets.items() if t > fair[d] * (1 + tolerance) + 1e-12]
    return EscalationReport(city_target, implied, overshoot, overshoot > tolerance + 1e-12, above)


@dataclass(frozen=True)
class ObservationNote:
    """A note from a grassroots observation point (规划指标实施观测点)."""

    point: str
    indicator: str
    date: str
    note: str


def read_notes(path: Path, known: Sequence[str] | None = None) -> list[ObservationNote]:
    """Notes CSV: point,indicator,date,note (date YYYY-MM-DD or YYYY-MM); with `known`, the
    indicator codes a note may name (e.g. those of the plan)."""
    rows = _read_csv(path, ("point", "indicator", "date", "note"))
    notes = []
    for i, r in enumerate(rows, start=2):
        if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", r["date"]):
            raise IndicatorError(f"{path}:{i}: date must be YYYY-MM-DD or YYYY-MM (got {r['date']!r})")
        if known is not None and r["indicator"] not in known:
            raise IndicatorError(f"{path}:{i}: unknown indicator {r['indicator']!r}")
        if not r["point"] or not r["note"]:
            raise IndicatorError(f"{path}:{i}: point and note must not be empty")
        notes.append(ObservationNote(r["point"], r["indicator"], r["date"], r["note"]))
    return notes


def notes_by_indicator(notes: Sequence[ObservationNote]) -> dict[str, list[ObservationNote]]:
    out: dict[str, list[ObservationNote]] = {}
    for n in sorted(notes, key=lambda n: (n.indicator, n.date, n.point)):
        out.setdefault(n.indicator, []).append(n)
    return out


@dataclass(frozen=True)
class IndicatorSystem:
    """One shipped indicator system (YAML), with provenance on every item."""

    code: str
    data: Mapping[str, Any]

    def describe(self) -> list[str]:
        lines = [f"{self.data.get('name', self.code)}", f"source: {self.data.get('source', '')}"]
        for key in ("dimensions", "categories", "tasks", "first_level"):
            for item in self.data.get(key, []) or []:
                value = item.get("value", item.get("target", item.get("grade_2023", "")))
                lines.append(
                    f"  {item.get('name')}\t{value}\t{item.get('unit', '')}\t[{item.get('status', '')}]"
                )
                for sub in item.get("indicators", []) or []:
                    lines.append(
                        f"    {sub.get('name')}\t{sub.get('value', '')}\t{sub.get('unit', '')}"
                        f"\t[{sub.get('status', '')}]"
                    )
        return lines


def load_system(name: str) -> IndicatorSystem:
    """Load a shipped Beijing indicator system by name."""
    if name not in SYSTEMS:
        raise IndicatorError(f"unknown indicator system {name!r} (valid: {', '.join(SYSTEMS)})")
    data = yaml.safe_load((SYSTEMS_DIR / SYSTEMS[name]).read_text(encoding="utf-8"))
    return IndicatorSystem(code=name, data=data)
