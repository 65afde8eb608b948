"""Weekly forecasts: the seasonal model against seasonal naive, the alert band, week boundaries."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from megacity.analytics.forecast import PERIOD, backtest, band_alerts, fit_forecast, mase, seasonal_naive
from megacity.analytics.forecast_report import backtest_table, forecast_table
from megacity.analytics.weekly import weekly_counts

SHANGHAI = ZoneInfo("Asia/Shanghai")


def seasonal_counts(seed: int, weeks: int = 182) -> np.ndarray:
    """Poisson weekly counts with a known yearly cycle (amplitude 15 around 30) and a slow rise."""
    steps = np.arange(weeks)
    rate = 30.0 + 15.0 * np.sin(2 * np.pi * steps / (365.25 / 7)) + 0.06 * steps
    return np.asarray(np.random.default_rng(seed).poisson(rate), dtype=np.float64)


def test_model_beats_seasonal_naive_on_mase_over_a_known_season() -> None:
    scores = [backtest(seasonal_counts(seed), horizon=8, folds=3) for seed in range(6)]
    model = float(np.mean([s.mase_model for s in scores]))
    naive = float(np.mean([s.mase_naive for s in scores]))
    assert all(s.folds == 3 for s in scores)
    assert model < 0.9 * naive, (model, naive)
    assert model < 1.0  # also beats the in-sample seasonal naive scale
    coverage = float(np.mean([s.coverage for s in scores]))
    assert 0.8 <= coverage <= 1.0, coverage  # the 95 % band is roughly calibrated


def test_seasonal_naive_repeats_last_year_and_mase_scales_by_it() -> None:
    history = np.arange(1.0, 105.0)  # two "years" of a straight line
    assert seasonal_naive(history, 3, PERIOD).tolist() == [53.0, 54.0, 55.0]
    # Every seasonal difference is 52, so an error of 52 is a MASE of exactly 1.
    assert mase(np.array([157.0]), np.array([105.0]), history, PERIOD) == pytest.approx(1.0)
    assert math.isnan(mase(np.array([1.0]), np.array([1.0]), np.ones(60), PERIOD))


def test_band_fires_on_an_injected_spike_and_stays_quiet_without_it() -> None:
    clean = seasonal_counts(7)
    spiked = clean.copy()
    spiked[-2] += 60.0  # a burst of complaints in the second-to-last week
    weeks = [date(2022, 1, 3)] * len(clean)  # labels only; the band does not read them
    quiet = list(forecast_table([("01",)], weeks, clean[None, :], horizon=4, monitor=4))
    loud = list(forecast_table([("01",)], weeks, spiked[None, :], horizon=4, monitor=4))
    observed = [row for row in loud if row.actual is not None]
    assert [row.alert for row in observed][-2] == "above"
    assert observed[-2].actual is not None and observed[-2].actual > observed[-2].upper
    assert [row.alert for row in quiet if row.actual is not None][-2] == ""
    ahead = [row for row in loud if row.actual is None]
    assert len(ahead) == 4 and all(r.lower <= r.forecast <= r.upper for r in ahead)


def test_a_drop_below_the_band_is_flagged_below() -> None:
    forecast = fit_forecast(seasonal_counts(3)[:-1], 1)
    assert band_alerts(np.array([0.0]), forecast) == ["below"]


def test_short_and_flat_series_still_get_a_forecast() -> None:
    short = fit_forecast(np.array([5.0, 7.0, 6.0, 8.0, 6.0, 7.0, 5.0, 6.0, 7.0, 6.0, 8.0, 7.0]), 3)
    assert short.method == "ets" and np.all(short.lower <= short.mean)
    flat = fit_forecast(np.zeros(120), 2)
    assert flat.method == "constant" and flat.upper.tolist() == [0.0, 0.0]


def test_backtest_table_ends_with_the_mean_over_series() -> None:
    counts = np.vstack([seasonal_counts(1), seasonal_counts(2)])
    rows = backtest_table([("01", "110101"), ("02", "110101")], counts, horizon=8, folds=2)
    assert [r.key for r in rows] == [("01", "110101"), ("02", "110101"), ()]
    assert rows[-1].mase_model == pytest.approx((rows[0].mase_model + rows[1].mase_model) / 2)


def test_weeks_are_monday_to_sunday_in_the_profile_zone_and_the_partial_last_week_is_dropped() -> None:
    moments = [
        datetime(2025, 3, 2, 15, 30, tzinfo=UTC),  # Sunday 23:30 in Beijing: week of 24 Feb
        datetime(2025, 3, 2, 16, 30, tzinfo=UTC),  # Monday 00:30 in Beijing: week of 3 March
        datetime(2025, 3, 9, 12, 0, tzinfo=UTC),  # Sunday 20:00: closes the week of 3 March
        datetime(2025, 3, 11, 2, 0, tzinfo=UTC),  # Tuesday of an unfinished week: not counted
    ]
    times = np.array([m.timestamp() for m in moments] + [math.nan])
    keys = [("a",), ("a",), ("b",), ("a",), ("a",)]
    weekly = weekly_counts(times, keys, ("category",), SHANGHAI)
    assert weekly.weeks == [date(2025, 2, 24), date(2025, 3, 3)]
    assert weekly.keys == [("a",), ("b",)]
    assert weekly.counts.tolist() == [[1.0, 1.0], [0.0, 1.0]]
