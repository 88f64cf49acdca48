"""Demand forecasts and reorder arithmetic: pure functions of numbers, no database.

The model is chosen by how much history there is:

- fewer than ``MIN_HISTORY`` (14) days, a constant series or a fit that fails: the mean;
- at least ``SEASONAL_HISTORY`` (56) days with a weekly pattern: Holt-Winters (additive,
  ``seasonal_periods=7``, with a damped trend when the series trends);
- otherwise simple exponential smoothing, or Holt's damped trend when the series clearly trends.

Forecasts are never negative. ``sigma`` is the standard deviation of the one-step residuals,
the daily uncertainty that safety stock covers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

MIN_HISTORY = 14
SEASONAL_HISTORY = 56
MAX_HISTORY = 365  # older days change little and slow the fit down
SEASON = 7
DEFAULT_HORIZON = 28
DEFAULT_SERVICE_LEVEL = 0.95
DEFAULT_LEAD_TIME_DAYS = 7


class Forecast(NamedTuple):
    model: str  # "mean" | "ses" | "holt" | "holt_winters"
    daily: list[float]  # forecast for each of the next ``horizon`` days
    sigma: float  # residual standard deviation (units per day)

    @property
    def mean_daily(self) -> float:
        return float(sum(self.daily) / len(self.daily)) if self.daily else 0.0


def _mean_forecast(y: np.ndarray, horizon: int) -> Forecast:
    if y.size == 0:
        return Forecast("mean", [0.0] * horizon, 0.0)
    level = max(0.0, float(y.mean()))
    sigma = float(y.std(ddof=1)) if y.size > 1 else 0.0
    return Forecast("mean", [level] * horizon, sigma)


def weekly_seasonality(y: Sequence[float] | np.ndarray) -> bool:
    """Whether the series repeats weekly: its lag-7 autocorrelation is clearly positive and significant."""
    y = np.asarray(y, dtype=float)
    if y.size < SEASONAL_HISTORY:
        return False
    centred = y - y.mean()
    denominator = float((centred * centred).sum())
    if denominator == 0:
        return False
    acf7 = float((centred[SEASON:] * centred[:-SEASON]).sum()) / denominator
    return acf7 > max(0.2, 2 / math.sqrt(y.size))


def _trending(y: np.ndarray) -> bool:
    """A least-squares slope whose t-statistic exceeds 3 (and at least 4 weeks of data)."""
    n = y.size
    if n < 2 * MIN_HISTORY:
        return False
    x = np.arange(n, dtype=float)
    x -= x.mean()
    slope = float((x * (y - y.mean())).sum() / (x * x).sum())
    residuals = y - y.mean() - slope * x
    dof = n - 2
    scale = float(math.sqrt((residuals * residuals).sum() / dof / (x * x).sum()))
    if scale == 0:
        return slope != 0
    return abs(slope / scale) > 3


def _fit(y: np.ndarray, model: str):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing, SimpleExpSmoothing

    if model == "ses":
        return SimpleExpSmoothing(y, initialization_method="estimated").fit()
    if model == "holt":
        return ExponentialSmoothing(y, trend="add", damped_trend=True, initialization_method="estimated").fit(
            use_brute=False
        )
    # A damped trend only where the series trends: it costs several times the fitting time.
    trend = _trending(y)
    return ExponentialSmoothing(
        y,
        trend="add" if trend else None,
        damped_trend=trend,
        seasonal="add",
        seasonal_periods=SEASON,
        initialization_method="estimated",
    ).fit(use_brute=False)


def choose_model(series: Sequence[float]) -> str:
    """The model ``forecast`` will try for this history (it falls back to the mean when a fit fails)."""
    y = np.asarray(series, dtype=float)[-MAX_HISTORY:]
    if y.size < MIN_HISTORY or float(y.max() - y.min()) == 0:
        return "mean"
    if y.size >= SEASONAL_HISTORY and weekly_seasonality(y):
        return "holt_winters"
    return "holt" if _trending(y) else "ses"


def forecast(series: Sequence[float], *, horizon: int = DEFAULT_HORIZON) -> Forecast:
    """Forecast ``horizon`` days from a daily series (oldest first, zeros included); never negative."""
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    y = np.asarray(series, dtype=float)[-MAX_HISTORY:]
    if y.size and (not np.isfinite(y).all() or (y < 0).any()):
        raise ValueError("demand must be finite and not negative")
    model = choose_model(y)
    if model == "mean":
        return _mean_forecast(y, horizon)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter: a poor fit is checked below
            fitted = _fit(y, model)
            predicted = np.asarray(fitted.forecast(horizon), dtype=float)
            residuals = y - np.asarray(fitted.fittedvalues, dtype=float)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return _mean_forecast(y, horizon)
    if not np.isfinite(predicted).all() or not np.isfinite(residuals).all():
        return _mean_forecast(y, horizon)
    sigma = float(residuals.std(ddof=1)) if residuals.size > 1 else 0.0
    return Forecast(model, [max(0.0, float(v)) for v in predicted], sigma)


# -- reorder arithmetic --------------------------------------------------------------------


@dataclass(frozen=True)
class ReorderPlan:
    lead_time_days: int
    lead_time_demand: float
    safety_stock: int
    reorder_point: int
    days_of_cover: float | None  # None when nothing is expected to sell
    suggested_quantity: int
    below_reorder_point: bool


def _ceil(value: float) -> int:
    # Rounded first so that 35.000000001 from float sums does not become 36.
    return max(0, math.ceil(round(value, 6)))


def z_score(service_level: float) -> float:
    from scipy.stats import norm

    if not 0.5 <= service_level < 1:
        raise ValueError("service level must be in [0.5, 1)")
    return float(norm.ppf(service_level))


def lead_time_demand(daily: Sequence[float], lead_time_days: int) -> float:
    """Units expected to sell during the lead time (the last forecast day repeats past the horizon)."""
    if lead_time_days <= 0 or not daily:
        return 0.0
    covered = list(daily[:lead_time_days])
    missing = lead_time_days - len(covered)
    return float(sum(covered) + missing * daily[-1])


def reorder_plan(
    *,
    forecast: Forecast,
    available: int,
    inbound: int,
    lead_time_days: int = DEFAULT_LEAD_TIME_DAYS,
    service_level: float = DEFAULT_SERVICE_LEVEL,
) -> ReorderPlan:
    """Reorder point = lead-time demand + z * sigma * sqrt(lead time); order up to one more cycle of demand.

    Suggested quantity = reorder point + lead-time demand - available - inbound, when
    available + inbound is at or below the reorder point; otherwise 0.
    """
    lead_time_days = max(0, int(lead_time_days))
    demand = lead_time_demand(forecast.daily, lead_time_days)
    safety = _ceil(z_score(service_level) * forecast.sigma * math.sqrt(lead_time_days))
    reorder_point = _ceil(demand + safety)
    position = available + inbound
    mean = forecast.mean_daily
    cover = round(max(available, 0) / mean, 1) if mean > 0 else None
    below = reorder_point > 0 and position <= reorder_point
    suggested = max(0, _ceil(reorder_point + demand - position)) if below else 0
    return ReorderPlan(
        lead_time_days=lead_time_days,
        lead_time_demand=demand,
        safety_stock=safety,
        reorder_point=reorder_point,
        days_of_cover=cover,
        suggested_quantity=suggested,
        below_reorder_point=below,
    )
