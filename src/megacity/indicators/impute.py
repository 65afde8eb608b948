"""Impute missing values (COINr `Impute()` with `i_mean`, `i_median`, `i_mean_grp`,
`i_median_grp`, and `impute_panel(imp_type = "latest")`).

Column-wise methods work period by period (COINr imputes each coin of a purse separately);
`latest` fills a gap with the unit's most recent earlier observation (optionally at most
`max_time` periods back). Means and medians are R's (long-double, two-pass).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from megacity.indicators._rmath import FloatArray, r_mean, r_median
from megacity.indicators.model import KEY, TIME, Coin, IndicatorError, StepResult

METHODS = ("mean", "median", "group_mean", "group_median", "latest")


def _fill(x: FloatArray, statistic: str) -> FloatArray:
    """Replace NaNs of `x` by the mean or median of its other values (all-NA: unchanged)."""
    out = x.copy()
    missing = np.isnan(out)
    if missing.all() or not missing.any():
        return out
    centre = r_mean(out[~missing]) if statistic == "mean" else r_median(out[~missing])
    out[missing] = centre
    return out


def impute_vector(x: FloatArray, statistic: str, groups: list[str | None] | None = None) -> FloatArray:
    """Impute one column: by the whole column, or within groups (`None` group: left alone).

    >>> impute_vector(np.array([1.0, np.nan, 3.0, np.nan, 10.0]), "mean", ["a", "a", "a", "b", "b"])
    array([ 1.,  2.,  3., 10., 10.])
    """
    if groups is None:
        return _fill(x, statistic)
    out = x.copy()
    labels = np.array([g if g is not None else "" for g in groups], dtype=object)
    for label in sorted({g for g in groups if g is not None}):
        rows = np.flatnonzero(labels == label)
        part = out[rows]
        if np.isnan(part).all():
            out[rows] = math.nan  # R's mean of nothing is NaN
        else:
            out[rows] = _fill(part, statistic)
    return out


def _group_labels(coin: Coin, group: str) -> list[str | None]:
    column = coin.unit_column(group)
    return [str(v) if isinstance(v, str) and v.strip() else None for v in column]


def impute(
    coin: Coin, *, method: str = "mean", group: str | None = None, max_time: int | None = None
) -> StepResult:
    """Impute the NAs of every value column.

    Parameters
    ----------
    method : {"mean", "median", "group_mean", "group_median", "latest"}
    group : str, optional
        The iData column defining groups (required by the group methods).
    max_time : int, optional
        For ``latest``: how many periods back to look (default: all).

    Returns
    -------
    StepResult
        ``n_imputed_``: number of values filled per column; ``n_missing_``: NAs left.
    """
    before = coin.matrix()
    if method == "latest":
        values = _latest(coin, max_time)
    else:
        if method.startswith("group_") and group is None:
            raise IndicatorError(f"impute: method {method} needs the parameter 'group'")
        statistic = method.removeprefix("group_")
        labels = _group_labels(coin, group) if method.startswith("group_") and group else None
        values = before.copy()
        for rows in coin.periods():
            part_labels = [labels[i] for i in rows] if labels is not None else None
            for j in range(values.shape[1]):
                values[rows, j] = impute_vector(before[rows, j], statistic, part_labels)
    filled = np.isnan(before) & ~np.isnan(values)
    learned: dict[str, Any] = {
        "n_imputed_": {c: int(filled[:, j].sum()) for j, c in enumerate(coin.codes)},
        "n_missing_": int(np.isnan(values).sum()),
    }
    return StepResult(coin=coin.with_values(values), learned=learned)


def _latest(coin: Coin, max_time: int | None) -> FloatArray:
    """COINr `impute_panel(imp_type = "latest")`: carry the last observation forward."""
    if not coin.panel:
        raise IndicatorError("impute: method latest needs panel data (a Time column with several periods)")
    frame = coin.data
    periods = sorted(set(frame[TIME].tolist()))
    grid = pd.MultiIndex.from_product([sorted(set(frame[KEY])), periods], names=[KEY, TIME])
    full = frame.set_index([KEY, TIME]).reindex(grid)
    filled = full.groupby(level=KEY, sort=False).ffill(limit=max_time)
    out = filled.reindex(pd.MultiIndex.from_frame(frame[[KEY, TIME]]))
    return np.asarray(out[coin.codes].to_numpy(dtype=np.float64), dtype=np.float64)
