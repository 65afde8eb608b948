"""Weekly volume forecasts (未诉先办): a seasonal model, its seasonal-naive baseline, backtests, alerts.

The model is dynamic harmonic regression, the approach Hyndman & Athanasopoulos (FPP3, ch. 12)
recommend for weekly data: a year is 52.18 weeks, too long and not whole for seasonal ETS or
SARIMA. The log1p-transformed weekly counts are regressed on a linear trend and K sine/cosine
pairs of the yearly cycle (K picked by AIC); the Fourier part is the seasonal profile, smooth from
week to week, so three years of history are enough to learn it. An additive damped-trend ETS model
(statsmodels) forecasts the seasonally adjusted rest with analytic prediction intervals, and the
profile is added back. Series shorter than two years get the same ETS without a season. The STL
decomposition was tried first and lost: it learns each week of the year from only two or three
values, so its profile carries last year's noise (see docs/forecasts.md).

Everything here works on plain numpy arrays of weekly counts; `megacity.analytics.weekly` builds
them and `megacity.analytics.forecast_report` turns them into tables.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "PERIOD",
    "Backtest",
    "Forecast",
    "backtest",
    "band_alerts",
    "fit_forecast",
    "mase",
    "seasonal_naive",
    "season_for",
    "smape",
]

F64 = npt.NDArray[np.float64]
#: Weeks in a year: the seasonal period of weekly volumes.
PERIOD = 52
#: Weeks in a mean year: the period of the Fourier terms, so the profile does not drift.
YEAR_WEEKS = 365.25 / 7.0


@dataclass(frozen=True)
class Forecast:
    """Point forecasts and a prediction band, on the scale of the counts (never below zero)."""

    mean: F64
    lower: F64
    upper: F64
    method: str  # "fourier-ets", "ets", "constant" or "seasonal-naive"


def season_for(length: int, period: int = PERIOD) -> int:
    """The season a series of `length` weeks can support: a year needs two years to be learnt."""
    return period if length >= 2 * period else 1


def seasonal_naive(history: F64, horizon: int, period: int) -> F64:
    """Each future week repeats the same week one season earlier (the last week when period = 1)."""
    period = max(1, min(period, len(history)))
    last = history[-period:]
    return np.asarray(np.resize(last, horizon), dtype=np.float64)


def fit_forecast(history: F64, horizon: int, level: float = 0.95, period: int = PERIOD) -> Forecast:
    """Forecast `horizon` weeks after `history` with a `level` prediction band.

    >>> y = 20 + 10 * np.sin(2 * np.pi * np.arange(156) / 52)
    >>> f = fit_forecast(y, 4)
    >>> f.method, bool(np.all(np.abs(f.mean - y[104:108]) < 1.0))
    ('fourier-ets', True)
    """
    history = np.asarray(history, dtype=np.float64)
    if horizon < 1:
        raise ValueError("horizon must be at least 1 week")
    if not 0.0 < level < 1.0:
        raise ValueError("level must lie between 0 and 1")
    season = season_for(len(history), period)
    if len(history) == 0:
        zeros = np.zeros(horizon)
        return Forecast(zeros, zeros, zeros, "constant")
    if float(np.ptp(history)) == 0.0:
        flat = np.full(horizon, float(history[0]))
        return Forecast(flat, flat.copy(), flat.copy(), "constant")
    logged = np.log1p(np.maximum(history, 0.0))
    try:
        centre, low, high, method = _harmonic_ets(logged, horizon, season, level)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return _naive_band(history, horizon, level, season)
    mean, lower, upper = (np.maximum(np.expm1(part), 0.0) for part in (centre, low, high))
    return Forecast(mean, lower, upper, method)


def fourier_terms(steps: F64, harmonics: int) -> F64:
    """Sine and cosine pairs of the yearly cycle (365.25 / 7 weeks) at each week index."""
    angle = 2.0 * np.pi * np.outer(steps, np.arange(1, harmonics + 1)) / YEAR_WEEKS
    return np.asarray(np.hstack([np.sin(angle), np.cos(angle)]), dtype=np.float64)


def seasonal_profile(logged: F64, horizon: int, max_harmonics: int = 8) -> F64:
    """The Fourier part of the best (AIC) regression on trend + harmonics, for the history and
    `horizon` weeks after it."""
    count = len(logged)
    steps = np.arange(count + horizon, dtype=np.float64)
    base = np.column_stack([np.ones(count + horizon), steps])
    best: tuple[float, F64] | None = None
    for harmonics in range(1, max_harmonics + 1):
        design = np.hstack([base, fourier_terms(steps, harmonics)])
        beta, *_ = np.linalg.lstsq(design[:count], logged, rcond=None)
        residual = float(np.sum((logged - design[:count] @ beta) ** 2))
        aic = count * math.log(max(residual, 1e-12) / count) + 2.0 * design.shape[1]
        if best is None or aic < best[0]:
            best = (aic, design[:, 2:] @ beta[2:])
    assert best is not None
    return best[1]


def _harmonic_ets(logged: F64, horizon: int, season: int, level: float) -> tuple[F64, F64, F64, str]:
    """Centre and prediction band on the log1p scale (ETS's analytic prediction intervals)."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel  # type: ignore[import-untyped]

    if season > 1:
        profile = seasonal_profile(logged, horizon)
        adjusted, ahead = logged - profile[: len(logged)], profile[len(logged) :]
    else:
        adjusted, ahead = logged, np.zeros(horizon)
    trend = "add" if len(adjusted) >= 10 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the optimiser on short series
        model = ETSModel(pd.Series(adjusted), error="add", trend=trend, damped_trend=trend is not None)
        fitted = model.fit(disp=False)
        end = len(adjusted) + horizon - 1
        frame = fitted.get_prediction(start=len(adjusted), end=end).summary_frame(alpha=1.0 - level)
    parts = [np.asarray(frame[name], dtype=np.float64) + ahead for name in ("mean", "pi_lower", "pi_upper")]
    if not all(np.all(np.isfinite(part)) for part in parts):
        raise FloatingPointError("non-finite forecast")
    return parts[0], parts[1], parts[2], "fourier-ets" if season > 1 else "ets"


def _naive_band(history: F64, horizon: int, level: float, season: int) -> Forecast:
    """Fallback when the model cannot be fitted: seasonal naive with an empirical band."""
    mean = seasonal_naive(history, horizon, season)
    errors = np.abs(history[season:] - history[:-season]) if len(history) > season else np.zeros(1)
    width = float(np.quantile(errors, level)) if len(errors) else 0.0
    return Forecast(mean, np.maximum(mean - width, 0.0), mean + width, "seasonal-naive")


def mase(actual: F64, predicted: F64, history: F64, period: int) -> float:
    """Mean absolute error scaled by the in-sample MAE of the seasonal naive forecast (Hyndman &
    Koehler 2006); < 1 beats that naive forecast. NaN when the history cannot give a scale.

    >>> mase(np.array([3.0]), np.array([2.0]), np.array([1.0, 2.0, 3.0]), 1)
    1.0
    """
    period = max(1, period)
    if len(history) <= period:
        return math.nan
    scale = float(np.mean(np.abs(history[period:] - history[:-period])))
    if scale == 0.0:
        return math.nan
    return float(np.mean(np.abs(actual - predicted))) / scale


def smape(actual: F64, predicted: F64) -> float:
    """Symmetric MAPE in percent (0-200); weeks where both are zero count as perfect.

    >>> smape(np.array([10.0, 0.0]), np.array([30.0, 0.0]))
    50.0
    """
    denominator = np.abs(actual) + np.abs(predicted)
    safe = np.where(denominator == 0.0, 1.0, denominator)
    terms = np.where(denominator == 0.0, 0.0, 2.0 * np.abs(actual - predicted) / safe)
    return float(100.0 * np.mean(terms))


@dataclass(frozen=True)
class Backtest:
    """Rolling-origin scores of one series: the model against seasonal naive."""

    folds: int
    mase_model: float
    mase_naive: float
    smape_model: float
    smape_naive: float
    coverage: float  # share of held-out weeks inside the model's band


def backtest(
    series: F64, horizon: int, folds: int = 4, level: float = 0.95, period: int = PERIOD
) -> Backtest:
    """Fit on all weeks before an origin, forecast the next `horizon`, score; origins step back by
    `horizon` from the end, `folds` times. Scores are means over the folds that could run (a fold
    needs more than one season of history, so the naive forecast and the MASE scale exist)."""
    series = np.asarray(series, dtype=np.float64)
    model_mase, naive_mase, model_smape, naive_smape, inside = [], [], [], [], []
    for fold in range(folds, 0, -1):
        origin = len(series) - fold * horizon
        history, actual = series[:origin], series[origin : origin + horizon]
        season = season_for(origin, period)
        if origin <= season or len(actual) == 0:
            continue
        predicted = fit_forecast(history, len(actual), level, period)
        naive = seasonal_naive(history, len(actual), season)
        model_mase.append(mase(actual, predicted.mean, history, season))
        naive_mase.append(mase(actual, naive, history, season))
        model_smape.append(smape(actual, predicted.mean))
        naive_smape.append(smape(actual, naive))
        inside.append(float(np.mean((actual >= predicted.lower) & (actual <= predicted.upper))))
    return Backtest(
        folds=len(model_smape),
        mase_model=_mean(model_mase),
        mase_naive=_mean(naive_mase),
        smape_model=_mean(model_smape),
        smape_naive=_mean(naive_smape),
        coverage=_mean(inside),
    )


def _mean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def band_alerts(actual: F64, forecast: Forecast) -> list[str]:
    """Per week: "above" when the count is over the band, "below" when under it, "" inside.

    >>> f = Forecast(np.array([10.0, 10.0]), np.array([5.0, 5.0]), np.array([15.0, 15.0]), "ets")
    >>> band_alerts(np.array([30.0, 7.0]), f)
    ['above', '']
    """
    return [
        "above" if value > high else "below" if value < low else ""
        for value, low, high in zip(actual, forecast.lower, forecast.upper, strict=False)
    ]
