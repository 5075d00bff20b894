"""Demand forecasting on long frames: ``unique_id, ds, y`` plus exogenous columns, polars or pandas in.

Pure functions on frames: no database, no CLI. ``forecast`` picks a rung of the model ladder per
series by rolling-origin backtest and returns calibrated quantiles; ``forecast_total`` gives the
quantiles of the sum over the horizon; ``backtest`` reports errors per series, model and cutoff;
``classify_demand`` the Syntetos–Boylan class; ``session_elasticity`` the price elasticity per product
from the session demand model. See ``docs/forecasting.md``.
"""

from __future__ import annotations

from livecommerce.forecast._frames import daily_session_exog
from livecommerce.forecast.api import (
    backtest,
    classify_demand,
    forecast,
    forecast_total,
    forecast_with_totals,
    quantile_name,
)
from livecommerce.forecast.engine import process_map, serial_map
from livecommerce.forecast.errors import ForecastInputError
from livecommerce.forecast.models import (
    ETS,
    GLM,
    MODELS,
    TSB,
    CrostonSBA,
    Model,
    ModelFitError,
    MovingAverage,
    SeasonalNaive,
)
from livecommerce.forecast.session import SessionGLM, session_elasticity

__all__ = [
    "ETS",
    "GLM",
    "MODELS",
    "TSB",
    "CrostonSBA",
    "ForecastInputError",
    "Model",
    "ModelFitError",
    "MovingAverage",
    "SeasonalNaive",
    "SessionGLM",
    "backtest",
    "classify_demand",
    "daily_session_exog",
    "forecast",
    "forecast_total",
    "forecast_with_totals",
    "process_map",
    "quantile_name",
    "serial_map",
    "session_elasticity",
]
