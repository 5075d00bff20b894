"""Forecasting on a Dask cluster: the same pure per-series function, the same floats as a local run.

A ``LocalCluster`` of two worker processes with one thread each (what CI runs). Equality is exact
(``assert_frame_equal`` without tolerance): each series is fitted by the same code with BLAS
single-threaded, wherever it runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

distributed = pytest.importorskip("distributed")

from livecommerce.forecast import backtest, forecast  # noqa: E402
from livecommerce.forecast.engine import chunked, dask_map, named_engine, serial_map  # noqa: E402

START = dt.date(2024, 1, 1)


def _panel(n: int = 200, days: int = 84, seed: int = 7) -> pl.DataFrame:
    """``n`` seeded daily series: weekly season, price response, levels from intermittent to smooth."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    ds = [START + dt.timedelta(days=int(k)) for k in t]
    frames = []
    for i in range(n):
        level = rng.uniform(0.3, 30.0)
        price = rng.uniform(20, 60) * (1 + 0.1 * rng.standard_normal(days))
        lam = level * np.exp(0.4 * np.sin(2 * np.pi * t / 7) - 0.8 * (np.log(price) - np.log(price.mean())))
        frames.append(
            pl.DataFrame({"unique_id": f"s{i:03d}", "ds": ds, "y": rng.poisson(lam).astype(float), "price": price})
        )
    return pl.concat(frames)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    with cluster, distributed.Client(cluster) as c:
        yield c


def _workers_used(client: Any, run: Any) -> tuple[Any, set[str]]:
    with distributed.get_task_stream(client) as ts:
        out = run()
    return out, {rec["worker"] for rec in ts.data}


def test_chunks_keep_order_and_cover_every_item() -> None:
    items = list(range(23))
    chunks = chunked(items, 4)
    assert [x for c in chunks for x in c] == items and len(chunks) == 4
    assert chunked([], 3) == [] and chunked([1], 5) == [[1]]


def test_dask_forecast_equals_the_local_forecast_on_200_series_and_uses_both_workers(client: Any) -> None:
    history = _panel()
    models = ["seasonal_naive", "moving_average", "croston_sba", "glm"]  # the quick rungs; all of them: slow test
    local = forecast(history, 14, models=models, engine=serial_map)
    remote, workers = _workers_used(client, lambda: forecast(history, 14, models=models, engine=dask_map(client)))
    assert len(client.nthreads()) == 2 and len(workers) == 2
    assert local["unique_id"].n_unique() == 200 and local.height == 200 * 14
    assert_frame_equal(local, remote, check_exact=True)


def test_the_engine_returns_results_in_submission_order(client: Any) -> None:
    engine = dask_map(client, chunks_per_worker=3)
    assert engine(abs, list(range(-50, 50))) == [abs(x) for x in range(-50, 50)]
    assert engine(abs, []) == []


def test_named_engines_and_their_errors() -> None:
    with named_engine("local") as e:
        assert e is serial_map
    with pytest.raises(ValueError, match="unknown engine"), named_engine("spark"):
        pass
    with pytest.raises(ValueError, match="--scheduler"), named_engine("process", scheduler="tcp://x:8786"):
        pass


def test_named_dask_engine_connects_to_a_scheduler_address(client: Any) -> None:
    address = client.scheduler.address
    with named_engine("dask", scheduler=address) as engine:
        assert engine(str, [1, 2, 3]) == ["1", "2", "3"]


@pytest.mark.slow
def test_dask_forecast_and_backtest_equal_local_with_the_full_ladder(client: Any) -> None:
    history = _panel(seed=11)
    future = pl.DataFrame(
        {
            "unique_id": [u for u in history["unique_id"].unique(maintain_order=True) for _ in range(14)],
            "ds": [START + dt.timedelta(days=84 + k) for _ in range(200) for k in range(14)],
            "price": 40.0,
        }
    )
    local = forecast(history, 14, future, engine=serial_map)
    remote, workers = _workers_used(client, lambda: forecast(history, 14, future, engine=dask_map(client)))
    assert len(workers) == 2
    assert set(local["model"].unique()) >= {"ets", "glm"}
    assert_frame_equal(local, remote, check_exact=True)
    sub = history.filter(pl.col("unique_id") < "s040")
    assert_frame_equal(
        backtest(sub, 14, engine=serial_map), backtest(sub, 14, engine=dask_map(client)), check_exact=True
    )


@pytest.mark.slow
def test_cli_forecast_run_on_a_local_dask_cluster_stores_the_local_forecast(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    from pathlib import Path

    from click.testing import CliRunner

    from livecommerce.cli import main
    from livecommerce.forecast import store
    from livecommerce.warehouse.engine import make_engine

    db = f"sqlite:///{tmp_path / 'wh.db'}"
    runner = CliRunner()
    sample = Path(__file__).resolve().parents[1] / "sample_data/canonical"
    assert runner.invoke(main, ["--db", db, "etl", "load", str(sample)]).exit_code == 0
    args = ["--db", db, "forecast", "run", "--horizon", "7", "--windows", "2", "--json"]
    local = runner.invoke(main, [*args, "--engine", "local"])
    remote = runner.invoke(main, [*args, "--engine", "dask", "--jobs", "2"])
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    a, b = json.loads(local.output), json.loads(remote.output)
    assert b["engine"] == "dask" and a["series"] == b["series"] == 10 and a["accuracy"] == b["accuracy"]
    engine = make_engine(db)
    keep = ["unique_id", "ds", "model", "mean", "q10", "q50", "q90", "note"]
    stored = {
        r: pl.read_database(f"select * from forecast where run_id = '{r}'", engine) for r in (a["run_id"], b["run_id"])
    }
    assert_frame_equal(
        stored[a["run_id"]].select(keep).sort("unique_id", "ds"),
        stored[b["run_id"]].select(keep).sort("unique_id", "ds"),
        check_exact=True,
    )
    assert store.runs(engine)["source"].to_list() == ["warehouse", "warehouse"]
    wrong = runner.invoke(main, [*args, "--scheduler", "tcp://127.0.0.1:1"])
    assert wrong.exit_code == 2 and "--engine dask" in wrong.output
    engine.dispose()
