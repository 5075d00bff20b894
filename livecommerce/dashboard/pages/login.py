"""Login and logout: plain HTML forms served by Flask on the Dash server, in Chinese or English.

Not a Dash page (no callback can log anyone in): ``GET /login`` shows the form, ``POST /login``
checks the CSRF token, the throttle (per client address and per username) and the password, then
starts a fresh session holding only the user's id (Flask-Login); ``POST /logout`` (with its CSRF
token) ends it. Every outcome is written to the audit log. All text is escaped.

:func:`register` wires the routes and Flask-Login's user loader — which reads the user, role and
bindings from the warehouse on every request — onto the Flask server.
"""

from __future__ import annotations

import hmac
import math
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

import flask
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from markupsafe import Markup
from sqlalchemy.engine import Engine

from livecommerce import auth
from livecommerce.dashboard.i18n import LANGS, request_language, t

__all__ = [
    "CSRF_FIELD",
    "LOGOUT_PATH",
    "PATH",
    "SessionUser",
    "client_ip",
    "csrf_token",
    "csrf_valid",
    "logout_form",
    "register",
    "request_user",
    "safe_next",
]

PATH = "/login"
LOGOUT_PATH = "/logout"
CSRF_FIELD = "csrf_token"
_CSRF_KEY = "_csrf"


class SessionUser(UserMixin):  # type: ignore[misc]
    """Flask-Login's view of a :class:`livecommerce.auth.User`. The session stores only ``get_id()``:
    the user id and a stamp that changes with the password (so a password change ends old sessions)."""

    def __init__(self, user: auth.User) -> None:
        self.user = user

    def get_id(self) -> str:
        """Return what the session cookie stores: ``<user_id>.<stamp>``."""
        return f"{self.user.user_id}.{self.user.stamp}"

    @property
    def is_active(self) -> bool:
        """Return False for a deactivated user (Flask-Login then refuses them)."""
        return self.user.active


def request_user() -> auth.User | None:
    """Return the logged-in user of the current request (None when anonymous or outside a request)."""
    if not flask.has_request_context():
        return None
    who = current_user
    return who.user if getattr(who, "is_authenticated", False) and isinstance(who, SessionUser) else None


def client_ip() -> str:
    """Return the client's address as the server sees it (behind a proxy, configure ProxyFix)."""
    return flask.request.remote_addr or "-"


def csrf_token() -> str:
    """Return the CSRF token of the current session, creating one when missing."""
    token = flask.session.get(_CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        flask.session[_CSRF_KEY] = token
    return str(token)


def csrf_valid() -> bool:
    """Return True when the submitted form carries the session's CSRF token (constant-time compare)."""
    sent = flask.request.form.get(CSRF_FIELD, "")
    expected = flask.session.get(_CSRF_KEY, "")
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent), str(expected))


def safe_next(target: str | None) -> str:
    """Return ``target`` when it is a path on this site (``/…``), else ``/`` — never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _lang() -> str:
    wanted = flask.request.args.get("lang")
    return wanted if wanted in LANGS else request_language()


def _page(lang: str, title: str, body: Markup) -> str:
    other = "en" if lang == "zh" else "zh"
    switch = Markup('<a class="nav-link" href="?lang={}">{}</a>').format(other, "English" if other == "en" else "中文")
    return str(
        Markup(
            '<!doctype html><html lang="{}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>{} · {}</title><link rel="stylesheet" href="/assets/style.css"></head>'
            '<body><header class="frame"><div class="topline"><strong class="brand">{}</strong>{}</div></header>'
            '<main class="content"><div class="page login">{}</div></main></body></html>'
        ).format("zh-CN" if lang == "zh" else "en", title, t("app_title", lang), t("app_title", lang), switch, body)
    )


def login_page(lang: str, *, error: str | None = None, username: str = "", next_url: str = "/") -> str:
    """Return the login form as HTML in ``lang`` (``error`` shown above it; every value escaped)."""
    message = Markup('<p class="error" role="alert">{}</p>').format(error) if error else Markup("")
    form = Markup(
        '<h1>{title}</h1>{message}<form method="post" action="{action}" class="card login-form">'
        '<input type="hidden" name="{field}" value="{token}"><input type="hidden" name="next" value="{next}">'
        '<p><label>{user_label}<br><input id="login-username" name="username" value="{username}" '
        'autocomplete="username" required maxlength="64"></label></p>'
        '<p><label>{pw_label}<br><input id="login-password" name="password" type="password" '
        'autocomplete="current-password" required maxlength="1024"></label></p>'
        '<p><button id="login-submit" type="submit">{submit}</button></p></form>'
    ).format(
        title=t("login_title", lang),
        message=message,
        action=f"{PATH}?lang={lang}",
        field=CSRF_FIELD,
        token=csrf_token(),
        next=safe_next(next_url),
        user_label=t("login_username", lang),
        username=username,
        pw_label=t("login_password", lang),
        submit=t("login_submit", lang),
    )
    return _page(lang, t("login_title", lang), form)


def logout_form(lang: str) -> Markup:
    """Return the small logout form (POST with the CSRF token) as HTML."""
    return Markup(
        '<form method="post" action="{}" class="logout"><input type="hidden" name="{}" value="{}">'
        '<button id="logout-submit" type="submit">{}</button></form>'
    ).format(LOGOUT_PATH, CSRF_FIELD, csrf_token(), t("logout", lang))


def _html(body: str, status: int = 200) -> flask.Response:
    resp = flask.make_response(body, status)
    resp.headers["Content-Type"] = "text/html; charset=utf-8"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def register(server: flask.Flask, engine: Engine, throttle: auth.LoginThrottle) -> LoginManager:
    """Add ``/login`` and ``/logout`` to ``server`` and set up Flask-Login (the user, role and scope are
    read from ``engine`` on every request); return the login manager."""
    manager = LoginManager()
    manager.session_protection = "basic"
    manager.init_app(server)

    @manager.user_loader
    def load_user(session_id: str) -> SessionUser | None:
        user_id, _, stamp = session_id.partition(".")
        user = auth.user_by_id(engine, user_id)
        if user is None or not user.active or not hmac.compare_digest(user.stamp, stamp):
            return None
        return SessionUser(user)

    @manager.unauthorized_handler
    def unauthorized() -> Any:
        return flask.redirect(f"{PATH}?next={quote(flask.request.full_path.rstrip('?'))}")

    def login() -> flask.Response:
        lang = _lang()
        if flask.request.method == "GET":
            if request_user() is not None:
                return flask.redirect(safe_next(flask.request.args.get("next")))  # type: ignore[return-value]
            return _html(login_page(lang, next_url=flask.request.args.get("next") or "/"))
        form = flask.request.form
        username = (form.get("username") or "").strip()[:64]
        next_url = form.get("next") or "/"
        if not csrf_valid():
            auth.audit(engine, "denied", username=username or None, ip=client_ip(), target="login: bad CSRF token")
            return _html(login_page(lang, error=t("login_expired", lang), username=username, next_url=next_url), 400)
        ip = client_ip()
        wait = throttle.wait_seconds(ip, username)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            auth.audit(engine, "login_throttled", username=username, ip=ip, detail={"wait_seconds": seconds})
            page = login_page(lang, error=t("login_throttled", lang, seconds=seconds), username=username)
            resp = _html(page, 429)
            resp.headers["Retry-After"] = str(seconds)
            return resp
        user = auth.authenticate(engine, username, form.get("password") or "")
        if user is None:
            throttle.failed(ip, username)
            auth.audit(engine, "login_failed", username=username, ip=ip)
            page = login_page(lang, error=t("login_failed", lang), username=username, next_url=next_url)
            return _html(page, 401)
        throttle.succeeded(username)
        flask.session.clear()  # a fresh session: nothing from before the login carries over
        login_user(SessionUser(user), remember=False)
        flask.session.permanent = True
        csrf_token()
        auth.audit(engine, "login", user=user, ip=ip)
        return flask.redirect(safe_next(next_url))  # type: ignore[return-value]

    def logout() -> flask.Response:
        lang = _lang()
        if flask.request.method == "GET":
            body = Markup("<h1>{}</h1>{}").format(t("logout_title", lang), logout_form(lang))
            return _html(_page(lang, t("logout_title", lang), body))
        if not csrf_valid():
            auth.audit(engine, "denied", user=request_user(), ip=client_ip(), target="logout: bad CSRF token")
            body = Markup("<h1>{}</h1><p>{}</p>{}").format(
                t("logout_title", lang), t("login_expired", lang), logout_form(lang)
            )
            return _html(_page(lang, t("logout_title", lang), body), 400)
        user = request_user()
        logout_user()
        flask.session.clear()
        if user is not None:
            auth.audit(engine, "logout", user=user, ip=client_ip())
        return flask.redirect(f"{PATH}?lang={lang}")  # type: ignore[return-value]

    server.add_url_rule(PATH, "livecommerce_login", login, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT_PATH, "livecommerce_logout", logout, methods=["GET", "POST"])
    return manager
