"""Overview callbacks: load the totals, trend, top lists and freshness once per filter change;
render them in the chosen language from the store."""

from __future__ import annotations

from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output

from livecommerce import queries
from livecommerce.dashboard import figures, ids
from livecommerce.dashboard.callbacks._wiring import callback
from livecommerce.dashboard.components import columns, kpi_cards
from livecommerce.dashboard.data import Source, filters_from, frame, records, yuan_rows
from livecommerce.dashboard.i18n import local_time, t
from livecommerce.queries import Filters
from livecommerce.schemas import PLATFORMS

KPIS = (
    "gmv",
    "net_gmv",
    "refunds",
    "orders",
    "buyers",
    "aov",
    "refund_rate_amount",
    "views",
    "gpm",
    "uv_value",
    "sessions",
    "live_hours",
)
_TOP = ("gmv", "net_gmv", "orders", "units", "refund_rate_amount")


def load(source: Source, filters: Filters) -> dict[str, Any]:
    """Return what the overview shows for ``filters``, JSON-ready: ``kpis`` (one KPI row, fen),
    ``trend``, ``hosts``, ``products`` and ``freshness`` rows — each straight from ``queries``."""
    engine, scope = source.engine, source.scope()
    kpis = records(queries.kpi_report(engine, scope, "overview", None, filters))
    return {
        "kpis": kpis[0] if kpis else {},
        "trend": records(queries.daily_trend(engine, scope, filters=filters)),
        "hosts": records(queries.top_hosts(engine, scope, filters)),
        "products": records(queries.top_products(engine, scope, filters)),
        "freshness": records(queries.freshness(engine, scope, after_sale_days=source.settings.after_sale_window_days)),
    }


def view(data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
    """Return the overview's components from stored ``data`` in ``lang``: KPI cards, trend figure,
    top hosts rows and columns, top products rows and columns, freshness rows and columns."""
    data = data or {}
    cards = kpi_cards(data.get("kpis") or {}, KPIS, lang, "overview")
    trend: go.Figure = figures.daily_trend(frame(data.get("trend"), days=("day",)), lang)
    hosts = yuan_rows(frame(data.get("hosts")), money=("gmv", "net_gmv"))
    for row in hosts:
        row["name"] = row.get("name") or (t("unassigned_host", lang) if not row.get("host_key") else row["host_key"])
    host_cols = columns([("name", "col_host", "text")] + [(k, k, _kind(k)) for k in _TOP], lang)
    products = yuan_rows(frame(data.get("products")), money=("gmv", "net_gmv"))
    product_cols = columns([("title", "col_product", "text")] + [(k, k, _kind(k)) for k in _TOP], lang)
    fresh = []
    for row in data.get("freshness") or []:
        names = PLATFORMS.get(row["platform_id"], (row["platform_id"],) * 2)
        fresh.append(
            {
                "platform": names[1] if lang == "en" else names[0],
                "last_order": str(row.get("last_day") or "—"),
                "last_load": local_time(row.get("last_load_utc")),
                "provisional": row.get("provisional_lines"),
                "open": round((row.get("open_after_sale_fen") or 0) / 100.0, 2),
            }
        )
    fresh_cols = columns(
        [
            ("platform", "col_platform", "text"),
            ("last_order", "col_last_order", "text"),
            ("last_load", "col_last_load", "text"),
            ("provisional", "col_provisional", "count"),
            ("open", "col_open", "money"),
        ],
        lang,
    )
    return cards, trend, hosts, host_cols, products, product_cols, fresh, fresh_cols


def _kind(name: str) -> str:
    return {"gmv": "money", "net_gmv": "money", "refund_rate_amount": "ratio"}.get(name, "count")


def register(app: dash.Dash, source: Source) -> None:
    """Register the overview's callbacks on ``app``."""

    @callback(
        app,
        Output(ids.OVERVIEW_DATA, "data"),
        Input(ids.DATES, "start_date"),
        Input(ids.DATES, "end_date"),
        Input(ids.PLATFORM, "value"),
    )
    def load_overview(start: str | None, end: str | None, platform: str | None) -> dict[str, Any]:
        return load(source, filters_from(start, end, platform))

    @callback(
        app,
        Output(ids.OVERVIEW_KPIS, "children"),
        Output(ids.OVERVIEW_TREND, "figure"),
        Output(ids.OVERVIEW_HOSTS, "data"),
        Output(ids.OVERVIEW_HOSTS, "columns"),
        Output(ids.OVERVIEW_PRODUCTS, "data"),
        Output(ids.OVERVIEW_PRODUCTS, "columns"),
        Output(ids.OVERVIEW_FRESHNESS, "data"),
        Output(ids.OVERVIEW_FRESHNESS, "columns"),
        Input(ids.OVERVIEW_DATA, "data"),
        Input(ids.LANG, "value"),
    )
    def render_overview(data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
        return view(data, lang)
