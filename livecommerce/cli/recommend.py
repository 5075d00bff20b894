"""``livecommerce recommend price | stock``: a thin skin over ``pricing`` and ``inventory``.

History comes from ``livecommerce.queries`` (``session_sales`` for prices, ``demand_history`` for
stock, ``directory`` for costs and shelf life); each command prints its inputs (cost, elasticity,
quantiles) with the answer. Money is yuan here.
"""

from __future__ import annotations

from typing import Any

import click

from livecommerce.cli._base import AppContext, emit_json, friendly_errors, main, out_console, pass_app


@main.group()
def recommend() -> None:
    """Price and stock recommendations per product. / 按商品建议价格与备货。"""


def _product(app: AppContext, sku: str) -> dict[str, Any]:
    from livecommerce import queries

    products = queries.directory(app.engine, queries.Scope.everything())["products"]
    rows = products.filter(products["product_id"].cast(str) == sku) if products.height else products
    if rows.is_empty():
        raise click.ClickException(f"unknown product {sku!r}: see `livecommerce info` / 未知商品 {sku!r}")
    return rows.row(0, named=True)


def _yuan(fen: Any) -> float | None:
    return None if fen is None else fen / 100.0


def _session_features(sales: Any, counties: Any) -> Any:
    import polars as pl

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


@recommend.command("price")
@click.option("--sku", required=True, metavar="ID", help="Product id.")
@click.option(
    "--sessions", "n_test", default=6, show_default=True, help="Sessions of a price test, when one is needed."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
@friendly_errors
def price(app: AppContext, sku: str, n_test: int, as_json: bool) -> None:
    """Recommend tonight's price: elasticity, costs, guardrails and a price test when unsure. / 建议售价。

    The elasticity is fitted on every product's live sessions (units on log price with host, slot x
    weekend, month and festival fixed effects, live minutes as exposure) and shrunk toward the
    county's estimate; the current price is the last session's.
    """
    import polars as pl

    from livecommerce import queries
    from livecommerce.calendar import FLAGS
    from livecommerce.pricing import estimate_elasticity, recommend_price

    product = _product(app, sku)
    sales = queries.session_sales(app.engine)
    if sales.is_empty() or "product_id" not in sales.columns or sales.filter(pl.col("product_id") == sku).is_empty():
        raise click.ClickException(
            f"no live sessions of {sku}: load exports first (`livecommerce etl load PATH`) / 没有 {sku} 的直播数据"
        )
    counties = queries.directory(app.engine, queries.Scope.everything())["products"].select("product_id", "county_id")
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
    est_row = table.filter(pl.col("product_id") == sku).row(0, named=True)
    own = frame.filter(pl.col("product_id") == sku).sort("ds")
    current = float(own["price"][-1])
    recent = own.tail(8)
    reference = float(recent["units"].mean())
    from livecommerce.pricing import ElasticityEstimate

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
        unit_cost=_yuan(product["unit_cost_fen"]),
        reference_units=reference,
        observed_range=(float(own["price"].min()), float(own["price"].max())),
        test_sessions=n_test,
    )
    doc = {
        "sku": sku,
        "inputs": {
            "unit_cost": _yuan(product["unit_cost_fen"]),
            "list_price": _yuan(product["list_price_fen"]),
            "current_price": current,
            "reference_units": reference,
            "observed_range": [float(own["price"].min()), float(own["price"].max())],
            "sessions": own.height,
            "elasticity": {k: est_row[k] for k in ("elasticity", "ci_low", "ci_high", "n", "status", "method")},
            "elasticity_verdict": est_row["verdict"],
            "sold_out_sessions": "not known to the warehouse: none left out / 仓库无售罄标记，未剔除",
        },
        "recommendation": rec.as_dict(),
    }
    if as_json:
        emit_json(doc)
        return
    out_console.print(f"[bold]{sku}[/bold]  ¥{current:.2f} → [bold]¥{rec.price:.2f}[/bold]  ({rec.status})")
    out_console.print(
        f"cost ¥{doc['inputs']['unit_cost']}, elasticity {rec.elasticity:.2f} [{rec.ci_low:.2f}, {rec.ci_high:.2f}]"
    )
    out_console.print(
        f"expected units {rec.expected_units:.1f} ({rec.units_low:.1f}–{rec.units_high:.1f}), "
        f"profit ¥{rec.expected_profit:.2f} (¥{rec.profit_low:.2f}–¥{rec.profit_high:.2f})"
    )
    for reason in rec.reasons:
        out_console.print(f"- {reason}")
    for step in rec.price_test:
        out_console.print(f"  test {step.session}: ¥{step.price:.2f}")


@recommend.command("stock")
@click.option("--sku", required=True, metavar="ID", help="Product id.")
@click.option("--session", "session_day", type=click.DateTime(["%Y-%m-%d"]), help="Local date of the planned session.")
@click.option("--days", type=click.IntRange(1, 120), help="Stock for the next N days.")
@click.option("--penalty", default=0.0, show_default=True, help="Sold-out penalty per unit short (yuan).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
@friendly_errors
def stock(app: AppContext, sku: str, session_day: Any, days: int | None, penalty: float, as_json: bool) -> None:
    """Recommend the stock to prepare for a session day or the next N days (newsvendor). / 建议备货量。

    Demand quantiles come from the forecast of the product's daily units (the day's forecast for
    --session, the N-day total from backtested cumulative errors for --days); salvage follows the
    shelf life; the price is the last price paid.
    """
    import polars as pl

    from livecommerce import queries
    from livecommerce.forecast import forecast, forecast_total
    from livecommerce.inventory import DemandDistribution, quantile_levels, recommend_stock

    if (session_day is None) == (days is None):
        raise click.UsageError("give exactly one of --session DATE or --days N / 请只给出 --session 或 --days 之一")
    product = _product(app, sku)
    history = queries.demand_history(app.engine, product_ids=[sku])
    if history.is_empty():
        raise click.ClickException(f"no sales of {sku} to forecast from / 没有 {sku} 的销售数据")
    last = history["ds"].max()
    levels = quantile_levels()
    series = history.select("unique_id", "ds", "y")
    if days is not None:
        fc = forecast_total(series, days, quantiles=levels, n_jobs=1)
        row = fc.row(0, named=True)
        what = f"next {days} days after {last}"
    else:
        target = session_day.date()
        h = (target - last).days
        if h < 1:
            raise click.ClickException(f"--session must be after the last day of data ({last}) / 日期须晚于 {last}")
        fc = forecast(series, h, quantiles=levels, n_jobs=1)
        row = fc.filter(pl.col("ds") == target).row(0, named=True)
        what = f"session day {target}"
    demand = DemandDistribution.from_forecast(row)
    price_paid = float(history.tail(14)["gmv_fen"].sum() / max(history.tail(14)["y"].sum(), 1) / 100)
    plan = recommend_stock(
        demand,
        price=price_paid,
        unit_cost=_yuan(product["unit_cost_fen"]),
        shelf_life_days=product["shelf_life_days"],
        category=product["category"],
        sold_out_penalty=penalty,
        days_to_next_sale=float(days or 7),
    )
    doc = {
        "sku": sku,
        "for": what,
        "inputs": {
            "price": price_paid,
            "unit_cost": _yuan(product["unit_cost_fen"]),
            "shelf_life_days": product["shelf_life_days"],
            "category": product["category"],
            "sold_out_penalty": penalty,
            "forecast_model": row.get("model"),
            "demand_mean": row.get("mean"),
            "demand_quantiles": {k: row[k] for k in ("q0.1", "q0.5", "q0.9") if k in row},
        },
        "plan": plan.as_dict(),
    }
    if as_json:
        emit_json(doc)
        return
    out_console.print(f"[bold]{sku}[/bold] {what}: prepare [bold]{plan.quantity}[/bold] ({plan.status})")
    q = doc["inputs"]["demand_quantiles"]
    out_console.print(f"demand mean {row.get('mean'):.1f}, quantiles {q}; price ¥{price_paid:.2f}")
    out_console.print(
        f"stock-out probability {plan.stock_out_probability:.0%}, fill rate {plan.fill_rate:.0%}, "
        f"expected leftover {plan.expected_leftover:.1f}"
    )
    for reason in plan.reasons:
        out_console.print(f"- {reason}")
