"""Screen units by data availability (COINr `Screen()`), period by period.

A unit is dropped when its share of available values is below `dat_thresh` (`byNA`), its
share of non-zero values among available ones is below `nonzero_thresh` (`byzeros`), or either
(`byNAandzeros`).
"""

from __future__ import annotations

import numpy as np

from megacity.indicators.model import KEY, Coin, StepResult

UNIT_SCREENS = ("byNA", "byzeros", "byNAandzeros")


def screen(
    coin: Coin, *, unit_screen: str = "byNA", dat_thresh: float = 2 / 3, nonzero_thresh: float = 0.05
) -> StepResult:
    """Keep the units (rows) that pass the data-availability rule.

    Returns
    -------
    StepResult
        ``removed_units_``: uCodes dropped (per period for panel data); ``data_availability_``.
    """
    x = coin.matrix()
    n_na = np.isnan(x).sum(axis=1)
    n_zero = (np.nan_to_num(x, nan=1.0) == 0).sum(axis=1)
    avail = 1 - n_na / x.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        nonzero = 1 - n_zero / (x.shape[1] - n_na)
    low_data = avail < dat_thresh
    low_nonzero = nonzero < nonzero_thresh
    drop = {"byNA": low_data, "byzeros": low_nonzero, "byNAandzeros": low_data | low_nonzero}[unit_screen]
    keep = np.flatnonzero(~drop)
    codes = coin.data[KEY].tolist()
    removed = [codes[i] for i in np.flatnonzero(drop)]
    learned = {
        "removed_units_": removed,
        "data_availability_": {codes[i]: float(avail[i]) for i in range(len(codes))},
    }
    return StepResult(coin=coin.take(keep), learned=learned)
