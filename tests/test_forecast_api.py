"""The long-frame interface: forecast, backtest, selection, frequencies, pandas/polars, bad input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from livecommerce.forecast import ForecastInputError, backtest, classify_demand, forecast, serial_map

START = dt.date(2024, 1, 1)


def _frame(series: dict[str, np.ndarray], start: dt.date = START, every: int = 1, **exog: dict[str, np.ndarray]):
    rows = []
    for uid, y in series.items():
        for k, v in enumerate(y):
            row = {"unique_id": uid, "ds": start + dt.timedelta(days=every * k), "y": float(v)}
            for name, values in exog.items():
                row[name] = float(values[uid][k])
            rows.append(row)
    return pl.DataFrame(rows)


def _future(history: pl.DataFrame, h: int, **values: float) -> pl.DataFrame:
    last = history.group_by("unique_id").agg(pl.col("ds").max())
    rows = [
        {"unique_id": uid, "ds": d + dt.timedelta(days=k), **values}
        for uid, d in last.iter_rows()
        for k in range(1, h + 1)
    ]
    return pl.DataFrame(rows)


def _seasonal(n: int, seed: int, level: float = 20.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return rng.poisson(level * np.exp(0.4 * np.sin(2 * np.pi * t / 7))).astype(float)


# --- shape and the hand-computed backtest --------------------------------------------------


def test_forecast_shape_names_and_quantile_properties() -> None:
    hist = _frame({"a": _seasonal(120, 1), "b": _seasonal(120, 2, level=5)})
    out = forecast(hist, 14, models=["seasonal_naive", "moving_average"], n_jobs=1)
    assert out.columns == ["unique_id", "ds", "model", "mean", "q0.1", "q0.5", "q0.9", "note"]
    assert out.height == 28
    assert out.filter(pl.col("unique_id") == "a")["ds"].to_list() == [
        START + dt.timedelta(days=120 + k) for k in range(14)
    ]
    assert out.group_by("unique_id").agg(pl.col("model").n_unique())["model"].to_list() == [1, 1]
    q = out.select("q0.1", "q0.5", "q0.9").to_numpy()
    assert (q >= 0).all()
    assert (np.diff(q, axis=1) >= 0).all()
    assert (q[:, 2] > q[:, 0]).all()


def test_backtest_metrics_match_hand_computation() -> None:
    # naive (season 1), h=2, two windows two periods apart: cutoffs after periods 8 and 10
    y = np.array([2, 4, 3, 5, 4, 6, 5, 7, 6, 8, 7, 9], dtype=float)
    out = backtest(_frame({"a": y}), 2, n_windows=2, step=2, models=["seasonal_naive"], season_length=1, n_jobs=1)
    assert out["cutoff"].to_list() == [START + dt.timedelta(days=7), START + dt.timedelta(days=9)]
    w0, w1 = out.row(0, named=True), out.row(1, named=True)
    # window 0: forecast 7, 7 against 6, 8; scale = mean |diff| of the first 8 = 11/7
    assert w0["mase"] == pytest.approx(7 / 11)
    assert w0["rmsse"] == pytest.approx(np.sqrt(7 / 19))
    assert w0["wape"] == pytest.approx(2 / 14)
    assert w0["smape"] == pytest.approx((2 / 13 + 2 / 15) / 2)
    # window 1: forecast 8, 8 against 7, 9; scale of the first 10 = 14/9
    assert w1["mase"] == pytest.approx(9 / 14)
    # cross-conformal: window 0's quantiles come from window 1's scaled errors (+-9/14) times its scale 11/7
    hi0 = 7 + (9 / 14) * (11 / 7)
    assert w0["pinball_q0.9"] == pytest.approx((0.1 * (hi0 - 6) + 0.1 * (hi0 - 8)) / 2)
    assert w0["pinball_q0.5"] == pytest.approx((0.5 * 1 + 0.5 * 1) / 2)  # median error 0 -> q0.5 = 7
    assert w0["coverage_80"] == 1.0  # 6 and 8 inside 7 +- 99/98
    assert w1["coverage_80"] == 0.0  # 7 and 9 outside 8 +- 98/99


def test_backtest_uses_the_same_cutoffs_for_every_model_and_reports_each() -> None:
    hist = _frame({"a": _seasonal(90, 3)})
    out = backtest(hist, 7, n_windows=3, models=["seasonal_naive", "moving_average", "ets"], n_jobs=1)
    assert out.height == 9
    cutoffs = out.group_by("model").agg(pl.col("cutoff").sort())
    assert len({tuple(c) for c in cutoffs["cutoff"].to_list()}) == 1
    assert out["cutoff"].max() == START + dt.timedelta(days=82)
    assert out["mase"].is_not_null().all() and out["coverage_80"].is_between(0, 1).all()


# --- selection -----------------------------------------------------------------------------


def test_baseline_is_kept_when_nothing_beats_it() -> None:
    pattern = np.array([3, 9, 4, 12, 5, 20, 8], dtype=float)
    out = forecast(_frame({"a": np.tile(pattern, 12)}), 7, n_jobs=1)
    assert out["model"].unique().to_list() == ["seasonal_naive"]
    assert out["mean"].to_list() == pattern.tolist()
    assert out["q0.1"].to_list() == pattern.tolist()  # no backtest error -> no interval width


def test_selection_picks_the_price_model_where_price_drives_demand() -> None:
    rng = np.random.default_rng(5)
    n = 150
    price = np.exp(rng.uniform(np.log(15), np.log(45), n))
    y = rng.poisson(np.exp(9.0 - 1.8 * np.log(price))).astype(float)
    hist = _frame({"a": y}, price={"a": price})
    out = forecast(hist, 7, _future(hist, 7, price=15.0), models=["seasonal_naive", "moving_average", "glm"], n_jobs=1)
    assert out["model"].unique().to_list() == ["glm"]
    assert out["mean"].mean() == pytest.approx(np.exp(9.0 - 1.8 * np.log(15)), rel=0.2)
    dear = forecast(hist, 7, _future(hist, 7, price=45.0), models=["glm"], n_jobs=1)
    assert (dear["mean"] < out["mean"]).all()


def test_intermittent_series_get_an_intermittent_rung() -> None:
    rng = np.random.default_rng(6)
    y = rng.poisson(4, 200) * (rng.random(200) < 0.25)
    assert classify_demand(_frame({"a": y}))["demand_class"].item() in ("intermittent", "lumpy")
    ladder = backtest(_frame({"a": y}), 14, n_jobs=1)["model"].unique().sort().to_list()
    assert ladder == ["croston_sba", "glm", "moving_average", "seasonal_naive", "tsb"]  # no ets for sparse demand
    out = forecast(_frame({"a": y}), 14, models=["seasonal_naive", "moving_average", "croston_sba", "tsb"], n_jobs=1)
    assert out["model"].unique().item() in ("croston_sba", "tsb")


# --- interface -----------------------------------------------------------------------------


def test_pandas_and_polars_inputs_give_identical_outputs() -> None:
    hist = _frame({"a": _seasonal(60, 7), "b": _seasonal(60, 8)})
    kw = dict(models=["seasonal_naive", "moving_average"], n_jobs=1)
    from_pl = forecast(hist, 5, **kw)
    from_pd = forecast(hist.to_pandas(), 5, **kw)
    assert from_pd.with_columns(pl.col("ds").cast(pl.Date)).equals(from_pl)


def test_column_names_are_overridable_and_kept_on_output() -> None:
    hist = _frame({"a": _seasonal(60, 9)}).rename({"unique_id": "sku", "ds": "day", "y": "units"})
    out = forecast(hist, 3, models=["moving_average"], id_col="sku", time_col="day", target_col="units", n_jobs=1)
    assert out.columns[:2] == ["sku", "day"] and out.height == 3


def test_weekly_frequency_is_inferred() -> None:
    hist = _frame({"a": _seasonal(120, 10)}, every=7)
    out = forecast(hist, 4, models=["seasonal_naive", "moving_average"], n_jobs=1)
    last = START + dt.timedelta(days=7 * 119)
    assert out["ds"].to_list() == [last + dt.timedelta(days=7 * k) for k in range(1, 5)]
    # season 52 for weekly: seasonal naive repeats the value 52 weeks before each horizon week
    sn = forecast(hist, 4, models=["seasonal_naive"], n_jobs=1)
    y = hist["y"].to_numpy()
    assert sn["mean"].to_list() == y[120 - 52 : 120 - 48].tolist()


def test_missing_periods_are_zero_demand_by_default_and_noted() -> None:
    y = _seasonal(60, 11)
    hist = _frame({"a": y}).filter(~pl.col("ds").is_in([START + dt.timedelta(days=d) for d in (50, 51, 52)]))
    out = forecast(hist, 7, models=["seasonal_naive"], season_length=1, n_jobs=1)
    assert "3 missing period(s) filled with 0" in out["note"][0]
    bt = backtest(hist, 3, n_windows=3, step=3, models=["seasonal_naive"], season_length=1, n_jobs=1)
    # the window after day 52 starts from a forecast equal to the filled zero
    assert bt.height == 3
    interp = forecast(hist, 1, models=["seasonal_naive"], season_length=1, missing="interpolate", n_jobs=1)
    assert "linear interpolation" in interp["note"][0]
    with pytest.raises(ForecastInputError, match="3 missing period"):
        forecast(hist, 7, missing="error", n_jobs=1)


def test_the_engine_seam_maps_the_per_series_function() -> None:
    calls: list[int] = []

    def engine(fn, items):  # type: ignore[no-untyped-def]
        calls.append(len(items))
        return serial_map(fn, items)

    hist = _frame({"a": _seasonal(40, 12), "b": _seasonal(40, 13), "c": _seasonal(40, 14)})
    out = forecast(hist, 2, models=["moving_average"], engine=engine)
    assert calls == [3] and out.height == 6


# --- bad input -----------------------------------------------------------------------------


def test_every_problem_is_reported_at_once_naming_the_series_in_english_and_chinese() -> None:
    hist = _frame({"a": _seasonal(30, 15), "b": _seasonal(30, 16)})
    dup = hist.filter(pl.col("unique_id") == "a").head(2)
    bad = pl.concat([hist, dup]).with_columns(
        pl.when((pl.col("unique_id") == "b") & (pl.col("ds") == START)).then(-3.0).otherwise(pl.col("y")).alias("y")
    )
    with pytest.raises(ForecastInputError) as err:
        forecast(bad, 7, n_jobs=1)
    assert err.value.series == ["a", "b"]
    msg = str(err.value)
    assert "2 duplicate date(s)" in msg and "重复日期" in msg
    assert "1 negative value(s)" in msg and "负值" in msg


def test_future_column_unknown_to_history_is_an_error_naming_it() -> None:
    hist = _frame({"a": _seasonal(40, 17)})
    with pytest.raises(ForecastInputError, match="not in history: live_minutes"):
        forecast(hist, 3, _future(hist, 3, live_minutes=90.0), n_jobs=1)
    with pytest.raises(ForecastInputError, match="in future but not in history"):
        forecast(hist, 3, _future(hist, 3).with_columns(pl.lit("zz").alias("unique_id")), n_jobs=1)


def test_history_column_missing_from_future_is_not_used_and_noted() -> None:
    rng = np.random.default_rng(18)
    price = {"a": rng.uniform(20, 40, 60)}
    viewers = {"a": rng.uniform(100, 500, 60)}
    hist = _frame({"a": _seasonal(60, 18)}, price=price, viewers=viewers)
    out = forecast(hist, 3, _future(hist, 3, price=30.0), models=["glm"], n_jobs=1)
    assert out["model"].unique().to_list() == ["glm"]
    assert "not used (no future values): viewers" in out["note"][0]


def test_incomplete_future_falls_back_with_the_reason() -> None:
    rng = np.random.default_rng(19)
    hist = _frame({"a": _seasonal(60, 19)}, price={"a": rng.uniform(20, 40, 60)})
    fut = _future(hist, 5, price=30.0).head(3)
    out = forecast(hist, 5, fut, models=["seasonal_naive", "glm"], n_jobs=1)
    assert out["model"].unique().to_list() == ["seasonal_naive"]
    assert "future regressors missing on 2 of 5 horizon periods" in out["note"][0]
    assert "glm not run: future regressors incomplete" in out["note"][0]


def test_short_all_zero_and_nan_series_fall_back_with_reasons() -> None:
    y_nan = _seasonal(60, 20)
    y_nan[10] = np.nan
    hist = _frame({"long": _seasonal(60, 21), "short": np.array([3, 1, 4, 1, 5.0]), "zero": np.zeros(60), "nan": y_nan})
    out = forecast(hist, 7, models=["seasonal_naive", "moving_average"], n_jobs=1)
    notes = dict(out.group_by("unique_id").agg(pl.col("note").first()).iter_rows())
    models = dict(out.group_by("unique_id").agg(pl.col("model").first()).iter_rows())
    assert "short history (5 periods" in notes["short"] and "no backtest possible" in notes["short"]
    assert models["short"] == "seasonal_naive"
    short = out.filter(pl.col("unique_id") == "short")
    assert short["mean"].to_list() == [5.0] * 7  # naive: shorter than a season
    assert (short["q0.9"] > short["q0.1"]).all()  # intervals borrowed from the other series
    zero = out.filter(pl.col("unique_id") == "zero")
    assert "all-zero history" in notes["zero"]
    assert zero.select("mean", "q0.1", "q0.9").to_numpy().max() == 0
    assert "1 missing value(s) of y filled with 0" in notes["nan"]
    assert notes["long"] is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"h": 0}, "h must be a positive integer"),
        ({"h": 3, "quantiles": (0.1, 1.2)}, "strictly between 0 and 1"),
        ({"h": 3, "target_col": "sales"}, "history lacks column"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ForecastInputError, match=match):
        forecast(_frame({"a": _seasonal(30, 22)}), n_jobs=1, **kwargs)


def test_dates_off_the_grid_are_refused() -> None:
    hist = _frame({"a": _seasonal(30, 23)}, every=7)
    odd = pl.concat([hist, pl.DataFrame({"unique_id": ["a"], "ds": [START + dt.timedelta(days=3)], "y": [1.0]})])
    with pytest.raises(ForecastInputError, match="off the regular 1w grid"):
        forecast(odd, 2, freq="1w", n_jobs=1)


# --- layering and docs ---------------------------------------------------------------------


def test_forecast_imports_nothing_above_it() -> None:
    """Models and orchestration import only the forecast package and the (pure) calendar; only ``store``
    touches the database, never the simulator (that would be cheating)."""
    import ast
    from pathlib import Path

    import livecommerce.forecast as pkg

    by_module: dict[str, set[str]] = {}
    for path in Path(pkg.__file__).parent.rglob("*.py"):
        imported = by_module.setdefault(path.stem, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
    for module, imported in by_module.items():
        ours = {m for m in imported if m.startswith(("livecommerce", "etl"))}
        assert not any(m.startswith(("livecommerce.simulate", "etl", "dash")) for m in imported), module
        if module == "store":
            # store is the database side: it reads history through queries and adds the calendar
            allowed = (
                "livecommerce.forecast",
                "livecommerce.warehouse",
                "livecommerce.queries",
                "livecommerce.calendar",
            )
            assert all(m.startswith(allowed) for m in ours), module
            continue
        assert all(m.startswith(("livecommerce.forecast", "livecommerce.calendar")) for m in ours), module
        assert not any(m.startswith(("sqlalchemy", "alembic")) for m in imported), module
        assert "livecommerce.forecast.store" not in imported, module


def test_docs_describe_every_public_function_and_model_alias() -> None:
    from pathlib import Path

    import livecommerce.forecast as pkg
    from livecommerce.forecast import MODELS

    text = (Path(__file__).parents[1] / "docs" / "forecasting.md").read_text(encoding="utf-8")
    names = [*MODELS, "ets_damped", "session_glm", "forecast(", "forecast_total(", "backtest(", "classify_demand("]
    names += ["session_elasticity(", "daily_session_exog(", "save_run(", "latest_forecast(", "accuracy("]
    for name in names:
        assert f"`{name}" in text, name
    assert {"forecast", "backtest", "forecast_total", "ForecastInputError"} <= set(pkg.__all__)


def test_forecast_with_totals_is_forecast_and_forecast_total_from_one_fit() -> None:
    from livecommerce.forecast import forecast_total, forecast_with_totals

    hist = _frame({"a": _seasonal(150, 3), "b": _seasonal(150, 4, level=6)})
    kw = dict(models=["seasonal_naive", "moving_average"], n_jobs=1)
    daily, totals = forecast_with_totals(hist, 14, spans=(7, 14, 30), **kw)
    assert daily.equals(forecast(hist, 14, **kw))
    assert sorted(set(totals["days"].to_list())) == [7, 14]  # spans beyond the horizon are left out
    fourteen = totals.filter(pl.col("days") == 14).drop("days")
    assert fourteen.equals(forecast_total(hist, 14, **kw))
    # the 7-day sum is the sum of the first 7 daily means, its quantiles ordered and below the 14-day ones
    week = totals.filter(pl.col("days") == 7).sort("unique_id")
    first7 = daily.sort("ds").group_by("unique_id").agg(pl.col("mean").head(7).sum()).sort("unique_id")
    assert np.allclose(week["mean"].to_numpy(), first7["mean"].to_numpy())
    assert (week["q0.1"] <= week["q0.5"]).all() and (week["q0.5"] <= week["q0.9"]).all()
    assert (week["q0.9"].to_numpy() < fourteen.sort("unique_id")["q0.9"].to_numpy()).all()
    assert (week["end"] - week["start"]).dt.total_days().to_list() == [6, 6]
