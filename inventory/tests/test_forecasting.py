"""Forecast model choice and reorder arithmetic: pure functions, no database."""

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory import forecasting
from inventory.forecasting import Forecast, forecast, reorder_plan


def weekly(days: int, *, weekday: int = 2, weekend: int = 10, noise: bool = True) -> list[int]:
    rng = np.random.default_rng(7)
    base = [weekend if i % 7 in (5, 6) else weekday for i in range(days)]
    return [int(v) for v in rng.poisson(base)] if noise else base


def test_no_history_forecasts_zero_with_the_mean_model():
    result = forecast([], horizon=5)

    assert result == Forecast("mean", [0.0] * 5, 0.0)


def test_fewer_than_14_days_use_the_mean_of_what_there_is():
    # Given 13 days of history
    series = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]

    result = forecast(series, horizon=3)

    assert result.model == "mean"
    assert result.daily == [7.0, 7.0, 7.0]
    assert result.sigma == pytest.approx(np.std(series, ddof=1))


def test_two_weeks_of_level_demand_use_simple_exponential_smoothing():
    series = [5, 6, 4, 5, 7, 5, 4, 6, 5, 5, 4, 6, 5, 5]

    result = forecast(series, horizon=7)

    assert result.model == "ses"
    assert len(result.daily) == 7
    assert 4 <= result.daily[0] <= 6
    assert result.daily == [result.daily[0]] * 7


def test_a_clear_trend_uses_holt():
    series = [10 + i + (i % 3) for i in range(40)]

    assert forecast(series).model == "holt"


def test_eight_weeks_with_a_weekly_pattern_use_holt_winters():
    result = forecast(weekly(56), horizon=14)

    assert result.model == "holt_winters"
    # The weekend peak (days 5 and 6 of each week) comes back in the forecast.
    weekdays = [result.daily[i] for i in range(14) if (56 + i) % 7 not in (5, 6)]
    weekends = [result.daily[i] for i in range(14) if (56 + i) % 7 in (5, 6)]
    assert min(weekends) > max(weekdays)


def test_55_days_with_a_weekly_pattern_are_not_enough_for_holt_winters():
    assert forecast(weekly(55)).model in {"ses", "holt"}


def test_long_history_without_weekly_pattern_does_not_use_holt_winters():
    rng = np.random.default_rng(3)
    series = [int(v) for v in rng.poisson(5, 120)]

    assert forecast(series).model == "ses"


@pytest.mark.parametrize("series", [[0] * 90, [4] * 90, [0] * 20, [7] * 14])
def test_constant_series_fall_back_to_the_mean_with_no_uncertainty(series):
    result = forecast(series, horizon=4)

    assert result == Forecast("mean", [float(series[0])] * 4, 0.0)


def test_a_seasonal_series_with_a_trend_uses_holt_winters_and_keeps_rising():
    series = [v + i // 7 for i, v in enumerate(weekly(84, noise=False))]

    result = forecast(series, horizon=14)

    assert result.model == "holt_winters"
    assert result.daily[7] > result.daily[0]


def test_a_falling_series_never_forecasts_negative_demand():
    series = [max(0, 40 - i) for i in range(40)]

    result = forecast(series, horizon=28)

    assert result.model == "holt"
    assert min(result.daily) >= 0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=50), min_size=0, max_size=120))
def test_forecasts_are_never_negative_and_never_crash(series):
    result = forecast(series, horizon=10)

    assert len(result.daily) == 10
    assert all(v >= 0 and math.isfinite(v) for v in result.daily)
    assert result.sigma >= 0


def test_fitting_a_year_of_seasonal_history_takes_well_under_a_second():
    series = weekly(365)
    forecast(series[:60])  # warm up the statsmodels import

    timings = []
    for _ in range(3):  # CPU time, best of three: other work on a busy machine does not count
        started = time.process_time()
        result = forecast(series)
        timings.append(time.process_time() - started)

    assert result.model == "holt_winters"
    assert min(timings) < 0.5


def test_negative_demand_is_refused():
    with pytest.raises(ValueError):
        forecast([1, -1, 2])


# -- reorder arithmetic ----------------------------------------------------------------------


def test_reorder_point_for_constant_demand_is_lead_time_demand_with_no_safety_stock():
    # Given 5 units a day, sigma 0, a 7-day lead time, 20 available and 0 inbound
    plan = reorder_plan(forecast=forecast([5] * 30), available=20, inbound=0, lead_time_days=7)

    assert plan.lead_time_demand == 35.0
    assert plan.safety_stock == 0
    assert plan.reorder_point == 35
    assert plan.days_of_cover == 4.0
    # 35 (reorder point) + 35 (one more cycle) - 20 - 0
    assert plan.suggested_quantity == 50
    assert plan.below_reorder_point is True


def test_inbound_counts_towards_the_position():
    plan = reorder_plan(forecast=forecast([5] * 30), available=20, inbound=10, lead_time_days=7)

    assert plan.suggested_quantity == 40


def test_nothing_is_suggested_above_the_reorder_point():
    plan = reorder_plan(forecast=forecast([5] * 30), available=30, inbound=6, lead_time_days=7)

    assert plan.reorder_point == 35
    assert plan.suggested_quantity == 0
    assert plan.below_reorder_point is False


def test_safety_stock_is_z_times_sigma_times_root_lead_time():
    # Given a forecast of 10 a day with sigma 4 and a 9-day lead time at 95 % service
    result = Forecast("ses", [10.0] * 28, 4.0)

    plan = reorder_plan(forecast=result, available=0, inbound=0, lead_time_days=9, service_level=0.95)

    z = 1.6448536269514722
    assert plan.safety_stock == math.ceil(z * 4.0 * 3)  # 19.74 -> 20
    assert plan.safety_stock == 20
    assert plan.reorder_point == 110
    assert plan.suggested_quantity == 200
    assert plan.days_of_cover == 0.0


def test_lead_time_beyond_the_horizon_repeats_the_last_forecast_day():
    assert forecasting.lead_time_demand([1.0, 2.0, 3.0], 5) == 12.0


def test_no_demand_means_no_cover_figure_and_no_suggestion():
    plan = reorder_plan(forecast=forecast([]), available=0, inbound=0)

    assert plan.days_of_cover is None
    assert plan.reorder_point == 0
    assert plan.suggested_quantity == 0
    assert plan.below_reorder_point is False
