"""Property (hypothesis): for random users and random filters, every row returned is inside the user's
scope — through ``queries``, through the dashboard's callbacks and through the JSON API, on SQLite
and on PostgreSQL. "Inside" is checked against the oracle of ``test_security``: each number equals
the sum of exactly the sales the scope sees, and each listed host, county or product is one it may
name; naming anything else answers 403."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_security import (
    ALL_COUNTIES,
    ALL_HOSTS,
    ALL_PRODUCTS,
    FIRST_DAY,
    PRODUCTS,
    SESSIONS,
    World,
    expected_gmv,
    in_scope_sales,
    visible,
)
from test_security import world as world  # the fixture: the awkward world on SQLite and PostgreSQL
from test_security_dashboard import PASSWORD, SECRET, login, update_body

from livecommerce import auth, queries
from livecommerce.api import PREFIX
from livecommerce.config import load_settings
from livecommerce.dashboard import create_app, ids
from livecommerce.queries import Filters
from livecommerce.scope import Scope

#: the user pool: every shape of binding (username -> role, bindings)
POOL: dict[str, tuple[str, dict[str, list[str]]]] = {
    **{f"s-{i}": ("streamer", {"hosts": [h]}) for i, h in enumerate(ALL_HOSTS)},
    "s-two": ("streamer", {"hosts": ["H1", "H3"]}),
    **{f"e-{i}": ("envoy", {"counties": [c]}) for i, c in enumerate(ALL_COUNTIES)},
    "e-two": ("envoy", {"counties": ["north", "south"]}),
    "analyst": ("analyst", {}),
    "admin": ("admin", {}),
}

days = st.one_of(st.none(), st.integers(-2, 8).map(lambda d: FIRST_DAY + dt.timedelta(days=d)))
filters = st.builds(Filters, days, days, st.sampled_from([None, "douyin", "taobao"]))
users = st.sampled_from(sorted(POOL))
NAMEABLE = [("host", h) for h in ALL_HOSTS] + [("county", c) for c in ALL_COUNTIES]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def scope_of(username: str) -> Scope:
    role, bindings = POOL[username]
    return auth.scope_for(
        auth.User("x", username, role, tuple(bindings.get("hosts", ())), tuple(bindings.get("counties", ())))
    )


def county_gmv(scope: Scope, f: Filters, county: str) -> int:
    """The oracle's GMV of a county's products that the scope sees."""
    return sum(a for _h, p, _pf, _d, a in in_scope_sales(scope, f) if PRODUCTS[p] == county)


def may_name(scope: Scope, level: str, key: str) -> bool:
    hosts, counties, products = visible(scope)
    return scope.all_data or key in {"host": hosts, "county": counties, "product": products}[level]


# --- through queries ---------------------------------------------------------------------------------


@PROPERTY
@given(user=users, f=filters, level=st.sampled_from(["host", "county", "product"]), key_index=st.integers(0, 20))
def test_queries_return_only_rows_inside_the_scope(
    world: World,
    user: str,
    f: Filters,
    level: str,
    key_index: int,
) -> None:
    scope = scope_of(user)
    hosts, _counties, products = visible(scope)
    overview = queries.kpi_report(world.engine, scope, "overview", None, f)
    assert int(overview["gmv"][0] or 0) == expected_gmv(scope, f)
    trend = queries.daily_trend(world.engine, scope, filters=f)
    assert int(trend["gmv"].sum() if trend.height else 0) == expected_gmv(scope, f)
    for r in queries.top_hosts(world.engine, scope, f, limit=100).iter_rows(named=True):
        assert r["gmv"] == expected_gmv(scope, f, host=r["host_key"]) > 0
    for r in queries.top_products(world.engine, scope, f, limit=100).iter_rows(named=True):
        assert r["gmv"] == expected_gmv(scope, f, product=r["product_key"]) > 0
    sessions = queries.session_list(world.engine, scope, None, f)
    for r in sessions.iter_rows(named=True) if sessions.height else []:
        assert scope.all_data or r["host_id"] in hosts
    keys = {"host": ALL_HOSTS, "county": ALL_COUNTIES, "product": ALL_PRODUCTS}[level]
    key = keys[key_index % len(keys)]
    report = queries.kpi_report(world.engine, scope, level, key, f)  # type: ignore[arg-type]
    if report.is_empty():
        return
    if level == "host":
        assert scope.all_data or key in hosts
        assert int(report["gmv"][0] or 0) == expected_gmv(scope, f, host=key)
    elif level == "product":
        assert scope.all_data or key in products
        assert int(report["gmv"][0] or 0) == expected_gmv(scope, f, product=key)
    else:
        assert scope.all_data or key in scope.county_ids
        assert int(report["gmv"][0] or 0) == county_gmv(scope, f, key)


# --- through the dashboard's callbacks and the API ---------------------------------------------------


@pytest.fixture(scope="module")
def served(world: World) -> Iterator[dict[str, Any]]:
    """The dashboard with logins on the awkward world, one logged-in client and one API token per user."""
    mp = pytest.MonkeyPatch()
    mp.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    tokens = {}
    for name, (role, bindings) in POOL.items():
        if auth.user_by_name(world.engine, name) is None:
            auth.add_user(world.engine, name, PASSWORD, role, **bindings)
        tokens[name] = auth.create_token(world.engine, name, "properties")
    url = world.engine.url.render_as_string(hide_password=False)
    app = create_app(
        load_settings({"LIVECOMMERCE_DB_URL": url, "LIVECOMMERCE_SECRET_KEY": SECRET}),
        world.engine,
        throttle=auth.LoginThrottle(per_user=10_000, per_ip=10_000),
    )
    clients = {}
    for name in POOL:
        clients[name] = app.server.test_client()
        assert login(clients[name], name).status_code == 302
    yield {"app": app, "clients": clients, "tokens": tokens, "api": app.server.test_client()}
    mp.undo()


def _call(served: dict[str, Any], user: str, output: str, values: dict[str, Any]) -> Any:
    body = update_body(served["app"], output, lambda cid, prop: values.get(f"{cid}.{prop}"))
    return served["clients"][user].post("/_dash-update-component", json=body)


def _dates(f: Filters) -> dict[str, Any]:
    return {
        f"{ids.DATES}.start_date": f.start.isoformat() if f.start else None,
        f"{ids.DATES}.end_date": f.end.isoformat() if f.end else None,
        f"{ids.PLATFORM}.value": f.platform,
    }


@PROPERTY
@given(user=users, f=filters, host=st.sampled_from(ALL_HOSTS), county=st.sampled_from(ALL_COUNTIES))
def test_callbacks_return_only_rows_inside_the_scope(
    served: dict[str, Any], user: str, f: Filters, host: str, county: str
) -> None:
    scope = scope_of(user)
    hosts, _counties, _products = visible(scope)
    overview = _call(served, user, f"{ids.OVERVIEW_DATA}.data", _dates(f))
    assert overview.status_code == 200
    data = overview.get_json()["response"][ids.OVERVIEW_DATA]["data"]
    assert int(data["kpis"].get("gmv") or 0) == expected_gmv(scope, f)
    for r in data["hosts"]:
        assert r["gmv"] == expected_gmv(scope, f, host=r["host_key"])
    host_resp = _call(served, user, f"{ids.HOST_DATA}.data", {f"{ids.HOST_PICK}.value": host, **_dates(f)})
    if not may_name(scope, "host", host):
        assert host_resp.status_code == 403
    else:
        assert host_resp.status_code == 200
        got = host_resp.get_json()["response"][ids.HOST_DATA]["data"]
        assert int(got["kpis"].get("gmv") or 0) == expected_gmv(scope, f, host=host)
        assert {s["host_id"] for s in got["sessions"]} <= {host}
    county_resp = _call(served, user, f"{ids.COUNTY_DATA}.data", {f"{ids.COUNTY_PICK}.value": county, **_dates(f)})
    if not may_name(scope, "county", county):
        assert county_resp.status_code == 403
    else:
        assert county_resp.status_code == 200
        got = county_resp.get_json()["response"][ids.COUNTY_DATA]["data"]
        if got:  # a streamer may name their county but sees no county page
            assert scope.all_data or county in scope.county_ids
            assert int(got["kpis"].get("gmv") or 0) == county_gmv(scope, f, county)
    session_key = next(f"{p}:{s}" for s, h, p, _d in SESSIONS if h == host)
    replay = _call(served, user, f"{ids.SESSION_DATA}.data", {f"{ids.SESSION_PICK}.value": session_key})
    assert replay.status_code == (200 if scope.all_data or host in hosts else 403)


@PROPERTY
@given(
    user=users,
    f=filters,
    level=st.sampled_from(["overview", "host", "county", "product"]),
    named=st.lists(
        st.sampled_from([("host", h) for h in ALL_HOSTS] + [("county", c) for c in ALL_COUNTIES]), max_size=2
    ),
)
def test_api_returns_only_rows_inside_the_scope(
    served: dict[str, Any], user: str, f: Filters, level: str, named: list[tuple[str, str]]
) -> None:
    scope = scope_of(user)
    query: list[tuple[str, str]] = [("level", level), ("per_page", "500"), *named]
    query += [("from", f.start.isoformat())] if f.start else []
    query += [("to", f.end.isoformat())] if f.end else []
    query += [("platform", f.platform)] if f.platform else []
    resp = served["api"].get(
        f"{PREFIX}/kpis", query_string=query, headers={"Authorization": f"Bearer {served['tokens'][user]}"}
    )
    if any(not may_name(scope, kind, key) for kind, key in named):
        assert resp.status_code == 403
        return
    assert resp.status_code == 200, resp.get_data(as_text=True)
    for row in resp.get_json()["data"]:
        key = row["key"]
        gmv = round((row.get("gmv") or 0) * 100)
        if level == "overview":
            assert gmv == expected_gmv(scope, f)
        elif level == "host":
            assert may_name(scope, "host", key) and gmv == expected_gmv(scope, f, host=key)
        elif level == "product":
            assert may_name(scope, "product", key) and gmv == expected_gmv(scope, f, product=key)
        else:
            assert (scope.all_data or key in scope.county_ids) and gmv == county_gmv(scope, f, key)
