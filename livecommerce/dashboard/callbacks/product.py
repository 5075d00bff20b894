"""Product & forecast callbacks: load the demand history, the forecast fan and its backtest, the
elasticity with the recommended price and profit curve, and the stock to prepare — once per
product/horizon — render them in the chosen language, and download the forecast as CSV from the store.

The forecast is the latest saved run (``livecommerce.forecast.store``) when one covers the product;
otherwise it is computed on the fly from ``queries.demand_history`` and the page says so. The stock
to prepare uses the quantiles of the demand summed over the horizon: stored with the run
(``store.latest_total``), or from the same on-the-fly fit (``forecast_with_totals``).
"""

from __future__ import annotations

import math
from typing import Any

import dash
import polars as pl
from dash import Input, Output, State, html

from livecommerce import queries, sheets
from livecommerce.dashboard import figures, ids
from livecommerce.dashboard.callbacks._wiring import callback
from livecommerce.dashboard.components import columns
from livecommerce.dashboard.data import Source, frame, records
from livecommerce.dashboard.i18n import t
from livecommerce.sheets import neutralised

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
_STORED = {"q10": "q0.1", "q50": "q0.5", "q90": "q0.9"}
_ACCURACY = (
    ("model", "col_model", "text"),
    ("mase", "MASE", "count"),
    ("wape", "WAPE", "ratio"),
    ("coverage", "coverage 80%", "ratio"),
)


def _history(source: Source, product_id: str) -> pl.DataFrame:
    return queries.demand_history(source.engine, source.scope(), [product_id])


def _stored(source: Source, product_id: str, h: int) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any] | None]:
    try:
        from livecommerce.forecast import store
    except ImportError:  # pragma: no cover - the store arrived with the forecast CLI
        return pl.DataFrame(), pl.DataFrame(), None
    fc = store.latest_forecast(source.engine, [product_id])
    if fc.is_empty():
        return fc, pl.DataFrame(), None
    first = fc["ds"].min()
    fc = fc.filter(pl.col("ds") < first + pl.duration(days=h)).rename(_STORED)  # type: ignore[operator]
    run_id = fc["run_id"][0]
    bm = store.backtest_metrics(source.engine, run_id).filter(pl.col("unique_id") == product_id)
    acc = (
        bm.group_by("model").agg(pl.col("mase").mean(), pl.col("wape").mean(), pl.col("coverage").mean()).sort("mase")
        if bm.height
        else pl.DataFrame()
    )
    total = store.latest_total(source.engine, product_id, h, run_id=run_id)
    return fc, acc, (None if total is None else {q: total[col] for col, q in _STORED.items()} | {"mean": total["mean"]})


def _on_the_fly(history: pl.DataFrame, h: int) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any] | None]:
    from livecommerce.forecast import backtest, forecast_with_totals

    series = history.select("unique_id", "ds", "y")
    fc, totals = forecast_with_totals(series, h, quantiles=QUANTILES, spans=(h,), n_jobs=1)
    bt = backtest(series, h, n_windows=3, n_jobs=1)
    acc = (
        bt.group_by("model")
        .agg(pl.col("mase").mean(), pl.col("wape").mean(), pl.col("coverage_80").mean().alias("coverage"))
        .sort("mase", nulls_last=True)
    )
    return fc, acc, _total_of(totals)


def _total_of(totals: pl.DataFrame) -> dict[str, Any] | None:
    """The first row of a ``forecast_total``-shaped frame as ``{q0.1, q0.5, q0.9, mean}``."""
    if totals.is_empty():
        return None
    row = totals.row(0, named=True)
    return {q: row[q] for q in ("q0.1", "q0.5", "q0.9", "mean")}


def _price(history: pl.DataFrame, product: dict[str, Any], days: int = 28) -> dict[str, Any]:
    from livecommerce.pricing import estimate_elasticity, recommend_price

    recent = history.sort("ds").tail(days)
    current = float((recent["gmv_fen"].sum() / 100.0) / recent["y"].sum()) if recent["y"].sum() else None
    if not current:
        return {}
    est = estimate_elasticity(history.to_pandas(), "y", "price")
    cost = (product.get("unit_cost_fen") or 0) / 100.0 or None
    rec = recommend_price(
        est,
        current_price=round(current, 2),
        unit_cost=cost,
        reference_units=float(recent["y"].mean()),
        observed_range=(float(history["price"].min()), float(history["price"].max())),
    )
    return {"elasticity": est.as_dict(), "recommendation": rec.as_dict()}


def _stock(
    total: dict[str, Any] | None, history: pl.DataFrame, h: int, product: dict[str, Any], price: float | None
) -> dict[str, Any]:
    """The stock to prepare for ``h`` days from the summed-demand forecast ``total`` (the stored run's,
    or from the page's own fit); fitted here only for a stored run that predates stored totals."""
    from livecommerce.inventory import DemandDistribution, recommend_stock

    if total is None:
        from livecommerce.forecast import forecast_total

        total = _total_of(
            forecast_total(history.select("unique_id", "ds", "y"), h, quantiles=(0.1, 0.5, 0.9), n_jobs=1)
        )
    if total is None or any(total.get(q) is None for q in ("q0.1", "q0.5", "q0.9")):
        return {}
    demand = DemandDistribution.from_quantiles(
        {0.1: total["q0.1"], 0.5: total["q0.5"], 0.9: total["q0.9"]}, total["mean"]
    )
    cost = (product.get("unit_cost_fen") or 0) / 100.0 or None
    plan = recommend_stock(
        demand,
        price=price,
        unit_cost=cost,
        shelf_life_days=product.get("shelf_life_days"),
        category=product.get("category"),
    )
    return {"days": h, **plan.as_dict()}


def load(source: Source, product_id: str | None, h: int) -> dict[str, Any]:
    """Return what the product page shows for ``product_id`` and a horizon of ``h`` days, JSON-ready:
    ``history`` (daily units and price), ``forecast`` (``q0.1`` … ``q0.9``), ``accuracy`` (backtest per
    model), ``stored`` (True when the forecast is a saved run), ``price`` (elasticity and
    recommendation with its profit curve) and ``stock`` (units to prepare for the ``h`` days). ``{}``
    for a product out of scope; ``history`` only when too short to forecast."""
    if not product_id:
        return {}
    products = queries.directory(source.engine, source.scope())["products"].filter(pl.col("product_id") == product_id)
    if products.is_empty():
        return {}
    product = products.row(0, named=True)
    history = _history(source, product_id)
    out: dict[str, Any] = {"product_id": product_id, "h": h, "history": records(history)}
    if history.height < 2 * h + 14:
        return {**out, "short": True}
    fc, acc, total = _stored(source, product_id, h)
    out["stored"] = not fc.is_empty()
    if fc.is_empty():
        fc, acc, total = _on_the_fly(history, h)
    out["forecast"] = records(fc)
    out["accuracy"] = records(acc)
    out["price"] = _price(history, product)
    price = (out["price"].get("recommendation") or {}).get("price")
    out["stock"] = _stock(total, history, h, product, price)
    return out


def view(data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
    """Return the product page's components from stored ``data`` in ``lang``: note, fan figure,
    accuracy rows and columns, price text, profit figure, stock text."""
    data = data or {}
    history = frame(data.get("history"), days=("ds",))
    fc = frame(data.get("forecast"), days=("ds",))
    quantiles = [c for c in fc.columns if c.startswith("q0.")]
    note = ""
    if data.get("short"):
        note = t("not_enough_history", lang)
    elif data and not data.get("stored"):
        note = t("forecast_on_the_fly", lang)
    fan = figures.forecast_fan(history, fc, quantiles, lang)
    accuracy = [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
        for r in data.get("accuracy") or []
    ]
    acc_cols = columns(list(_ACCURACY), lang)
    rec = (data.get("price") or {}).get("recommendation") or {}
    est = (data.get("price") or {}).get("elasticity") or {}
    price_lines = []
    if rec:
        price_lines = [
            html.P(f"{t('price', lang)}: ¥{rec['price']:.2f} (¥{rec['current_price']:.2f} → {rec['change']:+.1%})"),
            html.P(f"e = {_num(est.get('elasticity'))} [{_num(est.get('ci_low'))}, {_num(est.get('ci_high'))}]"),
            html.Ul([html.Li(r) for r in rec.get("reasons", [])]),
        ]
    else:
        price_lines = [html.P(t("not_available", lang))]
    curve = pl.DataFrame(rec.get("curve") or [])
    profit = figures.profit_curve(curve, rec.get("price"), rec.get("current_price"), lang)
    stock = data.get("stock") or {}
    stock_lines = (
        [
            html.P(f"{t('stock', lang)} ({stock['days']}d): {stock['quantity']}"),
            html.Ul([html.Li(r) for r in stock.get("reasons", [])]),
        ]
        if stock
        else [html.P(t("not_available", lang))]
    )
    return note, fan, accuracy, acc_cols, price_lines, profit, stock_lines


def _num(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) and math.isfinite(value) else "—"


def csv_text(data: dict[str, Any] | None) -> str:
    """Return the stored forecast (and the recommendation's price and stock) as CSV text."""
    rows = (data or {}).get("forecast") or []
    if not rows:
        return ""
    names = list(rows[0])
    rec = ((data or {}).get("price") or {}).get("recommendation") or {}
    stock = (data or {}).get("stock") or {}
    extra = {"recommended_price_yuan": rec.get("price"), "stock_for_horizon": stock.get("quantity")}
    return sheets.csv_text(
        [[*names, *extra], *([neutralised(r.get(n)) for n in names] + list(extra.values()) for r in rows)]
    )


def register(app: dash.Dash, source: Source) -> None:
    """Register the product page's callbacks on ``app``."""

    @callback(
        app,
        Output(ids.PRODUCT_DATA, "data"),
        Input(ids.PRODUCT_PICK, "value"),
        Input(ids.PRODUCT_HORIZON, "value"),
    )
    def load_product(product_id: str | None, h: int | None) -> dict[str, Any]:
        return load(source, product_id, int(h or 14))

    @callback(
        app,
        Output(ids.PRODUCT_NOTE, "children"),
        Output(ids.PRODUCT_FAN, "figure"),
        Output(ids.PRODUCT_ACCURACY, "data"),
        Output(ids.PRODUCT_ACCURACY, "columns"),
        Output(ids.PRODUCT_PRICE, "children"),
        Output(ids.PRODUCT_PROFIT, "figure"),
        Output(ids.PRODUCT_STOCK, "children"),
        Input(ids.PRODUCT_DATA, "data"),
        Input(ids.LANG, "value"),
    )
    def render_product(data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
        return view(data, lang)

    @callback(
        app,
        Output(ids.PRODUCT_CSV, "data"),
        Input(ids.PRODUCT_CSV_BUTTON, "n_clicks"),
        State(ids.PRODUCT_DATA, "data"),
        prevent_initial_call=True,
    )
    def download_csv(_clicks: int | None, data: dict[str, Any] | None) -> dict[str, Any]:
        product = (data or {}).get("product_id") or "product"
        return {"content": csv_text(data), "filename": f"forecast-{product}.csv", "type": "text/csv"}
