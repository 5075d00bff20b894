"""The Plan page in a real headless Chromium on the sample world: build a plan, adjust a session (start
time, price) and see the expected numbers move, save it, and see plan vs actual; it fits a 390 px phone."""

from __future__ import annotations

import pytest
from test_dashboard_browser import _pick, _shot, _text_of, _until, browser, server, source  # noqa: F401  (fixtures)

from livecommerce import planner
from livecommerce.dashboard import ids
from livecommerce.scope import Scope

pytestmark = pytest.mark.browser

#: H0001 of 礼县 went live on 2024-09-07 at 20:03 (session TA240000002 of the sample world)
URL = "/plan?county=lixian&start=2024-09-07&days=1"


#: Dash's own test of "no callback pending" (dash.testing's ``_wait_for_callbacks``): the renderer's
#: callbacks state, without the stored and completed ones, is empty
_PENDING = """
var s = window.store && Object.assign({}, window.store.getState().callbacks);
if (!s) { return 1; }
delete s.stored; delete s.completed;
return [].concat.apply([], Object.values(s)).length;
"""


def _idle(driver) -> None:  # type: ignore[no-untyped-def]
    """Wait until the page has no callback pending (a table re-rendered after the user typed into it would
    drop what was typed)."""
    _until(driver, lambda d: d.execute_script(_PENDING) == 0)


def _expected(driver, before: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """Wait for the expected-numbers line (a new one when ``before`` is given) and for the callbacks it set
    off to finish; return the line."""

    def changed(d):  # type: ignore[no-untyped-def]
        text = d.find_element("id", ids.PLAN_EXPECTED).text.strip()
        return text if text and text != before else False

    text = _until(driver, changed)
    _idle(driver)
    return text


def _click(driver, element_id: str) -> None:  # type: ignore[no-untyped-def]
    _until(driver, lambda d: d.find_element("id", element_id).click() or True)  # a re-rendered one is found again


def _type_into(driver, element, value: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.keys import Keys

    element.click()
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(value)
    element.send_keys(Keys.ENTER)


def test_create_adjust_save_and_compare_with_actual(browser, server, source) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(server + URL)
    _click(browser, ids.PLAN_BUILD)
    assert _text_of(browser, ids.PLAN_MESSAGE) == "已生成 1 场建议"
    first = _expected(browser)
    assert first.startswith("预计 GMV ¥")
    rows = browser.find_elements(By.CSS_SELECTOR, f"#{ids.PLAN_SESSIONS} td[data-dash-column='when']")
    assert rows and rows[0].text.startswith("2024-09-07 19:")
    start = rows[0].text[11:16]
    _shot(browser, "plan-built")

    # move it to the morning: the slot changes and the expected GMV drops
    _type_into(browser, browser.find_element(By.ID, ids.PLAN_EDIT_START), "09:00")
    browser.find_element(By.ID, ids.PLAN_APPLY).click()
    morning = _expected(browser, first)
    assert _text_of(browser, ids.PLAN_SESSIONS).count("上午场") == 1
    gmv = lambda text: float(text.split("¥")[1].split("（")[0].replace(",", "").replace("万", "e4"))  # noqa: E731
    assert gmv(morning) < gmv(first)

    # back to the evening, then a higher price: fewer units expected
    _type_into(browser, browser.find_element(By.ID, ids.PLAN_EDIT_START), start)
    browser.find_element(By.ID, ids.PLAN_APPLY).click()
    evening = _expected(browser, morning)
    assert gmv(evening) == pytest.approx(gmv(first), rel=0.01)
    units_cell = f"#{ids.PLAN_ITEMS} td[data-dash-column='expected_units']"
    units_before = float(browser.find_element(By.CSS_SELECTOR, units_cell).text)
    price = browser.find_element(By.CSS_SELECTOR, f"#{ids.PLAN_ITEMS} td[data-dash-column='price_yuan']")
    new_price = f"{float(price.text) * 1.2:.2f}"
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    price.click()
    ActionChains(browser).send_keys(new_price).send_keys(Keys.ENTER).perform()
    browser.find_element(By.ID, ids.PLAN_APPLY).click()
    _expected(browser, evening)
    units_after = float(browser.find_element(By.CSS_SELECTOR, units_cell).text)
    assert units_after < units_before
    assert any("手动定价" in li.text for li in browser.find_elements(By.CSS_SELECTOR, f"#{ids.PLAN_REASONS} li"))
    _shot(browser, "plan-adjusted")

    # save, then plan vs actual: the host's actual session that evening
    browser.find_element(By.ID, ids.PLAN_SAVE).click()
    assert _text_of(browser, ids.PLAN_SAVED) == "已保存 1 场"
    saved = planner.plans(source.engine, Scope.everything(), county_id="lixian", start=planner.dt.date(2024, 9, 7))
    plan_id = saved.filter(saved["planned_start_utc"].dt.date() == planner.dt.date(2024, 9, 7))["plan_id"][0]
    stored = planner.load_plan(source.engine, plan_id)
    assert stored.items[0].price_fen == round(float(new_price) * 100)
    _pick(browser, ids.PLAN_SAVED_PICK, plan_id)
    actual = planner.plan_vs_actual(source.engine, plan_id)
    assert actual["session_id"][0] == "TA240000002"
    sold = str(actual.filter(actual["units_to_prepare"].is_not_null())["actual_units"][0])
    cell = f"#{ids.PLAN_ACTUAL} td[data-dash-column='actual_units']"
    _until(browser, lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, cell)][:1] == [sold])
    _shot(browser, "plan-vs-actual")
    logs = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not logs, logs


def test_plan_page_fits_a_phone(browser, server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811

    browser.set_window_size(390, 844)
    browser.get(server + URL)
    _click(browser, ids.PLAN_BUILD)
    _expected(browser)
    assert browser.execute_script("return window.innerWidth") == 390
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px wide"
    _shot(browser, "plan-phone-390")


def test_the_plan_downloads_as_a_calendar_and_a_sheet(browser, server, source, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The envoy builds the plan and downloads it: the calendar holds one event per proposed session (stable UIDs
    a phone's calendar updates in place), the CSV one row per session and product with the units to prepare."""
    import csv
    import datetime as dt
    import io

    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.get(server + URL)
    _click(browser, ids.PLAN_BUILD)
    assert _text_of(browser, ids.PLAN_MESSAGE) == "已生成 1 场建议"
    _idle(browser)
    full = planner.plan_from_warehouse(source.engine, county_id="lixian", start=dt.date(2024, 9, 7), days=1)

    def landed(pattern: str):  # type: ignore[no-untyped-def]
        return _until(browser, lambda d: sorted(tmp_path.glob(pattern)) or False)[0]

    _click(browser, ids.PLAN_ICS_BUTTON)
    calendar = landed("*.ics").read_bytes().decode("utf-8")  # as written: CRLF line ends (RFC 5545)
    assert calendar.startswith("BEGIN:VCALENDAR\r\n") and "X-WR-CALNAME:直播排期" in calendar
    uids = [line[4:] for line in calendar.split("\r\n") if line.startswith("UID:")]
    assert uids == [f"{s.plan_id}@livecommerce" for s in full.sessions]
    _click(browser, ids.PLAN_CSV_BUTTON)
    rows = list(csv.DictReader(io.StringIO(landed("*.csv").read_text(encoding="utf-8-sig"))))
    assert [(r["plan_id"], r["product_id"], int(r["units_to_prepare"])) for r in rows] == [
        (s.plan_id, i.product_id, i.units_to_prepare) for s in full.sessions for i in s.items
    ]
    _shot(browser, "plan-downloaded")
