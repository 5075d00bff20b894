"""Forecast runs in the warehouse (SQLite and PostgreSQL) and the ``forecast`` CLI on the sample."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
from click.testing import CliRunner
from sqlalchemy import func, select

from livecommerce.cli import main
from livecommerce.forecast import backtest, forecast, store
from livecommerce.warehouse.tables import BacktestMetric, Forecast, ForecastRun

ROOT = Path(__file__).resolve().parents[1]


def _history(n: int = 60) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    days = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 1, 1) + dt.timedelta(days=n - 1), eager=True)
    return pl.concat(
        pl.DataFrame({"unique_id": uid, "ds": days, "y": rng.poisson(lam, n).astype(float)})
        for uid, lam in (("apple", 20), ("tea", 5))
    )


def _count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_save_run_then_latest_forecast_as_of_a_date_and_accuracy(warehouse) -> None:  # type: ignore[no-untyped-def]
    eng = warehouse.engine
    hist = _history()
    kw = dict(models=["seasonal_naive", "moving_average"], n_jobs=1)
    fc = forecast(hist, 7, **kw)
    bt = backtest(hist, 7, **kw)
    t1 = dt.datetime(2024, 3, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai on March 1
    first = store.save_run(eng, fc, bt, horizon=7, source="test", parameters={"h": 7}, created_at=t1)
    assert _count(eng, Forecast.__table__) == 14 and _count(eng, BacktestMetric.__table__) == 2 * 2 * 3
    # a later run, for apple only, with a different forecast
    later = fc.filter(pl.col("unique_id") == "apple").with_columns(pl.col("mean") + 100)
    second = store.save_run(eng, later, None, horizon=7, source="test", created_at=t1 + dt.timedelta(days=2))
    now = store.latest_forecast(eng)
    assert now.filter(pl.col("unique_id") == "apple")["run_id"].unique().to_list() == [second]
    assert now.filter(pl.col("unique_id") == "tea")["run_id"].unique().to_list() == [first]
    then = store.latest_forecast(eng, ["apple"], as_of=dt.date(2024, 3, 1))
    assert then["run_id"].unique().to_list() == [first] and then.height == 7
    assert then["cutoff"].unique().to_list() == [dt.date(2024, 2, 29)]
    stored = then.sort("ds")["mean"].to_numpy()
    assert np.allclose(stored, fc.filter(pl.col("unique_id") == "apple").sort("ds")["mean"].to_numpy())
    assert (then["q10"] <= then["q50"]).all() and (then["q50"] <= then["q90"]).all()
    assert store.latest_forecast(eng, as_of=dt.date(2024, 2, 29)).is_empty()
    # accuracy comes from the latest run that has a backtest
    acc = store.accuracy(eng)
    assert set(acc["model"]) == {"seasonal_naive", "moving_average"}
    assert acc.filter(pl.col("model") == "seasonal_naive")["mase_vs_naive"].item() == 1.0
    assert (acc["windows"] == 6).all() and acc["coverage"].is_between(0, 1).all()
    runs = store.runs(eng)
    assert runs["run_id"].to_list() == [second, first] and runs["series"].to_list() == [1, 2]
    assert json.loads(runs["parameters"][1]) == {"h": 7}


def test_saving_the_same_run_twice_changes_nothing(warehouse) -> None:  # type: ignore[no-untyped-def]
    eng = warehouse.engine
    fc = forecast(_history(), 5, models=["moving_average"], n_jobs=1)
    kw = dict(horizon=5, source="test", created_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC), run_id="r1")
    store.save_run(eng, fc, **kw)
    store.save_run(eng, fc, **kw)
    assert _count(eng, ForecastRun.__table__) == 1 and _count(eng, Forecast.__table__) == 10


def test_cli_forecast_run_show_accuracy_on_the_sample(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path / 'wh.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--db", db, "etl", "load", str(ROOT / "sample_data/canonical")]).exit_code == 0
    sku = "puan-black-tea-250g"
    result = runner.invoke(
        main, ["--db", db, "forecast", "run", "--horizon", "7", "--sku", sku, "--jobs", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["series"] == 1 and doc["horizon"] == 7 and doc["accuracy"]
    # the run also stores the planner's demand model, fitted on the sample's sessions
    from livecommerce.warehouse import connect
    from livecommerce.warehouse.tables import PlannerModel

    engine = connect(db)
    with engine.connect() as conn:
        stored = list(conn.execute(PlannerModel.__table__.select()).mappings())
    engine.dispose()
    assert [r["model_id"] for r in stored] == [doc["planner_model"]] and '"coef"' in stored[0]["payload"]
    shown = runner.invoke(main, ["--db", db, "forecast", "show", "--sku", sku, "--json"])
    rows = json.loads(shown.output)["forecast"]
    assert (
        len(rows) == 7
        and all(r["q10"] <= r["q90"] for r in rows)
        and json.loads(shown.output)["run_id"] == doc["run_id"]
    )
    csv = runner.invoke(main, ["--db", db, "forecast", "show", "--sku", sku, "--format", "csv"])
    assert pl.read_csv(csv.output.encode()).height == 7
    acc = json.loads(runner.invoke(main, ["--db", db, "forecast", "accuracy", "--json"]).output)
    assert acc["run_id"] == doc["run_id"] and {m["model"] for m in acc["models"]} >= {"seasonal_naive"}
    missing = runner.invoke(main, ["--db", db, "forecast", "show", "--sku", "nothing-here"])
    assert missing.exit_code == 1 and "forecast run" in missing.output and "预测" in missing.output
    old = runner.invoke(main, ["--db", db, "forecast", "show", "--sku", sku, "--as-of", "2020-01-01"])
    assert old.exit_code == 1 and "2020-01-01" in old.output


def test_cli_forecast_run_on_an_empty_warehouse_is_a_hint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["--db", f"sqlite:///{tmp_path / 'e.db'}", "forecast", "run"])
    assert result.exit_code == 1 and "etl load" in result.output and "Traceback" not in result.output
