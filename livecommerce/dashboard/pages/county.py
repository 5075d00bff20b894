"""County (the envoy's page): the county's KPIs, the host league table, products, daily trend by
platform, buyer provinces, refunds by reason and by destination."""

from __future__ import annotations

from dash import dcc, html

from livecommerce.dashboard import ids
from livecommerce.dashboard.components import graph, picker, section, table, text
from livecommerce.dashboard.data import Source
from livecommerce.dashboard.i18n import request_language, t
from livecommerce.queries import directory

PATH = "/county"
NAME = "nav_county"
ORDER = 2


def county_options(source: Source, lang: str) -> list[dict[str, str]]:
    """Return the counties the request may see as dropdown options (name in ``lang``)."""
    counties = directory(source.engine, source.scope())["counties"]
    name = "name_en" if lang == "en" else "name_zh"
    return [{"label": r[name] or r["county_id"], "value": r["county_id"]} for r in counties.iter_rows(named=True)]


def layout(source: Source, county: str | None = None, **_query: str) -> html.Div:
    """Return the county page for ``county`` (default: the first county the request may see)."""
    lang = request_language()
    options = county_options(source, lang)
    known = {o["value"] for o in options}
    value = county if county in known else (options[0]["value"] if options else None)
    return html.Div(
        [
            dcc.Store(id=ids.COUNTY_DATA),
            text("county_title", lang, html.H1),
            html.Div(picker(ids.COUNTY_PICK, options, value, t("pick_county", lang)), className="pickers"),
            dcc.Loading(html.Div(id=ids.COUNTY_KPIS, className="kpi-grid"), type="dot"),
            html.Div(
                [
                    section("league", lang, table(ids.COUNTY_LEAGUE, page_size=20), wide=True),
                    section("trend_by_platform", lang, graph(ids.COUNTY_TREND), wide=True),
                    section("products", lang, table(ids.COUNTY_PRODUCTS)),
                    section("provinces", lang, graph(ids.COUNTY_PROVINCES)),
                    section("refund_reasons", lang, graph(ids.COUNTY_REFUND_REASONS)),
                    section("refund_provinces", lang, graph(ids.COUNTY_REFUND_PROVINCES)),
                ],
                className="grid",
            ),
        ],
        className="page",
    )
