"""Price and stock recommendations per product from the warehouse: the one place that builds the
inputs of :func:`livecommerce.pricing.recommend_price` and :func:`livecommerce.inventory.recommend_stock`
from ``queries`` — shared by ``livecommerce recommend price|stock`` and the JSON API.

History comes from ``livecommerce.queries`` under the caller's :class:`~livecommerce.scope.Scope`
(``session_sales`` for prices, ``demand_history`` for stock, ``directory`` for costs and shelf
life), so a caller only ever fits on rows it may see. Money is yuan in the returned documents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine

from livecommerce import queries
from livecommerce.scope import Scope

__all__ = ["NoRecommendation", "PriceAdvice", "StockAdvice", "price_recommendations", "product", "stock_recommendation"]


class NoRecommendation(ValueError):
    """No recommendation can be made (unknown product, no sales or sessions); the message says why
    in English and Chinese."""


@dataclass(frozen=True)
class PriceAdvice:
    """A product's price recommendation with the inputs it was made from, or why there is none."""

    sku: str
    inputs: dict[str, Any] = field(default_factory=dict)
    recommendation: Any = None  # livecommerce.pricing.PriceRecommendation
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return ``sku``, ``inputs`` and ``recommendation`` as JSON-ready dicts (or ``sku`` and ``error``)."""
        if self.error is not None:
            return {"sku": self.sku, "error": self.error}
        return {"sku": self.sku, "inputs": self.inputs, "recommendation": self.recommendation.as_dict()}


@dataclass(frozen=True)
class StockAdvice:
    """A product's stock plan with what it covers and the inputs it was made from."""

    sku: str
    covers: str
    inputs: dict[str, Any]
    plan: Any  # livecommerce.inventory.StockPlan

    def as_dict(self) -> dict[str, Any]:
        """Return ``sku``, ``for`` (what the quantity covers), ``inputs`` and ``plan`` JSON-ready."""
        return {"sku": self.sku, "for": self.covers, "inputs": self.inputs, "plan": self.plan.as_dict()}


def _yuan(fen: Any) -> float | None:
    return None if fen is None else fen / 100.0


def product(engine: Engine, product_id: str, scope: Scope | None = None) -> dict[str, Any]:
    """Return the directory row of ``product_id`` (title, county, category, costs, shelf life) when
    ``scope`` may see it; raises :class:`NoRecommendation` otherwise."""
    products = queries.directory(engine, scope or Scope.everything())["products"]
    rows = products.filter(products["product_id"].cast(str) == product_id) if products.height else products
    if rows.is_empty():
        raise NoRecommendation(f"unknown product {product_id!r}: see `livecommerce info` / 未知商品 {product_id!r}")
    return rows.row(0, named=True)


def _session_features(sales: pl.DataFrame, counties: pl.DataFrame) -> pl.DataFrame:
    from livecommerce.calendar import with_festival_flags

    local = pl.col("started_at_utc").dt.replace_time_zone("UTC").dt.convert_time_zone("Asia/Shanghai")
    if sales.schema["started_at_utc"] == pl.String:
        local = pl.col("started_at_utc").str.to_datetime(time_zone="UTC").dt.convert_time_zone("Asia/Shanghai")
    frame = sales.with_columns(local.dt.replace_time_zone(None).alias("ds")).with_columns(
        (pl.col("ds").dt.hour() // 4).alias("slot"),
        (pl.col("ds").dt.weekday() >= 6).cast(pl.Int8).alias("weekend"),
        pl.col("ds").dt.month().alias("month"),
    )
    frame = frame.join(counties, on="product_id", how="left")
    return with_festival_flags(frame, "ds")


def price_recommendations(
    engine: Engine,
    product_ids: Sequence[str],
    scope: Scope | None = None,
    *,
    test_sessions: int = 6,
) -> list[PriceAdvice]:
    """Return tonight's price recommendation for each of ``product_ids`` (in order), one
    :class:`PriceAdvice` each: ``inputs`` (cost, list price, current price, reference units, observed
    range, sessions, elasticity and its verdict) and the ``PriceRecommendation``, or an ``error``
    (English / Chinese) when that product cannot get one.

    The elasticity is fitted once on the live sessions ``scope`` may see (units on log price with host,
    slot x weekend, month and festival fixed effects, live minutes as exposure), per product and shrunk
    toward the county's estimate; the current price is the last session's. Raises
    :class:`NoRecommendation` when ``scope`` sees no live sessions at all.
    """
    from livecommerce.calendar import FLAGS
    from livecommerce.pricing import ElasticityEstimate, estimate_elasticity, recommend_price

    scope = scope or Scope.everything()
    sales = queries.session_sales(engine, scope)
    if sales.is_empty() or "product_id" not in sales.columns:
        raise NoRecommendation("no live sessions: load exports first (`livecommerce etl load PATH`) / 没有直播数据")
    directory = queries.directory(engine, scope)["products"]
    counties = directory.select("product_id", "county_id")
    frame = _session_features(sales, counties).filter(pl.col("live_minutes") > 0)
    flags = [c for c in FLAGS if c in frame.columns and frame[c].sum() > 0]
    table = estimate_elasticity(
        frame,
        "units",
        "price",
        controls=flags,
        fixed_effects=["host_id", ("slot", "weekend"), "month"],
        by="product_id",
        cluster="session_id",
        exposure="live_minutes",
        shrink_to="county_id",
    )
    docs = []
    for sku in product_ids:
        try:
            info = product(engine, sku, scope)
        except NoRecommendation as exc:
            docs.append(PriceAdvice(sku, error=str(exc)))
            continue
        own = frame.filter(pl.col("product_id") == sku).sort("ds")
        est = table.filter(pl.col("product_id") == sku)
        if own.is_empty() or est.is_empty():
            docs.append(PriceAdvice(sku, error=f"no live sessions of {sku} / 没有 {sku} 的直播数据"))
            continue
        est_row = est.row(0, named=True)
        current = float(own["price"][-1])
        reference = float(own.tail(8)["units"].mean())  # type: ignore[arg-type]
        observed = (float(own["price"].min()), float(own["price"].max()))  # type: ignore[arg-type]
        estimate = ElasticityEstimate(
            **{k: est_row[k] if est_row[k] is not None else float("nan") for k in ("elasticity", "ci_low", "ci_high")},
            n=est_row["n"],
            verdict=est_row["verdict"],
            status=est_row["status"],
            method=est_row["method"],
        )
        rec = recommend_price(
            estimate,
            current_price=current,
            unit_cost=_yuan(info["unit_cost_fen"]),
            reference_units=reference,
            observed_range=observed,
            test_sessions=test_sessions,
        )
        docs.append(
            PriceAdvice(
                sku,
                {
                    "unit_cost": _yuan(info["unit_cost_fen"]),
                    "list_price": _yuan(info["list_price_fen"]),
                    "current_price": current,
                    "reference_units": reference,
                    "observed_range": list(observed),
                    "sessions": own.height,
                    "elasticity": {k: est_row[k] for k in ("elasticity", "ci_low", "ci_high", "n", "status", "method")},
                    "elasticity_verdict": est_row["verdict"],
                    "sold_out_sessions": "not known to the warehouse: none left out / 仓库无售罄标记，未剔除",
                },
                rec,
            )
        )
    return docs


def stock_recommendation(
    engine: Engine,
    product_id: str,
    scope: Scope | None = None,
    *,
    session_day: dt.date | None = None,
    days: int | None = None,
    penalty: float = 0.0,
) -> StockAdvice:
    """Return the stock to prepare for ``product_id``: for one planned session day (``session_day``,
    after the last day of data) or the next ``days`` days (give exactly one), as a :class:`StockAdvice`:
    what the quantity covers, ``inputs`` (price, cost, shelf life, category, penalty, forecast model,
    demand mean and quantiles) and the ``StockPlan``.

    Demand quantiles come from the forecast of the product's daily units in ``scope`` (the day's
    forecast for a session day, the N-day total from backtested cumulative errors for days); salvage
    follows the shelf life; the price is the mean paid over the last 14 days with sales. Raises
    :class:`NoRecommendation` (unknown product, no sales, session day too early) or ``ValueError``.
    """
    from livecommerce.forecast import forecast, forecast_total
    from livecommerce.inventory import DemandDistribution, quantile_levels, recommend_stock

    if (session_day is None) == (days is None):
        raise ValueError("give exactly one of a session day or a number of days / 请只给出会话日期或天数之一")
    scope = scope or Scope.everything()
    info = product(engine, product_id, scope)
    history = queries.demand_history(engine, scope, product_ids=[product_id])
    if history.is_empty():
        raise NoRecommendation(f"no sales of {product_id} to forecast from / 没有 {product_id} 的销售数据")
    last = history["ds"].max()
    levels = quantile_levels()
    series = history.select("unique_id", "ds", "y")
    if days is not None:
        fc = forecast_total(series, days, quantiles=levels, n_jobs=1)
        row = fc.row(0, named=True)
        what = f"next {days} days after {last}"
    else:
        assert session_day is not None
        h = (session_day - last).days  # type: ignore[operator]
        if h < 1:
            raise NoRecommendation(f"the session day must be after the last day of data ({last}) / 日期须晚于 {last}")
        fc = forecast(series, h, quantiles=levels, n_jobs=1)
        row = fc.filter(pl.col("ds") == session_day).row(0, named=True)
        what = f"session day {session_day}"
    demand = DemandDistribution.from_forecast(row)
    recent = history.tail(14)
    price_paid = float(recent["gmv_fen"].sum() / max(recent["y"].sum(), 1) / 100)
    plan = recommend_stock(
        demand,
        price=price_paid,
        unit_cost=_yuan(info["unit_cost_fen"]),
        shelf_life_days=info["shelf_life_days"],
        category=info["category"],
        sold_out_penalty=penalty,
        days_to_next_sale=float(days or 7),
    )
    return StockAdvice(
        product_id,
        what,
        {
            "price": price_paid,
            "unit_cost": _yuan(info["unit_cost_fen"]),
            "shelf_life_days": info["shelf_life_days"],
            "category": info["category"],
            "sold_out_penalty": penalty,
            "forecast_model": row.get("model"),
            "demand_mean": row.get("mean"),
            "demand_quantiles": {k: row[k] for k in ("q0.1", "q0.5", "q0.9") if k in row},
        },
        plan,
    )
