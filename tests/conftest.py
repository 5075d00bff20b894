"""Shared fixtures: warehouses on in-memory SQLite and on a real PostgreSQL schema.

PostgreSQL tests run when ``LIVECOMMERCE_TEST_PG_URL`` is set (``.ci/run`` sets it) and skip
with a reason otherwise. With ``LIVECOMMERCE_REQUIRE_PG=1`` a run in which no PostgreSQL test
passed, or one was skipped, fails. Slow tests run when ``CI`` or ``LIVECOMMERCE_RUN_SLOW`` is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from livecommerce.warehouse import init
from livecommerce.warehouse.engine import make_engine

PG_URL = os.environ.get("LIVECOMMERCE_TEST_PG_URL")
REQUIRE_PG = os.environ.get("LIVECOMMERCE_REQUIRE_PG") == "1"
RUN_SLOW = bool(os.environ.get("CI") or os.environ.get("LIVECOMMERCE_RUN_SLOW"))
PG_HINT = "PostgreSQL tests need LIVECOMMERCE_TEST_PG_URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test"

_pg_outcomes: list[str] = []


@dataclass
class Warehouse:
    """A test warehouse: its engine plus what a subprocess needs to reach the same data."""

    engine: Engine
    url: str
    schema: str | None

    @property
    def env(self) -> dict[str, str]:
        env = {"LIVECOMMERCE_DB_URL": self.url}
        if self.schema:
            env["LIVECOMMERCE_DB_SCHEMA"] = self.schema
        return env

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if RUN_SLOW:
        return
    skip_slow = pytest.mark.skip(reason="slow: runs in CI, or set LIVECOMMERCE_RUN_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "postgres" not in report.keywords:
        return
    if report.skipped:
        # only a skip for want of a server counts against LIVECOMMERCE_REQUIRE_PG (not e.g. a SQLite-only branch)
        if PG_HINT in str(report.longrepr):
            _pg_outcomes.append("skipped")
    elif report.when == "call":
        _pg_outcomes.append(report.outcome)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not REQUIRE_PG or exitstatus not in (0,):
        return
    if "skipped" in _pg_outcomes or "passed" not in _pg_outcomes:
        print(
            f"\nLIVECOMMERCE_REQUIRE_PG=1 but PostgreSQL tests did not all run "
            f"({_pg_outcomes.count('passed')} passed, {_pg_outcomes.count('skipped')} skipped)"
        )
        session.exitstatus = 1


def _new_pg_schema() -> tuple[Engine, str]:
    if not PG_URL:
        pytest.skip(PG_HINT)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    return make_engine(PG_URL, schema=schema), schema


def _drop_pg_schema(schema: str) -> None:
    admin = create_engine(PG_URL)  # type: ignore[arg-type]
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture
def pg_warehouse() -> Iterator[Warehouse]:
    """An initialised warehouse in a fresh PostgreSQL schema, dropped afterwards."""
    engine, schema = _new_pg_schema()
    try:
        init(engine)
        yield Warehouse(engine, PG_URL, schema)  # type: ignore[arg-type]
    finally:
        engine.dispose()
        _drop_pg_schema(schema)


@pytest.fixture
def bare_pg() -> Iterator[Warehouse]:
    """An empty PostgreSQL schema (no tables), dropped afterwards."""
    engine, schema = _new_pg_schema()
    try:
        yield Warehouse(engine, PG_URL, schema)  # type: ignore[arg-type]
    finally:
        engine.dispose()
        _drop_pg_schema(schema)


@pytest.fixture
def sqlite_warehouse(tmp_path) -> Iterator[Warehouse]:  # type: ignore[no-untyped-def]
    """An initialised warehouse in a SQLite file under the test's temporary folder."""
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    engine = make_engine(url)
    init(engine)
    yield Warehouse(engine, url, None)
    engine.dispose()


@pytest.fixture
def memory_engine() -> Iterator[Engine]:
    """An initialised in-memory SQLite warehouse: the fast default for unit tests."""
    engine = make_engine("sqlite://")
    init(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest) -> Warehouse:
    """The same test on SQLite (a file) and on PostgreSQL (a fresh schema)."""
    name = "sqlite_warehouse" if request.param == "sqlite" else "pg_warehouse"
    return request.getfixturevalue(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def bare_warehouse(request: pytest.FixtureRequest, tmp_path) -> Warehouse:  # type: ignore[no-untyped-def]
    """An empty database (no schema yet) on SQLite and on PostgreSQL."""
    if request.param == "postgresql":
        return request.getfixturevalue("bare_pg")
    url = f"sqlite:///{tmp_path / 'bare.db'}"
    engine = make_engine(url)
    request.addfinalizer(engine.dispose)
    return Warehouse(engine, url, None)


# --- dashboard: the sample world with its sessions, and a real headless Chromium ------------------

REQUIRE_BROWSER = os.environ.get("LIVECOMMERCE_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("LIVECOMMERCE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LIVECOMMERCE_CHROMEDRIVER", "/usr/bin/chromedriver")
SAMPLE_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sample_data")


def _sessions_seeded(engine: Engine, root: str) -> None:
    """Make sure the sample world's sessions, minute curves and explain windows are loaded, and the
    orders attributed to them. Since issue 5 the ETL does this when it loads ``canonical/`` (this is
    then a no-op); a warehouse loaded without the session files gets them through the ETL here."""
    from sqlalchemy import func, select

    from etl.jobs import load_paths
    from livecommerce.warehouse.tables import LiveSession

    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(LiveSession.__table__)).scalar():
            return
    canonical = os.path.join(root, "canonical")
    load_paths(engine, [os.path.join(canonical, "sessions.csv"), os.path.join(canonical, "session_log.jsonl")])


@pytest.fixture(scope="session")
def sample_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The committed sample world loaded by the ETL into a SQLite file, with its sessions (shared, read-only)."""
    from etl.jobs import load_paths

    path = tmp_path_factory.mktemp("world") / "sample.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    init(engine)
    load_paths(engine, [os.path.join(SAMPLE_ROOT, "canonical")])
    _sessions_seeded(engine, SAMPLE_ROOT)
    yield Warehouse(engine, url, None)
    engine.dispose()


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"{path} not found: install Debian's chromium and chromium-driver (.ci/run does)"
    return None


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A headless Chromium driven by Selenium; skipped with a reason when absent, failing instead
    with ``LIVECOMMERCE_REQUIRE_BROWSER=1`` (CI)."""
    missing = _browser_missing()
    if missing:
        if REQUIRE_BROWSER:
            pytest.fail(f"LIVECOMMERCE_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1280,1000",
        "--lang=zh-CN",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})  # a Chinese browser
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
