"""Hand-computed answers for every step of the indicator engine."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from megacity.indicators.aggregate import aggregate, aggregate_rows
from megacity.indicators.denominate import denominate
from megacity.indicators.impute import impute
from megacity.indicators.io import build_coin, read_imeta
from megacity.indicators.model import Coin, IndicatorError
from megacity.indicators.normalise import normalise
from megacity.indicators.screen import screen
from megacity.indicators.treat import kurt, skew, treat_vector, winsorise

IMETA = """iCode,Level,Parent,Direction,Weight,Type,Denominator,Target,goalpost_lower,goalpost_upper
a,1,P,1,1,Indicator,pop,10,0,20
b,1,P,-1,3,Indicator,,2,0,8
P,2,,1,1,Aggregate,,,,
grp,,,,,Group,,,,
pop,,,,,Denominator,,,,
"""


def make_coin(tmp_path: Path, rows: list[dict[str, object]]) -> Coin:
    meta = tmp_path / "iMeta.csv"
    meta.write_text(IMETA, encoding="utf-8")
    raw = pd.DataFrame(rows).astype(str).replace("nan", "")
    return build_coin(raw, read_imeta(meta), tmp_path / "iData.csv")


@pytest.fixture
def coin(tmp_path: Path) -> Coin:
    return make_coin(
        tmp_path,
        [
            {"uCode": "U1", "grp": "x", "pop": 2, "a": 2, "b": 1},
            {"uCode": "U2", "grp": "x", "pop": 4, "a": 8, "b": math.nan},
            {"uCode": "U3", "grp": "y", "pop": 1, "a": 5, "b": 5},
            {"uCode": "U4", "grp": "y", "pop": 5, "a": math.nan, "b": 7},
        ],
    )


def col(coin: Coin, code: str) -> list[float]:
    return [float(v) for v in coin.data[code]]


def test_denominate_divides_by_the_denominator(coin: Coin) -> None:
    out = denominate(coin)
    assert col(out.coin, "a")[:3] == [1.0, 2.0, 5.0]
    assert col(out.coin, "b") == pytest.approx(col(coin, "b"), nan_ok=True)  # not denominated
    assert out.denominators_ == {"a": "pop"}


def test_impute_mean_median_and_group(coin: Coin) -> None:
    assert col(impute(coin, method="mean").coin, "a")[3] == 5.0
    assert col(impute(coin, method="median").coin, "b")[1] == 5.0
    grouped = impute(coin, method="group_mean", group="grp").coin
    assert col(grouped, "b")[1] == 1.0 and col(grouped, "a")[3] == 5.0
    assert impute(coin, method="mean").n_imputed_ == {"a": 1, "b": 1}


def test_impute_group_needs_the_group_column(coin: Coin) -> None:
    with pytest.raises(IndicatorError, match="no unit column 'nope'"):
        impute(coin, method="group_mean", group="nope")


def test_impute_latest_carries_the_last_observation(tmp_path: Path) -> None:
    rows = [
        {"uCode": "U1", "Time": t, "grp": "x", "pop": 1, "a": a, "b": 1}
        for t, a in [(2020, 1), (2021, math.nan), (2022, math.nan)]
    ]
    rows += [{"uCode": "U2", "Time": t, "grp": "x", "pop": 1, "a": 5, "b": 1} for t in (2020, 2021, 2022)]
    panel = make_coin(tmp_path, rows)
    assert col(impute(panel, method="latest").coin, "a") == [1.0, 5.0, 1.0, 5.0, 1.0, 5.0]
    limited = col(impute(panel, method="latest", max_time=1).coin, "a")
    assert limited[2] == 1.0 and math.isnan(limited[4])


def test_minmax_with_direction(coin: Coin) -> None:
    out = normalise(coin, method="minmax", lower=0, upper=100).coin
    assert col(out, "a")[:3] == [0.0, 100.0, 50.0]
    assert col(out, "b")[0] == 100.0 and col(out, "b")[3] == 0.0  # direction -1: 1 is best


def test_zscore_rank_prank_dist2max(coin: Coin) -> None:
    z = col(normalise(coin, method="zscore").coin, "a")
    assert z[:3] == pytest.approx([-1.0, 1.0, 0.0])
    assert col(normalise(coin, method="rank").coin, "a")[:3] == [1.0, 3.0, 2.0]
    assert col(normalise(coin, method="prank").coin, "a")[:3] == [0.0, 1.0, 0.5]
    assert col(normalise(coin, method="dist2max").coin, "a")[:3] == [0.0, 1.0, 0.5]


def test_dist2ref_dist2targ_goalposts(coin: Coin) -> None:
    assert col(normalise(coin, method="dist2ref", ref="U3").coin, "a")[:3] == [0.0, 2.0, 1.0]
    targ = normalise(coin, method="dist2targ").coin
    assert col(targ, "a")[:3] == pytest.approx([0.0, 0.75, 0.375])  # (x - 2) / (10 - 2)
    assert col(targ, "b")[0] == pytest.approx(1.2)  # (max - x) / (max - t) = (7 - 1) / (7 - 2)
    gp = normalise(coin, method="goalposts").coin
    assert col(gp, "a")[:3] == pytest.approx([0.1, 0.4, 0.25])  # (x - 0) / 20
    assert col(gp, "b") == pytest.approx([0.875, math.nan, 0.375, 0.125], nan_ok=True)  # (8 - x) / 8


def test_index_against_a_base_period(tmp_path: Path) -> None:
    rows = [
        {"uCode": "U1", "Time": t, "grp": "x", "pop": 1, "a": a, "b": b}
        for t, a, b in [(2020, 50, 4), (2022, 55, 2)]
    ]
    panel = make_coin(tmp_path, rows)
    out = normalise(panel, method="index", base=2020).coin
    assert col(out, "a") == pytest.approx([100.0, 110.0]) and col(out, "b") == pytest.approx([100.0, 200.0])


def test_aggregate_skips_missing_children_and_rescales(coin: Coin) -> None:
    out = aggregate(coin).coin
    assert col(out, "P")[0] == pytest.approx(0.25 * 2 + 0.75 * 1)
    assert col(out, "P")[1] == 8.0 and col(out, "P")[3] == 7.0
    assert aggregate(coin).weights_ == {"P": {"a": 0.25, "b": 0.75}}


def test_geometric_and_harmonic_means() -> None:
    x, w = np.array([[4.0, 1.0, np.nan]]), np.array([1.0, 1.0, 5.0])
    assert aggregate_rows(x, w, "geometric_mean")[0] == pytest.approx(2.0)
    assert aggregate_rows(x, w, "harmonic_mean")[0] == pytest.approx(1.6)
    assert math.isnan(aggregate_rows(np.array([[np.nan, np.nan, np.nan]]), w)[0])
    with pytest.raises(IndicatorError, match="geometric_mean needs values > 0"):
        aggregate_rows(np.array([[0.0, 1.0, 2.0]]), w, "geometric_mean")


def test_aggregate_data_threshold(coin: Coin) -> None:
    assert math.isnan(col(aggregate(coin, dat_thresh=1.0).coin, "P")[1])


def test_screen_drops_units_with_too_little_data(coin: Coin) -> None:
    out = screen(coin, dat_thresh=0.9)
    assert out.removed_units_ == ["U2", "U4"] and col(out.coin, "a") == [2.0, 5.0]


def test_skew_kurt_match_e1071_type_2() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    n, d = 5, x - x.mean()
    g1 = math.sqrt(n) * (d**3).sum() / (d**2).sum() ** 1.5
    assert skew(x) == pytest.approx(g1 * math.sqrt(n * (n - 1)) / (n - 2))
    r = n * (d**4).sum() / (d**2).sum() ** 2
    assert kurt(x) == pytest.approx(((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))


def test_winsorise_replaces_the_top_point_by_the_next() -> None:
    x = np.array([*range(1, 11), 30.0, 100.0])
    out, nwin, points = winsorise(x, winmax=5, skew_max=2.0, kurt_max=3.5)
    assert nwin == 1 and out[-1] == 30.0 and points[-1] == "winhi"
    same, info = treat_vector(np.arange(1.0, 11.0))
    assert info.pass0 is True and list(same) == list(np.arange(1.0, 11.0))
