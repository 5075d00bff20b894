"""County page callbacks: load the county's league, products, trend, provinces and refunds once per
county/filter change; render them in the chosen language."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output

from livecommerce import queries
from livecommerce.dashboard import figures, ids
from livecommerce.dashboard.callbacks._wiring import callback
from livecommerce.dashboard.components import columns, kpi_cards
from livecommerce.dashboard.data import Source, filters_from, frame, records, yuan_rows
from livecommerce.dashboard.i18n import t
from livecommerce.queries import Filters

KPIS = ("gmv", "net_gmv", "orders", "buyers", "aov", "refund_rate_amount", "refund_rate_orders", "sessions", "gpm")
LEAGUE = (
    ("name", "col_host", "text"),
    ("gmv", "gmv", "money"),
    ("net_gmv", "net_gmv", "money"),
    ("gmv_per_live_hour", "gmv_per_live_hour", "money"),
    ("uv_value", "uv_value", "money"),
    ("gpm", "gpm", "money"),
    ("refund_rate_amount", "refund_rate_amount", "ratio"),
    ("refund_rate_orders", "refund_rate_orders", "ratio"),
    ("sessions", "sessions", "count"),
    ("effective_sessions", "effective_sessions", "count"),
)
_MONEY = ("gmv", "net_gmv", "gmv_per_live_hour", "uv_value", "gpm")


def load(source: Source, county_id: str | None, filters: Filters) -> dict[str, Any]:
    """Return what the county page shows for ``county_id`` over ``filters``, JSON-ready and straight
    from ``queries``: ``kpis``, ``league``, ``products``, ``trend`` (by platform), ``provinces``,
    ``refund_reasons`` and ``refund_provinces``. Unknown or out of scope → ``{}``."""
    if not county_id:
        return {}
    engine, scope = source.engine, source.scope()
    kpis = records(queries.kpi_report(engine, scope, "county", county_id, filters))
    if not kpis:
        return {}
    return {
        "county_id": county_id,
        "kpis": kpis[0],
        "league": records(queries.league_table(engine, scope, county_id, filters)),
        "products": records(queries.top_products(engine, scope, filters, level="county", key=county_id)),
        "trend": records(queries.daily_trend(engine, scope, "county", county_id, filters, by_platform=True)),
        "provinces": records(queries.buyer_provinces(engine, scope, "county", county_id, filters)),
        "refund_reasons": records(queries.refunds(engine, scope, "reason", "county", county_id, filters)),
        "refund_provinces": records(queries.refunds(engine, scope, "province", "county", county_id, filters)),
    }


def view(data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
    """Return the county page's components from stored ``data`` in ``lang``: KPI cards, league rows
    and columns (numbers, sortable), products rows and columns, trend by platform, provinces,
    refunds by reason and by destination."""
    data = data or {}
    league = yuan_rows(frame(data.get("league")), money=_MONEY)
    for row in league:
        row["name"] = row.get("name") or (row.get("host_id") or t("unassigned_host", lang))
    products = yuan_rows(frame(data.get("products")), money=("gmv", "net_gmv"))
    product_cols = columns(
        [
            ("title", "col_product", "text"),
            ("gmv", "gmv", "money"),
            ("net_gmv", "net_gmv", "money"),
            ("orders", "orders", "count"),
            ("units", "units", "count"),
            ("refund_rate_amount", "refund_rate_amount", "ratio"),
        ],
        lang,
    )
    return (
        kpi_cards(data.get("kpis") or {}, KPIS, lang, "county"),
        league,
        columns(list(LEAGUE), lang),
        products,
        product_cols,
        figures.platform_trend(frame(data.get("trend"), days=("day",)), lang),
        figures.bars(frame(data.get("provinces")), "province", "gmv", lang),
        figures.bars(frame(data.get("refund_reasons")), "reason", "refund_fen", lang),
        figures.bars(frame(data.get("refund_provinces")), "province", "refund_fen", lang),
    )


def register(app: dash.Dash, source: Source) -> None:
    """Register the county page's callbacks on ``app``."""

    @callback(
        app,
        Output(ids.COUNTY_DATA, "data"),
        Input(ids.COUNTY_PICK, "value"),
        Input(ids.DATES, "start_date"),
        Input(ids.DATES, "end_date"),
        Input(ids.PLATFORM, "value"),
    )
    def load_county(county_id: str | None, start: str | None, end: str | None, platform: str | None) -> dict[str, Any]:
        return load(source, county_id, filters_from(start, end, platform))

    @callback(
        app,
        Output(ids.COUNTY_KPIS, "children"),
        Output(ids.COUNTY_LEAGUE, "data"),
        Output(ids.COUNTY_LEAGUE, "columns"),
        Output(ids.COUNTY_PRODUCTS, "data"),
        Output(ids.COUNTY_PRODUCTS, "columns"),
        Output(ids.COUNTY_TREND, "figure"),
        Output(ids.COUNTY_PROVINCES, "figure"),
        Output(ids.COUNTY_REFUND_REASONS, "figure"),
        Output(ids.COUNTY_REFUND_PROVINCES, "figure"),
        Input(ids.COUNTY_DATA, "data"),
        Input(ids.LANG, "value"),
    )
    def render_county(data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
        return view(data, lang)
