"""Row-level access through ``queries`` and PostgreSQL row-level security, on a small world built to
be awkward: hosts selling other counties' products, sales no host is credited with, a host and a
product without a county, a session without a host, and ids with commas, quotes and backslashes.

The oracle (:func:`expected_gmv`) recomputes what a scope may see straight from the facts, with the
rules of ``docs/security.md`` written out independently of ``queries``.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine

from livecommerce import auth, queries
from livecommerce.queries import Filters
from livecommerce.scope import Scope
from livecommerce.warehouse import init, upsert
from livecommerce.warehouse.rollups import refresh_all
from livecommerce.warehouse.tables import County, Host, LiveSession, OrderLine, Product, RollupDaily, RollupSession

PG_URL = os.environ.get("LIVECOMMERCE_TEST_PG_URL")
UTC = dt.UTC

COUNTIES = {"north": "北县", "south": "南县", 'q"uote,c\\': "怪县"}
#: host -> county (None: unassigned)
HOSTS = {"H1": "north", "H2": "north", "H3": "south", 'H,4"': 'q"uote,c\\', "HX": None}
#: product -> county (None: unassigned)
PRODUCTS = {"P1": "north", "P2": "north", "P3": "south", 'P"4,': 'q"uote,c\\', "PX": None}
#: (host or None, product, platform, local day offset, amount fen): who sold what, when
SALES = [
    ("H1", "P1", "douyin", 0, 10_000),
    ("H1", "P3", "douyin", 1, 2_500),  # a north host selling a south product
    ("H2", "P2", "taobao", 0, 7_000),
    ("H2", "P1", "douyin", 3, 1_200),
    ("H3", "P3", "taobao", 2, 30_000),
    ("H3", "P1", "taobao", 4, 900),  # a south host selling a north product
    ('H,4"', 'P"4,', "douyin", 1, 4_400),
    ('H,4"', "P2", "douyin", 5, 650),
    ("HX", "PX", "taobao", 2, 3_300),
    ("HX", "P3", "taobao", 6, 880),
    (None, "P2", "douyin", 3, 5_100),  # credited to no host
    (None, 'P"4,', "taobao", 4, 770),
    (None, "PX", "douyin", 6, 120),
]
#: (session id, host or None, platform, local day offset)
SESSIONS = [
    ("S1", "H1", "douyin", 0),
    ("S2", "H1", "douyin", 1),
    ("S3", "H2", "taobao", 0),
    ("S4", "H3", "taobao", 2),
    ("S5", 'H,4"', "douyin", 1),
    ("S6", "HX", "taobao", 2),
    ("S7", None, "douyin", 3),
]
FIRST_DAY = dt.date(2024, 11, 1)
ALL_HOSTS = sorted(HOSTS)
ALL_COUNTIES = sorted(COUNTIES)
ALL_PRODUCTS = sorted(PRODUCTS)


def _at(offset: int, hour: int = 12) -> dt.datetime:
    """Noon (UTC+8) of local day ``offset`` after FIRST_DAY, in UTC."""
    return dt.datetime.combine(FIRST_DAY + dt.timedelta(days=offset), dt.time(hour - 8), UTC)


def build_world(engine: Engine) -> None:
    """Write the awkward world into an initialised warehouse and build its rollups."""
    with engine.begin() as conn:
        upsert(conn, County.__table__, [{"county_id": c, "name_zh": n, "name_en": c} for c, n in COUNTIES.items()])
        upsert(
            conn,
            Host.__table__,
            [{"host_id": h, "name": f"<b>{h}</b>", "county_id": c, "kind": "farmer"} for h, c in HOSTS.items()],
        )
        upsert(
            conn,
            Product.__table__,
            [
                {"product_id": p, "title": f"<script>alert('{p}')</script>", "county_id": c, "unit_cost_fen": 100}
                for p, c in PRODUCTS.items()
            ],
        )
        sessions = []
        for sid, host, platform, day in SESSIONS:
            start = _at(day, 20)
            sessions.append(
                {
                    "platform_id": platform,
                    "session_id": sid,
                    "host_id": host,
                    "started_at_utc": start,
                    "ended_at_utc": start + dt.timedelta(hours=2),
                    "source": "test",
                    "views": 1000,
                    "viewers": 800,
                    "peak_online": 90,
                    "product_exposed_viewers": 400,
                    "product_clickers": 100,
                }
            )
        upsert(conn, LiveSession.__table__, sessions)
        session_of = {(h, p, d): s for s, h, p, d in SESSIONS}
        lines = []
        for i, (host, product, platform, day, amount) in enumerate(SALES):
            lines.append(
                {
                    "platform_id": platform,
                    "order_id": f"O{i}",
                    "line_no": 1,
                    "product_id": product,
                    "title": '=HYPERLINK("http://evil")',
                    "quantity": 1 + i % 3,
                    "unit_price_fen": amount,
                    "amount_fen": amount,
                    "refund_fen": 0,
                    "status": "paid",
                    "created_at_utc": _at(day),
                    "paid_at_utc": _at(day),
                    "buyer_id": f"B{i}",
                    "province": "甘肃" if i % 2 else "广东",
                    "host_id": host,
                    "session_id": session_of.get((host, platform, day)),
                }
            )
        upsert(conn, OrderLine.__table__, lines)
        refresh_all(conn)


def visible(scope: Scope) -> tuple[set[str], set[str], set[str]]:
    """The oracle's hosts, counties and products a scope sees (everything for all_data)."""
    if scope.all_data:
        return set(HOSTS), set(COUNTIES), set(PRODUCTS)
    hosts = set(scope.host_ids) | {h for h, c in HOSTS.items() if c in scope.county_ids}
    counties = set(scope.county_ids) | {HOSTS[h] for h in scope.host_ids if HOSTS.get(h)}
    products = {p for p, c in PRODUCTS.items() if c in scope.county_ids}
    return hosts, counties, products


def in_scope_sales(scope: Scope, f: Filters) -> list[tuple[str | None, str, str, int, int]]:
    """The oracle's sales a scope may see over filters: a sale is visible when its host or its product is."""
    hosts, _, products = visible(scope)
    out = []
    for sale in SALES:
        host, product, platform, day, _amount = sale
        when = FIRST_DAY + dt.timedelta(days=day)
        if (f.start and when < f.start) or (f.end and when > f.end) or (f.platform and platform != f.platform):
            continue
        if scope.all_data or host in hosts or product in products:
            out.append(sale)
    return out


def expected_gmv(scope: Scope, f: Filters, *, host: str | None = None, product: str | None = None) -> int:
    """Return the GMV (fen) of the sales ``scope`` sees over ``f`` (of one host or product)."""
    return sum(
        a
        for h, p, _pf, _d, a in in_scope_sales(scope, f)
        if (host is None or (h or "") == host) and (product is None or p == product)
    )


def scopes() -> list[tuple[str, Scope]]:
    """Named scopes covering every shape: each streamer, each envoy, mixed bindings, nothing, everything."""
    out = [(f"streamer {h}", Scope.of(hosts=[h])) for h in ALL_HOSTS]
    out += [(f"envoy {c}", Scope.of(counties=[c])) for c in ALL_COUNTIES]
    out += [("two hosts", Scope.of(hosts=["H1", "H3"])), ("two counties", Scope.of(counties=["north", "south"]))]
    out += [("nobody", Scope()), ("analyst", Scope.everything())]
    return out


@dataclass
class World:
    engine: Engine
    dialect: str


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The awkward world on SQLite and on PostgreSQL (its own schema), built once per module."""
    from livecommerce.warehouse.engine import make_engine

    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('secworld') / 'w.db'}")
        init(engine)
        build_world(engine)
        yield World(engine, "sqlite")
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need LIVECOMMERCE_TEST_PG_URL")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = make_engine(PG_URL, schema=schema)
    try:
        init(engine)
        build_world(engine)
        yield World(engine, "postgresql")
    finally:
        engine.dispose()
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


# --- queries under each scope ------------------------------------------------------------------

ALL_TIME = Filters()


@pytest.mark.parametrize("name,scope", scopes(), ids=[n for n, _ in scopes()])
def test_overview_gmv_is_exactly_the_sales_the_scope_sees(world: World, name: str, scope: Scope) -> None:
    row = queries.kpi_report(world.engine, scope, "overview", None, ALL_TIME)
    assert int(row["gmv"][0] or 0) == expected_gmv(scope, ALL_TIME), name


@pytest.mark.parametrize("name,scope", scopes(), ids=[n for n, _ in scopes()])
def test_tops_lists_and_directory_stay_inside_the_scope(world: World, name: str, scope: Scope) -> None:
    hosts, counties, products = visible(scope)
    top_hosts = queries.top_hosts(world.engine, scope, ALL_TIME, limit=100)
    for r in top_hosts.iter_rows(named=True) if top_hosts.height else []:
        assert r["gmv"] == expected_gmv(scope, ALL_TIME, host=r["host_key"]), (name, r)
    top_products = queries.top_products(world.engine, scope, ALL_TIME, limit=100)
    for r in top_products.iter_rows(named=True) if top_products.height else []:
        assert r["gmv"] == expected_gmv(scope, ALL_TIME, product=r["product_key"]), (name, r)
    sessions = queries.session_list(world.engine, scope, None, ALL_TIME)
    seen_sessions = set(sessions["session_id"].to_list()) if sessions.height else set()
    assert seen_sessions == {s for s, h, _p, _d in SESSIONS if scope.all_data or h in hosts}, name
    d = queries.directory(world.engine, scope)
    assert set(d["hosts"]["host_id"].to_list() if d["hosts"].height else []) <= hosts
    assert set(d["counties"]["county_id"].to_list() if d["counties"].height else []) <= counties
    assert set(d["products"]["product_id"].to_list() if d["products"].height else []) <= products
    # one county's directory (the plan page's) is the scope's directory rows of that county, no more
    for c in COUNTIES:
        one = queries.directory(world.engine, scope, county_id=c)
        for part in ("counties", "hosts", "products"):
            mine = d[part].filter(pl.col("county_id") == c) if d[part].height else d[part]
            assert one[part].rows() == mine.rows(), (name, c, part)


@pytest.mark.parametrize("name,scope", scopes(), ids=[n for n, _ in scopes()])
def test_naming_what_the_scope_may_not_see_gives_nothing(world: World, name: str, scope: Scope) -> None:
    hosts, _counties, products = visible(scope)
    for h in set(HOSTS) - hosts:
        assert queries.kpi_report(world.engine, scope, "host", h, ALL_TIME).is_empty(), (name, h)
        assert queries.daily_trend(world.engine, scope, "host", h, ALL_TIME).is_empty(), (name, h)
        assert queries.buyer_provinces(world.engine, scope, "host", h, ALL_TIME).is_empty(), (name, h)
    for p in set(PRODUCTS) - products:
        assert queries.kpi_report(world.engine, scope, "product", p, ALL_TIME).is_empty(), (name, p)
    for c in set(COUNTIES) - set(scope.county_ids):
        if not scope.all_data:
            assert queries.league_table(world.engine, scope, c, ALL_TIME).is_empty(), (name, c)
    for sid, host, platform, _day in SESSIONS:
        curve = queries.session_curve(world.engine, scope, platform, sid)
        report = queries.kpi_report(world.engine, scope, "session", f"{platform}:{sid}")
        if not scope.all_data and host not in hosts:
            assert curve["minutes"].is_empty() and curve["explains"].is_empty(), (name, sid)
            assert report.is_empty(), (name, sid)


def test_out_of_scope_lists_only_known_ids_the_scope_may_not_name(world: World) -> None:
    streamer = Scope.of(hosts=["H1"])
    found = auth.out_of_scope(
        world.engine,
        streamer,
        hosts=["H1", "H2", "nobody"],
        counties=["north", "south"],
        products=["P1"],
        sessions=["douyin:S1", "taobao:S4", "douyin:S4", "nope"],
    )
    # a streamer may name their own county (their page shows it) but not its products' league
    assert found == {"host": ["H2"], "county": ["south"], "product": ["P1"], "session": ["taobao:S4"]}
    envoy = Scope.of(counties=['q"uote,c\\'])
    assert auth.out_of_scope(world.engine, envoy, hosts=['H,4"'], products=['P"4,']) == {}
    assert auth.out_of_scope(world.engine, Scope.everything(), hosts=ALL_HOSTS) == {}


# --- PostgreSQL: row-level security for a role that does not own the tables ---------------------


@pytest.mark.postgres
def test_row_level_security_limits_a_non_owner_role_without_the_app_side_filter(world: World) -> None:
    if world.dialect != "postgresql":
        pytest.skip("row-level security is PostgreSQL only")
    role = f"lc_app_{uuid.uuid4().hex[:8]}"
    with world.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        schema = conn.execute(select(func.current_schema())).scalar()
    app = None
    try:
        tables = auth.enable_row_security(world.engine, role)
        assert {"order_line", "live_session", "rollup_daily", "rollup_session"} <= set(tables)
        assert auth.enable_row_security(world.engine, role) == tables  # idempotent
        url = PG_URL.replace("postgres@", f"{role}@", 1)  # type: ignore[union-attr]
        app = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
        auth.install_scope_guard(app)
        rd, rs, ol = RollupDaily.__table__, RollupSession.__table__, OrderLine.__table__

        def raw_rows() -> tuple[set[str], set[str], int]:
            """What the role reads with plain SELECTs: no scope filter of ours in the SQL."""
            with app.connect() as conn:  # type: ignore[union-attr]
                daily = set(conn.execute(select(rd.c.host_key)).scalars())
                sessions = set(conn.execute(select(rs.c.session_id)).scalars())
                gmv = int(conn.execute(select(func.coalesce(func.sum(ol.c.amount_fen), 0))).scalar() or 0)
            return daily, sessions, gmv

        assert raw_rows() == (set(), set(), 0)  # no scope bound: nothing
        for name, scope in scopes():
            hosts, _c, products = visible(scope)
            with auth.bound_scope(scope):
                daily, sessions, gmv = raw_rows()
                assert gmv == expected_gmv(scope, ALL_TIME), name
                assert sessions == {s for s, h, _p, _d in SESSIONS if scope.all_data or h in hosts}, name
                visible_daily = {(h or "") for h, p, *_ in SALES if scope.all_data or h in hosts or p in products}
                assert daily == visible_daily, name
                # and the queries, run as that role, agree with the app-side filter
                row = queries.kpi_report(app, scope, "overview", None, ALL_TIME)
                assert int(row["gmv"][0] or 0) == expected_gmv(scope, ALL_TIME), name
        with auth.bound_scope(Scope.of(hosts=["H1"])), app.begin() as conn:
            moved = conn.execute(text("UPDATE order_line SET host_id = 'H1' WHERE host_id = 'H3'"))
            assert moved.rowcount == 0  # another host's lines are invisible, so untouchable
        with auth.bound_scope(Scope.of(hosts=["H1"])), app.begin() as conn:
            with pytest.raises(Exception, match="row-level security"):
                conn.execute(
                    OrderLine.__table__.insert().values(
                        platform_id="douyin",
                        order_id="forged",
                        line_no=1,
                        quantity=1,
                        amount_fen=1,
                        status="paid",
                        created_at_utc=_at(0),
                        host_id="H3",
                    )
                )
    finally:
        if app is not None:
            app.dispose()
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def test_row_level_security_is_refused_on_sqlite(memory_engine: Engine) -> None:
    with pytest.raises(auth.AccessError, match="PostgreSQL"):
        auth.enable_row_security(memory_engine, "app")


def test_scope_settings_quote_awkward_ids() -> None:
    settings = auth.scope_settings(Scope.of(hosts=['H,4"', "a\\b"]))
    assert settings == {
        "livecommerce.all": "off",
        "livecommerce.hosts": '{"H,4\\"","a\\\\b"}',
        "livecommerce.counties": "{}",
    }
    assert auth.scope_settings(None)["livecommerce.all"] == "off"
    assert auth.scope_settings(Scope.everything())["livecommerce.all"] == "on"


@pytest.mark.parametrize("name,scope", scopes(), ids=[n for n, _ in scopes()])
def test_demand_history_counts_only_the_sessions_the_scope_sees(world: World, name: str, scope: Scope) -> None:
    hosts, _c, products = visible(scope)
    history = queries.demand_history(world.engine, scope)
    for r in history.iter_rows(named=True) if history.height else []:
        day = (r["ds"] - FIRST_DAY).days
        county = PRODUCTS[r["unique_id"]]
        seen = [
            s
            for s, h, _p, d in SESSIONS
            if d == day
            and h is not None
            and county is not None
            and HOSTS[h] == county
            and (scope.all_data or h in hosts)
        ]
        assert r["sessions"] == len(seen), (name, r)
        units = sum(
            1 + i % 3
            for i, (h, p, _pf, d, _a) in enumerate(SALES)
            if p == r["unique_id"] and d == day and (scope.all_data or h in hosts or p in products)
        )
        assert r["y"] == units, (name, r)
