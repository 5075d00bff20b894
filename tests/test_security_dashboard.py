"""The dashboard and the JSON API with logins, over HTTP: every registered callback and every API
route refuses anonymous and forged requests (and logs them), the Data page is admin-only, login is
throttled, cookies are HttpOnly / SameSite=Lax / Secure on HTTPS and hold no role or scope, forms
need their CSRF token, callbacks take JSON only with no CORS, CSV exports neutralise formulas and
text from imports is rendered as text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dash
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from dash import Input, Output
from sqlalchemy.engine import Engine
from test_security import HOSTS, build_world

from livecommerce import auth
from livecommerce.api import PREFIX, csv_body
from livecommerce.config import load_settings
from livecommerce.dashboard import PAGE_ROUTER, create_app, ids
from livecommerce.dashboard.callbacks._wiring import is_guarded
from livecommerce.warehouse import init
from livecommerce.warehouse.engine import make_engine

SECRET = "test-secret-key-" + "x" * 40
PASSWORD = "correct horse battery"
#: username -> (role, bindings)
USERS = {
    "s1": ("streamer", {"hosts": ["H1"]}),
    "e1": ("envoy", {"counties": ["south"]}),
    "a1": ("analyst", {}),
    "ad": ("admin", {}),
}
#: what a forged request from the streamer s1 names: another host, county, product and session
FORGED = {"host": "H3", "county": "south", "product": "P3", "session": "taobao:S4"}


@pytest.fixture(scope="module", autouse=True)
def cheap_hashes() -> Iterator[None]:
    """argon2id with small parameters: the tests hash many passwords (production keeps the defaults)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    mp.undo()


@dataclass
class Site:
    engine: Engine
    app: dash.Dash
    url: str
    tokens: dict[str, str]


def _site(tmp_path_factory: pytest.TempPathFactory, **app_kwargs: Any) -> Site:
    path = tmp_path_factory.mktemp("site") / "w.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    init(engine)
    build_world(engine)
    tokens = {}
    for name, (role, bindings) in USERS.items():
        auth.add_user(engine, name, PASSWORD, role, **bindings)
        tokens[name] = auth.create_token(engine, name, "tests")
    settings = load_settings({"LIVECOMMERCE_DB_URL": url, "LIVECOMMERCE_SECRET_KEY": SECRET})
    app = create_app(settings, engine, **app_kwargs)
    return Site(engine, app, url, tokens)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, cheap_hashes: None) -> Iterator[Site]:
    s = _site(tmp_path_factory, throttle=auth.LoginThrottle(per_user=10_000, per_ip=10_000))
    yield s
    s.engine.dispose()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def login(client: Any, username: str, password: str = PASSWORD, **kwargs: Any) -> Any:
    """Log ``client`` in through the form (CSRF token from the page); return the POST's response."""
    token = _csrf(client.get("/login", **kwargs).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}, **kwargs)


def _logged_in(site: Site, username: str) -> Any:
    client = site.app.server.test_client()
    assert login(client, username).status_code == 302
    return client


# --- walking every callback ----------------------------------------------------------------------


def _spec(dep_id: Any, prop: str, value: Any = None, *, with_value: bool = True) -> Any:
    if not isinstance(dep_id, str) or dep_id.startswith("{"):
        return []  # a pattern-matching (ALL) dependency: no matching components in a forged request
    out: dict[str, Any] = {"id": dep_id, "property": prop}
    if with_value:
        out["value"] = value
    return out


def forged_value(component_id: str, prop: str) -> Any:
    """A value naming another host's data, shaped like what the component holds."""
    if prop == "data":
        return (
            {
                "host_id": FORGED["host"],
                "county_id": FORGED["county"],
                "product_id": FORGED["product"],
                "key": FORGED["session"],
                "kpis": {"gmv": 1},
            }
            if component_id != ids.SESSION_WANTED
            else FORGED["session"]
        )
    if prop == "options":
        return [{"label": "x", "value": FORGED["session"]}]
    if component_id == ids.SESSION_PICK:
        return FORGED["session"]
    if component_id == ids.COUNTY_PICK:
        return FORGED["county"]
    if component_id == ids.PRODUCT_PICK:
        return FORGED["product"]
    return FORGED["host"]


def update_body(app: dash.Dash, key: str, value_of: Any) -> dict[str, Any]:
    """The JSON a browser posts to run callback ``key`` with input values from ``value_of(id, prop)``."""
    entry = app.callback_map[key]
    outputs = entry["output"] if isinstance(entry["output"], list) else [entry["output"]]
    out_specs = [_spec(o.component_id, o.component_property, with_value=False) for o in outputs]
    inputs = [_spec(i["id"], i["property"], value_of(i["id"], i["property"])) for i in entry["inputs"]]
    state = [_spec(s["id"], s["property"], value_of(s["id"], s["property"])) for s in entry["state"]]
    return {
        "output": key,
        "outputs": out_specs if len(out_specs) > 1 or key.startswith("..") else out_specs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in entry["inputs"] if not i["id"].startswith("{")][:1],
    }


def ours(app: dash.Dash) -> list[str]:
    """Every server-side callback of the app but Dash's own page router (it calls the page layouts, whose
    URL parameters ``create_app`` checks: see the router test). Clientside callbacks run in the browser."""
    app.server.test_client().get("/")  # the first request makes Dash register its router
    return [k for k, v in list(app.callback_map.items()) if PAGE_ROUTER not in k and "callback" in v]


def unguarded(app: dash.Dash) -> list[str]:
    """The callbacks registered without :func:`_wiring.callback`."""
    return [k for k in ours(app) if not is_guarded(app.callback_map[k]["callback"])]


def refused_callbacks(app: dash.Dash, client: Any, expected: int) -> list[str]:
    """Return the callbacks that did not answer ``expected`` to a forged request (empty: all refused)."""
    missed = []
    for key in ours(app):
        resp = client.post("/_dash-update-component", json=update_body(app, key, forged_value))
        if resp.status_code != expected:
            missed.append(f"{key} -> {resp.status_code}")
    return missed


def test_every_callback_is_registered_through_the_guard(site: Site) -> None:
    assert len(ours(site.app)) >= 20
    assert unguarded(site.app) == []


def test_every_callback_refuses_anonymous_and_forged_requests_and_logs_them(site: Site) -> None:
    anonymous = site.app.server.test_client()
    before = auth.audit_count(site.engine, "denied")
    assert refused_callbacks(site.app, anonymous, 401) == []
    streamer = _logged_in(site, "s1")
    assert refused_callbacks(site.app, streamer, 403) == []
    n = len(ours(site.app))
    assert auth.audit_count(site.engine, "denied") - before == 2 * n
    denied = auth.audit_log(site.engine, event="denied", username="s1", limit=n)
    assert all(e["target"].startswith("callback ") for e in denied)
    assert {"H3"} & set(json.dumps([e["detail"] for e in denied]).replace('"', " ").split())


def test_a_callback_registered_without_the_wrapper_is_caught(site: Site, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    tampered = _site(tmp_path_factory, throttle=auth.LoginThrottle(per_user=100, per_ip=100))
    tampered.app.callback(Output("leak", "children"), Input(ids.HOST_PICK, "value"))(lambda host: host)
    assert unguarded(tampered.app) == ["leak.children"]
    client = _logged_in(tampered, "s1")
    assert refused_callbacks(tampered.app, client, 403) == ["leak.children -> 200"]
    tampered.engine.dispose()


def test_page_urls_naming_other_data_are_refused_and_logged(site: Site) -> None:
    client = _logged_in(site, "s1")
    router = next(k for k in site.app.callback_map if PAGE_ROUTER in k)

    def open_page(search: str) -> Any:
        def value(cid: str, prop: str) -> Any:
            return {"pathname": "/host", "search": search}.get(prop)

        return client.post("/_dash-update-component", json=update_body(site.app, router, value))

    assert open_page("?host=H1").status_code == 200
    before = auth.audit_count(site.engine, "denied")
    assert open_page("?host=H3").status_code == 403
    assert open_page("?session=taobao:S4").status_code == 403
    assert auth.audit_count(site.engine, "denied") - before == 2


def _load_host(site: Site, client: Any, host: str) -> Any:
    def value(cid: str, prop: str) -> Any:
        return host if cid == ids.HOST_PICK else None

    return client.post("/_dash-update-component", json=update_body(site.app, f"{ids.HOST_DATA}.data", value))


def test_a_streamer_loads_their_own_host_and_an_analyst_any(site: Site) -> None:
    own = _load_host(site, _logged_in(site, "s1"), "H1")
    assert own.status_code == 200
    data = own.get_json()["response"][ids.HOST_DATA]["data"]
    assert data["host_id"] == "H1" and {s["host_id"] for s in data["sessions"]} == {"H1"}
    assert _load_host(site, _logged_in(site, "a1"), "H3").status_code == 200
    assert _load_host(site, _logged_in(site, "e1"), "H3").status_code == 200  # a south host, the envoy's county
    assert _load_host(site, _logged_in(site, "e1"), "H1").status_code == 403


def test_data_page_is_admin_only(site: Site) -> None:
    streamer, admin = _logged_in(site, "s1"), _logged_in(site, "ad")
    for client, allowed in ((streamer, False), (admin, True)):
        layout = json.dumps(client.get("/_dash-layout").get_json())
        assert ('"/data"' in layout) is allowed  # the nav link
        body = update_body(site.app, f"{ids.DATA_REJECTS}.data", lambda cid, prop: None)
        assert client.post("/_dash-update-component", json=body).status_code == (200 if allowed else 403)


def test_password_change_and_removal_end_open_sessions(site: Site) -> None:
    auth.add_user(site.engine, "temp", PASSWORD, "streamer", hosts=["H2"])
    client = _logged_in(site, "temp")
    assert client.get("/_dash-layout").status_code == 200
    auth.set_password(site.engine, "temp", "another password")
    assert client.get("/_dash-layout").status_code == 401
    assert login(client, "temp", "another password").status_code == 302
    auth.remove_user(site.engine, "temp")
    assert client.get("/_dash-layout").status_code == 401


# --- login: throttling, cookies, CSRF, JSON-only callbacks, no CORS ------------------------------


def test_login_is_throttled_per_user_and_per_address(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    now = [1000.0]
    throttle = auth.LoginThrottle(per_user=3, per_ip=5, window_seconds=60, clock=lambda: now[0])
    s = _site(tmp_path_factory, throttle=throttle)
    client = s.app.server.test_client()
    for _ in range(3):
        assert login(client, "s1", "wrong password").status_code == 401
    blocked = login(client, "s1")  # the right password, but too many failures for this name
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) == 60
    other_address = s.app.server.test_client()
    assert login(other_address, "s1", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 429
    assert login(other_address, "a1", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302
    for name in ("x1", "x2"):  # the address reaches 5 failures with other names
        assert login(client, name, "wrong password").status_code == 401
    assert login(client, "a1").status_code == 429
    now[0] += 61
    assert login(client, "s1").status_code == 302
    events = [e["event"] for e in auth.audit_log(s.engine, limit=100)]
    assert events.count("login_failed") == 5 and events.count("login_throttled") == 3
    assert PASSWORD not in json.dumps(auth.audit_log(s.engine, limit=100), default=str)
    s.engine.dispose()


def test_session_cookie_flags_and_contents(site: Site) -> None:
    client = site.app.server.test_client()
    resp = login(client, "s1")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    session = site.app.server.session_interface.get_signing_serializer(site.app.server).loads(value)
    assert set(session) <= {"_user_id", "_fresh", "_id", "_csrf", "_permanent"}
    user = auth.user_by_name(site.engine, "s1")
    assert session["_user_id"].split(".")[0] == user.user_id  # type: ignore[union-attr]
    assert "streamer" not in json.dumps(session) and "H1" not in json.dumps(session)
    secure = site.app.server.test_client()
    https = login(secure, "s1", base_url="https://localhost")
    assert "Secure" in https.headers["Set-Cookie"]


def test_forms_need_their_csrf_token(site: Site) -> None:
    client = site.app.server.test_client()
    client.get("/login")
    no_token = client.post("/login", data={"username": "s1", "password": PASSWORD})
    assert no_token.status_code == 400
    other = site.app.server.test_client()
    foreign = _csrf(other.get("/login").get_data(as_text=True))
    wrong = client.post("/login", data={"username": "s1", "password": PASSWORD, "csrf_token": foreign})
    assert wrong.status_code == 400
    assert login(client, "s1").status_code == 302
    assert client.post("/logout", data={}).status_code == 400
    assert client.get("/_dash-layout").status_code == 200  # still logged in
    token = _csrf(client.get("/logout").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/_dash-layout").status_code == 401
    assert [e["event"] for e in auth.audit_log(site.engine, limit=1, username="s1")] == ["logout"]


def test_callbacks_take_json_only_from_their_own_origin_and_send_no_cors(site: Site) -> None:
    client = _logged_in(site, "s1")
    form = client.post("/_dash-update-component", data={"output": "host-data.data"})
    assert form.status_code == 415
    body = update_body(site.app, f"{ids.HOST_DATA}.data", lambda cid, prop: "H1" if cid == ids.HOST_PICK else None)
    evil = client.post("/_dash-update-component", json=body, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    same = client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})
    assert same.status_code == 200
    for resp in (same, client.get("/", headers={"Origin": "https://evil.example"})):
        assert not [h for h in resp.headers.keys() if h.lower().startswith("access-control-")]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_anonymous_pages_redirect_to_login_with_a_safe_next(site: Site) -> None:
    client = site.app.server.test_client()
    resp = client.get("/host?host=H3")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=/host")
    token = _csrf(client.get("/login").get_data(as_text=True))
    away = client.post(
        "/login", data={"username": "s1", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"}
    )
    assert away.status_code == 302 and away.headers["Location"] == "/"


# --- exports and imported text ---------------------------------------------------------------------


def test_csv_exports_neutralise_formulas() -> None:
    rows = [{"title": '=HYPERLINK("http://evil")', "a": "+1", "b": "-2+3", "c": "@SUM(A1)", "n": -5, "ok": "苹果"}]
    text = csv_body(rows)
    assert text.splitlines()[1] == '"\'=HYPERLINK(""http://evil"")",\'+1,\'-2+3,\'@SUM(A1),-5,苹果'


def test_api_csv_neutralises_imported_text(site: Site) -> None:
    client = site.app.server.test_client()
    headers = {"Authorization": f"Bearer {site.tokens['a1']}"}
    resp = client.get(f"{PREFIX}/recommendations/price?product=PX&format=csv", headers=headers)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    for line in resp.get_data(as_text=True).splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.startswith(("=", "+", "@")), line


def _strings(component: Any) -> Iterator[tuple[Any, str]]:
    stack = [component]
    while stack:
        c = stack.pop()
        if isinstance(c, str):
            yield None, c
        elif isinstance(c, list | tuple):
            stack.extend(c)
        elif isinstance(c, dict):
            stack.extend(c.values())
        elif c is not None and hasattr(c, "to_plotly_json"):
            yield c, ""
            for prop in ("children", "options", "data", "columns"):
                value = getattr(c, prop, None)
                if value is not None:
                    stack.append(value)


def test_imported_text_is_rendered_as_text(site: Site) -> None:
    from livecommerce.dashboard.callbacks import host
    from livecommerce.dashboard.data import Source
    from livecommerce.dashboard.pages import host as host_page
    from livecommerce.queries import Filters
    from livecommerce.scope import Scope

    source = Source(site.engine, load_settings({"LIVECOMMERCE_DB_URL": site.url}), Scope.everything)
    with site.app.server.test_request_context("/"):
        layout = host_page.layout(source, host="H1")
    view = host.view(host.load(source, "H1", Filters()), "en")
    found = [s for _, s in _strings([layout, view]) if "<script>" in s or "<b>" in s]
    assert found, "the awkward names should reach the page"
    for component, _ in _strings([layout, view]):
        if component is None:
            continue
        assert not getattr(component, "dangerously_allow_html", False)
        assert type(component).__name__ not in ("Iframe", "Markdown")
        for col in getattr(component, "columns", None) or []:
            assert col.get("presentation") not in ("markdown", "html"), col
    client = site.app.server.test_client()
    token = _csrf(client.get("/login").get_data(as_text=True))
    page = client.post(
        "/login", data={"username": "<script>alert(1)</script>", "password": "x" * 8, "csrf_token": token}
    ).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


# --- the JSON API: every route, anonymous and forged ---------------------------------------------


def api_routes(site: Site) -> list[str]:
    """Every route the server has under the API prefix."""
    return sorted(r.rule for r in site.app.server.url_map.iter_rules() if r.rule.startswith(PREFIX))


def test_every_api_route_refuses_anonymous_and_out_of_scope_requests_and_logs_them(site: Site) -> None:
    client = site.app.server.test_client()
    routes = api_routes(site)
    assert routes == [f"{PREFIX}/forecasts", f"{PREFIX}/kpis", f"{PREFIX}/recommendations/price",
                      f"{PREFIX}/recommendations/stock"]  # fmt: skip
    streamer = {"Authorization": f"Bearer {site.tokens['s1']}"}
    before = auth.audit_count(site.engine, "denied")
    for route in routes:
        assert client.get(route).status_code == 401
        assert client.get(route, headers={"Authorization": "Bearer lc_000000000000_" + "x" * 43}).status_code == 401
        for param, value in (("host", FORGED["host"]), ("county", FORGED["county"]), ("product", FORGED["product"])):
            resp = client.get(f"{route}?{param}={value}", headers=streamer)
            assert resp.status_code == 403, (route, param)
            assert set(resp.get_json()) == {"error", "message"}
    assert auth.audit_count(site.engine, "denied") - before == len(routes) * 4  # bad tokens and forged ids


def test_api_rows_are_the_callers(site: Site) -> None:
    client = site.app.server.test_client()

    def rows(user: str, query: str) -> list[dict[str, Any]]:
        resp = client.get(f"{PREFIX}/kpis?{query}", headers={"Authorization": f"Bearer {site.tokens[user]}"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["data"]

    assert [r["key"] for r in rows("s1", "level=host")] == ["H1"]
    assert sorted(r["key"] for r in rows("e1", "level=host")) == sorted(h for h, c in HOSTS.items() if c == "south")
    assert [r["key"] for r in rows("e1", "level=product")] == ["P3"]
    assert len(rows("a1", "level=host")) == len(HOSTS)
    page = client.get(
        f"{PREFIX}/kpis?level=host&per_page=2&page=1", headers={"Authorization": f"Bearer {site.tokens['a1']}"}
    ).get_json()
    assert page["total"] == len(HOSTS) and len(page["data"]) == 2 and "page=2" in page["next"]
    exports = auth.audit_log(site.engine, event="export", username="a1", limit=1)
    assert exports and exports[0]["target"] == f"api {PREFIX}/kpis"


def test_api_answers_writes_with_405_and_bad_filters_with_400(site: Site) -> None:
    client = site.app.server.test_client()
    headers = {"Authorization": f"Bearer {site.tokens['a1']}"}
    assert client.post(f"{PREFIX}/kpis", headers=headers).status_code == 405
    for query in ("from=2024-13-01", "page=0", "per_page=x", "level=nation", "platform=myspace", "format=xml"):
        resp = client.get(f"{PREFIX}/kpis?{query}", headers=headers)
        assert resp.status_code == 400 and resp.get_json()["error"] == "bad_request", query


# --- serve and demo --------------------------------------------------------------------------------


def test_serve_refuses_to_start_without_a_secret_key(site: Site) -> None:
    from livecommerce.cli import main

    result = CliRunner().invoke(main, ["--db", site.url, "serve"], env={"LIVECOMMERCE_SECRET_KEY": ""})
    assert result.exit_code == 1 and "LIVECOMMERCE_SECRET_KEY" in result.output
    with pytest.raises(Exception, match="LIVECOMMERCE_SECRET_KEY"):
        create_app(load_settings({"LIVECOMMERCE_DB_URL": site.url}), site.engine, login=True)


def test_demo_seeds_one_user_per_role_and_prints_their_logins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from livecommerce.cli import main

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(main, ["--db", url, "demo", "--no-serve", "--no-forecast"])
    assert result.exit_code == 0, result.output
    logins = re.findall(r"^\s+(demo-\w+)\s+(\S+)\s+(\w+)\s", result.output, flags=re.M)
    assert {(name, role) for name, _pw, role in logins} == {
        ("demo-streamer", "streamer"),
        ("demo-envoy", "envoy"),
        ("demo-analyst", "analyst"),
        ("demo-admin", "admin"),
    }
    engine = make_engine(url)
    for name, password, role in logins:
        user = auth.authenticate(engine, name, password)
        assert user is not None and user.role == role
    streamer = auth.user_by_name(engine, "demo-streamer")
    assert streamer is not None and len(streamer.host_ids) == 1
    engine.dispose()
