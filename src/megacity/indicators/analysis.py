"""Analysis of indicator results: grades, ranks, correlations, strengths and weaknesses,
weak-area detection, zone comparison with zone-specific standards, covariates, trend and CAGR.

All functions are pure: they take tables or arrays and return new ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from megacity.indicators._rmath import FloatArray
from megacity.indicators.model import IndicatorError


@dataclass(frozen=True)
class Band:
    """A grade: scores >= `lower` (and below the next band up) get `label`."""

    label: str
    lower: float


def parse_bands(text: str) -> list[Band]:
    """`"优秀:85,良好:75,一般:60,较差"` -> bands, highest first (the last has no lower bound).

    >>> [(b.label, b.lower) for b in parse_bands("优秀:85,良好:75,较差")]
    [('优秀', 85.0), ('良好', 75.0), ('较差', -inf)]
    """
    bands = []
    for part in text.split(","):
        label, _, lower = part.partition(":")
        bands.append(Band(label.strip(), float(lower) if lower.strip() else -math.inf))
    if [b.lower for b in bands] != sorted((b.lower for b in bands), reverse=True):
        raise IndicatorError("grade bands must go from the highest threshold down")
    return bands


def grade(score: float, bands: Sequence[Band]) -> str | None:
    """The label of the first band whose lower bound the score reaches (None for NA).

    >>> grade(87.55, parse_bands("优秀:85,良好:75,一般:60,较差"))
    '优秀'
    """
    if math.isnan(score):
        return None
    for band in bands:
        if score >= band.lower:
            return band.label
    return None


def rank(scores: pd.Series, groups: pd.Series | None = None) -> pd.Series:
    """Ranks, 1 = highest score, ties share the best rank; within groups when given."""
    if groups is None:
        return scores.rank(ascending=False, method="min")
    return scores.groupby(groups).rank(ascending=False, method="min")


def correlations(table: pd.DataFrame, method: str = "pearson") -> pd.DataFrame:
    """Pairwise correlations of the columns (pairwise complete observations)."""
    if method not in ("pearson", "spearman"):
        raise IndicatorError(f"unknown correlation method {method!r} (valid: pearson, spearman)")
    return table.corr(method=method)


def strengths_weaknesses(table: pd.DataFrame, unit: str, k: int = 3) -> tuple[list[str], list[str]]:
    """The `k` columns where `unit` ranks best and worst (table indexed by unit, scores
    already oriented so that higher is better, e.g. normalised data)."""
    if unit not in table.index:
        raise IndicatorError(f"unknown unit {unit!r}")
    ranks = table.rank(ascending=False, method="min").loc[unit].dropna()
    order = sorted(ranks.index, key=lambda c: (ranks[c], str(c)))
    return [str(c) for c in order[:k]], [str(c) for c in order[::-1][:k]]


def weak_areas(
    panel: pd.DataFrame,
    column: str,
    *,
    threshold: float | None = None,
    bottom_k: int | None = None,
    periods: int = 1,
    direction: int = 1,
) -> list[str]:
    """Units below `threshold` (or among the `bottom_k`) on `column` in each of the last
    `periods` periods. `panel` has columns uCode, Time and `column`. With `direction` -1
    (lower is better, e.g. requests per 10,000 residents) weak means above the threshold,
    or among the k highest."""
    if (threshold is None) == (bottom_k is None):
        raise IndicatorError("weak areas: give exactly one of threshold or bottom_k")
    if direction not in (1, -1):
        raise IndicatorError(f"weak areas: direction must be 1 or -1, got {direction!r}")
    times = sorted(set(panel["Time"]))[-periods:]
    if len(times) < periods:
        return []
    flagged: set[str] | None = None
    for t in times:
        part = panel[panel["Time"] == t].set_index("uCode")[column].dropna() * direction
        if threshold is not None:
            weak = set(part.index[part < threshold * direction])
        else:
            cutoff = part.rank(method="min").loc[lambda r: r <= (bottom_k or 0)]
            weak = set(cutoff.index)
        flagged = weak if flagged is None else flagged & weak
    return sorted(str(u) for u in flagged or set())


def zone_comparison(
    scores: pd.DataFrame,
    zones: Mapping[str, Sequence[str]],
    standards: Mapping[str, Mapping[str, float]] | None = None,
    directions: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Mean score per zone and per column, and (with zone-specific standards) the share of the
    zone's units with a value that meet its own standard. `scores` is indexed by unit. A column with
    direction -1 meets its standard at or below it."""
    rows = []
    for zone, members in zones.items():
        part = scores.loc[[u for u in members if u in scores.index]]
        for column in scores.columns:
            row: dict[str, object] = {
                "zone": zone,
                "iCode": column,
                "units": len(part),
                "mean": float(part[column].mean()) if len(part) else math.nan,
            }
            standard = (standards or {}).get(zone, {}).get(str(column))
            if standard is not None:
                row["standard"] = standard
                sign = (directions or {}).get(str(column), 1)
                known = part[column].dropna()
                meeting = known * sign >= standard * sign
                row["share_meeting"] = float(meeting.mean()) if len(known) else math.nan
            rows.append(row)
    return pd.DataFrame(rows)


def covariate_correlation(scores: pd.Series, covariate: pd.Series) -> dict[str, float]:
    """Pearson and Spearman correlation of scores with a covariate (population, GDP ...)."""
    joined = pd.concat([scores, covariate], axis=1, join="inner").dropna()
    if len(joined) < 3:
        raise IndicatorError("covariate correlation needs at least three units with both values")
    a, b = joined.iloc[:, 0], joined.iloc[:, 1]
    return {
        "pearson": float(a.corr(b)),
        "spearman": float(a.corr(b, method="spearman")),
        "n": float(len(joined)),
    }


def trend(years: FloatArray, values: FloatArray) -> float:
    """Least-squares slope per year.

    >>> trend(np.array([2020.0, 2021.0, 2022.0]), np.array([100.0, 107.1, 110.8]))
    5.4
    """
    ok = ~np.isnan(values)
    if ok.sum() < 2:
        return math.nan
    slope = np.polyfit(years[ok], values[ok], 1)[0]
    return round(float(slope), 10)


def cagr(first: float, last: float, years: float) -> float:
    """Compound annual growth rate: (last / first) ** (1 / years) - 1.

    >>> round(cagr(100.0, 110.8, 2), 6)
    0.052616
    """
    if years <= 0 or first <= 0 or last < 0:
        raise IndicatorError("CAGR needs a positive start value and a positive number of years")
    return float((last / first) ** (1.0 / years) - 1.0)
