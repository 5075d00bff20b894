"""The dashboard: a multi-page Dash app over :mod:`livecommerce.queries`.

>>> app = create_app()            # the configured warehouse (LIVECOMMERCE_DB_URL)
>>> app.server                    # the Flask app, for any WSGI server

Pages (``pages/``) lay out, callbacks (``callbacks/``) glue, ``queries`` and the pure builders in
``figures`` and ``hints`` compute. Pages are registered explicitly from ``pages.PAGES``; the frame
(navigation, language switch, filter bar) is built once from the page registry.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

import dash
from dash import dcc, html
from sqlalchemy.engine import Engine

from livecommerce.config import Settings, load_settings
from livecommerce.dashboard import ids
from livecommerce.dashboard.callbacks import register_all
from livecommerce.dashboard.components import filter_bar, text
from livecommerce.dashboard.data import UPLOAD_MAX_BYTES, Source
from livecommerce.dashboard.i18n import request_language, t
from livecommerce.dashboard.pages import PAGES
from livecommerce.scope import Scope

__all__ = ["DEFAULT_DAYS", "create_app", "default_dates"]

#: the frame's default date range: this many days ending on the last day with orders
DEFAULT_DAYS = 30


def default_dates(source: Source) -> tuple[dt.date | None, dt.date | None]:
    """Return the frame's default date range: the last :data:`DEFAULT_DAYS` local days ending on the
    last day with sales the request may see; (None, None) without sales (all data)."""
    from livecommerce.queries import daily_trend

    days = daily_trend(source.engine, source.scope())  # reads the daily rollup: cheap at any size
    if days.is_empty():
        return None, None
    end = days["day"].max()
    return end - dt.timedelta(days=DEFAULT_DAYS - 1), end  # type: ignore[operator]


def _frame(source: Source) -> html.Div:
    """Return the frame around the pages, laid out per visit (language and default dates are fresh)."""
    lang = request_language()
    start, end = default_dates(source)
    nav = [
        dcc.Link(text(page["name"], lang), href=page["relative_path"], className="nav-link")
        for page in dash.page_registry.values()
    ]
    return html.Div(
        [
            dcc.Location(id=ids.URL),
            html.Header(
                [
                    html.Div(
                        [
                            text("app_title", lang, html.Strong, className="brand"),
                            dcc.RadioItems(
                                id=ids.LANG,
                                options=[{"label": "中文", "value": "zh"}, {"label": "EN", "value": "en"}],
                                value=lang,
                                inline=True,
                                className="lang",
                            ),
                        ],
                        className="topline",
                    ),
                    html.Nav(nav, id=ids.NAV),
                    filter_bar(lang, start, end),
                ],
                className="frame",
            ),
            html.Main(dash.page_container, className="content"),
        ]
    )


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    scope_of_request: Callable[[], Scope] | None = None,
) -> dash.Dash:
    """Return the dashboard as a Dash app reading ``engine`` (default: the warehouse of ``settings``,
    default: the environment's). ``scope_of_request`` returns what the current request may see
    (default: everything; the access layer passes the logged-in user's). ``app.server`` is the Flask app."""
    settings = settings or load_settings()
    if engine is None:
        from livecommerce.warehouse import connect

        engine = connect(settings=settings)
    source = Source(engine, settings, scope_of_request) if scope_of_request else Source(engine, settings)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        suppress_callback_exceptions=True,
        title=t("app_title", "zh"),
        update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.server.config["MAX_CONTENT_LENGTH"] = UPLOAD_MAX_BYTES * 3 // 2 + 1024 * 1024  # base64 + JSON envelope
    for page in PAGES:
        dash.register_page(
            page.__name__,
            path=page.PATH,
            name=page.NAME,
            order=page.ORDER,
            title=t(page.NAME, "zh"),
            layout=functools.partial(page.layout, source),
        )
    app.layout = functools.partial(_frame, source)
    register_all(app, source)
    return app
