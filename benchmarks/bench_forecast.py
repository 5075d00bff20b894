"""Benchmark: forecast and backtest every product series of the simulated medium world.

Usage: python benchmarks/bench_forecast.py [--out DIR] [--horizon 28] [--origins 6] [--jobs 1]
       python benchmarks/bench_forecast.py --engine dask [--workers 2] [--synthetic N]

Generates the medium world (seed 42) into ``DIR`` once, builds the daily product series (units per
local day, with price, sessions, live minutes and festival flags) and the session history, then
forecasts the last ``--origins`` blocks of ``--horizon`` days of every series from the data before
each block (``livecommerce.forecast.evaluate.holdout``: model selection by rolling-origin backtest,
session demand model from the planned sessions, conformal quantiles). Prints MASE (scaled by the
in-sample naive error before the block), MASE relative to seasonal naive, 80% interval coverage
and series per second. Where statsforecast is installed, its AutoETS runs in the same process on the
same series and blocks (``cross_validation``, 80% level) and the ratios are printed side by side.
The truth file is used only for the sold-out flags.

``--engine dask`` runs the same holdout on a Dask ``LocalCluster`` of one worker process, then of
``--workers`` (one thread each; started and warmed up outside the timing), checks that the results
are identical and prints the seconds, the per-series cost and the speed-up over one worker. With
``--synthetic N`` it forecasts ``N`` seeded synthetic daily series (two years, weekly season, price
response) instead of the world's few product series, which shows how the per-series work scales.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from livecommerce.calendar import with_festival_flags
from livecommerce.forecast.canonical import canonical_daily, canonical_sessions
from livecommerce.forecast.evaluate import holdout


def world(out: Path) -> Path:
    """Return the medium world's directory, generating it when absent."""
    from livecommerce.simulate import generate

    if not (out / "manifest.json").exists():
        t0 = time.perf_counter()
        generate(out, scale="medium", seed=42)
        print(f"generated medium world in {time.perf_counter() - t0:.1f} s -> {out}")
    return out


def frames(d: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (sessions, daily) frames of the world (sold-out flags from the truth file only)."""
    truth = pl.read_csv(d / "truth/session_products.csv", schema_overrides={"session_id": pl.String})
    marks = truth.select("session_id", "product_id", pl.col("censored").alias("sold_out"))
    sessions = with_festival_flags(canonical_sessions(d / "canonical", marks))
    daily = with_festival_flags(canonical_daily(d / "canonical", sessions)).drop("gmv_fen")
    return sessions, daily


def autoets(daily: pl.DataFrame, h: int, origins: int) -> tuple[pl.DataFrame, float] | None:
    """AutoETS (statsforecast) on the same blocks: per series and block ``mase``, ``coverage_80``; and seconds."""
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS
    except ImportError:
        return None
    bounds = daily.group_by("unique_id").agg(pl.col("ds").min().alias("a"), pl.col("ds").max().alias("b"))
    grid = bounds.select("unique_id", pl.date_ranges("a", "b").alias("ds")).explode("ds")
    full = grid.join(daily.select("unique_id", "ds", "y"), on=["unique_id", "ds"], how="left").with_columns(
        pl.col("y").fill_null(0.0)
    )
    pdf = full.with_columns(pl.col("ds").cast(pl.Datetime("ns"))).to_pandas()
    t0 = time.perf_counter()
    sf = StatsForecast(models=[AutoETS(season_length=7)], freq="D", n_jobs=1)
    cv = sf.cross_validation(df=pdf, h=h, n_windows=origins, step_size=h, level=[80])
    seconds = time.perf_counter() - t0
    cv = pl.from_pandas(cv.reset_index() if "unique_id" not in cv.columns else cv).with_columns(
        pl.col("ds").cast(pl.Date), pl.col("cutoff").cast(pl.Date)
    )
    scales = []
    for cutoff in cv["cutoff"].unique().to_list():
        s = (
            full.filter(pl.col("ds") <= cutoff)
            .sort("unique_id", "ds")
            .group_by("unique_id")
            .agg(pl.col("y").diff().abs().mean().alias("scale"))
            .with_columns(pl.lit(cutoff).alias("cutoff"))
        )
        scales.append(s)
    j = cv.join(pl.concat(scales), on=["unique_id", "cutoff"])
    res = j.group_by("unique_id", "cutoff").agg(
        ((pl.col("y") - pl.col("AutoETS").clip(0)).abs().mean() / pl.col("scale").first()).alias("mase"),
        ((pl.col("y") >= pl.col("AutoETS-lo-80").clip(0)) & (pl.col("y") <= pl.col("AutoETS-hi-80")))
        .mean()
        .alias("coverage_80"),
        pl.len().alias("n"),
    )
    return res, seconds


def synthetic(n: int, days: int = 730, seed: int = 7) -> pl.DataFrame:
    """Return ``n`` seeded daily series: ``unique_id, ds, y, price`` (weekly season, price response)."""
    import datetime as dt

    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(days)
    ds = [dt.date(2023, 1, 1) + dt.timedelta(days=int(k)) for k in t]
    parts = []
    for i in range(n):
        price = rng.uniform(20, 60) * (1 + 0.1 * rng.standard_normal(days))
        lam = rng.uniform(0.3, 30.0) * np.exp(0.4 * np.sin(2 * np.pi * t / 7) - 0.8 * np.log(price / price.mean()))
        parts.append(
            pl.DataFrame({"unique_id": f"s{i:05d}", "ds": ds, "y": rng.poisson(lam).astype(float), "price": price})
        )
    return with_festival_flags(pl.concat(parts))


def dask_speedup(args: argparse.Namespace) -> None:
    """Time the holdout on a one-worker and a ``--workers`` LocalCluster; print seconds and the speed-up."""
    from distributed import Client, LocalCluster
    from polars.testing import assert_frame_equal

    from livecommerce.forecast.engine import dask_map

    if args.synthetic:
        sessions, daily = None, synthetic(args.synthetic)
        what = f"{args.synthetic} synthetic series"
    else:
        sessions, daily = frames(world(args.out))
        what = "the medium world's product series"
    n_series = daily["unique_id"].n_unique()
    fits = n_series * args.origins
    print(f"dask: {what} ({n_series} series x {args.origins} origins x h={args.horizon})")
    results, seconds = {}, {}
    for workers in sorted({1, args.workers}):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            ) as cluster,
            Client(cluster) as client,
        ):
            client.run(lambda: __import__("livecommerce.forecast._series"))  # imports outside the timing
            t0 = time.perf_counter()
            results[workers] = holdout(daily, args.horizon, sessions, origins=args.origins, engine=dask_map(client))
            seconds[workers] = time.perf_counter() - t0
    same = all(r.equals(results[1]) for r in results.values())
    for r in results.values():
        assert_frame_equal(r, results[1], check_exact=True)
    print(f"{'workers':>8} {'seconds':>9} {'s/series-fit':>13} {'speed-up':>9}")
    for workers, secs in seconds.items():
        print(f"{workers:8d} {secs:9.1f} {secs / fits:13.3f} {seconds[1] / secs:9.2f}")
    print(f"results identical across worker counts: {same}")
    print(f"speed-up over one worker: {seconds[1] / seconds[max(seconds)]:.2f}x with {max(seconds)} workers")


def main() -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/livecommerce-bench/medium-42"))
    ap.add_argument("--horizon", type=int, default=28)
    ap.add_argument("--origins", type=int, default=6)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--engine", choices=["process", "dask"], default="process", help="dask: speed-up over one worker")
    ap.add_argument("--workers", type=int, default=2, help="Dask worker processes to compare with one (--engine dask)")
    ap.add_argument("--synthetic", type=int, default=0, help="N synthetic series instead of the world (--engine dask)")
    args = ap.parse_args()
    if args.engine == "dask":
        dask_speedup(args)
        return
    d = world(args.out)
    t0 = time.perf_counter()
    sessions, daily = frames(d)
    n_series = daily["unique_id"].n_unique()
    print(
        f"frames: {n_series} product series, {daily.height:,} product-days, {sessions.height:,} session-products "
        f"({time.perf_counter() - t0:.1f} s)"
    )

    t0 = time.perf_counter()
    ours = holdout(daily, args.horizon, sessions, origins=args.origins, n_jobs=args.jobs)
    ours_s = time.perf_counter() - t0
    cov = (ours["coverage_80"] * ours["n"]).sum() / ours["n"].sum()
    fits = n_series * args.origins
    models = dict(ours.group_by("model").len().sort("model").iter_rows())
    print(f"\nblocks: last {args.origins} x {args.horizon} days per series; date range up to {daily['ds'].max()}")
    print(f"{'':28} {'MASE':>7} {'vs naive':>9} {'cover80':>8} {'seconds':>8} {'series/s':>9}")
    sn = ours["mase_sn"].mean()
    print(
        f"{'livecommerce (selected)':28} {ours['mase'].mean():7.3f} {ours['mase'].mean() / sn:9.3f} "
        f"{cov:8.3f} {ours_s:8.1f} {fits / ours_s:9.2f}"
    )
    print(f"{'seasonal naive':28} {ours['mase_sn'].mean():7.3f} {1.0:9.3f}")
    ets = autoets(daily, args.horizon, args.origins)
    if ets is None:
        print("statsforecast not installed: no AutoETS comparison (pip install statsforecast)")
    else:
        res, secs = ets
        ecov = (res["coverage_80"] * res["n"]).sum() / res["n"].sum()
        print(
            f"{'statsforecast AutoETS':28} {res['mase'].mean():7.3f} {res['mase'].mean() / sn:9.3f} "
            f"{ecov:8.3f} {secs:8.1f} {fits / secs:9.2f}"
        )
        print(
            f"\nratios (livecommerce / AutoETS): MASE {ours['mase'].mean() / res['mase'].mean():.3f}, "
            f"time {ours_s / secs:.2f}x"
        )
    print(f"selected models (series x blocks): {models}")
    print("per block (1 = the last):")
    print(
        ours.group_by("origin")
        .agg(pl.col("mase").mean(), pl.col("mase_sn").mean(), pl.col("coverage_80").mean())
        .sort("origin")
    )


if __name__ == "__main__":
    main()
