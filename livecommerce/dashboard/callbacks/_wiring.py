"""The one way callbacks are registered: :func:`callback`. It wraps every callback in the access
check, so a callback registered any other way is a bug (a test walks ``app.callback_map`` and checks
each entry with :func:`is_guarded`; the one exception is Dash's own page router, whose only job is to
call the page layouts, and ``create_app`` checks their URL parameters with :meth:`Guard.check_query`).

In Dash anyone can call any callback with any inputs, so the check runs on the server, per call:
when the app has a :class:`Guard` (``create_app`` with login), an anonymous call gets 401; a call
touching an admin-only component (the Data page: uploads, ingest runs) from a non-admin gets 403; and
every host, county, product or session id named in the inputs — the pickers, the stored page data,
any string of any other input — is checked against the user's scope, so a forged request naming
another host's data gets 403 and nothing else. Each refusal is written to the audit log; uploads and
CSV exports are audited after they ran.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import dash
import flask
from dash import Input, Output, State
from sqlalchemy.engine import Engine

from livecommerce import auth
from livecommerce.dashboard import ids

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "ADMIN_PREFIXES",
    "GUARD",
    "ID_INPUTS",
    "ID_KEYS",
    "REGISTERED",
    "Guard",
    "callback",
    "clientside",
    "is_guarded",
]

#: names of the functions registered through :func:`callback`, per app (id(app) -> names)
REGISTERED: dict[int, list[str]] = {}
#: where ``create_app`` keeps the :class:`Guard` of a server (``server.extensions[GUARD]``)
GUARD = "livecommerce.guard"
#: component ids starting with these belong to admin-only pages (the Data page: uploads, runs, rejects)
ADMIN_PREFIXES: tuple[str, ...] = ("data-",)
#: inputs that name one kind of id: (component id, property) -> (kind, where the id is in the value:
#: None for the value itself or a list of ids, ``"value"`` for each option of a dropdown's options,
#: else the key of a stored dict)
ID_INPUTS: dict[tuple[str, str], tuple[str, str | None]] = {
    (ids.HOST_PICK, "value"): ("host", None),
    (ids.COUNTY_PICK, "value"): ("county", None),
    (ids.PRODUCT_PICK, "value"): ("product", None),
    (ids.SESSION_PICK, "value"): ("session", None),
    (ids.SESSION_PICK, "options"): ("session", "value"),
    (ids.SESSION_WANTED, "data"): ("session", None),
    (ids.HOST_DATA, "data"): ("host", "host_id"),
    (ids.COUNTY_DATA, "data"): ("county", "county_id"),
    (ids.PRODUCT_DATA, "data"): ("product", "product_id"),
    (ids.SESSION_DATA, "data"): ("session", "key"),
}
#: keys of a stored dict (``dcc.Store`` data of any other component) that name an id
ID_KEYS: dict[str, str] = {
    "host_id": "host",
    "host": "host",
    "county_id": "county",
    "county": "county",
    "product_id": "product",
    "product": "product",
    "sku": "product",
    "session": "session",
    "session_key": "session",
    "plan_id": "plan",
}
#: inputs whose callback is recorded in the audit log after it ran
_AUDITED: dict[tuple[str, str], str] = {
    (ids.DATA_UPLOAD, "contents"): "upload",
    (ids.PRODUCT_CSV_BUTTON, "n_clicks"): "export",
    (ids.PLAN_CSV_BUTTON, "n_clicks"): "export",
    (ids.PLAN_ICS_BUTTON, "n_clicks"): "export",
}
_KINDS = ("host", "county", "product", "session", "plan")
_MAX_ID_LENGTH = 128
_MAX_STRINGS = 2000


@dataclass(frozen=True)
class Dependency:
    """One argument of a callback: the component id and property it comes from."""

    component_id: Any
    prop: str

    @property
    def key(self) -> tuple[str, str] | None:
        """Return ``(component id, property)`` for a plain string id (None for a pattern-matching id)."""
        return (self.component_id, self.prop) if isinstance(self.component_id, str) else None


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        if 0 < len(value) <= _MAX_ID_LENGTH:
            yield value
    elif depth < 4 and isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v, depth + 1)
    elif depth < 4 and isinstance(value, dict):
        for v in value.values():
            yield from _strings(v, depth + 1)


def _declared(value: Any, where: str | None) -> Iterator[str]:
    if where is None:
        yield from (v for v in _strings(value) if not isinstance(value, dict))
    elif where == "value":
        for option in value if isinstance(value, list) else []:
            if isinstance(option, dict) and isinstance(option.get("value"), str):
                yield option["value"]
    elif isinstance(value, dict):
        yield from _strings(value.get(where))


def named_ids(deps: Sequence[Dependency], values: Sequence[Any]) -> dict[str, set[str]]:
    """Return the ids each kind of input names: declared inputs (:data:`ID_INPUTS`) by their kind, the
    id keys (:data:`ID_KEYS`) of other stored dicts, and every other string (component ids aside) as
    a candidate of every kind (only ids the warehouse knows count)."""
    found: dict[str, set[str]] = {k: set() for k in _KINDS}
    budget = _MAX_STRINGS
    for dep, value in zip(deps, values, strict=False):
        declared = ID_INPUTS.get(dep.key) if dep.key else None
        if declared is not None:
            kind, where = declared
            found[kind].update(_declared(value, where))
        elif dep.prop == "data":
            if isinstance(value, dict):
                for key, kind in ID_KEYS.items():
                    found[kind].update(_strings(value.get(key)))
        elif dep.prop != "id":
            for s in _strings(value):
                budget -= 1
                if budget < 0:
                    break
                for kind in ("host", "county", "product", "plan"):
                    found[kind].add(s)
                if ":" in s:
                    found["session"].add(s)
    return found


def _component_ids(deps: Iterable[Dependency]) -> list[str]:
    return [d.component_id for d in deps if isinstance(d.component_id, str)]


class Guard:
    """The server-side access check of every callback of one app: who is calling (``user_of_request``),
    from where (``ip_of_request``), what they may see (:func:`livecommerce.auth.scope_for`) and the
    audit log in ``engine``."""

    def __init__(
        self,
        engine: Engine,
        user_of_request: Callable[[], auth.User | None],
        ip_of_request: Callable[[], str] = lambda: "-",
    ) -> None:
        self.engine = engine
        self.user_of_request = user_of_request
        self.ip_of_request = ip_of_request

    def _refuse(self, status: int, user: auth.User | None, name: str, reason: str, detail: dict[str, Any]) -> None:
        auth.audit(
            self.engine,
            "denied",
            user=user,
            ip=self.ip_of_request(),
            target=f"callback {name}: {reason}",
            detail=detail,
        )
        message = {
            401: "log in first / 请先登录",
            403: "not allowed: outside what you may see / 无权访问：超出您的数据范围",
        }[status]
        body = json.dumps({"error": "unauthenticated" if status == 401 else "forbidden", "message": message})
        flask.abort(flask.Response(body, status=status, mimetype="application/json"))

    def check(
        self, name: str, deps: Sequence[Dependency], outputs: Sequence[Dependency], values: Sequence[Any]
    ) -> None:
        """Return when the current request may run callback ``name`` with ``values``; otherwise answer
        401 (anonymous) or 403 (admin-only component, or an id outside the user's scope), audited."""
        user = self.user_of_request()
        if user is None:
            self._refuse(401, None, name, "not logged in", {})
            return
        components = _component_ids([*deps, *outputs])
        admin_only = [c for c in components if c.startswith(ADMIN_PREFIXES)]
        if admin_only and not user.is_admin:
            self._refuse(403, user, name, "admins only", {"components": admin_only})
        scope = auth.scope_for(user)
        if scope.all_data:
            return
        wanted = named_ids(deps, values)
        outside = auth.out_of_scope(
            self.engine,
            scope,
            hosts=wanted["host"],
            counties=wanted["county"],
            products=wanted["product"],
            sessions=wanted["session"],
            plans=wanted["plan"],
        )
        if outside:
            self._refuse(403, user, name, "out of scope", {"ids": outside, "components": components})

    def check_query(self, path: str, query: dict[str, Any]) -> None:
        """Return when the current request may open page ``path`` with URL parameters ``query`` (read by
        Dash's page router, which is not one of our callbacks); otherwise answer 403, audited."""
        self.check(f"page {path}", [Dependency("url", "search")], [], [list(query.values())])

    def ran(self, name: str, deps: Sequence[Dependency], values: Sequence[Any]) -> None:
        """Record an upload or an export (:data:`_AUDITED`) after callback ``name`` ran."""
        events = {_AUDITED[d.key] for d, v in zip(deps, values, strict=False) if d.key in _AUDITED and v}
        if not events:
            return
        detail: dict[str, Any] = {}
        for dep, value in zip(deps, values, strict=False):
            if dep.key == (ids.DATA_UPLOAD, "filename"):
                detail["files"] = [str(v)[:200] for v in (value if isinstance(value, list) else [value])]
            elif dep.key == (ids.DATA_UPLOAD, "contents"):
                parts = value if isinstance(value, list) else [value]
                detail["bytes"] = [len(str(p).partition(",")[2]) * 3 // 4 for p in parts]
            elif dep.key == (ids.PRODUCT_DATA, "data") and isinstance(value, dict):
                detail["product_id"] = value.get("product_id")
        for event in sorted(events):
            auth.audit(
                self.engine, event, user=self.user_of_request(), ip=self.ip_of_request(), target=name, detail=detail
            )


def guard_of_request() -> Guard | None:
    """Return the :class:`Guard` of the app serving the current request (None without one, or outside
    a request: a plain function call in a test)."""
    if not flask.has_app_context():
        return None
    found = flask.current_app.extensions.get(GUARD)
    return found if isinstance(found, Guard) else None


def _dependencies(dependencies: Iterable[Any], kwargs: dict[str, Any]) -> tuple[list[Dependency], list[Dependency]]:
    flat: list[Any] = []

    def add(item: Any) -> None:
        if isinstance(item, list | tuple):
            for i in item:
                add(i)
        elif item is not None:
            flat.append(item)

    add(list(dependencies))
    for key in ("output", "inputs", "state"):
        add(kwargs.get(key))
    inputs = [Dependency(d.component_id, d.component_property) for d in flat if type(d) is Input]
    states = [Dependency(d.component_id, d.component_property) for d in flat if type(d) is State]
    outputs = [Dependency(d.component_id, d.component_property) for d in flat if isinstance(d, Output)]
    return inputs + states, outputs  # Dash passes the inputs first, then the states


def is_guarded(func: Any) -> bool:
    """Return True when ``func`` (a ``callback_map`` entry's callback) runs through :func:`callback`."""
    seen = 0
    while func is not None and seen < 20:
        if getattr(func, "_livecommerce_guarded", False):
            return True
        func = getattr(func, "__wrapped__", None)
        seen += 1
    return False


def callback(app: dash.Dash, *dependencies: Any, **kwargs: Any) -> Callable[[F], F]:
    """Return a decorator registering the function as a callback of ``app`` (same arguments as
    ``app.callback``) behind the access check, and returning the function unchanged."""

    def decorate(func: F) -> F:
        deps, outputs = _dependencies(dependencies, kwargs)

        @functools.wraps(func)
        def guarded(*args: Any, **kw: Any) -> Any:
            guard = guard_of_request()
            if guard is not None:
                guard.check(func.__name__, deps, outputs, args)
            result = func(*args, **kw)
            if guard is not None:
                guard.ran(func.__name__, deps, args)
            return result

        guarded._livecommerce_guarded = True  # type: ignore[attr-defined]
        app.callback(*dependencies, **kwargs)(guarded)
        REGISTERED.setdefault(id(app), []).append(func.__name__)
        return func

    return decorate


def clientside(app: dash.Dash, script: str, *dependencies: Any, **kwargs: Any) -> None:
    """Register JavaScript ``script`` as a clientside callback of ``app`` (same arguments as
    ``app.clientside_callback``). It runs in the browser, so it only moves what the page already holds
    from one store to another; the server callbacks reading its output are checked as every other."""
    app.clientside_callback(script, *dependencies, **kwargs)
    REGISTERED.setdefault(id(app), []).append("clientside")
