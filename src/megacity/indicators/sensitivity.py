"""Uncertainty and sensitivity analysis of a composite indicator (after COINr
`get_sensitivity()`): Monte Carlo over noisy weights and alternative methods, giving rank
intervals per unit, and first-order Sobol indices with Saltelli's (2010) estimator.

Each uncertain input is a factor: `weights` picks one of `n_weight_sets` noisy weight sets
(every weight multiplied by U(1 - noise, 1 + noise), as COINr's `get_noisy_weights()`), and
each varied step picks one of its alternative methods. The output of a run is the rank of
every unit on the target column (1 = best; ties share the best rank).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from megacity.indicators.model import KEY, TIME, Coin, IndicatorError
from megacity.indicators.pipeline import PARAMETER_CONSTRAINTS, Pipeline, Step


def parse_vary(items: Sequence[str]) -> dict[str, list[str]]:
    """`["normalise=minmax,rank"]` -> `{"normalise": ["minmax", "rank"]}` (checked).

    >>> parse_vary(["aggregate=arithmetic_mean,geometric_mean"])
    {'aggregate': ['arithmetic_mean', 'geometric_mean']}
    """
    out: dict[str, list[str]] = {}
    for item in items:
        kind, _, methods = item.partition("=")
        options = [m.strip() for m in methods.split(",") if m.strip()]
        if kind not in PARAMETER_CONSTRAINTS or None in PARAMETER_CONSTRAINTS[kind] or not options:
            valid = ", ".join(k for k, v in PARAMETER_CONSTRAINTS.items() if None not in v)
            raise IndicatorError(f"--vary {item!r}: expected STEP=method,method with STEP one of {valid}")
        for method in options:
            if method not in PARAMETER_CONSTRAINTS[kind]:
                valid = ", ".join(str(m) for m in PARAMETER_CONSTRAINTS[kind])
                raise IndicatorError(f"--vary {item!r}: unknown method {method!r} (valid: {valid})")
        out[kind] = options
    return out


def _alternative(step: Step, method: str) -> Step:
    allowed = PARAMETER_CONSTRAINTS[step.kind][method]
    return Step(kind=step.kind, method=method, params={k: v for k, v in step.params.items() if k in allowed})


def _ranks(coin: Coin, target: str | None) -> pd.Series:
    column = target or coin.framework.aggregates[-1] if coin.framework.aggregates else target
    if column is None or column not in coin.codes:
        raise IndicatorError(f"sensitivity: no column {column!r} to rank (aggregate first, or pass --target)")
    data = coin.data
    if coin.panel:
        data = data[data[TIME] == data[TIME].max()]
    scores = pd.Series(data[column].to_numpy(dtype=float), index=data[KEY].to_numpy())
    return scores.rank(ascending=False, method="min")


@dataclasses.dataclass
class _Model:
    coin: Coin
    pipeline: Pipeline
    alternatives: Mapping[str, list[str]]
    weight_sets: list[dict[str, float]]
    target: str | None

    def run(self, choice: Mapping[str, int]) -> pd.Series:
        coin = self.coin
        for _, step in self.pipeline.steps:
            if step.kind in self.alternatives:
                step = _alternative(step, self.alternatives[step.kind][choice[step.kind]])
            if step.kind == "aggregate" and "weights" in choice:
                coin = dataclasses.replace(coin, weights=self._noisy(coin.weights, choice["weights"]))
            coin = step(coin).coin
        return _ranks(coin, self.target)

    def _noisy(self, weights: Mapping[str, float], k: int) -> dict[str, float]:
        factors = self.weight_sets[k]
        return {c: w * factors.get(c, 1.0) for c, w in weights.items()}


def _model(
    coin: Coin,
    pipeline: Pipeline,
    alternatives: Mapping[str, list[str]],
    weight_noise: float,
    rng: np.random.Generator,
    target: str | None,
    n_sets: int = 100,
) -> _Model:
    kinds = {s.kind for _, s in pipeline.steps}
    for kind in alternatives:
        if kind not in kinds:
            raise IndicatorError(f"--vary {kind}: the pipeline has no {kind} step")
    if "aggregate" not in kinds and target is None:
        raise IndicatorError("sensitivity: the pipeline has no aggregate step (or pass --target)")
    codes = list(coin.framework.weights)
    sets = [
        {
            c: float(f)
            for c, f in zip(codes, rng.uniform(1 - weight_noise, 1 + weight_noise, len(codes)), strict=True)
        }
        for _ in range(n_sets)
    ]
    return _Model(coin=coin, pipeline=pipeline, alternatives=alternatives, weight_sets=sets, target=target)


def rank_intervals(
    coin: Coin,
    pipeline: Pipeline,
    *,
    runs: int = 200,
    seed: int = 1,
    weight_noise: float = 0.25,
    alternatives: Mapping[str, list[str]] | None = None,
    target: str | None = None,
) -> pd.DataFrame:
    """Nominal rank and the Monte Carlo median, 5% and 95% ranks of every unit."""
    rng = np.random.default_rng(seed)
    alts = dict(alternatives or {})
    model = _model(coin, pipeline, alts, weight_noise, rng, target)
    nominal = model.run(_nominal_choice(pipeline, alts))

    samples = []
    for _ in range(runs):
        choice: dict[str, int] = {k: int(rng.integers(len(v))) for k, v in alts.items()}
        if weight_noise > 0:
            choice["weights"] = int(rng.integers(len(model.weight_sets)))
        samples.append(model.run(choice).reindex(nominal.index))
    ranks = np.vstack([s.to_numpy() for s in samples])
    return (
        pd.DataFrame(
            {
                KEY: nominal.index,
                "nominal_rank": nominal.to_numpy(),
                "median_rank": np.nanmedian(ranks, axis=0),
                "q05_rank": np.nanquantile(ranks, 0.05, axis=0),
                "q95_rank": np.nanquantile(ranks, 0.95, axis=0),
                "mean_rank": np.nanmean(ranks, axis=0),
            }
        )
        .sort_values(["nominal_rank", KEY])
        .reset_index(drop=True)
    )


def _nominal_choice(pipeline: Pipeline, alts: Mapping[str, list[str]]) -> dict[str, int]:
    """The choice that reproduces the pipeline as written (its own method where listed)."""
    return {k: v.index(m) if (m := _current(pipeline, k)) in v else 0 for k, v in alts.items()}


def _current(pipeline: Pipeline, kind: str) -> str | None:
    return next((s.method for _, s in pipeline.steps if s.kind == kind), None)


def _choice(row: np.ndarray, factors: list[tuple[str, int]]) -> dict[str, int]:
    return {name: min(int(u * n), n - 1) for (name, n), u in zip(factors, row, strict=True)}


def sobol_first_order(
    coin: Coin,
    pipeline: Pipeline,
    *,
    runs: int = 64,
    seed: int = 1,
    weight_noise: float = 0.25,
    alternatives: Mapping[str, list[str]] | None = None,
    target: str | None = None,
) -> pd.DataFrame:
    """First-order Sobol index of each factor for the mean absolute rank shift (Saltelli 2010:
    V_i = mean(f(B) (f(A_B^i) - f(A))), S_i = V_i / Var(f)); costs runs x (k + 2) pipeline runs."""
    rng = np.random.default_rng(seed)
    alts = dict(alternatives or {})
    model = _model(coin, pipeline, alts, weight_noise, rng, target)
    factors: list[tuple[str, int]] = [(k, len(v)) for k, v in alts.items()]
    if weight_noise > 0:
        factors.append(("weights", len(model.weight_sets)))
    if not factors:
        raise IndicatorError("sensitivity: nothing varies (set --weight-noise or --vary)")
    nominal = model.run(_nominal_choice(pipeline, alts))

    def output(row: np.ndarray) -> float:
        ranks = model.run(_choice(row, factors)).reindex(nominal.index)
        return float(np.nanmean(np.abs(ranks.to_numpy() - nominal.to_numpy())))

    a, b = rng.random((runs, len(factors))), rng.random((runs, len(factors)))
    fa = np.array([output(r) for r in a])
    fb = np.array([output(r) for r in b])
    variance = float(np.var(np.concatenate([fa, fb]), ddof=1))
    rows: list[dict[str, Any]] = []
    for i, (name, _) in enumerate(factors):
        abi = a.copy()
        abi[:, i] = b[:, i]
        fabi = np.array([output(r) for r in abi])
        s = float(np.mean(fb * (fabi - fa)) / variance) if variance > 0 else math.nan
        rows.append({"factor": name, "first_order": s})
    return pd.DataFrame(rows)
