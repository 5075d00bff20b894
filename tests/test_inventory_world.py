"""Done-when check on the simulated medium world: the realised service level of the recommended stock."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from livecommerce.forecast import forecast
from livecommerce.inventory import DemandDistribution, calibrated_level, critical_ratio, quantile_levels
from livecommerce.simulate import SCALES, build_world
from livecommerce.simulate._writers import _sp_frame

pytestmark = pytest.mark.slow

H = 7
WINDOWS = 30


@pytest.fixture(scope="module")
def replay() -> list[tuple[int, DemandDistribution, float]]:
    """Weekly cutoffs over the last 30 weeks: 7-day forecasts of daily product demand (uncensored simulated
    demand) with the planned explain minutes and prices; one decision per product and day with a session."""
    sp = _sp_frame(build_world(11, SCALES["medium"]))
    daily = (
        sp.with_columns(ds=pl.col("day_local").str.to_date())
        .group_by("product_id", "ds")
        .agg(
            y=pl.col("demand_units").sum(),
            minutes=pl.col("explain_minutes").sum(),
            price=(pl.col("price_fen") * pl.col("explain_minutes")).sum() / pl.col("explain_minutes").sum() / 100,
        )
        .rename({"product_id": "unique_id"})
    )
    days = pl.DataFrame({"ds": pl.date_range(daily["ds"].min(), daily["ds"].max(), "1d", eager=True)})
    daily = (
        daily.select("unique_id").unique().join(days, how="cross")
        .join(daily, on=["unique_id", "ds"], how="left")
        .with_columns(pl.col("y", "minutes").fill_null(0))
        .sort("unique_id", "ds")
        .with_columns(pl.col("price").forward_fill().backward_fill().over("unique_id"))
    )  # fmt: skip
    last = daily["ds"].max()
    out = []
    for k in range(WINDOWS, 0, -1):
        cut = last - timedelta(days=7 * k)
        future = daily.filter((pl.col("ds") > cut) & (pl.col("ds") <= cut + timedelta(days=H)))
        fc = forecast(
            daily.filter(pl.col("ds") <= cut), H, future=future.drop("y"), quantiles=quantile_levels(), n_jobs=1
        )
        sessions = future.filter(pl.col("minutes") > 0).select("unique_id", "ds", pl.col("y").alias("actual"))
        for row in fc.join(sessions, on=["unique_id", "ds"]).iter_rows(named=True):
            out.append((k, DemandDistribution.from_forecast(row), float(row["actual"])))
    return out


@pytest.mark.parametrize(("price", "cost", "salvage"), [(40, 25, 5), (40, 25, 20), (28, 10, 8)])
def test_realised_service_level_within_three_points_of_the_critical_ratio(
    replay: list[tuple[int, DemandDistribution, float]], price: float, cost: float, salvage: float
) -> None:
    """Levels recalibrated on the other half of the windows (cross-fitted), stock = ceil(quantile)."""
    target = critical_ratio(price, cost, salvage)
    assert len(replay) > 1500
    hits = []
    for fold in (0, 1):
        past = [d.required_level(y) for k, d, y in replay if k % 2 != fold]
        level = calibrated_level(past, target)
        hits += [y <= math.ceil(d.quantile(level) - 1e-9) for k, d, y in replay if k % 2 == fold]
    assert abs(np.mean(hits) - target) < 0.03, (target, np.mean(hits))
