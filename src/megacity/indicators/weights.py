"""Weights: manual, equal, entropy (熵权法), AHP (eigenvector, Saaty's consistency ratio) and
PCA (squared loadings of the first principal component).

Weights are relative within an aggregation group (COINr rescales them when aggregating); the
functions here return weights that sum to 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from megacity.indicators._rmath import FloatArray
from megacity.indicators.model import Coin, IndicatorError, StepResult

METHODS = ("manual", "equal", "entropy", "ahp", "pca")

#: Saaty's random consistency index RI by matrix size (Saaty 1980, The Analytic Hierarchy Process).
RANDOM_INDEX = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}


def entropy_weights(
    x: FloatArray, directions: Sequence[float] | None = None, standardise: bool = True
) -> FloatArray:
    """Entropy weight method (熵权法) for a units x indicators matrix (rows with NA dropped).

    1. standardise each column by min-max (for Direction -1: (max - x) / (max - min));
    2. p_ij = x_ij / sum_i x_ij;  3. e_j = -(1 / ln n) sum_i p_ij ln p_ij (0 ln 0 = 0);
    4. d_j = 1 - e_j;  5. w_j = d_j / sum_j d_j.

    >>> entropy_weights(np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 6.0]])).round(4)
    array([0.2961, 0.7039])
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[~np.isnan(x).any(axis=1)]
    n = x.shape[0]
    if n < 2:
        raise IndicatorError("entropy weights need at least two units with complete data")
    if standardise:
        lo, hi = x.min(axis=0), x.max(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (x - lo) / (hi - lo)
        if directions is not None:
            flip = np.asarray(directions) == -1
            z[:, flip] = 1 - z[:, flip]
        x = np.nan_to_num(z, nan=0.0)
    if np.any(x < 0):
        raise IndicatorError("entropy weights need non-negative data (standardise first)")
    totals = x.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(totals > 0, x / totals, 1.0 / n)
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / math.log(n)
    d = np.where(np.abs(1 - e) < 1e-12, 0.0, 1 - e)  # a constant column carries no information
    if d.sum() <= 0:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    return np.asarray(d / d.sum(), dtype=np.float64)


@dataclass(frozen=True)
class AHPResult:
    """AHP priorities with Saaty's consistency measures."""

    weights: FloatArray
    lambda_max: float
    ci: float
    cr: float


def ahp_weights(matrix: FloatArray, max_cr: float = 0.1) -> AHPResult:
    """Principal-eigenvector priorities of a reciprocal pairwise comparison matrix.

    CI = (lambda_max - n) / (n - 1), CR = CI / RI(n); a matrix with CR >= `max_cr` is refused.

    >>> r = ahp_weights(np.array([[1, 3], [1 / 3, 1]]))
    >>> r.weights.round(3).tolist(), r.cr
    ([0.75, 0.25], 0.0)
    """
    a = np.asarray(matrix, dtype=np.float64)
    n = a.shape[0]
    if a.shape != (n, n) or n == 0:
        raise IndicatorError("AHP matrix must be square")
    if np.any(a <= 0) or not np.allclose(a * a.T, 1.0, rtol=1e-6):
        raise IndicatorError("AHP matrix must be positive and reciprocal (a_ji = 1 / a_ij)")
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    lam = float(values[k].real)
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX.get(n, 1.59)
    cr = ci / ri if ri > 0 else 0.0
    cr = max(cr, 0.0) if abs(cr) > 1e-12 else 0.0
    if cr >= max_cr:
        raise IndicatorError(
            f"AHP matrix is not consistent enough: CR = {cr:.3f} >= {max_cr:g} (Saaty); revise the judgements"
        )
    return AHPResult(weights=w, lambda_max=lam, ci=ci, cr=cr)


def _cell(text: object, where: str) -> float:
    try:
        return float(Fraction(str(text).strip()))
    except (ValueError, ZeroDivisionError):
        raise IndicatorError(f"{where}: {text!r} is not a number or a fraction like 1/3") from None


def read_ahp_matrix(path: Path) -> tuple[list[str], FloatArray]:
    """A pairwise matrix as CSV: header row of codes (first cell empty), one row per code."""
    if not path.is_file():
        raise IndicatorError(f"{path}: no such file")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    codes = [str(c).strip() for c in frame.columns[1:]]
    rows = [str(r).strip() for r in frame.iloc[:, 0]]
    if rows != codes:
        raise IndicatorError(f"{path}: row codes {rows} must equal column codes {codes}")
    a = np.array(
        [
            [_cell(frame.iat[i, j + 1], f"{path}:{i + 2}") for j in range(len(codes))]
            for i in range(len(codes))
        ]
    )
    return codes, a


def pca_weights(x: FloatArray) -> FloatArray:
    """Squared loadings of the first principal component of the standardised data (OECD/JRC
    Handbook on Constructing Composite Indicators, 2008): non-negative and summing to 1.
    COINr's `get_PCA()` uses the raw loadings, whose signs are arbitrary and can be negative.

    >>> pca_weights(np.array([[1.0, 2.0], [2.0, 4.1], [3.0, 5.9], [4.0, 8.2]])).round(3)
    array([0.5, 0.5])
    """
    x = x[~np.isnan(x).any(axis=1)]
    if x.shape[0] < 3:
        raise IndicatorError("PCA weights need at least three units with complete data")
    sd = x.std(axis=0, ddof=1)
    if np.any(sd == 0):
        raise IndicatorError("PCA weights: an indicator is constant")
    z = (x - x.mean(axis=0)) / sd
    _, _, vt = np.linalg.svd(z, full_matrices=False)
    load = vt[0] ** 2
    return np.asarray(load / load.sum(), dtype=np.float64)


def _groups(coin: Coin) -> dict[str, list[str]]:
    fw = coin.framework
    return {p: fw.children(p) for p in fw.aggregates_at(2)}


def weight(
    coin: Coin,
    *,
    method: str = "equal",
    weights: Mapping[str, float] | None = None,
    matrix: str | list[str] | None = None,
    by_group: bool = True,
) -> StepResult:
    """A new weight set for the coin; the next aggregation uses it.

    Returns
    -------
    StepResult
        ``weights_``: the full weight set; ``cr_`` (AHP): consistency ratio per matrix.
    """
    new = dict(coin.weights)
    learned: dict[str, Any] = {}
    if method == "equal":
        new = dict.fromkeys(new, 1.0)
    elif method == "manual":
        unknown = [c for c in (weights or {}) if c not in new]
        if unknown:
            raise IndicatorError(f"weight: {unknown[0]!r} is not an indicator or aggregate code")
        new.update({c: float(v) for c, v in (weights or {}).items()})
    elif method == "ahp":
        learned["cr_"] = {}
        for file in [matrix] if isinstance(matrix, str) else list(matrix or []):
            codes, a = read_ahp_matrix(Path(file))
            result = ahp_weights(a)
            unknown = [c for c in codes if c not in new]
            if unknown:
                raise IndicatorError(f"{file}: {unknown[0]!r} is not an indicator or aggregate code")
            new.update({c: float(v) for c, v in zip(codes, result.weights, strict=True)})
            learned["cr_"][file] = result.cr
    else:
        new.update(_data_weights(coin, method, by_group))
    learned["weights_"] = new
    return StepResult(coin=_with_weights(coin, new), learned=learned)


def _data_weights(coin: Coin, method: str, by_group: bool) -> dict[str, float]:
    fw = coin.framework
    blocks = _groups(coin) if by_group else {"all": list(fw.indicators)}
    out: dict[str, float] = {}
    for codes in blocks.values():
        x = coin.matrix(codes)
        if method == "entropy":
            dirs = None if coin.directed else [fw.directions[c] for c in codes]
            w = entropy_weights(x, dirs) if len(codes) > 1 else np.ones(1)
        else:
            w = pca_weights(x) if len(codes) > 1 else np.ones(1)
        out.update({c: float(v) for c, v in zip(codes, w, strict=True)})
    return out


def _with_weights(coin: Coin, new: Mapping[str, float]) -> Coin:
    import dataclasses

    return dataclasses.replace(coin, weights=dict(new))
