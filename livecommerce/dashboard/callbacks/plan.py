"""Plan page callbacks: build a plan (``planner.plan_from_warehouse``), adjust one session from the fitted
model without refitting (``planner.adjust_session``), save it (``planner.save_plan``), download it (CSV or
a calendar, ``planner.to_csv`` / ``to_ics``) and compare a saved session with what sold
(``planner.plan_vs_actual``). The plan lives in a ``dcc.Store`` (``PLAN_DATA``) as ``Plan.as_dict()`` of an
outline (items without their demand laws, ``plan_sessions(detail=False)``), each distinct reason written once
(``shared_reasons``: the sessions carry their numbers; a county's plan about half the bytes to send to a phone
and back): the session opened is detailed by ``planner.detail_sessions``, the whole plan when saved or
downloaded. Only adjusting, saving and downloading send the whole plan back to the server: the session list
is drawn from what it shows of each session (``PLAN_LIST``, :func:`listing`), and the session view from the
one session picked (``PLAN_PICKED``, :func:`picked`, taken out of the plan in the browser). The functions
below are plain and unit-tested without a browser."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import dash
from dash import Input, Output, State, html

from livecommerce import planner, queries
from livecommerce.dashboard import ids
from livecommerce.dashboard.callbacks._wiring import callback, clientside
from livecommerce.dashboard.components import columns
from livecommerce.dashboard.data import Source, records
from livecommerce.dashboard.i18n import t
from livecommerce.money import format_yuan

ITEM_COLUMNS = (
    ("title", "col_product", "text"),
    ("role", "col_role", "text"),
    ("price_yuan", "col_price", "text"),
    ("expected_units", "col_expected_units", "count"),
    ("units_p50", "col_p50", "count"),
    ("units_p90", "col_p90", "count"),
    ("units_to_prepare", "col_prepare", "count"),
)
SESSION_COLUMNS = (
    ("when", "col_when", "text"),
    ("host", "col_host", "text"),
    ("slot", "col_slot", "text"),
    ("gmv", "col_expected_gmv", "text"),
    ("interval", "col_interval", "text"),
    ("based_on", "col_based_on", "text"),
)
ACTUAL_COLUMNS = (
    ("title", "col_product", "text"),
    ("units_p50", "col_p50", "count"),
    ("units_p90", "col_p90", "count"),
    ("units_to_prepare", "col_prepare", "count"),
    ("actual_units", "col_actual_units", "count"),
    ("actual_gmv", "col_actual_gmv", "text"),
    ("stock_left", "col_stock_left", "count"),
    ("sold_out", "col_sold_out", "text"),
)


def _money(fen: float | None, lang: str) -> str:
    return "—" if fen is None else format_yuan(round(fen), lang=lang)


def build(source: Source, county_id: str | None, host_id: str | None, start: str | None, days: Any) -> dict[str, Any]:
    """Return the store of a new plan for the county (or one of its hosts): ``county_id``, ``host_id``,
    ``products`` (the county's, ``product_id`` and ``title``: the session editor's choices), and ``plan``
    (``Plan.as_dict()`` of an outline: the session opened is detailed by :func:`session_view`, the whole plan
    when saved) or ``error`` (why there is none, both languages). The county's directory is read once, for
    its hosts and its products."""
    if not county_id:
        return {}
    first = dt.date.fromisoformat(str(start)[:10]) if start else dt.date.today() + dt.timedelta(days=1)
    found = queries.directory(source.engine, source.scope(), county_id=county_id)
    out: dict[str, Any] = {
        "county_id": county_id,
        "host_id": host_id,
        "products": records(found["products"].select("product_id", "title")),
    }
    try:
        proposal = planner.plan_from_warehouse(
            source.engine,
            source.scope(),
            host_id=host_id or None,
            county_id=None if host_id else county_id,
            start=first,
            days=int(days or 14),
            detail=False,
            hosts=found["hosts"],
        )
    except planner.PlanError as exc:
        return out | {"error": str(exc)}
    return out | {"plan": proposal.as_dict(shared_reasons=True)}


#: what the session list shows of a stored session (:func:`listing`)
LISTED = (
    "plan_id",
    "start_local",
    "end_local",
    "host_name",
    "slot",
    "expected_gmv_fen",
    "gmv_low_fen",
    "gmv_high_fen",
    "based_on",
)

#: ``PLAN_PICKED`` from the session picker and ``PLAN_DATA``, in the browser: :func:`picked` in JavaScript
PICK_JS = """
function (planId, data) {
    var plan = data && data.plan;
    var found = plan ? plan.sessions.find(function (s) { return s.plan_id === planId; }) : undefined;
    if (!found) { return null; }
    var table = plan.reasons;
    if (table) {
        var texts = function (numbers) { return numbers.map(function (k) { return table[k]; }); };
        found = Object.assign({}, found, {
            reasons: texts(found.reasons),
            items: found.items.map(function (i) { return Object.assign({}, i, {reasons: texts(i.reasons)}); })
        });
    }
    return {county_id: data.county_id || null, host_id: found.host_id, products: data.products || [], picked: found};
}
"""


def listing(data: dict[str, Any] | None) -> dict[str, Any]:
    """Return what the session list needs of the stored plan ``data``: its ``county_id``, ``host_id`` and
    ``error`` as stored, and (when there is a plan) ``sessions``: each session's :data:`LISTED` fields."""
    data = data or {}
    out = {k: data[k] for k in ("county_id", "host_id", "error") if k in data}
    if "plan" in data:
        out["sessions"] = [{k: s[k] for k in LISTED} for s in data["plan"]["sessions"]]
    return out


def picked(data: dict[str, Any] | None, plan_id: str | None) -> dict[str, Any] | None:
    """Return what the session view needs of the stored plan ``data`` for session ``plan_id`` (None when the
    plan has no such session): the plan's ``county_id``, the session's ``host_id``, the county's ``products``
    and the stored session (``picked``) with its reasons' texts (``{en, zh}``) in place of their numbers in the
    plan's table. The browser works it out (:data:`PICK_JS`); this is the same."""
    data = data or {}
    plan = data.get("plan") or {}
    found = next((s for s in plan.get("sessions") or [] if s.get("plan_id") == plan_id), None)
    if found is None:
        return None
    table = plan.get("reasons")
    if table is not None:
        found = found | {
            "reasons": [table[k] for k in found["reasons"]],
            "items": [i | {"reasons": [table[k] for k in i["reasons"]]} for i in found["items"]],
        }
    return {
        "county_id": data.get("county_id"),
        "host_id": found["host_id"],
        "products": data.get("products") or [],
        "picked": found,
    }


def _plan(data: dict[str, Any] | None) -> planner.Plan | None:
    """The stored plan read back once (None when the store holds none)."""
    plan = (data or {}).get("plan")
    return planner.Plan.from_dict(plan) if plan else None


def _sessions(data: dict[str, Any] | None) -> list[planner.PlannedSession]:
    plan = _plan(data)
    return list(plan.sessions) if plan else []


def message(listed: dict[str, Any] | None, lang: str) -> str:
    """Return the line under the pickers from the :func:`listing` of the plan: the error, or how many
    sessions were proposed."""
    listed = listed or {}
    if listed.get("error"):
        return str(listed["error"])
    if "sessions" not in listed:
        return ""
    n = len(listed["sessions"])
    return t("plan_built_n", lang, n=n) if n else t("plan_none", lang)


def session_table(listed: dict[str, Any] | None, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list]:
    """Return the proposed sessions of the :func:`listing` of the plan as table rows and columns, and the
    session picker's options."""
    rows, options = [], []
    words: dict[str, str] = {}  # the few slot and basis labels, translated once

    def word(key: str) -> str:
        if key not in words:
            words[key] = t(key, lang)
        return words[key]

    for s in (listed or {}).get("sessions") or []:
        start, end = s["start_local"], s["end_local"]  # local ISO text to the minute: YYYY-MM-DDTHH:MM
        when = f"{start[:10]} {start[11:16]}–{end[11:16]}"
        rows.append(
            {
                "plan_id": s["plan_id"],
                "when": when,
                "host": s["host_name"],
                "slot": word(f"slot_{s['slot']}"),
                "gmv": _money(s["expected_gmv_fen"], lang),
                "interval": f"{_money(s['gmv_low_fen'], lang)}–{_money(s['gmv_high_fen'], lang)}",
                "based_on": word(f"based_{s['based_on']}"),
            }
        )
        options.append({"label": f"{when} {s['host_name']}", "value": s["plan_id"]})
    return rows, columns(list(SESSION_COLUMNS), lang), options


def session_view(chosen: dict[str, Any] | None, lang: str, source: Source | None = None) -> tuple[Any, ...]:
    """Return the editor of the session :func:`picked` (``chosen``): start time text, product options and
    chosen products, item rows and columns (price editable, in yuan), the expected numbers and the
    reasons. A session of an outline is detailed here (demand quantiles, units to prepare) with
    ``source``'s demand model."""
    raw = (chosen or {}).get("picked")
    found = planner.PlannedSession.from_dict(raw) if raw else None
    if found is None:
        return "", [], [], [], columns(list(ITEM_COLUMNS), lang), "", []
    if source is not None:
        found = _detailed(source, [found])[0]
    products = directory_products(chosen)
    options = [{"label": p["title"], "value": p["product_id"]} for p in products] or [
        {"label": i.title, "value": i.product_id} for i in found.items
    ]
    rows = [
        {
            "product_id": i.product_id,
            "title": i.title + (" *" if i.price_test else ""),
            "role": t(f"role_{i.role}", lang),
            "price_yuan": f"{i.price_fen / 100:.2f}",
            "expected_units": round(i.expected_units, 1),
            "units_p50": i.units_p50,
            "units_p90": i.units_p90,
            "units_to_prepare": i.units_to_prepare,
        }
        for i in found.items
    ]
    cols = columns(list(ITEM_COLUMNS), lang)
    for c in cols:
        c["editable"] = c["id"] == "price_yuan"
    expected = t(
        "plan_expected",
        lang,
        gmv=_money(found.expected_gmv_fen, lang),
        low=_money(found.gmv_low_fen, lang),
        high=_money(found.gmv_high_fen, lang),
        profit=_money(found.expected_profit_fen, lang),
    )
    reasons = [html.Li(r.text(lang)) for r in found.reasons]
    for i in found.items:
        reasons += [html.Li(f"{i.title}: {r.text(lang)}") for r in i.reasons]
    return (
        f"{found.start_local:%H:%M}",
        options,
        [i.product_id for i in found.items],
        rows,
        cols,
        expected,
        reasons,
    )


def _detailed(source: Source, sessions: list[planner.PlannedSession]) -> list[planner.PlannedSession]:
    """``sessions`` with the outlines among them detailed by the demand model of the user's scope (the one
    the outline was built with); the model is only looked up when one needs it."""
    if all(s.detailed for s in sessions):
        return sessions
    return planner.detail_sessions(planner.demand_model(source.engine, source.scope()), sessions)


def directory_products(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Return the products of the plan's county kept in the store or the picked session (``products``)."""
    return list((data or {}).get("products") or [])


def adjust(
    source: Source,
    data: dict[str, Any] | None,
    plan_id: str | None,
    start_text: str | None,
    products: list[str] | None,
    items: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """Return the store with session ``plan_id`` moved to ``start_text`` (HH:MM, same day), carrying
    ``products`` at the prices of ``items`` (yuan), recomputed from the fitted model (no refit); an
    impossible change keeps the plan and sets ``error``."""
    data = dict(data or {})
    plan = _plan(data)
    sessions = list(plan.sessions) if plan else []
    found = next((s for s in sessions if s.plan_id == plan_id), None)
    if plan is None or found is None:
        return data
    try:
        model = planner.demand_model(source.engine, source.scope())
        start = None
        if start_text and start_text.strip() != f"{found.start_local:%H:%M}":
            hh, _, mm = start_text.strip().partition(":")
            start = dt.datetime.combine(found.start_local.date(), dt.time(int(hh), int(mm or 0)))
        prices = {}
        for row in items or []:
            try:
                prices[str(row["product_id"])] = round(float(str(row["price_yuan"]).replace("¥", "")) * 100)
            except (KeyError, TypeError, ValueError):
                continue
        changed = planner.adjust_session(
            model,
            found,
            start_local=start,
            product_ids=products
            if products is not None and set(products) != {i.product_id for i in found.items}
            else None,
            prices_fen=prices,
            others=sessions,
        )
    except (planner.PlanError, ValueError) as exc:
        data["error"] = str(exc)
        return data
    plan = dataclasses.replace(plan, sessions=tuple(changed if s.plan_id == plan_id else s for s in plan.sessions))
    data["plan"] = plan.as_dict(shared_reasons=True)
    data.pop("error", None)
    return data


def save(source: Source, data: dict[str, Any] | None, lang: str) -> str:
    """Save the stored plan (an outline detailed first, with the demand model of the user's scope); return the
    confirmation (or why nothing was saved)."""
    sessions = _sessions(data)
    if not sessions:
        return t("plan_none", lang)
    saved = planner.save_plan(source.engine, _detailed(source, sessions))
    return t("plan_saved_n", lang, n=len(saved))


def plan_file(source: Source, data: dict[str, Any] | None, kind: str, lang: str) -> dict[str, Any] | None:
    """Return the stored plan as a file for ``dcc.Download`` (None without a plan): ``kind`` ``csv``, one row per
    session and product with the units to prepare (``planner.to_csv``, with a byte-order mark so that Excel and
    WPS read the Chinese), or ``ics``, one calendar event per session with a reminder (``planner.to_ics`` in
    ``lang``). An outline is detailed first, as when it is saved."""
    stored = _plan(data)
    if stored is None or not stored.sessions:
        return None
    whole = dataclasses.replace(stored, sessions=tuple(_detailed(source, list(stored.sessions))))
    who = (data or {}).get("host_id") or (data or {}).get("county_id") or "plan"
    name = f"plan-{who}-{whole.start.isoformat()}-{whole.days}d"
    if kind == "ics":
        return {"content": planner.to_ics(whole, lang), "filename": f"{name}.ics", "type": "text/calendar"}
    return {"content": "\ufeff" + planner.to_csv(whole), "filename": f"{name}.csv", "type": "text/csv"}


def saved_options(source: Source, county_id: str | None) -> list[dict[str, str]]:
    """Return the county's saved sessions as picker options (latest first)."""
    if not county_id:
        return []
    rows = planner.plans(
        source.engine, source.scope(), county_id=county_id, columns=("plan_id", "host_id", "planned_start_utc")
    )
    out = []
    for plan_id, host_id, start_utc in reversed(rows.rows()):
        out.append({"label": f"{planner._local(start_utc):%Y-%m-%d %H:%M} {host_id}", "value": plan_id})
    return out


def actual_table(source: Source, plan_id: str | None, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return plan vs actual rows (one per product) and columns for a saved session."""
    cols = columns(list(ACTUAL_COLUMNS), lang)
    if not plan_id:
        return [], cols
    try:
        frame = planner.plan_vs_actual(source.engine, plan_id, source.scope())
    except planner.PlanError:
        return [], cols
    rows = []
    for r in frame.iter_rows(named=True):
        matched = r["session_id"] is not None
        rows.append(
            {
                "title": r["title"] or r["product_id"],
                "units_p50": r["units_p50"],
                "units_p90": r["units_p90"],
                "units_to_prepare": r["units_to_prepare"],
                "actual_units": r["actual_units"] if matched else t("plan_no_actual", lang),
                "actual_gmv": _money(r["actual_gmv_fen"], lang) if matched else "—",
                "stock_left": r["stock_left"],
                "sold_out": "✓" if r["sold_out"] else "",
                "session_id": r["session_id"] or "",
            }
        )
    return rows, cols


def register(app: dash.Dash, source: Source) -> None:
    """Register the plan page's callbacks on ``app``."""

    @callback(app, Output(ids.PLAN_HOST, "options"), Input(ids.PLAN_COUNTY, "value"))
    def plan_hosts(county_id: str | None) -> list[dict[str, str]]:
        if not county_id:
            return []
        hosts = queries.directory(source.engine, source.scope(), county_id=county_id)["hosts"]
        return [
            {"label": f"{r['name']} ({r['host_id']})", "value": r["host_id"]}
            for r in hosts.iter_rows(named=True)
            if r["county_id"] == county_id and r["platform_id"]
        ]

    @callback(
        app,
        Output(ids.PLAN_DATA, "data"),
        Output(ids.PLAN_LIST, "data"),
        Input(ids.PLAN_BUILD, "n_clicks"),
        Input(ids.PLAN_APPLY, "n_clicks"),
        State(ids.PLAN_COUNTY, "value"),
        State(ids.PLAN_HOST, "value"),
        State(ids.PLAN_START, "date"),
        State(ids.PLAN_DAYS, "value"),
        State(ids.PLAN_SESSION_PICK, "value"),
        State(ids.PLAN_EDIT_START, "value"),
        State(ids.PLAN_EDIT_PRODUCTS, "value"),
        State(ids.PLAN_ITEMS, "data"),
        State(ids.PLAN_DATA, "data"),
        prevent_initial_call=True,
    )
    def update_plan(
        _build: int,
        _apply: int,
        county_id: str | None,
        host_id: str | None,
        start: str | None,
        days: Any,
        plan_id: str | None,
        start_text: str | None,
        products: list[str] | None,
        items: list[dict[str, Any]] | None,
        data: dict[str, Any] | None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if dash.ctx.triggered_id == ids.PLAN_APPLY:
            out = adjust(source, data, plan_id, start_text, products, items)
        else:
            out = build(source, county_id, host_id, start, days)
        return out, listing(out)

    @callback(
        app,
        Output(ids.PLAN_MESSAGE, "children"),
        Output(ids.PLAN_SESSIONS, "data"),
        Output(ids.PLAN_SESSIONS, "columns"),
        Output(ids.PLAN_SESSION_PICK, "options"),
        Output(ids.PLAN_SESSION_PICK, "value"),
        Input(ids.PLAN_LIST, "data"),
        Input(ids.LANG, "value"),
        State(ids.PLAN_SESSION_PICK, "value"),
    )
    def render_plan(listed: dict[str, Any] | None, lang: str, chosen: str | None) -> tuple[Any, ...]:
        rows, cols, options = session_table(listed, lang)
        values = [o["value"] for o in options]
        return (
            message(listed, lang),
            rows,
            cols,
            options,
            chosen if chosen in values else (values[0] if values else None),
        )

    clientside(
        app,
        PICK_JS,
        Output(ids.PLAN_PICKED, "data"),
        Input(ids.PLAN_SESSION_PICK, "value"),
        Input(ids.PLAN_DATA, "data"),
    )

    @callback(
        app,
        Output(ids.PLAN_EDIT_START, "value"),
        Output(ids.PLAN_EDIT_PRODUCTS, "options"),
        Output(ids.PLAN_EDIT_PRODUCTS, "value"),
        Output(ids.PLAN_ITEMS, "data"),
        Output(ids.PLAN_ITEMS, "columns"),
        Output(ids.PLAN_EXPECTED, "children"),
        Output(ids.PLAN_REASONS, "children"),
        Input(ids.PLAN_PICKED, "data"),
        Input(ids.LANG, "value"),
    )
    def render_session(chosen: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
        return session_view(chosen, lang, source)

    @callback(
        app,
        Output(ids.PLAN_SAVED, "children"),
        Input(ids.PLAN_SAVE, "n_clicks"),
        State(ids.PLAN_DATA, "data"),
        State(ids.LANG, "value"),
        prevent_initial_call=True,
    )
    def save_plan(_n: int, data: dict[str, Any] | None, lang: str) -> str:
        return save(source, data, lang)

    @callback(
        app,
        Output(ids.PLAN_DOWNLOAD, "data"),
        Input(ids.PLAN_CSV_BUTTON, "n_clicks"),
        Input(ids.PLAN_ICS_BUTTON, "n_clicks"),
        State(ids.PLAN_DATA, "data"),
        State(ids.LANG, "value"),
        prevent_initial_call=True,
    )
    def download_plan(_csv: int | None, _ics: int | None, data: dict[str, Any] | None, lang: str) -> Any:
        found = plan_file(source, data, "ics" if dash.ctx.triggered_id == ids.PLAN_ICS_BUTTON else "csv", lang)
        return dash.no_update if found is None else found

    @callback(
        app,
        Output(ids.PLAN_SAVED_PICK, "options"),
        Input(ids.PLAN_COUNTY, "value"),
        Input(ids.PLAN_SAVED, "children"),
    )
    def saved_plans(county_id: str | None, _note: Any) -> list[dict[str, str]]:
        return saved_options(source, county_id)

    @callback(
        app,
        Output(ids.PLAN_ACTUAL, "data"),
        Output(ids.PLAN_ACTUAL, "columns"),
        Input(ids.PLAN_SAVED_PICK, "value"),
        Input(ids.LANG, "value"),
    )
    def show_actual(plan_id: str | None, lang: str) -> tuple[Any, ...]:
        return actual_table(source, plan_id, lang)
