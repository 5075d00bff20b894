"""Plan (the envoy's planner, issue 10): pick a county (and optionally one host) and dates, build a plan
of sessions, adjust a session (start, products, prices) and see the expected numbers move, save it, and
compare a saved session with what actually sold. Layout only; the callbacks are in ``callbacks/plan``."""

from __future__ import annotations

import datetime as dt

from dash import dash_table, dcc, html

from livecommerce.dashboard import ids
from livecommerce.dashboard.components import picker, section, table, text
from livecommerce.dashboard.data import Source
from livecommerce.dashboard.i18n import request_language, t
from livecommerce.queries import directory

PATH = "/plan"
NAME = "nav_plan"
ORDER = 4


def _first_day(start: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(str(start)[:10])
    except ValueError:
        return dt.date.today() + dt.timedelta(days=1)


def layout(
    source: Source,
    county: str | None = None,
    host: str | None = None,
    start: str | None = None,
    days: str | None = None,
    **_query: str,
) -> html.Div:
    """Return the plan page for ``county`` (default: the first the request may see), optionally one ``host``,
    from ``start`` (ISO date, default tomorrow) over ``days`` (default 14)."""
    lang = request_language()
    n_days = int(days) if days and str(days).isdigit() and 1 <= int(days) <= 92 else 14
    found = directory(source.engine, source.scope())
    name = "name_en" if lang == "en" else "name_zh"
    counties = [
        {"label": r[name] or r["county_id"], "value": r["county_id"]} for r in found["counties"].iter_rows(named=True)
    ]
    known = {o["value"] for o in counties}
    value = county if county in known else (counties[0]["value"] if counties else None)
    hosts = [
        {"label": f"{r['name']} ({r['host_id']})", "value": r["host_id"]}
        for r in found["hosts"].iter_rows(named=True)
        if r["county_id"] == value and r["platform_id"]
    ]
    host_value = host if host in {o["value"] for o in hosts} else None
    items = dash_table.DataTable(
        id=ids.PLAN_ITEMS,
        data=[],
        columns=[],
        editable=False,
        style_table={"overflowX": "auto", "maxWidth": "100%"},
        style_cell={"textAlign": "left", "padding": "4px 8px", "fontSize": "13px", "whiteSpace": "nowrap"},
        style_header={"fontWeight": "600"},
        style_data_conditional=[{"if": {"column_id": "price_yuan"}, "backgroundColor": "#fffbe6"}],
    )
    return html.Div(
        [
            dcc.Store(id=ids.PLAN_DATA),
            dcc.Store(id=ids.PLAN_LIST),
            dcc.Store(id=ids.PLAN_PICKED),
            dcc.Download(id=ids.PLAN_DOWNLOAD),
            text("plan_title", lang, html.H1),
            html.Div(
                [
                    picker(ids.PLAN_COUNTY, counties, value, t("pick_county", lang)),
                    dcc.Dropdown(
                        id=ids.PLAN_HOST,
                        options=hosts,
                        value=host_value,
                        clearable=True,
                        placeholder=t("plan_pick_host", lang),
                        className="picker",
                    ),
                    dcc.DatePickerSingle(id=ids.PLAN_START, date=_first_day(start), display_format="YYYY-MM-DD"),
                    dcc.Input(id=ids.PLAN_DAYS, type="number", min=1, max=92, value=n_days, style={"width": "5em"}),
                    html.Button(t("plan_build", lang), id=ids.PLAN_BUILD, n_clicks=0, className="button"),
                ],
                className="pickers",
            ),
            dcc.Loading(html.Div(id=ids.PLAN_MESSAGE, className="note"), type="dot"),
            html.Div(
                [
                    section("plan_sessions", lang, table(ids.PLAN_SESSIONS, page_size=20, sortable=False), wide=True),
                    section(
                        "plan_session",
                        lang,
                        dcc.Dropdown(
                            id=ids.PLAN_SESSION_PICK,
                            options=[],
                            clearable=False,
                            placeholder=t("plan_pick_session", lang),
                            className="picker",
                        ),
                        html.Div(
                            [
                                html.Label(t("plan_start_time", lang)),
                                dcc.Input(id=ids.PLAN_EDIT_START, type="text", debounce=True, style={"width": "6em"}),
                                dcc.Dropdown(
                                    id=ids.PLAN_EDIT_PRODUCTS,
                                    options=[],
                                    value=[],
                                    multi=True,
                                    placeholder=t("plan_products", lang),
                                ),
                            ],
                            className="pickers",
                        ),
                        items,
                        html.Div(
                            [
                                html.Button(t("plan_apply", lang), id=ids.PLAN_APPLY, n_clicks=0, className="button"),
                                html.Button(t("plan_save", lang), id=ids.PLAN_SAVE, n_clicks=0, className="button"),
                                html.Button(
                                    t("plan_download_csv", lang), id=ids.PLAN_CSV_BUTTON, n_clicks=0, className="button"
                                ),
                                html.Button(
                                    t("plan_download_ics", lang), id=ids.PLAN_ICS_BUTTON, n_clicks=0, className="button"
                                ),
                            ],
                            className="pickers",
                        ),
                        html.P(id=ids.PLAN_EXPECTED, className="note"),
                        text("plan_reasons", lang, html.H3),
                        html.Ul(id=ids.PLAN_REASONS),
                        html.P(id=ids.PLAN_SAVED, className="note"),
                        wide=True,
                    ),
                    section(
                        "plan_actual",
                        lang,
                        dcc.Dropdown(
                            id=ids.PLAN_SAVED_PICK,
                            options=[],
                            clearable=True,
                            placeholder=t("plan_pick_saved", lang),
                            className="picker",
                        ),
                        table(ids.PLAN_ACTUAL, sortable=False),
                        wide=True,
                    ),
                ],
                className="grid",
            ),
        ],
        className="page",
    )
