"""Weights against published worked examples."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from megacity.indicators.model import IndicatorError
from megacity.indicators.weights import RANDOM_INDEX, ahp_weights, entropy_weights, read_ahp_matrix


def test_ahp_leader_example() -> None:
    """Wikipedia, "Analytic hierarchy process – leader example" (Saaty's method): criteria
    Experience, Education, Charisma, Age are weighted .547, .127, .270, .056 (published to three
    decimals, truncated); the matrix is consistent (CR < 0.1)."""
    a = np.array([[1, 4, 3, 7], [1 / 4, 1, 1 / 3, 3], [1 / 3, 3, 1, 5], [1 / 7, 1 / 3, 1 / 5, 1]])
    result = ahp_weights(a)
    assert result.weights == pytest.approx([0.547, 0.127, 0.270, 0.056], abs=1e-3)
    assert result.lambda_max == pytest.approx(4.1184, abs=1e-4)
    assert result.cr == pytest.approx((result.lambda_max - 4) / 3 / 0.90)
    assert result.cr < 0.1


def test_saaty_random_index_table() -> None:
    """Saaty (1980), The Analytic Hierarchy Process: RI for n = 1..10."""
    assert [RANDOM_INDEX[n] for n in range(1, 11)] == [0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]


def test_ahp_refuses_inconsistent_judgements() -> None:
    # A > B (9), B > C (9), but C > A (9): circular.
    a = np.array([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]])
    with pytest.raises(IndicatorError, match=r"CR = \d+\.\d+ >= 0.1"):
        ahp_weights(a)


def test_ahp_rejects_non_reciprocal() -> None:
    with pytest.raises(IndicatorError, match="reciprocal"):
        ahp_weights(np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_ahp_matrix_file_with_fractions(tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text(",a,b\na,1,3\nb,1/3,1\n", encoding="utf-8")
    codes, a = read_ahp_matrix(f)
    assert codes == ["a", "b"] and a[1, 0] == pytest.approx(1 / 3)


def test_entropy_weights_hand_computed() -> None:
    """The textbook entropy weight method (熵权法: min-max, p_ij, e_j = -1/ln n sum p ln p,
    w_j = (1 - e_j) / sum (1 - e_j)) on the 3 x 5 example of AlexdeyCheng/assessment_models
    (Entropy/ewm.ipynb): X = [[80,100,50,60,10],[82,100,50,85,40],[78,100,50,95,90]]. Its
    constant columns C2, C3 must get weight 0; the others are computed here by hand."""
    x = np.array([[80, 100, 50, 60, 10], [82, 100, 50, 85, 40], [78, 100, 50, 95, 90]], dtype=float)

    def d(p: list[float]) -> float:
        return 1 + sum(q * math.log(q) for q in p if q > 0) / math.log(3)

    d1 = d([0.5 / 1.5, 1 / 1.5, 0])  # C1 -> (0.5, 1, 0)
    d4 = d([0, (25 / 35) / (1 + 25 / 35), 1 / (1 + 25 / 35)])  # C4 -> (0, 25/35, 1)
    d5 = d([0, (30 / 80) / (1 + 30 / 80), 1 / (1 + 30 / 80)])  # C5 -> (0, 3/8, 1)
    total = d1 + d4 + d5
    assert entropy_weights(x) == pytest.approx([d1 / total, 0, 0, d4 / total, d5 / total])
    assert entropy_weights(x).round(4).tolist() == [0.3314, 0.0, 0.0, 0.3008, 0.3677]


def test_entropy_respects_directions() -> None:
    x = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    assert entropy_weights(x, directions=[1, -1]) == pytest.approx([0.5, 0.5])
