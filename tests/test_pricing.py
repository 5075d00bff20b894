"""Elasticity estimation and price recommendations: known answers on seeded panels, unreliable cases."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import polars as pl
import pytest

from livecommerce.pricing import (
    ElasticityEstimate,
    estimate_elasticity,
    optimal_price,
    recommend_price,
)


def _panel(
    seed: int = 0,
    n: int = 400,
    e: float = -1.8,
    cv: float = 0.15,
    base: float = 40.0,
    hosts: int = 5,
    confound: float = 0.0,
    noise: float = 0.2,
) -> pl.DataFrame:
    """Log-linear demand with host effects, a festival lift and multiplicative noise.

    ``confound`` makes prices fall on festival days (when demand is up for other reasons).
    """
    rng = np.random.default_rng(seed)
    host = rng.integers(0, hosts, n)
    festival = rng.random(n) < 0.25
    host_eff = np.linspace(-0.5, 0.5, hosts)[host]
    lp = np.log(50.0) + rng.normal(0, cv, n) - confound * festival
    minutes = rng.integers(10, 40, n)
    mu = base * np.exp(host_eff + 0.6 * festival + e * (lp - np.log(50.0))) * minutes / 20
    units = np.maximum(np.round(mu * np.exp(rng.normal(-(noise**2) / 2, noise, n))), 1)
    return pl.DataFrame(
        {
            "session_id": [f"s{i}" for i in range(n)],
            "host_id": [f"H{h}" for h in host],
            "festival": festival.astype(int),
            "price": np.exp(lp),
            "minutes": minutes,
            "units": units,
        }
    )


# --- estimate_elasticity ----------------------------------------------------------------------


def test_log_log_ols_with_fixed_effects_recovers_the_elasticity() -> None:
    df = _panel()
    est = estimate_elasticity(
        df, "units", "price", controls=["festival"], fixed_effects=["host_id"], exposure="minutes"
    )
    assert isinstance(est, ElasticityEstimate)
    assert est.method == "ols" and est.n == 400 and est.status == "ok" and est.reliable
    assert abs(est.elasticity + 1.8) < 0.1
    assert est.ci_low < -1.8 < est.ci_high
    assert est.ci_high - est.ci_low < 0.4
    assert "elasticity −1.8" in est.verdict and "价格弹性" in est.verdict
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.elasticity = -1.0  # type: ignore[misc]


def test_pooled_regression_without_the_calendar_is_the_classic_wrong_answer() -> None:
    """Prices cut on festival days, when demand is up anyway: without the calendar the cut looks far more effective."""
    df = _panel(seed=0, confound=0.3, cv=0.1, n=800)
    naive = estimate_elasticity(df, "units", "price", exposure="minutes")
    right = estimate_elasticity(
        df, "units", "price", controls=["festival"], fixed_effects=["host_id"], exposure="minutes"
    )
    assert abs(right.elasticity + 1.8) < 0.15
    assert naive.elasticity < right.elasticity - 0.8  # the festival lift is credited to the price cut


def test_pandas_and_polars_give_the_same_estimate() -> None:
    df = _panel(seed=2)
    a = estimate_elasticity(df, "units", "price", fixed_effects=["host_id"], exposure="minutes")
    b = estimate_elasticity(df.to_pandas(), "units", "price", fixed_effects=["host_id"], exposure="minutes")
    assert a == b


def test_zero_sales_switch_to_poisson_pseudo_likelihood() -> None:
    rng = np.random.default_rng(3)
    n = 600
    lp = np.log(30) + rng.normal(0, 0.2, n)
    mu = 1.2 * np.exp(-2.0 * (lp - np.log(30)))
    df = pl.DataFrame({"price": np.exp(lp), "units": rng.poisson(mu), "day": rng.integers(0, 7, n)})
    assert (df["units"] == 0).sum() > 50
    est = estimate_elasticity(df, "units", "price", fixed_effects=["day"])
    assert est.method == "ppml"
    assert abs(est.elasticity + 2.0) < 0.25
    assert est.ci_low < -2.0 < est.ci_high
    forced = estimate_elasticity(df.filter(pl.col("units") > 0), "units", "price", method="ppml")
    assert forced.method == "ppml"


def test_sold_out_sessions_are_left_out_and_counted() -> None:
    df = _panel(seed=4).with_columns(censored=pl.int_range(pl.len()) % 10 == 0)
    est = estimate_elasticity(df, "units", "price", fixed_effects=["host_id"], exposure="minutes", censored="censored")
    assert est.n == 360 and est.n_censored == 40
    assert "40 sold-out sessions left out" in est.verdict and "已剔除 40 场售罄" in est.verdict


def test_cluster_robust_interval_and_interaction_fixed_effects() -> None:
    df = _panel(seed=5).with_columns(slot=pl.int_range(pl.len()) % 3, weekday=pl.int_range(pl.len()) % 7)
    est = estimate_elasticity(
        df, "units", "price", fixed_effects=["host_id", ("slot", "weekday")], cluster="host_id", exposure="minutes"
    )
    assert abs(est.elasticity + 1.8) < 0.1
    # five hosts are too few clusters: the estimator says so by falling back (interval still finite)
    assert math.isfinite(est.ci_low) and math.isfinite(est.ci_high)


def test_no_price_variation_gives_no_number_and_says_why() -> None:
    df = _panel(seed=6).with_columns(price=pl.lit(49.9))
    est = estimate_elasticity(df, "units", "price", fixed_effects=["host_id"])
    assert est.status == "no_variation" and math.isnan(est.elasticity) and not est.reliable
    assert "price never varied" in est.verdict and "价格几乎没变" in est.verdict


def test_tiny_sample_gives_no_number() -> None:
    df = _panel(seed=7, n=8)
    est = estimate_elasticity(df, "units", "price")
    assert est.status == "too_few" and math.isnan(est.elasticity) and est.n == 8
    assert "too few observations (8)" in est.verdict


def test_barely_varying_price_is_flagged_not_trusted() -> None:
    df = _panel(seed=8, cv=0.012, n=200)
    est = estimate_elasticity(df, "units", "price", fixed_effects=["host_id"], exposure="minutes")
    assert est.status in ("low_variation", "wide") and not est.reliable
    assert "CV 1%" in est.verdict


def test_by_product_shrinks_the_product_whose_price_barely_varied() -> None:
    frames = []
    for i, (e, cv) in enumerate([(-1.6, 0.15), (-1.8, 0.15), (-2.0, 0.15), (-1.7, 0.15), (-1.9, 0.004)]):
        frames.append(_panel(seed=10 + i, e=e, cv=cv, n=300).with_columns(product=pl.lit(f"p{i}"), county=pl.lit("c")))
    df = pl.concat(frames)
    out = estimate_elasticity(
        df, "units", "price", controls=["festival"], fixed_effects=["host_id"], by="product", exposure="minutes"
    )
    assert isinstance(out, pl.DataFrame)
    assert out.columns[:6] == ["product", "elasticity", "ci_low", "ci_high", "n", "verdict"]
    rows = {r["product"]: r for r in out.iter_rows(named=True)}
    for i, e in enumerate([-1.6, -1.8, -2.0, -1.7]):
        assert abs(rows[f"p{i}"]["elasticity"] - e) < 0.25, rows[f"p{i}"]
        assert rows[f"p{i}"]["own_weight"] > 0.5
    flat = rows["p4"]
    assert flat["own_weight"] == 0.0 and math.isnan(flat["own_elasticity"] or math.nan)
    assert -2.0 < flat["elasticity"] < -1.6  # the pooled estimate, not a wild number
    assert "using the estimate for all products" in flat["verdict"]
    assert flat["ci_high"] - flat["ci_low"] > 0.2  # the spread between products stays in the interval


def test_shrinkage_target_within_a_county() -> None:
    frames = []
    spec = [("a", -1.5, 0.15), ("a", -1.6, 0.15), ("a", -1.55, 0.02), ("b", -2.4, 0.15), ("b", -2.5, 0.15)]
    for i, (county, e, cv) in enumerate(spec):
        frames.append(
            _panel(seed=20 + i, e=e, cv=cv, n=120, noise=0.4).with_columns(
                product=pl.lit(f"p{i}"), county=pl.lit(county)
            )
        )
    df = pl.concat(frames)
    out = estimate_elasticity(
        df,
        "units",
        "price",
        controls=["festival"],
        fixed_effects=["host_id"],
        by="product",
        shrink_to="county",
        exposure="minutes",
    )
    row = out.filter(pl.col("product") == "p2").row(0, named=True)
    assert row["own_weight"] < 0.9
    assert -1.9 < row["target"] < -1.2  # county a's pooled estimate (truth about −1.55), not county b's −2.45
    assert "county a" in row["verdict"] and "shrunk toward" in row["verdict"]


def test_unknown_column_is_named() -> None:
    with pytest.raises(ValueError, match="cost_fen"):
        estimate_elasticity(_panel(), "units", "price", controls=["cost_fen"])


# --- recommend_price --------------------------------------------------------------------------


def test_optimal_price_closed_form() -> None:
    assert optimal_price(26.0, -1.8) == pytest.approx(26 * 1.8 / 0.8)
    assert optimal_price(26.0, -1.8, refund_rate=0.05, extra_cost=2.0) == pytest.approx(28 / 0.95 * 1.8 / 0.8)
    assert math.isnan(optimal_price(26.0, -0.7))


def test_interior_optimum_on_a_price_ending_in_9() -> None:
    rec = recommend_price(-1.8, current_price=56.9, unit_cost=26.0, reference_units=100, observed_range=(40, 70))
    assert rec.status == "optimal"
    assert rec.price in (57.9, 58.9)  # p* = 58.5
    assert round(rec.price * 10) % 10 == 9
    curve = rec.curve
    assert curve.columns == ["price", "expected_units", "expected_profit", "profit_low", "profit_high"]
    best_on_curve = curve.sort("expected_profit").row(-1, named=True)["price"]
    assert abs(best_on_curve - 58.5) <= 1.0
    assert rec.expected_units == pytest.approx(100 * (rec.price / 56.9) ** -1.8)
    assert rec.expected_profit == pytest.approx((rec.price - 26) * rec.expected_units)


def test_at_most_ten_percent_per_step_and_inside_the_observed_range() -> None:
    rec = recommend_price(-1.3, current_price=128.0, unit_cost=52.0, observed_range=(99.9, 165.9))
    assert rec.status == "bound" and rec.price <= 128 * 1.1 and rec.price == 139.9
    assert rec.unconstrained_price == pytest.approx(52 * 1.3 / 0.3)
    assert any("guardrails" in r for r in rec.reasons)
    narrow = recommend_price(
        -1.3, current_price=128.0, unit_cost=52.0, observed_range=(120.0, 128.0), range_margin=0.05
    )
    assert narrow.price <= 128 * 1.05


def test_range_from_the_elasticity_interval() -> None:
    est = ElasticityEstimate(-2.0, -2.3, -1.7, 300, "x")
    rec = recommend_price(est, current_price=55.9, unit_cost=30.0, reference_units=50, observed_range=(45, 70))
    assert rec.price == 59.9
    assert rec.units_low <= rec.expected_units <= rec.units_high
    assert rec.profit_low <= rec.expected_profit <= rec.profit_high
    assert rec.units_low < rec.units_high
    assert (rec.curve["profit_low"] <= rec.curve["expected_profit"] + 1e-9).all()


def test_limited_stock_raises_the_price_to_sell_the_stock() -> None:
    free = recommend_price(-2.0, current_price=60.9, unit_cost=30.0, reference_units=100, observed_range=(50, 75))
    tight = recommend_price(
        -2.0, current_price=60.9, unit_cost=30.0, reference_units=100, observed_range=(50, 75), stock=90
    )
    assert tight.status == "stock" and tight.price > free.price
    clearing = 60.9 * (90 / 100) ** (1 / -2.0)  # 64.2
    assert abs(tight.price - clearing) < 1.0
    assert tight.expected_units <= 90 + 1e-9
    assert any("stock of 90" in r for r in tight.reasons)


@pytest.mark.parametrize(
    ("est", "status"),
    [
        (ElasticityEstimate(math.nan, math.nan, math.nan, 5, "too few", status="too_few"), "too_few"),
        (ElasticityEstimate(-3.0, -5.5, -0.5, 30, "wide", status="wide"), "wide"),
        (ElasticityEstimate(math.nan, math.nan, math.nan, 80, "flat", status="no_variation"), "no_variation"),
    ],
)
def test_unreliable_estimate_keeps_the_price_and_proposes_a_test(est: ElasticityEstimate, status: str) -> None:
    rec = recommend_price(est, current_price=49.9, unit_cost=26.0, observed_range=(45, 55), test_sessions=6)
    assert rec.status == "test" and rec.price == 49.9
    prices = [s.price for s in rec.price_test]
    assert len(prices) == 6 and prices[0::2] == [49.9, 49.9, 49.9]
    moves = [p / 49.9 - 1 for p in prices[1::2]]
    assert any(m > 0.03 for m in moves) and any(m < -0.03 for m in moves)
    assert all(0.03 < abs(m) < 0.1 for m in moves)
    assert all(round(p * 10) % 10 == 9 for p in prices)


def test_inelastic_demand_does_not_jump_to_the_bound() -> None:
    est = ElasticityEstimate(-0.6, -0.8, -0.4, 400, "inelastic", status="inelastic")
    rec = recommend_price(
        est, current_price=49.9, unit_cost=26.0, observed_range=(40, 60), sessions=["A", "B", "C", "D"]
    )
    assert rec.status == "test" and rec.price == 49.9
    assert [s.session for s in rec.price_test] == ["A", "B", "C", "D"]
    assert all(s.price >= 49.9 for s in rec.price_test)
    assert any("no best price inside the data" in r for r in rec.reasons)


def test_missing_cost_keeps_the_price() -> None:
    rec = recommend_price(-1.8, current_price=49.9, unit_cost=None)
    assert rec.status == "missing_cost" and rec.price == 49.9
    assert "unit cost missing" in rec.reasons[0]
    assert math.isnan(rec.expected_profit)
    assert rec.as_dict()["expected_profit"] is None


def test_recommendation_as_dict_is_json_ready() -> None:
    import json

    rec = recommend_price(-1.8, current_price=49.9, unit_cost=26.0, observed_range=(40, 60))
    doc = json.loads(json.dumps(rec.as_dict()))
    assert doc["price"] == rec.price and doc["curve"][0].keys() >= {"price", "expected_profit"}
