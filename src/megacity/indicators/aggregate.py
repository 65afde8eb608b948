"""Aggregation up the framework (COINr `Aggregate()` with `a_amean`, `a_gmean`, `a_hmean`).

Level by level, each aggregate is the weighted mean of its children, row by row. Missing
children are skipped and the remaining weights rescaled (COINr's behaviour); a row with no
available child is NA, as is one below the optional data-availability threshold `dat_thresh`.

* arithmetic_mean: sum(w x) with w rescaled to sum to 1 (R's long-double `sum()`)
* geometric_mean: exp(sum(w log x) / sum(w)); needs x > 0
* harmonic_mean: sum(w) / sum(w / x); needs x != 0

New columns appear in COINr's order: level 2 aggregates sorted by code, then level 3, ...
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from megacity.indicators._rmath import FloatArray
from megacity.indicators.model import Coin, IndicatorError, StepResult

METHODS = ("arithmetic_mean", "geometric_mean", "harmonic_mean")


def _seq_rows(a: FloatArray) -> FloatArray:
    """Row sums accumulated left to right in long double, as R's `sum()`."""
    if a.shape[1] == 0:
        return np.zeros(a.shape[0])
    return np.asarray(np.cumsum(a, axis=1, dtype=np.longdouble)[:, -1], dtype=np.float64)


def aggregate_rows(x: FloatArray, w: FloatArray, method: str = "arithmetic_mean") -> FloatArray:
    """Aggregate each row of `x` (units x children) with weights `w`, skipping NAs.

    Adding an exact 0 in place of a skipped child leaves a sequential sum unchanged, so this
    vectorised form equals COINr's row-by-row loop bit for bit.

    >>> aggregate_rows(np.array([[50.0, np.nan, 100.0]]), np.array([1.0, 5.0, 3.0]))
    array([87.5])
    """
    ok = ~np.isnan(x)
    wm = np.where(ok, w[None, :], 0.0)
    empty = ~ok.any(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "arithmetic_mean":
            wn = wm / _seq_rows(wm)[:, None]
            out = _seq_rows(np.where(ok, wn * x, 0.0))
        elif method == "geometric_mean":
            if np.any(x[ok] <= 0):
                raise IndicatorError(
                    "aggregate: geometric_mean needs values > 0 (normalise to e.g. 1-100 first)"
                )
            out = np.exp(_seq_rows(np.where(ok, wm * np.log(np.where(ok, x, 1.0)), 0.0)) / _seq_rows(wm))
        else:
            if np.any(x[ok] == 0):
                raise IndicatorError(
                    "aggregate: harmonic_mean needs values != 0 (normalise to e.g. 1-100 first)"
                )
            out = _seq_rows(wm) / _seq_rows(np.where(ok, wm / np.where(ok, x, 1.0), 0.0))
    return np.where(empty, math.nan, out)


def _weights_for(children: Sequence[str], weights: Mapping[str, float]) -> FloatArray:
    missing = [c for c in children if c not in weights or math.isnan(weights[c])]
    if missing:
        raise IndicatorError(f"aggregate: no weight for {missing[0]}")
    return np.array([weights[c] for c in children], dtype=np.float64)


def aggregate(coin: Coin, *, method: str = "arithmetic_mean", dat_thresh: float | None = None) -> StepResult:
    """Add one column per aggregate, level by level up to the index.

    Returns
    -------
    StepResult
        ``weights_``: the weights used within each group, rescaled to sum to 1.
    """
    fw = coin.framework
    missing = [c for c in fw.indicators if c not in coin.codes]
    if missing:
        raise IndicatorError(f"aggregate: indicator {missing[0]} is missing from the data")
    current = coin
    used: dict[str, dict[str, float]] = {}
    for level in range(2, fw.max_level + 1):
        new: dict[str, FloatArray] = {}
        for parent in fw.aggregates_at(level):
            children = fw.children(parent)
            w = _weights_for(children, coin.weights)
            x = current.matrix(children)
            y = aggregate_rows(x, w, method)
            if dat_thresh is not None:
                avail = (~np.isnan(x)).sum(axis=1) / x.shape[1]
                y = np.where(avail < dat_thresh, math.nan, y)
            new[parent] = y
            used[parent] = {c: float(v / w.sum()) for c, v in zip(children, w, strict=True)}
        current = current.with_columns(new)
    return StepResult(coin=current, learned={"weights_": used})
