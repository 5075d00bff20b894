"""The dashboard: a multi-page Dash app over :mod:`livecommerce.queries`.

>>> app = create_app()            # the configured warehouse (LIVECOMMERCE_DB_URL), login required
>>> app.server                    # the Flask app, for any WSGI server

Pages (``pages/``) lay out, callbacks (``callbacks/``) glue, ``queries`` and the pure builders in
``figures`` and ``hints`` compute. Pages are registered explicitly from ``pages.PAGES``; the frame
(navigation, language switch, filter bar) is built once from the page registry.

With login (issue 11; ``docs/security.md``): Flask-Login on the Dash server (``pages/login.py``),
the user's role and scope read from the warehouse on every request, one :class:`Scope` per request
handed to every ``queries`` call (and, on PostgreSQL, to the row-level security policies), every
callback checked by :class:`callbacks._wiring.Guard`, and the read-only JSON API
(:mod:`livecommerce.api`) under ``/api/v1/``.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlsplit

import dash
import flask
import orjson
from dash import dcc, html
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.engine import Engine

from livecommerce import auth
from livecommerce.config import Settings, load_settings
from livecommerce.dashboard import ids
from livecommerce.dashboard.callbacks import register_all
from livecommerce.dashboard.callbacks._wiring import GUARD, Guard
from livecommerce.dashboard.components import filter_bar, text
from livecommerce.dashboard.data import UPLOAD_MAX_BYTES, Source
from livecommerce.dashboard.i18n import request_language, t
from livecommerce.dashboard.pages import PAGES
from livecommerce.dashboard.pages import login as login_page
from livecommerce.scope import Scope

__all__ = ["ADMIN_PATHS", "DEFAULT_DAYS", "PAGE_ROUTER", "MissingSecretKey", "create_app", "default_dates", "settle"]

#: pages only admins may open (the Data page uploads exports and lists every ingest run)
ADMIN_PATHS: tuple[str, ...] = ("/data",)
#: paths anyone may request without logging in (the JSON API checks its own tokens)
_PUBLIC_PREFIXES = ("/assets/", "/api/")
_PUBLIC_PATHS = (login_page.PATH, login_page.LOGOUT_PATH, "/_favicon.ico", "/favicon.ico")


class MissingSecretKey(RuntimeError):
    """The dashboard was asked to serve logins without ``LIVECOMMERCE_SECRET_KEY``."""


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


def _with_login() -> bool:
    return flask.has_app_context() and flask.current_app.extensions.get(GUARD) is not None


def _may_open(path: str) -> bool:
    if path not in ADMIN_PATHS or not _with_login():
        return True
    user = login_page.request_user()
    return user is not None and user.is_admin


def _user_box(lang: str) -> html.Div | None:
    """Return who is logged in (name and role, as text) with the logout form; None without login."""
    user = login_page.request_user() if _with_login() else None
    if user is None:
        return None
    return html.Div(
        [
            html.Span(f"{user.display_name or user.username} · {t('role_' + user.role, lang)}", id="whoami"),
            html.Form(
                [
                    dcc.Input(type="hidden", name=login_page.CSRF_FIELD, value=login_page.csrf_token()),
                    html.Button(t("logout", lang), type="submit", id="logout-submit"),
                ],
                method="post",
                action=login_page.LOGOUT_PATH,
                className="logout",
            ),
        ],
        className="user",
    )


def _frame(source: Source) -> html.Div:
    """Return the frame around the pages, laid out per visit (language and default dates are fresh)."""
    lang = request_language()
    start, end = default_dates(source)
    nav = [
        dcc.Link(text(page["name"], lang), href=page["relative_path"], className="nav-link")
        for page in dash.page_registry.values()
        if _may_open(page["path"])
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
                            _user_box(lang),
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


#: the id of the callback Dash registers itself to route URLs to page layouts (checked in _page_layout)
PAGE_ROUTER = "_pages_content"


def _page_layout(page: ModuleType, source: Source, **query: Any) -> Any:
    """Return ``page``'s layout, or a note for a non-admin opening an admin-only page. With login, URL
    parameters naming data outside the user's scope (``?host=…``) answer 403, audited."""
    if not _may_open(page.PATH):
        return html.Div(text("admins_only", request_language(), html.P), className="page")
    guard = flask.current_app.extensions.get(GUARD) if _with_login() else None
    if isinstance(guard, Guard) and query:
        guard.check_query(page.PATH, query)
    return page.layout(source, **query)


def _wants_login(settings: Settings, engine: Engine | None, login: bool | None) -> bool:
    if login is not None:
        return login
    return bool(settings.secret_key) or engine is None


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    scope_of_request: Callable[[], Scope] | None = None,
    login: bool | None = None,
    throttle: auth.LoginThrottle | None = None,
) -> dash.Dash:
    """Return the dashboard as a Dash app reading ``engine`` (default: the warehouse of ``settings``,
    default: the environment's); ``app.server`` is the Flask app, with the JSON API under ``/api/v1/``.

    ``login=True``: users log in (``/login``); each request sees its user's scope, read from the
    warehouse; needs ``settings.secret_key`` (:class:`MissingSecretKey` otherwise). ``login=False``:
    no login; each request sees ``scope_of_request()`` (default: everything) — for tests and
    embedding. ``login=None`` (default): login when the settings carry a secret key or no engine is
    given (a deployment, ``python app.py``); without login when an engine is passed and there is no
    secret key. ``throttle`` counts failed logins (default: 5 per username, 20 per address, 5 minutes).
    """
    settings = settings or load_settings()
    with_login = _wants_login(settings, engine, login)
    if with_login and not settings.secret_key:
        raise MissingSecretKey(
            "set LIVECOMMERCE_SECRET_KEY (a long random string, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`) before serving the dashboard with logins / "
            "启动带登录的看板前请设置 LIVECOMMERCE_SECRET_KEY（一段足够长的随机字符串）"
        )
    if engine is None:
        from livecommerce.warehouse import connect

        engine = connect(settings=settings)
    if with_login:
        scope_of_request = _request_scope
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
    app.server.json = RequestJSON(app.server)
    for page in PAGES:
        dash.register_page(
            page.__name__,
            path=page.PATH,
            name=page.NAME,
            order=page.ORDER,
            title=t(page.NAME, "zh"),
            layout=functools.partial(_page_layout, page, source),
        )
    app.layout = functools.partial(_frame, source)
    register_all(app, source)
    if with_login:
        _secure(app.server, source, throttle or auth.LoginThrottle())
    from livecommerce.api import register as register_api

    register_api(app.server, source.engine)
    return app


def settle() -> int:
    """Prepare a serving process for a long life: draw one figure of each trace type (:func:`figures.warm`: plotly
    loads a trace type's validators on first use), collect the start-up garbage, then freeze what is left
    (:func:`gc.freeze`: the imported libraries, the app, its layouts) so that the collector's full passes no
    longer walk it. Call it once, after :func:`create_app`, in a process that only serves (the entry points
    ``livecommerce serve``, ``demo`` and ``app.py`` do); return how many objects are frozen.

    Why: the app's process holds ~400,000 tracked objects after start-up (plotly's and Dash's modules among
    them), and every full collection walked them all: 0.3 s pauses on whichever request triggered one
    (docs/scaling.md, "Garbage collection")."""
    from livecommerce.dashboard.figures import warm

    warm()  # loaded now, and frozen with the rest, instead of on a first viewer's request
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _request_scope() -> Scope:
    """Return the scope of the logged-in user of the current request (nothing outside a request)."""
    if not flask.has_request_context():
        return Scope()
    scope = flask.g.get("scope")
    return scope if isinstance(scope, Scope) else Scope()


class RequestJSON(DefaultJSONProvider):
    """Flask's JSON with request bodies parsed by orjson (a plan sent back to be saved is a few hundred KB;
    orjson reads it several times faster); what orjson refuses (``NaN``, integers beyond 64 bits) is read
    by Python's ``json`` as before, so every body Flask accepted is read the same."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Return the value of the JSON text ``s``."""
        if not kwargs:
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:
                pass
        return super().loads(s, **kwargs)


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        """Return True when configured so or when the current request is HTTPS."""
        configured = bool(app.config.get("SESSION_COOKIE_SECURE"))
        return configured or (flask.has_request_context() and flask.request.is_secure)


def _json_error(status: int, error: str, message: str) -> flask.Response:
    return flask.Response(json.dumps({"error": error, "message": message}), status=status, mimetype="application/json")


def _secure(server: flask.Flask, source: Source, throttle: auth.LoginThrottle) -> None:
    """Add logins, the per-request scope, the callback guard and the security headers to ``server``."""
    engine = source.engine
    server.secret_key = source.settings.secret_key
    server.config.update(
        SESSION_COOKIE_NAME="livecommerce_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
    )
    server.session_interface = _SessionCookies()
    login_page.register(server, engine, throttle)
    server.extensions[GUARD] = Guard(engine, login_page.request_user, login_page.client_ip)
    auth.install_scope_guard(engine)

    @server.before_request
    def _gate() -> Any:
        request = flask.request
        path = request.path
        if request.method == "POST" and path.startswith("/_dash-"):
            if not request.is_json:  # callbacks are JSON only: no HTML form can post to them
                return _json_error(415, "json_only", "callbacks take JSON only / 回调只接受 JSON")
            origin = request.headers.get("Origin")
            if origin and urlsplit(origin).netloc != request.host:
                auth.audit(engine, "denied", ip=login_page.client_ip(), target=f"cross-origin {origin[:100]}")
                return _json_error(403, "cross_origin", "cross-origin request refused / 拒绝跨站请求")
        if path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES):
            return None
        user = login_page.request_user()
        if user is None:
            if path.startswith("/_dash-update-component"):  # a callback call: logged, as every denial
                called = str((request.get_json(silent=True) or {}).get("output", ""))[:200]
                auth.audit(engine, "denied", ip=login_page.client_ip(), target=f"callback {called}: not logged in")
            if path.startswith("/_"):
                return _json_error(401, "unauthenticated", "log in first / 请先登录")
            return flask.redirect(f"{login_page.PATH}?next={quote(request.full_path.rstrip('?'))}")
        flask.g.user = user
        flask.g.scope = auth.scope_for(user)
        flask.g.scope_token = auth.bind_scope(flask.g.scope)
        return None

    @server.after_request
    def _headers(response: flask.Response) -> flask.Response:
        for name in [h for h in response.headers.keys() if h.lower().startswith("access-control-")]:
            del response.headers[name]  # no CORS: the dashboard and the API answer their own origin only
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @server.teardown_request
    def _release(_exc: BaseException | None) -> None:
        token = flask.g.pop("scope_token", None)
        if token is not None:
            auth.release_scope(token)
