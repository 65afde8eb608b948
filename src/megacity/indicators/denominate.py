"""Denominate: divide indicators by a denominator column (COINr `Denominate()`).

For each indicator whose iMeta `Denominator` names an iData column (Type Denominator), the
indicator becomes `x / d` for the same unit (and period). COINr's ScaleFactor is 1, so this
is plain IEEE division: a zero denominator gives ±Inf, a missing one NA.
"""

from __future__ import annotations

import numpy as np

from megacity.indicators.model import Coin, IndicatorError, StepResult


def denominate(coin: Coin) -> StepResult:
    """Divide each denominated indicator by its denominator; nothing else changes.

    Returns
    -------
    StepResult
        ``denominators_``: the denominator used for each denominated indicator.
    """
    by = {code: den for code, den in coin.framework.denominator_of.items() if code in coin.codes}
    for code, den in by.items():
        if den not in coin.units.columns:
            raise IndicatorError(f"denominate: denominator {den!r} of {code} is not a column of iData")
    values = coin.matrix()
    index = {code: j for j, code in enumerate(coin.codes)}
    with np.errstate(divide="ignore", invalid="ignore"):
        for code, den in by.items():
            d = coin.units[den].to_numpy(dtype=np.float64)
            values[:, index[code]] = values[:, index[code]] / d
    return StepResult(coin=coin.with_values(values), learned={"denominators_": dict(by)})
