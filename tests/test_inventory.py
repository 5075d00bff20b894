"""Newsvendor, presale and replenishment: textbook answers, stockpyl as an independent reference, unreliable inputs."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from livecommerce.inventory import (
    DemandDistribution,
    critical_ratio,
    presale_plan,
    quantile_levels,
    recommend_stock,
    replenishment,
    salvage_value,
)

stockpyl_newsvendor = pytest.importorskip("stockpyl.newsvendor")
stockpyl_rq = pytest.importorskip("stockpyl.rq")
stockpyl_loss = pytest.importorskip("stockpyl.loss_functions")


# --- textbook answers -------------------------------------------------------------------------


def test_critical_ratio_of_the_forty_yuan_box() -> None:
    assert critical_ratio(40, 25, 20) == pytest.approx(0.75)
    assert critical_ratio(40, 25, 5) == pytest.approx(15 / 35)
    assert round(critical_ratio(40, 25, 5), 2) == 0.43
    assert critical_ratio(20, 25, 5) == 0.0  # no margin: nothing to protect
    assert critical_ratio(40, 25, 30) == 1.0  # leftovers worth more than cost


def test_normal_base_stock_120_10_2_18_is_132_8() -> None:
    """DEMAND.md: mean 120, sd 10, holding 2, stock-out 18 → 132.8 (and stockpyl agrees)."""
    demand = DemandDistribution.normal(120, 10)
    ratio = critical_ratio(28, 10, 10, holding_cost=2)  # Cu = 18, Co = 2
    assert ratio == pytest.approx(0.9)
    assert demand.quantile(ratio) == pytest.approx(132.8, abs=0.05)
    ref, _ = stockpyl_newsvendor.newsvendor_normal(2, 18, 120, 10)
    assert demand.quantile(ratio) == pytest.approx(ref, abs=0.05)
    plan = recommend_stock(demand, price=28.0, unit_cost=10.0, salvage=10.0, holding_cost=2.0)
    assert plan.quantity == 133 and plan.critical_ratio == pytest.approx(0.9)


@pytest.mark.parametrize(("mean", "sd", "h", "p"), [(120, 10, 2, 18), (50, 20, 1, 3), (500, 80, 5, 5), (30, 6, 1, 9)])
def test_newsvendor_quantity_and_cost_match_stockpyl(mean: float, sd: float, h: float, p: float) -> None:
    demand = DemandDistribution.normal(mean, sd)
    q = demand.quantile(p / (p + h))
    ref_q, ref_cost = stockpyl_newsvendor.newsvendor_normal(h, p, mean, sd)
    assert q == pytest.approx(ref_q, rel=1e-3)
    cost = h * demand.expected_leftover(ref_q) + p * demand.expected_shortage(ref_q)
    assert cost == pytest.approx(ref_cost, rel=5e-3)
    assert demand.expected_shortage(ref_q) == pytest.approx(stockpyl_loss.normal_loss(ref_q, mean, sd)[0], rel=5e-3)


def test_explicit_profit_newsvendor_matches_stockpyl() -> None:
    demand = DemandDistribution.normal(100, 25)
    plan = recommend_stock(demand, price=40.0, unit_cost=25.0, salvage=20.0)
    ref_q, ref_profit = stockpyl_newsvendor.newsvendor_normal_explicit(40, 25, 20, 100, 25)
    assert abs(plan.quantity - ref_q) < 1.0
    assert plan.expected_profit == pytest.approx(ref_profit, rel=5e-3)


def test_eoq_plus_safety_stock_matches_stockpyl() -> None:
    """Example 5.5 of Snyder & Shen: h 0.225, p 7.5, K 8, demand 1300/yr sd 150, lead time 1/12 year."""
    h, p, k, lam, tau, lead = 0.225, 7.5, 8, 1300, 150, 1 / 12
    protection = DemandDistribution.normal(lam * lead, tau * math.sqrt(lead))
    plan = replenishment(
        protection,
        period_demand=lam,
        lead_time=lead,
        review_period=0,
        holding_cost=h,
        stockout_cost=p,
        fixed_order_cost=k,
    )
    ref_r, ref_q = stockpyl_rq.r_q_eoqss_approximation(h, p, k, lam, tau, lead)
    assert plan.policy == "s_S"
    assert plan.reorder_point == math.ceil(ref_r)
    assert plan.order_quantity == pytest.approx(ref_q)
    assert plan.order_up_to == plan.reorder_point + math.ceil(ref_q)


def test_base_stock_over_lead_time_plus_review() -> None:
    daily_mean, daily_sd, lead, review = 20.0, 6.0, 3, 7
    protection = DemandDistribution.normal(daily_mean * (lead + review), daily_sd * math.sqrt(lead + review))
    plan = replenishment(protection, period_demand=daily_mean, lead_time=lead, review_period=review, service_level=0.95)
    s = 200 + stats.norm.ppf(0.95) * 6 * math.sqrt(10)
    assert plan.policy == "base_stock" and plan.order_up_to == math.ceil(s) == plan.reorder_point
    assert plan.safety_stock == pytest.approx(math.ceil(s) - 200)
    assert plan.stock_out_probability == pytest.approx(0.05, abs=0.01)
    short = stockpyl_loss.normal_loss(plan.order_up_to, 200, 6 * math.sqrt(10))[0]
    assert plan.fill_rate == pytest.approx(1 - short / (daily_mean * review), abs=1e-3)
    assert plan.fill_rate > 0.95
    with pytest.raises(ValueError, match="service_level"):
        replenishment(protection, period_demand=20, lead_time=3)


# --- distributions from forecast quantiles ----------------------------------------------------


def test_interpolated_quantile_function_passes_through_the_forecast() -> None:
    row = {"unique_id": "x", "mean": 52.0, "q0.1": 30.0, "q0.5": 50.0, "q0.9": 75.0, "note": None}
    d = DemandDistribution.from_forecast(row)
    assert d.quantile(0.1) == pytest.approx(30, abs=0.2)
    assert d.quantile(0.5) == pytest.approx(50, abs=0.2)
    assert d.quantile(0.9) == pytest.approx(75, abs=0.2)
    assert 75 < d.quantile(0.97) < 100  # normal-shaped tail beyond the last quantile
    assert d.quantile(0.01) >= 0
    assert d.cdf(50) == pytest.approx(0.5, abs=0.01)


def test_negative_binomial_and_normal_fits() -> None:
    true = stats.nbinom(5, 5 / (5 + 40))
    qs = {lv: float(true.ppf(lv)) for lv in (0.1, 0.5, 0.9)}
    nb = DemandDistribution.from_quantiles(qs, mean=40, fit="negbin")
    assert nb.quantile(0.75) == pytest.approx(true.ppf(0.75), abs=2)
    normal = DemandDistribution.from_quantiles({0.1: 87.18, 0.9: 112.82}, mean=100, fit="normal")
    assert normal.quantile(0.5) == pytest.approx(100, abs=0.1)
    assert normal.quantile(0.975) == pytest.approx(100 + 1.96 * 10, abs=0.3)
    with pytest.raises(ValueError, match="between 0 and 1"):
        DemandDistribution.from_quantiles({1.5: 3})


def test_quantile_levels_include_the_ratio() -> None:
    levels = quantile_levels([0.8333])
    assert 0.8333 in levels and 0.05 in levels and 0.95 in levels and levels == tuple(sorted(levels))


# --- shelf life, stock and presale ------------------------------------------------------------


def test_salvage_follows_shelf_life() -> None:
    fuji = salvage_value(43.0, 120, "fruit")
    huaniu = salvage_value(26.0, 30, "fruit")
    tea = salvage_value(52.0, 540, "tea")
    assert 0.9 * 43 < fuji.value < 43 and "cold store" in fuji.reason
    assert huaniu.value == pytest.approx(0.3 * 26) and "mealy" in huaniu.reason
    assert tea.value > 0.99 * 52
    assert salvage_value(26.0, None).value == pytest.approx(0.3 * 26)


def test_huaniu_stocks_below_fuji_for_the_same_demand() -> None:
    demand = DemandDistribution.normal(100, 30)
    huaniu = recommend_stock(demand, price=49.9, unit_cost=26.0, shelf_life_days=30, category="fruit")
    fuji = recommend_stock(demand, price=49.9, unit_cost=26.0, shelf_life_days=120, category="fruit")
    assert huaniu.critical_ratio < 0.6 < 0.9 < fuji.critical_ratio
    assert huaniu.quantity < fuji.quantity and 100 < fuji.quantity
    assert fuji.stock_out_probability == pytest.approx(1 - fuji.critical_ratio, abs=0.02)
    assert 0 < huaniu.fill_rate < fuji.fill_rate <= 1
    assert huaniu.expected_sales + huaniu.expected_shortage == pytest.approx(100, abs=0.5)


def test_sold_out_penalty_raises_the_stock() -> None:
    demand = DemandDistribution.normal(100, 30)
    base = recommend_stock(demand, price=40, unit_cost=25, salvage=5)
    penal = recommend_stock(demand, price=40, unit_cost=25, salvage=5, sold_out_penalty=10)
    assert round(base.critical_ratio, 2) == 0.43 and base.quantity < 100
    assert penal.critical_ratio == pytest.approx(25 / 45) and penal.quantity > base.quantity


def test_missing_cost_or_no_margin_give_a_clear_answer() -> None:
    demand = DemandDistribution.normal(100, 30)
    plan = recommend_stock(demand, price=49.9, unit_cost=None)
    assert plan.status == "missing_cost" and plan.quantity == 100 and "unit cost missing" in plan.reasons[0]
    assert plan.as_dict()["expected_profit"] is None
    loss = recommend_stock(demand, price=20, unit_cost=25, salvage=5)
    assert loss.status == "no_margin" and loss.quantity == 0


def test_presale_packing_capacity() -> None:
    remaining = DemandDistribution.normal(300, 60)
    plan = presale_plan(remaining, orders_taken=500, ship_days=5, capacity_cost=2.0, late_cost=8.0)
    assert plan.critical_ratio == pytest.approx(0.8)
    assert plan.capacity == 500 + math.ceil(300 + stats.norm.ppf(0.8) * 60)
    assert plan.per_day == math.ceil(plan.capacity / 5) and plan.stop_selling_at == plan.capacity
    assert plan.overflow_probability == pytest.approx(0.2, abs=0.01)


def test_plans_are_frozen_and_json_ready() -> None:
    import dataclasses
    import json

    plan = recommend_stock(DemandDistribution.normal(50, 10), price=40, unit_cost=25, salvage=20)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.quantity = 3  # type: ignore[misc]
    doc = json.loads(json.dumps(plan.as_dict()))
    assert doc["quantity"] == plan.quantity and set(doc["demand_quantiles"]) == {"q0.1", "q0.5", "q0.9"}
    assert isinstance(pl.DataFrame([doc["demand_quantiles"]]), pl.DataFrame)
    assert np.isfinite(plan.expected_profit)


def test_quantile_rows_build_the_same_laws_as_one_at_a_time() -> None:
    """``from_quantile_rows`` gives, row by row, exactly (to the bit) what ``from_quantiles`` gives:
    skewed and flat rows, a row not increasing (made monotone), zeros, negatives clipped, means given."""
    rng = np.random.default_rng(7)
    levels = (0.02, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.98)
    rows = np.sort(rng.gamma(2.0, 10.0, (200, len(levels))), axis=1)
    rows[0] = 0.0
    rows[1] = 5.0
    rows[2] = rows[2][::-1]  # decreasing: the running maximum makes it a quantile function
    rows[3, :3] = -4.0
    means = rng.uniform(1, 40, len(rows)).tolist()
    batch = DemandDistribution.from_quantile_rows(levels, rows, means)
    one = [
        DemandDistribution.from_quantiles(dict(zip(levels, r.tolist(), strict=True)), mean=m)
        for r, m in zip(rows, means, strict=True)
    ]
    assert len(batch) == len(one) and all(b == o and b.values == o.values for b, o in zip(batch, one, strict=True))
    assert batch[1].quantile(0.01) == 5.0 and batch[0].expected_shortage(0) == 0.0
    assert batch[5] != batch[6] and batch[5].mean == means[5]
    with pytest.raises(ValueError, match="increasing"):
        DemandDistribution.from_quantile_rows((0.5, 0.1), rows[:, :2], means)


def test_stock_quantity_is_the_plans_quantity_and_reasons() -> None:
    """``stock_quantity`` (what a plan's items use) gives the units and reasons of ``recommend_stock`` itself: with a
    margin (shelf lives and categories that change the salvage), without one, with no price or no cost, with a
    penalty, holding cost, explicit salvage and backtest levels."""
    from livecommerce.inventory import stock_quantity

    rng = np.random.default_rng(5)
    laws = [
        DemandDistribution.from_quantiles({0.1: 2, 0.5: 6, 0.9: 15}, mean=7.0),
        DemandDistribution.normal(40.0, 9.0),
        DemandDistribution.from_quantiles({0.1: 0, 0.5: 0, 0.9: 0}, mean=0.0),
    ]
    cases = [
        {"price": 40.0, "unit_cost": 25.0, "shelf_life_days": 30.0, "category": "fruit"},
        {"price": 40.0, "unit_cost": 25.0, "shelf_life_days": 120.0, "category": "fruit", "sold_out_penalty": 5.0},
        {"price": 40.0, "unit_cost": 25.0, "shelf_life_days": 365.0, "category": "tea", "holding_cost": 1.0},
        {"price": 20.0, "unit_cost": 25.0},
        {"price": None, "unit_cost": 25.0},
        {"price": 40.0, "unit_cost": 0.0},
        {"price": 40.0, "unit_cost": 25.0, "salvage": 10.0},
        {"price": 40.0, "unit_cost": 25.0, "required_levels": rng.uniform(0.2, 1.0, 80).tolist()},
    ]
    seen = set()
    for law in laws:
        for case in cases:
            plan = recommend_stock(law, **case)
            q, reasons = stock_quantity(law, **case)
            assert (q, reasons) == (plan.quantity, plan.reasons), case
            seen.add(plan.status)
    assert seen == {"ok", "no_margin", "missing_cost"}


def test_quantile_rows_rounding_past_the_next_level_is_made_monotone() -> None:
    """A level just above a grid point: the last point interpolated below it rounds above the level's own value,
    and the next piece is flat; ``from_quantile_rows`` still gives a non-decreasing grid equal to ``from_quantiles``
    (the running maximum applied where a piece ends above the next one's start)."""
    from livecommerce.inventory import _U

    levels = (0.2712559150454508, float(np.nextafter(_U[3554], 1.0)), 0.999)
    row = [49.9487835716901, 94.10331928435038, 94.10331928435038]
    batch = DemandDistribution.from_quantile_rows(levels, np.array([row, [1.0, 2.0, 3.0]]), [80.0, 2.0])
    one = DemandDistribution.from_quantiles(dict(zip(levels, row, strict=True)), mean=80.0)
    assert np.all(np.diff(batch[0].grid) >= 0) and np.array_equal(batch[0].grid, one.grid)
    # the point before the level rounded above it: the flat piece after it is raised to it
    assert batch[0].grid[3555] == batch[0].grid[3554] > row[1]


def test_quantile_rows_answer_quantiles_without_their_grids() -> None:
    """A law of ``from_quantile_rows`` answers a quantile from its knots before its grid exists, the same number to
    the bit as ``numpy.interp`` on the grid: at the knots, at grid points and just beside them, in both tails, at
    the ends; for rows with flat pieces, zeros, a clipped lower tail and a row that needs the running maximum."""
    from livecommerce.inventory import _U

    rng = np.random.default_rng(11)
    levels = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
    rows = np.sort(np.floor(rng.gamma(1.5, 8.0, (300, len(levels)))), axis=1)  # whole units, like the planner's
    rows[0], rows[1] = 0.0, 3.0
    rows[2, :4] = [0.0, 0.0, 5.0, 9.0]  # a steep lower tail: clipped at zero
    means = rng.uniform(0.5, 30, len(rows)).tolist()
    asked = [*levels, 1e-9, 0.0001, 0.01, 0.5 - 1e-12, 0.99, 0.999, 0.9999999, 1 - 1e-12, float(_U[0]), float(_U[-1])]
    for i in rng.integers(0, len(_U), 60).tolist():  # grid points and their neighbouring floats
        asked += [float(_U[i]), float(np.nextafter(_U[i], 0.0)), float(np.nextafter(_U[i], 1.0))]
    asked += rng.uniform(0, 1, 200).tolist()
    lazy = DemandDistribution.from_quantile_rows(levels, rows, means)
    for law, row, m in zip(lazy, rows, means, strict=True):
        got = [law.quantile(x) for x in asked]
        assert "grid" not in law.__dict__  # answered from the knots
        built = DemandDistribution.from_quantiles(dict(zip(levels, row.tolist(), strict=True)), mean=m)
        assert got == [float(np.interp(x, _U, built.grid)) for x in asked]
        assert law == built and law.expected_shortage(3.0) == built.expected_shortage(3.0)  # the grid, built on use
    # the row whose grid needs the running maximum is built whole, and answers from it
    odd = (0.2712559150454508, float(np.nextafter(_U[3554], 1.0)), 0.999)
    row = [49.9487835716901, 94.10331928435038, 94.10331928435038]
    law = DemandDistribution.from_quantile_rows(odd, np.array([row]), [80.0])[0]
    assert "grid" in law.__dict__ or type(law) is DemandDistribution
    assert law.quantile(float(_U[3555])) == float(np.interp(_U[3555], _U, law.grid)) > row[1]


def test_the_newsvendors_cost_side_is_one_answer_per_price_whatever_the_number_type() -> None:
    """The cost side (salvage, critical ratio and their reasons) is worked out once per price and cost and kept:
    whole-number and float prices give the same plan, in floats, and a different price a different one."""
    law = DemandDistribution.normal(40.0, 9.0)
    whole = recommend_stock(law, price=40, unit_cost=25, sold_out_penalty=0, shelf_life_days=30, category="fruit")
    floats = recommend_stock(law, price=40.0, unit_cost=25.0, shelf_life_days=30.0, category="fruit")
    assert whole == floats and whole.reasons == floats.reasons
    assert isinstance(whole.underage_cost, float) and whole.underage_cost == 15.0
    dearer = recommend_stock(law, price=50.0, unit_cost=25.0, shelf_life_days=30.0, category="fruit")
    assert dearer.critical_ratio > whole.critical_ratio and dearer.quantity > whole.quantity
