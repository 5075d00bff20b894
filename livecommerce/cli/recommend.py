"""``livecommerce recommend price | stock``: a thin skin over :mod:`livecommerce.recommend`.

The library builds the inputs from ``livecommerce.queries`` (``session_sales`` for prices,
``demand_history`` for stock, ``directory`` for costs and shelf life) — the JSON API calls the same
functions; each command prints the inputs (cost, elasticity, quantiles) with the answer. Money is yuan.
"""

from __future__ import annotations

from typing import Any

import click

from livecommerce.cli._base import AppContext, emit_json, friendly_errors, main, out_console, pass_app


@main.group()
def recommend() -> None:
    """Price and stock recommendations per product. / 按商品建议价格与备货。"""


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


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
    from livecommerce.recommend import NoRecommendation, price_recommendations, product

    try:
        product(app.engine, sku)
        advice = price_recommendations(app.engine, [sku], test_sessions=n_test)[0]
    except NoRecommendation as exc:
        raise _fail(exc) from exc
    if advice.error is not None:
        raise click.ClickException(f"{advice.error}: load exports first (`livecommerce etl load PATH`)")
    doc, rec, current = advice.as_dict(), advice.recommendation, advice.inputs["current_price"]
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
    from livecommerce.recommend import NoRecommendation, stock_recommendation

    if (session_day is None) == (days is None):
        raise click.UsageError("give exactly one of --session DATE or --days N / 请只给出 --session 或 --days 之一")
    try:
        advice = stock_recommendation(
            app.engine, sku, session_day=session_day.date() if session_day else None, days=days, penalty=penalty
        )
    except NoRecommendation as exc:
        raise _fail(exc) from exc
    doc, plan, what, price_paid = advice.as_dict(), advice.plan, advice.covers, advice.inputs["price"]
    row = {"mean": advice.inputs["demand_mean"]}
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
