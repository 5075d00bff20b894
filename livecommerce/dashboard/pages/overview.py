"""Overview: totals and the daily trend of everything the user may see, top hosts and products,
data freshness."""

from __future__ import annotations

from dash import dcc, html

from livecommerce.dashboard import ids
from livecommerce.dashboard.components import graph, section, table, text
from livecommerce.dashboard.data import Source
from livecommerce.dashboard.i18n import request_language

PATH = "/"
NAME = "nav_overview"
ORDER = 0


def layout(source: Source, **_query: str) -> html.Div:
    """Return the overview page (its numbers are filled by ``callbacks.overview``)."""
    lang = request_language()
    return html.Div(
        [
            dcc.Store(id=ids.OVERVIEW_DATA),
            text("overview_title", lang, html.H1),
            dcc.Loading(html.Div(id=ids.OVERVIEW_KPIS, className="kpi-grid"), type="dot"),
            html.Div(
                [
                    section("trend", lang, graph(ids.OVERVIEW_TREND), wide=True),
                    section("top_hosts", lang, table(ids.OVERVIEW_HOSTS)),
                    section("top_products", lang, table(ids.OVERVIEW_PRODUCTS)),
                    section(
                        "freshness",
                        lang,
                        table(ids.OVERVIEW_FRESHNESS, sortable=False),
                        text("freshness_note", lang, html.P, className="note"),
                        wide=True,
                    ),
                ],
                className="grid",
            ),
        ],
        className="page",
    )
