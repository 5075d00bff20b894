"""Host (the streamer's own page): KPI cards with change and county position, hints, sessions and
the replay of one session, funnel, best slots, products, buyer provinces, refunds."""

from __future__ import annotations

from dash import dcc, html

from livecommerce.dashboard import ids
from livecommerce.dashboard.components import graph, picker, section, table, text
from livecommerce.dashboard.data import Source
from livecommerce.dashboard.i18n import request_language, t
from livecommerce.queries import directory

PATH = "/host"
NAME = "nav_host"
ORDER = 1


def host_options(source: Source) -> list[dict[str, str]]:
    """Return the hosts the request may see as dropdown options (``name (id)``)."""
    hosts = directory(source.engine, source.scope())["hosts"]
    return [{"label": f"{r['name']} ({r['host_id']})", "value": r["host_id"]} for r in hosts.iter_rows(named=True)]


def layout(source: Source, host: str | None = None, session: str | None = None, **_query: str) -> html.Div:
    """Return the host page for ``host`` (default: the first host the request may see); ``session``
    (``platform:session_id``) preselects the replayed session."""
    lang = request_language()
    options = host_options(source)
    known = {o["value"] for o in options}
    value = host if host in known else (options[0]["value"] if options else None)
    return html.Div(
        [
            dcc.Store(id=ids.HOST_DATA),
            dcc.Store(id=ids.SESSION_DATA),
            dcc.Store(id=ids.SESSION_WANTED, data=session),
            text("host_title", lang, html.H1),
            html.Div(picker(ids.HOST_PICK, options, value, t("pick_host", lang)), className="pickers"),
            dcc.Loading(html.Div(id=ids.HOST_KPIS, className="kpi-grid"), type="dot"),
            html.Div(
                [
                    section("hints", lang, html.Ul(id=ids.HOST_HINTS, className="hints"), wide=True),
                    section(
                        "replay",
                        lang,
                        picker(ids.SESSION_PICK, [], None, t("pick_session", lang)),
                        dcc.Loading(html.Div(id=ids.SESSION_KPIS, className="kpi-grid small"), type="dot"),
                        graph(ids.SESSION_REPLAY, height=360),
                        wide=True,
                    ),
                    section("sessions", lang, table(ids.HOST_SESSIONS), wide=True),
                    section("funnel", lang, graph(ids.HOST_FUNNEL, height=260)),
                    section("best_slots", lang, graph(ids.HOST_HEATMAP, height=280)),
                    section("products", lang, table(ids.HOST_PRODUCTS)),
                    section("provinces", lang, graph(ids.HOST_PROVINCES)),
                    section("refunds", lang, graph(ids.HOST_REFUNDS)),
                ],
                className="grid",
            ),
        ],
        className="page",
    )
