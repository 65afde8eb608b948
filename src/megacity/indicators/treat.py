"""Outlier treatment (COINr `Treat()` with its defaults), period by period.

For each indicator: if |skew| < skew_max OR kurtosis < kurt_max the column passes untouched.
Otherwise it is Winsorised one point (or one set of tied points) at a time, from the side the
skew points to, until it passes or `winmax` points have been treated; if it still fails, the
*original* column gets the fallback transform instead: COINr's `log_CT`,
log(x - min(x) + 0.01 (max(x) - min(x))). Skew and kurtosis are e1071 type 2 (Excel's), as in
COINr's `skew()` and `kurt()`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from megacity.indicators._rmath import FloatArray, r_mean, r_sum
from megacity.indicators.model import Coin, IndicatorError, StepResult

FALLBACKS = ("log", "none")


def skew(x: FloatArray) -> float:
    """Sample skewness, e1071 type 2 (COINr `skew()`); NAs removed; needs 3 values.

    >>> round(skew(np.array([1.0, 2.0, 3.0, 10.0])), 6)
    1.763633
    """
    x = x[~np.isnan(x)]
    n = x.size
    if n < 3:
        raise IndicatorError("treat: skewness needs at least 3 non-missing values")
    d = x - r_mean(x)
    y = math.sqrt(n) * r_sum(np.power(d, 3.0)) / (r_sum(d * d) ** 1.5)
    return float(y * math.sqrt(n * (n - 1)) / (n - 2))


def kurt(x: FloatArray) -> float:
    """Sample excess kurtosis, e1071 type 2 (COINr `kurt()`); NAs removed; needs 4 values."""
    x = x[~np.isnan(x)]
    n = x.size
    if n < 4:
        raise IndicatorError("treat: kurtosis needs at least 4 non-missing values")
    d = x - r_mean(x)
    s2 = r_sum(d * d)
    r = n * r_sum(np.power(d, 4.0)) / (s2 * s2)
    return ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))


def check_skew_kurt(x: FloatArray, skew_max: float, kurt_max: float) -> tuple[bool | None, float, float]:
    """COINr `check_SkewKurt()`: pass if |skew| < skew_max OR kurt < kurt_max (None if NaN)."""
    sk, kt = skew(x), kurt(x)
    if math.isnan(sk) or math.isnan(kt):
        a = not math.isnan(sk) and abs(sk) < skew_max
        b = not math.isnan(kt) and kt < kurt_max
        return (True if a or b else None), sk, kt
    return (abs(sk) < skew_max) or (kt < kurt_max), sk, kt


@dataclass
class Treatment:
    """What happened to one column (COINr's Dets_Table row)."""

    pass0: bool | None = None
    skew0: float = math.nan
    kurt0: float = math.nan
    nwin: int | None = None
    pass1: bool | None = None
    skew1: float = math.nan
    kurt1: float = math.nan
    pass2: bool | None = None
    skew2: float = math.nan
    kurt2: float = math.nan
    points: list[str] = field(default_factory=list)


def winsorise(
    x: FloatArray, *, winmax: int, skew_max: float, kurt_max: float
) -> tuple[FloatArray, int, list[str]]:
    """COINr `winsorise()`, quirks included (`nwin` counts the last high and low sets)."""
    x = x.copy()
    passing, _, _ = check_skew_kurt(x, skew_max, kurt_max)
    nwin = 0
    imax: np.ndarray = np.array([], dtype=int)
    imin: np.ndarray = np.array([], dtype=int)
    while not passing and nwin < winmax:
        if skew(x) >= 0:
            imax = np.flatnonzero(x == np.nanmax(x))
            x[imax] = _extreme(np.delete(x, imax), np.nanmax)
        else:
            imin = np.flatnonzero(x == np.nanmin(x))
            x[imin] = _extreme(np.delete(x, imin), np.nanmin)
        nwin = imax.size + imin.size
        passing, _, _ = check_skew_kurt(x, skew_max, kurt_max)
    treated = [""] * x.size
    for i in imax:
        treated[i] = "winhi"
    for i in imin:
        treated[i] = "winlo"
    return x, nwin, treated


def _extreme(rest: FloatArray, func: Any) -> float:
    finite = rest[~np.isnan(rest)]
    if finite.size == 0:
        return -math.inf if func is np.nanmax else math.inf
    return float(func(finite))


def log_ct(x: FloatArray) -> FloatArray:
    """COINr `log_CT()`: log(x - min + 0.01 (max - min)), NAs ignored."""
    lo, hi = np.nanmin(x), np.nanmax(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(x - lo + 0.01 * (hi - lo)), dtype=np.float64)


def treat_vector(
    x: FloatArray,
    *,
    skew_max: float = 2.0,
    kurt_max: float = 3.5,
    winmax: int = 5,
    fallback: str = "log",
    combine: bool = False,
) -> tuple[FloatArray, Treatment]:
    """COINr `Treat.numeric()` with winsorise / log_CT / check_SkewKurt."""
    info = Treatment()
    info.pass0, info.skew0, info.kurt0 = check_skew_kurt(x, skew_max, kurt_max)
    if info.pass0 is None or info.pass0:
        return x.copy(), info
    x1, info.nwin, info.points = winsorise(x, winmax=winmax, skew_max=skew_max, kurt_max=kurt_max)
    info.pass1, info.skew1, info.kurt1 = check_skew_kurt(x1, skew_max, kurt_max)
    if info.pass1 is None:
        return x.copy(), info
    if info.pass1 or fallback == "none":
        return x1, info
    x2 = log_ct(x1 if combine else x)
    info.pass2, info.skew2, info.kurt2 = check_skew_kurt(x2, skew_max, kurt_max)
    if info.pass2 is None:
        return x.copy(), info
    info.points = [p + "+log_CT" if p and combine else "log_CT" for p in info.points]
    return x2, info


def treat(
    coin: Coin,
    *,
    method: str = "winsorise",
    skew_max: float = 2.0,
    kurt_max: float = 3.5,
    winmax: int = 5,
    fallback: str = "log",
    combine: bool = False,
) -> StepResult:
    """Treat outliers in every value column, one period at a time.

    Returns
    -------
    StepResult
        ``treatment_``: per column (and period) the skew, kurtosis, pass flags and points
        Winsorised; ``n_winsorised_`` and ``log_transformed_``.
    """
    values = coin.matrix()
    details: dict[str, dict[str, Any]] = {}
    for rows in coin.periods():
        label = f"@{coin.data.iloc[rows[0]]['Time']:g}" if coin.panel and rows.size else ""
        for j, code in enumerate(coin.codes):
            new, info = treat_vector(
                values[rows, j],
                skew_max=skew_max,
                kurt_max=kurt_max,
                winmax=winmax,
                fallback=fallback,
                combine=combine,
            )
            values[rows, j] = new
            details[code + label] = {k: v for k, v in vars(info).items() if k != "points"}
    learned = {
        "treatment_": details,
        "n_winsorised_": {k: d["nwin"] for k, d in details.items() if d["nwin"]},
        "log_transformed_": sorted(k for k, d in details.items() if d["pass2"] is not None),
    }
    return StepResult(coin=coin.with_values(values), learned=learned)
