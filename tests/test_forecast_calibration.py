"""Calibrated intervals: held-out coverage on a synthetic panel, and quantiles of a sum."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from livecommerce.forecast import forecast, forecast_total, process_map

START = dt.date(2024, 1, 1)


def _panel(n_series: int, n: int, seed: int) -> pl.DataFrame:
    """Four kinds in turn: price-driven seasonal, intermittent, trending seasonal, session-driven."""
    rng = np.random.default_rng(seed)
    frames = []
    t = np.arange(n)
    for i in range(n_series):
        price = 30 * np.exp(rng.normal(0, 0.15, n))
        promo = (rng.random(n) < 0.1).astype(float)
        sessions = (rng.random(n) < 0.6).astype(float)
        level = rng.uniform(3, 40)
        season = np.exp(0.3 * np.sin(2 * np.pi * (t + rng.integers(7)) / 7))
        kind = i % 4
        if kind == 0:
            mu = level * season * np.exp(-1.2 * np.log(price / 30) + 0.5 * promo)
        elif kind == 1:
            mu = rng.uniform(2, 6) * (rng.random(n) < rng.uniform(0.15, 0.4)) / 0.3
        elif kind == 2:
            mu = level * season * (1 + t / n)
        else:
            mu = level * sessions * np.exp(-1.5 * np.log(price / 30))
        frames.append(
            pl.DataFrame(
                {
                    "unique_id": f"s{i:02d}",
                    "ds": pl.date_range(START, START + dt.timedelta(days=n - 1), eager=True),
                    "y": rng.poisson(mu).astype(float),
                    "price": price,
                    "promo": promo,
                    "sessions": sessions,
                }
            )
        )
    return pl.concat(frames)


def _split(df: pl.DataFrame, h: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    cut = df["ds"].max() - dt.timedelta(days=h)
    return df.filter(pl.col("ds") <= cut), df.filter(pl.col("ds") > cut)


@pytest.mark.slow
def test_held_out_coverage_of_the_80_interval_on_a_50_series_panel() -> None:
    hist, test = _split(_panel(50, 238, seed=0), 14)
    out = forecast(hist, 14, test.drop("y"), n_jobs=1)
    j = out.join(test.select("unique_id", "ds", "y"), on=["unique_id", "ds"])
    assert j.height == 50 * 14
    inside = ((j["y"] >= j["q0.1"]) & (j["y"] <= j["q0.9"])).mean()
    assert 0.70 <= inside <= 0.90
    # and the selected models beat seasonal naive on the held-out window (MASE, naive-scaled)
    sn = forecast(hist, 14, test.drop("y"), models=["seasonal_naive"], n_jobs=1)
    scale = hist.group_by("unique_id").agg(pl.col("y").diff().abs().mean().alias("scale"))
    j = j.join(sn.select("unique_id", "ds", pl.col("mean").alias("sn")), on=["unique_id", "ds"]).join(
        scale, on="unique_id"
    )
    err = j.group_by("unique_id").agg(
        ((pl.col("y") - pl.col("mean")).abs().mean() / pl.col("scale").first()).alias("sel"),
        ((pl.col("y") - pl.col("sn")).abs().mean() / pl.col("scale").first()).alias("sn"),
    )
    assert err["sel"].mean() <= 0.8 * err["sn"].mean()


def test_held_out_coverage_on_a_small_panel_is_in_a_wide_band() -> None:
    hist, test = _split(_panel(12, 120, seed=1), 7)
    out = forecast(hist, 7, test.drop("y"), models=["seasonal_naive", "moving_average", "glm"], n_jobs=1)
    j = out.join(test.select("unique_id", "ds", "y"), on=["unique_id", "ds"])
    inside = ((j["y"] >= j["q0.1"]) & (j["y"] <= j["q0.9"])).mean()
    assert 0.6 <= inside <= 0.97


def test_quantiles_of_a_weekly_sum_come_from_cumulative_errors_not_summed_daily_quantiles() -> None:
    rng = np.random.default_rng(3)
    n, sd = 150, 5.0
    frames = [
        pl.DataFrame(
            {
                "unique_id": f"s{i}",
                "ds": pl.date_range(START, START + dt.timedelta(days=n - 1), eager=True),
                "y": np.maximum(0, np.round(50 + rng.normal(0, sd, n))),
            }
        )
        for i in range(10)
    ]
    hist = pl.concat(frames)
    kw = dict(models=["moving_average"], n_windows=5, n_jobs=1)
    daily = forecast(hist, 7, **kw)
    total = forecast_total(hist, 7, **kw)
    assert total.columns == ["unique_id", "start", "end", "model", "mean", "q0.1", "q0.5", "q0.9", "note"]
    day_width = daily.group_by("unique_id").agg((pl.col("q0.9") - pl.col("q0.1")).sum().alias("w"))
    j = total.join(day_width, on="unique_id")
    width = j["q0.9"] - j["q0.1"]
    # iid noise: the sum's spread grows like sqrt(7), not 7
    assert (width < 0.65 * j["w"]).all()
    # ... and matches the forecast-error law of a 7-day moving average: sd * sqrt(7 + 49/7)
    expected = 2 * 1.2816 * sd * np.sqrt(7 + 7)
    assert 0.6 * expected < width.mean() < 1.5 * expected
    sums = daily.group_by("unique_id").agg(pl.col("mean").sum()).sort("unique_id")["mean"].to_numpy()
    assert j.sort("unique_id")["mean"].to_numpy() == pytest.approx(sums)


@pytest.mark.slow
def test_process_engine_gives_the_same_answer_as_the_serial_one() -> None:
    hist = _panel(24, 60, seed=4).select("unique_id", "ds", "y")
    kw = dict(models=["seasonal_naive", "moving_average", "croston_sba"])
    serial = forecast(hist, 5, n_jobs=1, **kw)
    parallel = forecast(hist, 5, engine=process_map(2, min_items_per_worker=1), **kw)
    assert parallel.equals(serial)
