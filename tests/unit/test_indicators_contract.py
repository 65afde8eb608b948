"""A contract every normaliser, weighting and aggregation obeys, plus property tests."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from megacity.indicators.aggregate import METHODS as AGG_METHODS
from megacity.indicators.aggregate import aggregate, aggregate_rows
from megacity.indicators.io import build_coin, read_imeta
from megacity.indicators.model import Coin
from megacity.indicators.normalise import n_minmax, n_prank, normalise
from megacity.indicators.weights import ahp_weights, entropy_weights, pca_weights, weight

IMETA = """iCode,Level,Parent,Direction,Weight,Type,Target,goalpost_lower,goalpost_upper
a,1,P,1,1,Indicator,9,0,10
b,1,P,-1,2,Indicator,1,0,10
c,1,Q,1,1,Indicator,9,0,10
P,2,I,1,1,Aggregate,,,
Q,2,I,1,1,Aggregate,,,
I,3,,1,1,Aggregate,,,
"""
NORMALISERS = [
    ("minmax", {}),
    ("zscore", {}),
    ("rank", {}),
    ("prank", {}),
    ("dist2ref", {"ref": "U2"}),
    ("dist2max", {}),
    ("dist2targ", {}),
    ("goalposts", {}),
]


@pytest.fixture
def coin(tmp_path: Path) -> Coin:
    meta = tmp_path / "m.csv"
    meta.write_text(IMETA, encoding="utf-8")
    rng = np.random.default_rng(3)
    raw = pd.DataFrame(
        {
            "uCode": [f"U{i}" for i in range(8)],
            "a": rng.uniform(1, 9, 8),
            "b": rng.uniform(1, 9, 8),
            "c": rng.uniform(1, 9, 8),
        }
    )
    raw.loc[3, "a"] = np.nan
    return build_coin(raw.astype(str).replace("nan", ""), read_imeta(meta), tmp_path / "d.csv")


@pytest.mark.parametrize(("method", "params"), NORMALISERS)
def test_normaliser_contract(coin: Coin, method: str, params: dict[str, object]) -> None:
    before = coin.data.copy()
    first = normalise(coin, method=method, **params).coin
    second = normalise(coin, method=method, **params).coin
    pd.testing.assert_frame_equal(coin.data, before)  # input unchanged
    pd.testing.assert_frame_equal(first.data, second.data)  # deterministic
    assert list(first.data["uCode"]) == list(coin.data["uCode"])  # unit codes kept
    assert math.isnan(first.data.loc[3, "a"])  # NA stays NA
    assert first.data["a"].notna().sum() == 7
    b_raw, b_out = coin.data["b"].to_numpy(), first.data["b"].to_numpy()
    assert b_out[np.argmin(b_raw)] >= b_out[np.argmax(b_raw)]  # direction -1 applied


@pytest.mark.parametrize("method", ["equal", "entropy", "pca"])
def test_weighting_contract(coin: Coin, method: str) -> None:
    before = dict(coin.weights)
    first, second = weight(coin, method=method), weight(coin, method=method)
    assert dict(coin.weights) == before
    assert first.weights_ == second.weights_
    assert set(first.weights_) == set(before)
    assert all(w >= 0 for w in first.weights_.values())


@pytest.mark.parametrize("method", AGG_METHODS)
def test_aggregation_contract(coin: Coin, method: str) -> None:
    norm = normalise(coin, method="minmax", lower=1, upper=100).coin
    before = norm.data.copy()
    out = aggregate(norm, method=method).coin
    pd.testing.assert_frame_equal(norm.data, before)
    assert list(out.codes) == ["a", "b", "c", "P", "Q", "I"]
    assert list(out.data["uCode"]) == list(norm.data["uCode"])
    assert out.data.loc[3, "P"] == pytest.approx(out.data.loc[3, "b"])  # missing child skipped
    pd.testing.assert_frame_equal(aggregate(norm, method=method).coin.data, out.data)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(2, 30), elements=finite), st.floats(-50, 50), st.floats(1, 100))
def test_minmax_within_bounds(x: np.ndarray, lower: float, width: float) -> None:
    if np.ptp(x) == 0:
        return
    y = n_minmax(x, lower, lower + width)
    assert np.all(y >= lower - 1e-9 * width) and np.all(y <= lower + width + 1e-9 * width)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(2, 30), elements=finite))
def test_prank_within_unit_interval(x: np.ndarray) -> None:
    y = n_prank(x)
    assert np.all((y >= 0) & (y <= 1))


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(3, 12), st.integers(2, 5)),
        elements=st.floats(0, 100, allow_nan=False),
    )
)
def test_data_weights_sum_to_one(x: np.ndarray) -> None:
    assert entropy_weights(x).sum() == pytest.approx(1.0)
    if np.all(x.std(axis=0) > 1e-3):
        assert pca_weights(x).sum() == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.2, 5), min_size=3, max_size=6))
def test_ahp_of_a_consistent_matrix_recovers_the_ratios(values: list[float]) -> None:
    v = np.array(values)
    result = ahp_weights(v[:, None] / v[None, :])
    assert result.weights.sum() == pytest.approx(1.0)
    assert result.weights == pytest.approx(v / v.sum(), rel=1e-6)
    assert result.cr == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.lists(st.floats(0.01, 10), min_size=1, max_size=8),
    st.sampled_from(AGG_METHODS),
)
def test_aggregating_equal_inputs_gives_that_input(value: float, w: list[float], method: str) -> None:
    if method != "arithmetic_mean":
        value = abs(value) + 0.5
    x = np.full((1, len(w)), value)
    assert aggregate_rows(x, np.array(w), method)[0] == pytest.approx(value, rel=1e-12)
