"""Analysis of a results panel, ready for the CLI, the API and the monitoring page.

A panel is a wide table: `uCode`, optionally `uName` and `Time`, and one numeric column per
indicator — what `megacity indicators run --out` or `derive --format wide` writes. Each function
answers one question (strengths, weak areas, zones, covariates, trend) and returns plain data;
the arithmetic lives in `analysis.py`. Directions (1: higher is better, -1: lower is better)
come with the call, so a rate and a complaint density are judged the right way round.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from megacity.indicators import analysis
from megacity.indicators.errors import IndicatorError
from megacity.indicators.io import parse_number, read_table

KEYS = ("uCode", "uName", "Time")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def read_panel(path: Path) -> pd.DataFrame:
    """A wide results table from CSV or xlsx; every non-key column must be numeric."""
    raw = read_table(path)
    if "uCode" not in raw.columns:
        raise IndicatorError(f"{path}: no uCode column")
    table = raw[[c for c in raw.columns if c in KEYS]].copy()
    for column in (c for c in raw.columns if c not in KEYS):
        table[column] = [
            parse_number(v, f"{path}:{i + 2}: column {column}") for i, v in enumerate(raw[column])
        ]
    if "Time" not in table.columns:
        table["Time"] = ""
    if table.duplicated(["uCode", "Time"]).any():
        raise IndicatorError(f"{path}: duplicate uCode (and Time) rows")
    return table


def indicators(panel: pd.DataFrame) -> list[str]:
    """The indicator columns of a panel."""
    return [str(c) for c in panel.columns if c not in KEYS]


def _check_indicator(panel: pd.DataFrame, code: str) -> None:
    if code not in indicators(panel):
        raise IndicatorError(f"unknown indicator {code!r} (valid: {', '.join(indicators(panel))})")


def periods(panel: pd.DataFrame) -> list[str]:
    """The periods of the panel in order."""
    return sorted({str(t) for t in panel["Time"]}, key=_sort_key)


def _sort_key(label: str) -> tuple[float, str]:
    years = period_years(label)
    return (years if not math.isnan(years) else math.inf, label)


def period_years(label: str) -> float:
    """A period label as a point in years: 2026 -> 2026, 2026Q3 -> 2026.5, 2026-10 -> 2026.75."""
    text = str(label).strip()
    if (m := _MONTH.match(text)) is not None:
        return int(m.group(1)) + (int(m.group(2)) - 1) / 12
    if (q := _QUARTER.match(text)) is not None:
        return int(q.group(1)) + (int(q.group(2)) - 1) / 4
    try:
        return float(text)
    except ValueError:
        return math.nan


def at_period(panel: pd.DataFrame, period: str | None = None) -> tuple[str, pd.DataFrame]:
    """(period, the panel's rows of that period indexed by uCode); the latest when None."""
    known = periods(panel)
    chosen = known[-1] if period is None else str(period)
    if chosen not in known:
        raise IndicatorError(f"no data for period {chosen!r} (available: {', '.join(known)})")
    rows = panel[panel["Time"].astype(str) == chosen].set_index("uCode")
    return chosen, rows[indicators(panel)]


def oriented(table: pd.DataFrame, directions: Mapping[str, int]) -> pd.DataFrame:
    """Values times their direction, so that higher is better in every column."""
    return table * pd.Series({c: directions.get(str(c), 1) for c in table.columns})


def strengths(
    panel: pd.DataFrame,
    unit: str,
    *,
    period: str | None = None,
    k: int = 3,
    directions: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The `k` indicators where `unit` ranks best and worst among the units of the period."""
    chosen, table = at_period(panel, period)
    if unit not in table.index:
        raise IndicatorError(f"unknown unit {unit!r} in period {chosen}")
    best, worst = analysis.strengths_weaknesses(oriented(table, directions or {}), unit, k)
    ranks = oriented(table, directions or {}).rank(ascending=False, method="min").loc[unit]

    def entry(code: str) -> dict[str, Any]:
        return {
            "indicator": code,
            "value": _num(table.at[unit, code]),
            "rank": _num(ranks[code]),
            "of": int(table[code].notna().sum()),
        }

    return {
        "unit": unit,
        "period": chosen,
        "strongest": [entry(c) for c in best],
        "weakest": [entry(c) for c in worst],
    }


def weak_areas(
    panel: pd.DataFrame,
    indicator: str,
    *,
    threshold: float | None = None,
    bottom_k: int | None = None,
    consecutive: int = 1,
    direction: int = 1,
) -> dict[str, Any]:
    """Units that were weak on `indicator` in each of the last `consecutive` periods."""
    _check_indicator(panel, indicator)
    if consecutive < 1:
        raise IndicatorError("weak areas: consecutive periods must be at least 1")
    known = periods(panel)
    units = analysis.weak_areas(
        panel.assign(Time=panel["Time"].astype(str).map(_sort_key)),
        indicator,
        threshold=threshold,
        bottom_k=bottom_k,
        periods=consecutive,
        direction=direction,
    )
    return {
        "indicator": indicator,
        "periods": known[-consecutive:],
        "enough_periods": len(known) >= consecutive,
        "units": units,
    }


def compare_zones(
    panel: pd.DataFrame,
    zones: Mapping[str, Sequence[str]],
    *,
    period: str | None = None,
    codes: Sequence[str] | None = None,
    standards: Mapping[str, Mapping[str, float]] | None = None,
    directions: Mapping[str, int] | None = None,
) -> tuple[str, pd.DataFrame]:
    """Per zone and indicator: units, mean, and the share meeting the zone's own standard."""
    chosen, table = at_period(panel, period)
    for code in codes or []:
        _check_indicator(panel, code)
    columns = list(codes) if codes else list(table.columns)
    return chosen, analysis.zone_comparison(table[columns], zones, standards, directions)


def parse_standards(items: Sequence[str]) -> dict[str, dict[str, float]]:
    """`ZONE:INDICATOR=VALUE` items -> {zone: {indicator: value}}.

    >>> parse_standards(["生态涵养区:hotline_resolution_rate=90"])
    {'生态涵养区': {'hotline_resolution_rate': 90.0}}
    """
    out: dict[str, dict[str, float]] = {}
    for item in items:
        head, eq, value = item.rpartition("=")
        zone, colon, code = head.partition(":")
        if not eq or not colon or not zone.strip() or not code.strip():
            raise IndicatorError(f"a zone standard is ZONE:INDICATOR=VALUE, got {item!r}")
        out.setdefault(zone.strip(), {})[code.strip()] = parse_number(value, f"standard {item!r}")
    return out


def covariate(
    panel: pd.DataFrame,
    covariates: pd.DataFrame,
    indicator: str,
    name: str,
    *,
    period: str | None = None,
) -> dict[str, Any]:
    """Pearson and Spearman correlation of an indicator with a covariate across units."""
    _check_indicator(panel, indicator)
    if name not in covariates.columns:
        valid = ", ".join(c for c in covariates.columns if c != "name")
        raise IndicatorError(f"unknown covariate {name!r} (valid: {valid})")
    chosen, table = at_period(panel, period)
    result = analysis.covariate_correlation(table[indicator], covariates[name].astype(float))
    return {
        "indicator": indicator,
        "covariate": name,
        "period": chosen,
        **{k: _num(v) for k, v in result.items()},
    }


def trend(panel: pd.DataFrame, unit: str, indicator: str) -> dict[str, Any]:
    """The unit's series of one indicator, its least-squares slope per year and its CAGR."""
    _check_indicator(panel, indicator)
    rows = panel[panel["uCode"] == unit]
    if rows.empty:
        raise IndicatorError(f"unknown unit {unit!r}")
    series = sorted(
        ((str(t), float(v)) for t, v in zip(rows["Time"], rows[indicator], strict=True)),
        key=lambda p: _sort_key(p[0]),
    )
    years = np.array([period_years(t) for t, _ in series])
    values = np.array([v for _, v in series])
    slope = analysis.trend(years, values) if not np.isnan(years).any() else math.nan
    known = [(y, v) for y, v in zip(years, values, strict=True) if not math.isnan(v)]
    growth = math.nan
    if len(known) >= 2 and known[0][1] > 0 and known[-1][1] >= 0 and known[-1][0] > known[0][0]:
        growth = analysis.cagr(known[0][1], known[-1][1], known[-1][0] - known[0][0])
    return {
        "unit": unit,
        "indicator": indicator,
        "series": [{"period": t, "value": _num(v)} for t, v in series],
        "slope_per_year": _num(slope),
        "cagr": _num(growth),
    }


def _num(value: object) -> float | None:
    """A JSON-safe number: None for NA."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number
