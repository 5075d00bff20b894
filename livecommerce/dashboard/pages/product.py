"""Product & forecast (the analyst's page): demand history with the forecast fan and backtest
accuracy; elasticity, recommended price with the profit curve; recommended stock; CSV download."""

from __future__ import annotations

from dash import dcc, html

from livecommerce.dashboard import ids
from livecommerce.dashboard.components import graph, picker, section, table, text
from livecommerce.dashboard.data import Source
from livecommerce.dashboard.i18n import request_language, t
from livecommerce.queries import directory

PATH = "/product"
NAME = "nav_product"
ORDER = 3
HORIZONS = (7, 14, 28)


def product_options(source: Source) -> list[dict[str, str]]:
    """Return the products the request may see as dropdown options (title and id)."""
    products = directory(source.engine, source.scope())["products"]
    return [
        {"label": f"{r['title']} ({r['product_id']})", "value": r["product_id"]} for r in products.iter_rows(named=True)
    ]


def layout(source: Source, product: str | None = None, **_query: str) -> html.Div:
    """Return the product page for ``product`` (default: the first product the request may see)."""
    lang = request_language()
    options = product_options(source)
    known = {o["value"] for o in options}
    value = product if product in known else (options[0]["value"] if options else None)
    return html.Div(
        [
            dcc.Store(id=ids.PRODUCT_DATA),
            dcc.Download(id=ids.PRODUCT_CSV),
            text("product_title", lang, html.H1),
            html.Div(
                [
                    picker(ids.PRODUCT_PICK, options, value, t("pick_product", lang)),
                    html.Label([text("horizon", lang), " "], className="filter-label"),
                    dcc.RadioItems(
                        id=ids.PRODUCT_HORIZON,
                        options=[{"label": str(h), "value": h} for h in HORIZONS],
                        value=HORIZONS[1],
                        inline=True,
                    ),
                    html.Button(text("download_csv", lang), id=ids.PRODUCT_CSV_BUTTON, className="button"),
                ],
                className="pickers",
            ),
            html.P(id=ids.PRODUCT_NOTE, className="note"),
            html.Div(
                [
                    section("forecast_fan", lang, graph(ids.PRODUCT_FAN), wide=True),
                    section("accuracy", lang, table(ids.PRODUCT_ACCURACY, sortable=False)),
                    section("stock", lang, dcc.Loading(html.Div(id=ids.PRODUCT_STOCK), type="dot")),
                    section(
                        "price",
                        lang,
                        dcc.Loading(html.Div(id=ids.PRODUCT_PRICE), type="dot"),
                        graph(ids.PRODUCT_PROFIT),
                        wide=True,
                    ),
                ],
                className="grid",
            ),
        ],
        className="page",
    )
