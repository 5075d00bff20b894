"""Host page callbacks: load the host's figures once per host/filter change, render them in the
chosen language, pick a session and replay it (loaded once per session)."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, html

from livecommerce import queries
from livecommerce.dashboard import figures, ids
from livecommerce.dashboard.callbacks._wiring import callback
from livecommerce.dashboard.components import columns, kpi_cards
from livecommerce.dashboard.data import Source, filters_from, frame, records, yuan_rows
from livecommerce.dashboard.hints import host_hints
from livecommerce.dashboard.i18n import kpi_text, local_time
from livecommerce.queries import Filters

KPIS = (
    "gmv",
    "net_gmv",
    "orders",
    "buyers",
    "aov",
    "refund_rate_amount",
    "views",
    "viewers",
    "gpm",
    "uv_value",
    "watch_to_order",
    "sessions",
    "live_hours",
    "gmv_per_live_hour",
)
SESSION_KPIS = ("gmv", "orders", "views", "viewers", "peak_online", "gpm", "uv_value", "watch_to_order")
_SESSION_COLUMNS = (
    ("started", "col_started", "text"),
    ("live_minutes", "col_minutes", "count"),
    ("views", "views", "count"),
    ("viewers", "viewers", "count"),
    ("gmv_fen", "gmv", "money"),
    ("orders", "orders", "count"),
    ("gpm", "gpm", "money"),
    ("uv_value", "uv_value", "money"),
)


def session_key(platform_id: str, session_id: str) -> str:
    """Return the key of a session as ``queries.kpi_report`` takes it: ``platform:session_id``."""
    return f"{platform_id}:{session_id}"


def load(source: Source, host_id: str | None, filters: Filters) -> dict[str, Any]:
    """Return what the host page shows for ``host_id`` over ``filters``, JSON-ready and straight from
    ``queries``: ``kpis`` (with previous period and county position), ``county_kpis``, ``slots`` and
    ``county_slots`` (heatmaps), ``funnel``, ``products``, ``provinces``, ``refunds`` (by reason) and
    ``sessions``. An unknown or out-of-scope host gives ``{}``."""
    if not host_id:
        return {}
    engine, scope = source.engine, source.scope()
    kpis = records(queries.kpi_report(engine, scope, "host", host_id, filters))
    if not kpis:
        return {}
    county = kpis[0].get("county_id")
    county_kpis = records(queries.kpi_report(engine, scope, "county", county, filters)) if county else []
    return {
        "host_id": host_id,
        "kpis": kpis[0],
        "county_kpis": county_kpis[0] if county_kpis else {},
        "slots": records(queries.slot_heatmap(engine, scope, "host", host_id, filters)),
        "county_slots": records(queries.slot_heatmap(engine, scope, "county", county, filters)) if county else [],
        "funnel": records(queries.funnel(engine, scope, "host", host_id, filters)),
        "products": records(queries.top_products(engine, scope, filters, level="host", key=host_id)),
        "provinces": records(queries.buyer_provinces(engine, scope, "host", host_id, filters)),
        "refunds": records(queries.refunds(engine, scope, "reason", "host", host_id, filters)),
        "sessions": records(queries.session_list(engine, scope, host_id, filters)),
    }


def view(data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
    """Return the host page's components from stored ``data`` in ``lang``: KPI cards, hints (list
    items), sessions rows and columns, session picker options, funnel, heatmap, products rows and
    columns, provinces figure, refunds figure."""
    data = data or {}
    row = data.get("kpis") or {}
    cards = kpi_cards(row, KPIS, lang, "host")
    slots = frame(data.get("slots"))
    hints = host_hints(row, slots, frame(data.get("county_slots")), data.get("county_kpis"), lang) if row else []
    sessions = frame(data.get("sessions"), times=("started_at_utc",))
    session_rows = yuan_rows(sessions, money=("gmv_fen", "gpm", "uv_value"))
    for r in session_rows:
        r["started"] = local_time(r.get("started_at_utc"))
    options = [
        {
            "label": f"{local_time(r['started_at_utc'])} · {r['platform_id']} · {kpi_text('gmv', r['gmv_fen'], lang)}",
            "value": session_key(r["platform_id"], r["session_id"]),
        }
        for r in (data.get("sessions") or [])
    ]
    products = yuan_rows(frame(data.get("products")), money=("gmv", "net_gmv"))
    product_cols = columns(
        [
            ("title", "col_product", "text"),
            ("gmv", "gmv", "money"),
            ("orders", "orders", "count"),
            ("units", "units", "count"),
            ("refund_rate_amount", "refund_rate_amount", "ratio"),
        ],
        lang,
    )
    return (
        cards,
        [html.Li(h) for h in hints],
        session_rows,
        columns(list(_SESSION_COLUMNS), lang),
        options,
        figures.funnel(frame(data.get("funnel")), lang),
        figures.slot_heatmap(slots, lang),
        products,
        product_cols,
        figures.bars(frame(data.get("provinces")), "province", "gmv", lang),
        figures.bars(frame(data.get("refunds")), "reason", "refund_fen", lang),
    )


def chosen_session(options: list[dict[str, Any]] | None, wanted: str | None, current: str | None) -> str | None:
    """Return the session to replay among the picker's ``options``: ``current`` if still offered, else
    ``wanted`` (from the URL) if offered, else the first (newest) session; None without sessions."""
    keys = [o["value"] for o in options or []]
    for candidate in (current, wanted):
        if candidate in keys:
            return candidate
    return keys[0] if keys else None


def load_session(source: Source, key: str | None) -> dict[str, Any]:
    """Return one session's replay, JSON-ready: ``kpis`` (``queries.kpi_report`` at level session),
    ``minutes``, ``explains`` and ``prices`` (``queries.session_curve``); ``{}`` without a session."""
    if not key or ":" not in key:
        return {}
    platform_id, _, session_id = key.partition(":")
    engine, scope = source.engine, source.scope()
    curve = queries.session_curve(engine, scope, platform_id, session_id)
    kpis = records(queries.kpi_report(engine, scope, "session", key))
    return {
        "key": key,
        "kpis": kpis[0] if kpis else {},
        "minutes": records(curve["minutes"]),
        "explains": records(curve["explains"]),
        "prices": records(curve["prices"]),
    }


def view_session(data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
    """Return the replay's KPI cards and minute-curve figure from stored ``data`` in ``lang``."""
    data = data or {}
    cards = kpi_cards(data.get("kpis") or {}, SESSION_KPIS, lang, "session")
    fig = figures.session_replay(
        frame(data.get("minutes"), times=("minute_utc",)),
        frame(data.get("explains"), times=("explain_start_utc", "explain_end_utc")),
        frame(data.get("prices"), times=("explain_start_utc",)),
        lang,
    )
    return cards, fig


def register(app: dash.Dash, source: Source) -> None:
    """Register the host page's callbacks on ``app``."""

    @callback(
        app,
        Output(ids.HOST_DATA, "data"),
        Input(ids.HOST_PICK, "value"),
        Input(ids.DATES, "start_date"),
        Input(ids.DATES, "end_date"),
        Input(ids.PLATFORM, "value"),
    )
    def load_host(host_id: str | None, start: str | None, end: str | None, platform: str | None) -> dict[str, Any]:
        return load(source, host_id, filters_from(start, end, platform))

    @callback(
        app,
        Output(ids.HOST_KPIS, "children"),
        Output(ids.HOST_HINTS, "children"),
        Output(ids.HOST_SESSIONS, "data"),
        Output(ids.HOST_SESSIONS, "columns"),
        Output(ids.SESSION_PICK, "options"),
        Output(ids.HOST_FUNNEL, "figure"),
        Output(ids.HOST_HEATMAP, "figure"),
        Output(ids.HOST_PRODUCTS, "data"),
        Output(ids.HOST_PRODUCTS, "columns"),
        Output(ids.HOST_PROVINCES, "figure"),
        Output(ids.HOST_REFUNDS, "figure"),
        Input(ids.HOST_DATA, "data"),
        Input(ids.LANG, "value"),
    )
    def render_host(data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
        return view(data, lang)

    @callback(
        app,
        Output(ids.SESSION_PICK, "value"),
        Input(ids.SESSION_PICK, "options"),
        State(ids.SESSION_WANTED, "data"),
        State(ids.SESSION_PICK, "value"),
    )
    def pick_session(options: list[dict[str, Any]] | None, wanted: str | None, current: str | None) -> Any:
        choice = chosen_session(options, wanted, current)
        return dash.no_update if choice == current else choice  # a language switch reloads nothing

    @callback(app, Output(ids.SESSION_DATA, "data"), Input(ids.SESSION_PICK, "value"))
    def load_replay(key: str | None) -> dict[str, Any]:
        return load_session(source, key)

    @callback(
        app,
        Output(ids.SESSION_KPIS, "children"),
        Output(ids.SESSION_REPLAY, "figure"),
        Input(ids.SESSION_DATA, "data"),
        Input(ids.LANG, "value"),
    )
    def render_replay(data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
        return view_session(data, lang)
