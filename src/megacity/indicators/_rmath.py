"""R's arithmetic, reproduced bit for bit where COINr's results depend on it.

R accumulates `sum()` and `mean()` in long double (80-bit on x86-64), one element after the
other, and `mean()` adds a second correcting pass. Numpy's `sum` is pairwise in double, which
can differ in the last bit; these helpers use a sequential long-double accumulation
(`np.cumsum(..., dtype=np.longdouble)`) instead, so results equal COINr's to the last digit
on the platforms R itself runs on.

>>> r_mean(np.array([1.0, 2.0, 4.0]))
2.3333333333333335
>>> r_median(np.array([3.0, 1.0, 2.0, 10.0]))
2.5
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _seq_sum(values: npt.NDArray[np.longdouble]) -> np.longdouble:
    if values.size == 0:
        return np.longdouble(0)
    return np.cumsum(values, dtype=np.longdouble)[-1]  # type: ignore[no-any-return]


def r_sum(x: FloatArray) -> float:
    """`sum(x)` as R computes it (sequential, long double), NaNs not removed."""
    return float(_seq_sum(np.asarray(x, dtype=np.longdouble)))


def r_mean(x: FloatArray) -> float:
    """`mean(x)` of R's summary.c: long-double sum, then one correcting pass; NaN if empty."""
    n = x.size
    if n == 0:
        return math.nan
    xl = np.asarray(x, dtype=np.longdouble)
    s = _seq_sum(xl) / np.longdouble(n)
    if math.isfinite(float(s)):
        t = _seq_sum(xl - s)
        s = s + t / np.longdouble(n)
    return float(s)


def _cov_mean(x: FloatArray) -> float:
    """The mean of R's cov.c (same algorithm as `mean`), rounded to double."""
    return r_mean(x)


def r_var(x: FloatArray) -> float:
    """`var(x)` of R's cov.c for a complete vector: NA (nan) for fewer than two values."""
    n = x.size
    if n < 2:
        return math.nan
    m = _cov_mean(x)
    d = x - m
    prods = np.asarray(d * d, dtype=np.longdouble)
    return float(_seq_sum(prods) / np.longdouble(n - 1))


def r_sd(x: FloatArray) -> float:
    """`sd(x)` = sqrt(var(x))."""
    return math.sqrt(r_var(x))


def r_median(x: FloatArray) -> float:
    """`median(x)`: the middle value, or R's `mean()` of the two middle values."""
    n = x.size
    if n == 0:
        return math.nan
    s = np.sort(x)
    half = (n + 1) // 2
    if n % 2 == 1:
        return float(s[half - 1])
    return r_mean(s[half - 1 : half + 1])


def r_rank_min(x: FloatArray) -> FloatArray:
    """`rank(x, ties.method = "min", na.last = "keep")`.

    >>> r_rank_min(np.array([10.0, np.nan, 5.0, 10.0]))
    array([ 2., nan,  1.,  2.])
    """
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    vals = x[ok]
    order = np.sort(vals)
    out[ok] = np.searchsorted(order, vals, side="left") + 1.0
    return out


def r_sort_key(code: str) -> tuple[str, str]:
    """Sort key close to R's `sort()` in an English locale: case-insensitive, lower case first.

    >>> sorted(["b", "A", "a"], key=r_sort_key)
    ['a', 'A', 'b']
    """
    return (code.casefold(), code.swapcase())
