"""Held-out evaluation and the daily future frame built from planned sessions.

:func:`daily_future` turns planned sessions into the daily ``future`` frame the forecaster wants;
:func:`holdout` measures what a user would see: forecasts from data up to a cutoff against the
days after it, for several cutoffs, next to seasonal naive. Used by the accuracy tests and
``benchmarks/bench_forecast.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl

from livecommerce.calendar import FLAGS, with_festival_flags
from livecommerce.forecast._frames import daily_session_exog
from livecommerce.forecast.api import forecast

__all__ = ["daily_future", "holdout"]


def daily_future(
    history: pl.DataFrame, h: int, planned: pl.DataFrame | None = None, flags: tuple[str, ...] = FLAGS
) -> pl.DataFrame:
    """Return the daily ``future`` frame for the ``h`` days after each series' last date.

    Columns: ``unique_id``, ``ds``, then the festival ``flags``, and when ``planned`` sessions are given
    ``sessions``, ``live_minutes`` (0 on days without a planned session) and ``price`` (the mean planned
    price, else the series' last price in ``history``) — only those of them that ``history`` has.
    """
    ends = history.group_by("unique_id").agg(pl.col("ds").max().alias("_end"))
    grid = ends.select(
        "unique_id",
        pl.date_ranges(pl.col("_end") + dt.timedelta(days=1), pl.col("_end") + dt.timedelta(days=h)).alias("ds"),
    ).explode("ds")
    if planned is not None:
        ex = daily_session_exog(planned).select("unique_id", "ds", "sessions", "live_minutes", "price")
        grid = grid.join(ex, on=["unique_id", "ds"], how="left").with_columns(
            pl.col("sessions").fill_null(0.0), pl.col("live_minutes").fill_null(0.0)
        )
        if "price" in history.columns:
            last = history.sort("ds").group_by("unique_id").agg(pl.col("price").drop_nulls().last().alias("_p"))
            grid = grid.join(last, on="unique_id", how="left").with_columns(pl.col("price").fill_null(pl.col("_p")))
            grid = grid.drop("_p")
        grid = grid.select(
            "unique_id", "ds", *[c for c in ("sessions", "live_minutes", "price") if c in history.columns]
        )
    return with_festival_flags(grid, columns=flags).sort("unique_id", "ds")


def holdout(
    daily: pl.DataFrame,
    h: int,
    sessions: pl.DataFrame | None = None,
    origins: int = 3,
    *,
    n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    **kwargs: Any,
) -> pl.DataFrame:
    """Forecast the last ``origins`` blocks of ``h`` days of every series from the data before each block.

    ``daily`` has ``unique_id, ds, y`` and exogenous columns (festival flags included); ``sessions`` the
    session history (its rows in each block become that block's plan). Returns one row per series and
    origin: ``unique_id``, ``origin`` (1 = the last block), ``model`` (selected), ``mase`` and ``mase_sn``
    (selected model and seasonal naive on the block, scaled by the in-sample naive error before the
    block), ``coverage_80`` (share of the block's days inside ``[q0.1, q0.9]``) and ``n`` (days).
    """
    last = daily.group_by("unique_id").agg(pl.col("ds").max().alias("_last"))
    parts = []
    for k in range(origins, 0, -1):
        cut = last.select("unique_id", (pl.col("_last") - dt.timedelta(days=k * h)).alias("_cut"))
        d = daily.join(cut, on="unique_id")
        hist = d.filter(pl.col("ds") <= pl.col("_cut")).drop("_cut")
        test = d.filter((pl.col("ds") > pl.col("_cut")) & (pl.col("ds") <= pl.col("_cut") + dt.timedelta(days=h)))
        plan = hs = None
        if sessions is not None:
            s = sessions.join(cut, on="unique_id").with_columns(pl.col("ds").dt.date().alias("_day"))
            hs = s.filter(pl.col("_day") <= pl.col("_cut")).drop("_cut", "_day")
            window = (pl.col("_day") > pl.col("_cut")) & (pl.col("_day") <= pl.col("_cut") + dt.timedelta(days=h))
            plan = s.filter(window).drop("_cut", "_day", "y", "sold_out")
        fut = daily_future(hist, h, plan, flags=tuple(c for c in FLAGS if c in daily.columns))
        out = forecast(hist, h, fut, sessions=hs, planned=plan, n_jobs=n_jobs, **kwargs)
        sn = forecast(hist, h, fut, models=["seasonal_naive"], n_jobs=n_jobs, **kwargs)
        scale = hist.sort("unique_id", "ds").group_by("unique_id").agg(pl.col("y").diff().abs().mean().alias("_s"))
        j = (
            out.join(test.select("unique_id", "ds", "y"), on=["unique_id", "ds"], how="left")
            .with_columns(pl.col("y").fill_null(0.0))
            .join(sn.select("unique_id", "ds", pl.col("mean").alias("_sn")), on=["unique_id", "ds"])
            .join(scale, on="unique_id")
        )
        parts.append(
            j.group_by("unique_id").agg(
                pl.lit(k).alias("origin"),
                pl.col("model").first(),
                ((pl.col("y") - pl.col("mean")).abs().mean() / pl.col("_s").first()).alias("mase"),
                ((pl.col("y") - pl.col("_sn")).abs().mean() / pl.col("_s").first()).alias("mase_sn"),
                ((pl.col("y") >= pl.col("q0.1")) & (pl.col("y") <= pl.col("q0.9"))).mean().alias("coverage_80"),
                pl.len().alias("n"),
            )
        )
        if progress is not None:
            progress(origins - k + 1, origins)
    return pl.concat(parts).sort("origin", "unique_id")
