"""Normalisation (COINr `Normalise()` and its `n_*()` functions).

Every method first multiplies each indicator by its iMeta Direction (COINr's
`Normalise.numeric()`), so "higher is better" afterwards. For panel data the default is
COINr's `Normalise.purse(global = TRUE)`: one normalisation over all periods stacked, which
keeps scores comparable over time; `global: false` normalises each period on its own.

* minmax: (x - min) / (max - min) * (upper - lower) + lower
* zscore: (x - mean) / sd * sd_target + mean_target (R's mean and sd)
* rank: rank, ties get the minimum; prank: (rank - 1) / (n - 1)
* dist2ref: 1 - (x_ref - x) / (x_ref - min), x_ref the value of unit `ref`
* dist2max: 1 - (max - x) / (max - min)
* dist2targ: (x - min) / (t - min), t = Target x Direction (COINr `use_iMeta`)
* goalposts: (x - l) / (u - l) truncated to [0, 1], times a scale; goalposts from iMeta
* index: x / x_base x base_value per unit (for Direction -1: x_base / x x base_value); not in COINr
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from megacity.indicators._rmath import FloatArray, r_mean, r_rank_min, r_sd
from megacity.indicators.model import KEY, TIME, Coin, IndicatorError, StepResult

METHODS = (
    "minmax",
    "zscore",
    "rank",
    "prank",
    "dist2ref",
    "dist2max",
    "dist2targ",
    "goalposts",
    "index",
)


def n_minmax(x: FloatArray, lower: float = 0.0, upper: float = 100.0) -> FloatArray:
    """COINr `n_minmax()`; a constant column gives NaN, as in COINr.

    >>> n_minmax(np.array([1.0, 2.0, 5.0]))
    array([  0.,  25., 100.])
    """
    lo, hi = np.nanmin(x), np.nanmax(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((x - lo) / (hi - lo) * (upper - lower) + lower, dtype=np.float64)


def n_zscore(x: FloatArray, mean: float = 0.0, sd: float = 1.0) -> FloatArray:
    """COINr `n_zscore()` with R's `mean()` and `sd()`."""
    ok = x[~np.isnan(x)]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((x - r_mean(ok)) / r_sd(ok) * sd + mean, dtype=np.float64)


def n_rank(x: FloatArray) -> FloatArray:
    """COINr `n_rank()`: ranks, ties the minimum, NA kept."""
    return r_rank_min(x)


def n_prank(x: FloatArray) -> FloatArray:
    """COINr `n_prank()`: (rank - 1) / (n - 1)."""
    n = int((~np.isnan(x)).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((r_rank_min(x) - 1) / (n - 1), dtype=np.float64)


def n_dist2ref(x: FloatArray, iref: int, cap_max: bool = False) -> FloatArray:
    """COINr `n_dist2ref()` with the reference at position `iref` (0-based)."""
    xref = x[iref]
    with np.errstate(divide="ignore", invalid="ignore"):
        y = 1 - (xref - x) / (xref - np.nanmin(x))
    return np.where(y > 1, 1.0, y) if cap_max else y


def n_dist2max(x: FloatArray) -> FloatArray:
    """COINr `n_dist2max()`."""
    lo, hi = np.nanmin(x), np.nanmax(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(1 - (hi - x) / (hi - lo), dtype=np.float64)


def n_dist2targ(x: FloatArray, targ: float, cap_max: bool = False) -> FloatArray:
    """COINr `n_dist2targ()` for direction 1 (data already multiplied by Direction)."""
    if math.isnan(targ):
        raise IndicatorError("normalise: dist2targ needs a target for every indicator")
    lo = np.nanmin(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = (x - lo) / (targ - lo)
    return np.where(y > 1, 1.0, y) if cap_max else y


def n_goalposts(x: FloatArray, gposts: tuple[float, float, float], trunc2posts: bool = True) -> FloatArray:
    """COINr `n_goalposts()` for direction 1: (x - l) / (u - l), truncated, times scale."""
    low, high, scale = gposts
    with np.errstate(divide="ignore", invalid="ignore"):
        y = (x - low) / (high - low)
    if trunc2posts:
        y = np.where(y > 1, 1.0, np.where(y < 0, 0.0, y))
    return np.asarray(y * scale, dtype=np.float64)


def _meta_number(coin: Coin, code: str, column: str, default: float | None = None) -> float:
    value = coin.framework.value(code, column) if column in coin.framework.meta.columns else None
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        if default is None:
            raise IndicatorError(f"normalise: iMeta has no {column} for {code}")
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise IndicatorError(f"normalise: iMeta {column} of {code} is not a number ({value!r})") from None


def _meta_flag(coin: Coin, code: str, column: str, default: bool) -> bool:
    if column not in coin.framework.meta.columns:
        return default
    value = coin.framework.value(code, column)
    if isinstance(value, str):
        return value.strip().upper() in ("TRUE", "T", "1", "YES")
    return default if value is None or (isinstance(value, float) and math.isnan(value)) else bool(value)


def _column_function(
    coin: Coin, method: str, params: dict[str, Any], code: str
) -> Callable[[FloatArray], FloatArray]:
    """The normalising function for one indicator (directions already applied)."""
    direction = coin.framework.directions.get(code, 1.0)
    if method == "minmax":
        return lambda x: n_minmax(x, params.get("lower", 0.0), params.get("upper", 100.0))
    if method == "zscore":
        return lambda x: n_zscore(x, params.get("mean", 0.0), params.get("sd", 1.0))
    if method == "dist2targ":
        targ = _meta_number(coin, code, params.get("target", "Target")) * direction
        cap = params.get("cap_max", _meta_flag(coin, code, "dist2targ_cap_max", False))
        return lambda x: n_dist2targ(x, targ, cap)
    if method == "goalposts":
        lo = _meta_number(coin, code, "goalpost_lower") * direction
        hi = _meta_number(coin, code, "goalpost_upper") * direction
        scale = _meta_number(coin, code, "goalpost_scale", 1.0)
        posts = (hi, lo, scale) if direction == -1 else (lo, hi, scale)
        trunc = _meta_flag(coin, code, "goalpost_trunc2posts", True)
        return lambda x: n_goalposts(x, posts, trunc)
    simple: dict[str, Callable[[FloatArray], FloatArray]] = {
        "rank": n_rank,
        "prank": n_prank,
        "dist2max": n_dist2max,
    }
    return simple[method]


def _index(coin: Coin, values: FloatArray, base: float, base_value: float) -> FloatArray:
    if not coin.panel:
        raise IndicatorError("normalise: method index needs panel data (a Time column with several periods)")
    times = coin.data[TIME].to_numpy(dtype=np.float64)
    if base not in set(times.tolist()):
        raise IndicatorError(f"normalise: base period {base:g} is not in the data")
    units = coin.data[KEY].tolist()
    base_row = {u: i for i, (u, t) in enumerate(zip(units, times, strict=True)) if t == base}
    out = np.full(values.shape, math.nan)
    for j, code in enumerate(coin.codes):
        direction = coin.framework.directions.get(code, 1.0)
        for i, unit in enumerate(units):
            if unit in base_row:
                b = values[base_row[unit], j]
                with np.errstate(divide="ignore", invalid="ignore"):
                    out[i, j] = (values[i, j] / b if direction == 1 else b / values[i, j]) * base_value
    return out


def normalise(coin: Coin, *, method: str = "minmax", global_: bool = True, **params: Any) -> StepResult:
    """Normalise every value column, directions applied first.

    Returns
    -------
    StepResult
        ``min_`` / ``max_`` of each (direction-adjusted) column as seen by the normaliser.
    """
    raw = coin.matrix()
    if method == "index":
        out = _index(coin, raw, float(params["base"]), float(params.get("base_value", 100.0)))
        return StepResult(coin=_directed(coin.with_values(out)), learned={"base_": params["base"]})
    signed = raw * np.array([coin.framework.directions.get(c, 1.0) for c in coin.codes])
    slices = [np.arange(len(raw))] if (global_ or not coin.panel) else coin.periods()
    out = np.full(raw.shape, math.nan)
    units = coin.data[KEY].to_numpy()
    for rows in slices:
        ref = _ref_position(units[rows], params.get("ref")) if method == "dist2ref" else None
        for j, code in enumerate(coin.codes):
            x = signed[rows, j]
            if ref is not None:
                out[rows, j] = n_dist2ref(x, ref, bool(params.get("cap_max", False)))
            else:
                out[rows, j] = _column_function(coin, method, params, code)(x)
    learned = {
        "min_": {
            c: float(np.nanmin(signed[:, j]))
            for j, c in enumerate(coin.codes)
            if not np.isnan(signed[:, j]).all()
        },
        "max_": {
            c: float(np.nanmax(signed[:, j]))
            for j, c in enumerate(coin.codes)
            if not np.isnan(signed[:, j]).all()
        },
    }
    return StepResult(coin=_directed(coin.with_values(out)), learned=learned)


def _ref_position(units: np.ndarray, ref: object) -> int:
    rows = np.flatnonzero(units == ref)
    if rows.size == 0:
        raise IndicatorError(
            f"normalise: reference unit {ref!r} is not a uCode of the data (in every period)"
        )
    return int(rows[0])


def _directed(coin: Coin) -> Coin:
    return dataclasses.replace(coin, directed=True)
