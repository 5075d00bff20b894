"""The session demand model on seeded synthetic sessions, and session frames from the committed sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from livecommerce.forecast import ForecastInputError, daily_session_exog, forecast, session_elasticity
from livecommerce.forecast.canonical import canonical_sessions
from livecommerce.forecast.evaluate import daily_future

ROOT = Path(__file__).resolve().parents[1]
START = dt.date(2024, 1, 1)
TRUE_E = {"apple": -1.8, "tea": -1.2}


def _world(days: int = 240, seed: int = 0, stock_factor: float | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sessions (one product each, 3 hosts, price tests) plus off-session shelf demand: (sessions, daily)."""
    rng = np.random.default_rng(seed)
    host_eff = {"H1": 0.0, "H2": 0.4, "H3": -0.3}
    sess, daily = [], []
    for p, e in TRUE_E.items():
        base = 30.0 if p == "apple" else 15.0
        for d in range(days):
            day = START + dt.timedelta(days=d)
            units = rng.poisson(4.0 * (1.2 if day.weekday() >= 5 else 1.0))
            if rng.random() < 0.8:
                host = str(rng.choice(list(host_eff)))
                hour = int(rng.choice([10, 15, 20]))
                live = float(rng.integers(120, 240))
                explain = live * rng.uniform(0.3, 0.5)
                price = 40.0 * float(rng.choice([0.75, 0.85, 1.0, 1.15, 1.3]))
                mu = base * np.exp(host_eff[host] + (0.3 if hour == 20 else 0.0)) * (price / 40.0) ** e * explain / 60
                y = float(rng.poisson(mu * np.exp(rng.normal(-0.01, 0.15))))
                sold_out = False
                if stock_factor is not None:
                    stock = np.ceil(mu * stock_factor * np.exp(rng.normal(0, 0.3)))
                    sold_out, y = bool(y > stock), float(min(y, stock))
                ds = dt.datetime.combine(day, dt.time(hour, 0))
                sess.append((p, f"{p}-{d}", ds, y, price, explain, live, host, sold_out))
                units += y
            daily.append((p, day, float(units)))
    cols = ["unique_id", "session_id", "ds", "y", "price", "explain_minutes", "live_minutes", "host_id", "sold_out"]
    return (
        pl.DataFrame(sess, schema=cols, orient="row"),
        pl.DataFrame(daily, schema=["unique_id", "ds", "y"], orient="row"),
    )


def test_session_model_recovers_the_price_elasticity() -> None:
    sessions, _ = _world(days=360)
    est = session_elasticity(sessions)
    assert est.columns == ["unique_id", "elasticity", "ci_low", "ci_high", "n_sessions", "n_sold_out", "note"]
    for uid, e, lo, hi in est.select("unique_id", "elasticity", "ci_low", "ci_high").iter_rows():
        assert abs(e - TRUE_E[uid]) < 0.15 and lo < e < hi


def test_sold_out_sessions_are_left_out_not_taken_as_demand() -> None:
    sessions, _ = _world(days=300, seed=1, stock_factor=1.1)
    assert sessions["sold_out"].mean() > 0.2
    flagged = session_elasticity(sessions)
    naive = session_elasticity(sessions.with_columns(pl.lit(False).alias("sold_out")))
    assert (flagged["n_sold_out"] > 0).all() and (naive["n_sold_out"] == 0).all()
    err_flagged = [abs(e - TRUE_E[u]) for u, e in flagged.select("unique_id", "elasticity").iter_rows()]
    err_naive = [abs(e - TRUE_E[u]) for u, e in naive.select("unique_id", "elasticity").iter_rows()]
    # capping the cheap (high-demand) sessions at stock flattens the demand curve when taken as demand
    assert sum(err_flagged) < sum(err_naive)


def test_no_price_variation_gives_no_elasticity_but_a_reason() -> None:
    sessions, _ = _world(days=60)
    est = session_elasticity(sessions.with_columns(pl.lit(40.0).alias("price")))
    assert est["elasticity"].is_null().all() and est["note"].str.contains("never changed").all()


def _split(sessions: pl.DataFrame, daily: pl.DataFrame, h: int) -> tuple[pl.DataFrame, ...]:
    cut = daily["ds"].max() - dt.timedelta(days=h)
    hist, test = daily.filter(pl.col("ds") <= cut), daily.filter(pl.col("ds") > cut)
    s_hist = sessions.filter(pl.col("ds").dt.date() <= cut)
    plan = sessions.filter(pl.col("ds").dt.date() > cut).drop("y", "sold_out")
    return hist, test, s_hist, plan


def test_daily_forecast_from_planned_sessions_beats_seasonal_naive() -> None:
    sessions, daily = _world()
    hist, test, s_hist, plan = _split(sessions, daily, 14)
    out = forecast(hist, 14, sessions=s_hist, planned=plan, n_jobs=1)
    assert out.filter(pl.col("unique_id") == "apple")["model"].unique().to_list() == ["session_glm"]
    sn = forecast(hist, 14, models=["seasonal_naive"], n_jobs=1)
    j = out.join(test, on=["unique_id", "ds"]).join(
        sn.select("unique_id", "ds", pl.col("mean").alias("sn")), on=["unique_id", "ds"]
    )
    mae = (j["y"] - j["mean"]).abs().mean()
    assert mae < 0.5 * (j["y"] - j["sn"]).abs().mean()
    # a day's mean is its sessions' demand plus the off-session trickle (about 4 units)
    no_session = j.join(daily_session_exog(plan), on=["unique_id", "ds"], how="anti")
    assert no_session.height == 0 or (no_session["mean"] < 12).all()


def test_without_a_plan_the_session_model_is_not_run_and_says_why() -> None:
    sessions, daily = _world(days=120)
    hist, _, s_hist, _ = _split(sessions, daily, 7)
    out = forecast(hist, 7, sessions=s_hist, n_jobs=1)
    assert "session_glm" not in set(out["model"])
    assert out["note"].str.contains("no planned sessions").all()


def test_bad_session_input_names_the_problem() -> None:
    sessions, daily = _world(days=60)
    with pytest.raises(ForecastInputError) as err:
        forecast(daily.filter(pl.col("unique_id") == "tea"), 7, sessions=sessions, n_jobs=1)
    assert "apple" in str(err.value) and "no daily history" in str(err.value)
    with pytest.raises(ForecastInputError, match="lacks column"):
        forecast(daily, 7, sessions=sessions.drop("host_id"), n_jobs=1)
    with pytest.raises(ForecastInputError, match="planned sessions need"):
        forecast(daily, 7, planned=sessions, n_jobs=1)


def test_daily_future_aggregates_the_plan_and_adds_the_calendar() -> None:
    sessions, daily = _world(days=60)
    hist, _, _, plan = _split(sessions, daily.with_columns(pl.lit(1.0).alias("sessions")), 7)
    fut = daily_future(hist, 7, plan)
    assert fut.height == 14 and {"sessions", "d11_peak", "spring_festival_slowdown"} <= set(fut.columns)
    assert fut["sessions"].sum() == plan.height


def test_canonical_sessions_of_the_sample_match_the_truth() -> None:
    truth = pl.read_csv(ROOT / "sample_data/truth/session_products.csv", schema_overrides={"session_id": pl.String})
    marks = truth.select("session_id", "product_id", pl.col("censored").alias("sold_out"))
    s = canonical_sessions(ROOT / "sample_data/canonical", marks)
    j = s.join(truth.rename({"product_id": "unique_id"}), on=["session_id", "unique_id"], how="inner", suffix="_truth")
    assert j.height == s.height == truth.filter(pl.col("sold_units") > 0).height
    assert (j["y"] == j["sold_units"]).all()
    assert (j["price"] * 100).round(0).cast(pl.Int64).equals(j["price_fen"].alias("price"))
    assert (j["sold_out"] == j["censored"]).all()
    logged = j.filter(pl.col("explain_minutes").is_not_null())
    assert logged.height > 0 and ((logged["explain_minutes"] - logged["explain_minutes_truth"]).abs() <= 1).all()
    assert (j["ds"].dt.date() == j["day_local"].str.to_date()).all()


def test_slot_of_one_hour_is_the_slot_of_the_array() -> None:
    from livecommerce.forecast.session import slot_of_hour

    hours = np.arange(24)
    assert [int(slot_of_hour(h)) for h in hours] == slot_of_hour(hours).tolist()
    assert [int(slot_of_hour(int(h))) for h in hours] == slot_of_hour(hours).tolist()
