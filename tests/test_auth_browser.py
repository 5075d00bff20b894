"""In a real headless Chromium: a streamer logs in through the form and sees only their host — the
picker offers it alone, the numbers are their host's, the Data page is not in the menu, another host
in the URL is refused — then logs out. Screenshots go to ``artifacts/screenshots/``."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from test_dashboard_browser import _until

from livecommerce import auth, queries
from livecommerce.config import load_settings
from livecommerce.dashboard import create_app, default_dates, ids
from livecommerce.dashboard.data import Source
from livecommerce.dashboard.i18n import kpi_text
from livecommerce.queries import Filters
from livecommerce.scope import Scope
from livecommerce.warehouse.engine import make_engine

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
TIMEOUT = 30
PASSWORD = "streamer password"


@pytest.fixture(scope="module")
def served(sample_world, tmp_path_factory) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A copy of the sample world with a streamer bound to H0001, served with logins on a free port."""
    from werkzeug.serving import make_server

    path = tmp_path_factory.mktemp("authworld") / "w.db"
    src = sqlite3.connect(sample_world.url.removeprefix("sqlite:///"))
    dst = sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    mp = pytest.MonkeyPatch()
    mp.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    auth.add_user(engine, "li-hua", PASSWORD, "streamer", hosts=["H0001"], display_name="李华")
    settings = load_settings({"LIVECOMMERCE_DB_URL": url, "LIVECOMMERCE_SECRET_KEY": "s" * 48})
    app = create_app(settings, engine)
    httpd = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{httpd.server_port}", "engine": engine, "settings": settings}
    httpd.shutdown()
    engine.dispose()
    mp.undo()


def _wait(driver, find, what: str):  # type: ignore[no-untyped-def]
    try:
        return _until(driver, find)
    except Exception as exc:  # pragma: no cover - the message says what was on screen
        raise AssertionError(f"never saw {what}; the page shows {driver.page_source[:800]!r}") from exc


def _text(driver, element_id: str, expected: str | None = None) -> str:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    def ready(d):  # type: ignore[no-untyped-def]
        found = d.find_elements(By.ID, element_id)
        text = found[0].text.strip() if found else ""
        return text if text and (expected is None or text == expected) else False

    return _wait(driver, ready, f"#{element_id} = {expected!r}")  # type: ignore[no-any-return]


def test_a_streamer_logs_in_and_sees_only_their_host(chromium, served) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser = chromium
    browser.delete_all_cookies()
    browser.get(served["url"] + "/host")
    _wait(browser, lambda d: d.find_elements(By.ID, "login-username"), "the login form")
    assert "/login" in browser.current_url
    browser.find_element(By.ID, "login-username").send_keys("li-hua")
    browser.find_element(By.ID, "login-password").send_keys("wrong password")
    browser.find_element(By.ID, "login-submit").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "p.error"), "the error")
    browser.find_element(By.ID, "login-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()

    source = Source(served["engine"], served["settings"], lambda: Scope.of(hosts=["H0001"]))
    start, end = default_dates(source)
    row = queries.kpi_report(served["engine"], source.scope(), "host", "H0001", Filters(start, end)).row(0, named=True)
    assert row["gmv"] > 0
    assert _text(browser, ids.kpi_value("host", "gmv"), kpi_text("gmv", row["gmv"], "zh"))
    assert "李华" in _text(browser, "whoami")
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "nav a")]
    assert links and not [h for h in links if h.endswith("/data")]
    browser.find_element(By.ID, ids.HOST_PICK).click()
    options = _wait(
        browser,
        lambda d: d.find_elements(  # the dropdown's options, not the language switch's
            By.XPATH,
            f"//input[contains(@class, 'dash-options-list-option-checkbox') and not(ancestor::*[@id='{ids.LANG}'])]",
        ),
        "the host options",
    )
    assert [o.get_attribute("value") for o in options] == ["H0001"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / "streamer-host.png"))

    # another host in the URL: refused (the page stays without their numbers), and logged
    before = auth.audit_count(served["engine"], "denied")
    browser.get(served["url"] + "/host?host=H0002")
    _wait(browser, lambda d: auth.audit_count(served["engine"], "denied") > before, "the denial logged")
    assert not browser.find_elements(By.ID, ids.kpi_value("host", "gmv"))

    browser.get(served["url"] + "/logout")
    _wait(browser, lambda d: d.find_elements(By.ID, "logout-submit"), "the logout button")[0].click()
    _wait(browser, lambda d: d.find_elements(By.ID, "login-username"), "the login form again")
    assert [e["event"] for e in auth.audit_log(served["engine"], limit=1)] == ["logout"]
