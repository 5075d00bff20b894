"""The dashboard in a real headless Chromium: every page opens, the language switches, picking a
host and a session shows the numbers ``queries`` gives for the same inputs, and the host page fits
a 390 px phone. Screenshots go to ``artifacts/screenshots/``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from livecommerce import queries
from livecommerce.config import load_settings
from livecommerce.dashboard import create_app, default_dates, ids
from livecommerce.dashboard.data import Source
from livecommerce.dashboard.i18n import kpi_label, kpi_text
from livecommerce.queries import Filters
from livecommerce.scope import Scope

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
EVERYTHING = Scope.everything()
TIMEOUT = 30


@pytest.fixture(scope="module")
def source(sample_world) -> Source:  # type: ignore[no-untyped-def]
    return Source(sample_world.engine, load_settings({"LIVECOMMERCE_DB_URL": sample_world.url}))


@pytest.fixture(scope="module")
def server(source: Source) -> Iterator[str]:
    """The dashboard served on a free localhost port by a threaded WSGI server; yields its URL."""
    from werkzeug.serving import make_server

    app = create_app(source.settings, source.engine)
    httpd = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture
def browser(chromium):  # type: ignore[no-untyped-def]
    chromium.delete_all_cookies()
    chromium.set_window_size(1280, 1000)
    chromium.get_log("browser")  # drain: the shared browser's earlier console lines belong to earlier tests
    return chromium


def _shot(driver, name: str) -> Path:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def _until(driver, condition, timeout: float = TIMEOUT):  # type: ignore[no-untyped-def]
    """Wait until ``condition(driver)`` is truthy and return its value. An element React replaced between
    finding it and reading it (``StaleElementReferenceException``) or one not there yet counts as "not yet",
    not as a failure: Dash re-renders a component when its callback answers."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(condition)


def _text_of(driver, element_id: str, expected: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """Wait until element ``element_id`` shows text (``expected`` when given) and return it."""
    from selenium.webdriver.common.by import By

    def ready(d):  # type: ignore[no-untyped-def]
        found = d.find_elements(By.ID, element_id)
        if not found:
            return False
        text = found[0].text.strip()
        return text if text and (expected is None or text == expected) else False

    try:
        return _until(driver, ready)  # type: ignore[no-any-return]
    except Exception as exc:  # pragma: no cover - the message says what was on screen
        seen = _until(driver, lambda d: [e.text for e in d.find_elements(By.ID, element_id)] or ["(absent)"])[0]
        raise AssertionError(f"#{element_id} never showed {expected!r}; it shows {seen!r}") from exc


def _pick(driver, dropdown_id: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """Open the dropdown ``dropdown_id`` and click its option ``value``, as a person would."""
    from selenium.webdriver.common.by import By

    option = f"input.dash-options-list-option-checkbox[value='{value}']"
    label = "./ancestor::label[1]"
    # clicked inside the wait: an element re-rendered between finding and clicking is found again
    _until(driver, lambda d: d.find_element(By.ID, dropdown_id).click() or True)
    _until(driver, lambda d: d.find_element(By.CSS_SELECTOR, option).find_element(By.XPATH, label).click() or True)


def _host_report(source: Source, host_id: str):  # type: ignore[no-untyped-def]
    start, end = default_dates(source)
    return queries.kpi_report(source.engine, EVERYTHING, "host", host_id, Filters(start, end)).row(0, named=True)


@pytest.mark.parametrize(
    ("path", "ready_id"),
    [
        ("/", ids.kpi_value("overview", "gmv")),
        ("/host", ids.kpi_value("host", "gmv")),
        ("/county", ids.kpi_value("county", "gmv")),
        ("/product?product=lixian-huaniu-5jin", ids.PRODUCT_STOCK),
        ("/data", ids.DATA_RUNS),
    ],
)
def test_each_page_opens_with_its_numbers(browser, server, path, ready_id) -> None:  # type: ignore[no-untyped-def]
    browser.get(server + path)
    assert _text_of(browser, ready_id)
    name = path.strip("/").split("?")[0] or "overview"
    assert _shot(browser, f"page-{name}").stat().st_size > 10_000
    logs = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not logs, logs


def test_overview_shows_the_queries_numbers(browser, server, source) -> None:  # type: ignore[no-untyped-def]
    start, end = default_dates(source)
    row = queries.kpi_report(source.engine, EVERYTHING, "overview", None, Filters(start, end)).row(0, named=True)
    browser.get(server + "/")
    for name in ("gmv", "orders", "refund_rate_amount"):
        assert _text_of(browser, ids.kpi_value("overview", name), kpi_text(name, row[name], "zh"))


def test_pick_host_and_session_switch_language_numbers_match_queries(browser, server, source) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.get(server + "/host?host=A0001")
    _text_of(browser, ids.kpi_value("host", "gmv"))
    _pick(browser, ids.HOST_PICK, "H0001")
    row = _host_report(source, "H0001")
    assert row["gmv"] > 0
    for name in ("gmv", "orders", "gpm", "gmv_per_live_hour"):
        assert _text_of(browser, ids.kpi_value("host", name), kpi_text(name, row[name], "zh"))
    # the newest session is replayed; then pick an older one with explain windows
    start, end = default_dates(source)
    sessions = queries.session_list(source.engine, EVERYTHING, "H0001", Filters(start, end))
    older = sessions.row(sessions.height - 1, named=True)
    key = f"{older['platform_id']}:{older['session_id']}"
    session = queries.kpi_report(source.engine, EVERYTHING, "session", key).row(0, named=True)
    _pick(browser, ids.SESSION_PICK, key)
    assert _text_of(browser, ids.kpi_value("session", "gmv"), kpi_text("gmv", session["gmv"], "zh"))
    assert _text_of(browser, ids.kpi_value("session", "viewers"), kpi_text("viewers", session["viewers"], "zh"))
    _shot(browser, "host-zh")
    # switch to English: labels, money format and static text change; the numbers stay the queries'
    browser.find_element(By.CSS_SELECTOR, f"#{ids.LANG} input[value='en']").click()
    assert _text_of(browser, ids.kpi_value("host", "gmv"), kpi_text("gmv", row["gmv"], "en"))
    assert _text_of(browser, ids.kpi_value("session", "gmv"), kpi_text("gmv", session["gmv"], "en"))
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, f"#{ids.HOST_KPIS} .kpi-label")]
    assert kpi_label("gmv", "en") in labels
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "Host review"
    _shot(browser, "host-en")
    # the choice is remembered: the next page starts in English
    browser.get(server + "/county")
    assert _text_of(browser, ids.kpi_value("county", "gmv"))
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "County comparison"


def test_host_page_fits_a_phone(browser, server, source) -> None:  # type: ignore[no-untyped-def]
    browser.set_window_size(390, 844)
    browser.get(server + "/host?host=H0001")
    _text_of(browser, ids.kpi_value("host", "gmv"))
    _text_of(browser, ids.kpi_value("session", "gmv"))
    assert browser.execute_script("return window.innerWidth") == 390
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px wide"
    graphs = browser.execute_script(
        "return [...document.querySelectorAll('.js-plotly-plot')].map(g => g.getBoundingClientRect().right)"
    )
    assert graphs and max(graphs) <= 390
    _shot(browser, "host-phone-390")
