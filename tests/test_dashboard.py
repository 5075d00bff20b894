"""Dashboard without a browser: page layouts build, callbacks' plain functions return what
``queries`` returns, pure figure and hint builders, i18n, uploads through the ETL, the HTTP endpoint."""

from __future__ import annotations

import base64
import datetime as dt
import gc
import json
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from livecommerce import queries
from livecommerce.config import load_settings
from livecommerce.dashboard import create_app, figures, i18n, ids, settle
from livecommerce.dashboard.callbacks import county, data, host, overview, product
from livecommerce.dashboard.callbacks._wiring import REGISTERED
from livecommerce.dashboard.data import Source, filters_from, frame, records
from livecommerce.dashboard.hints import host_hints, slot_name
from livecommerce.dashboard.pages import PAGES
from livecommerce.metrics import in_yuan
from livecommerce.queries import Filters
from livecommerce.reports import format_kpi
from livecommerce.scope import Scope
from livecommerce.sheets import neutralised

EVERYTHING = Scope.everything()
OCT = Filters(dt.date(2024, 10, 1), dt.date(2024, 10, 31))


@pytest.fixture(scope="module")
def source(sample_world) -> Source:  # type: ignore[no-untyped-def]
    return Source(sample_world.engine, load_settings({"LIVECOMMERCE_DB_URL": sample_world.url}))


@pytest.fixture(scope="module")
def app(source: Source):  # type: ignore[no-untyped-def]
    return create_app(source.settings, source.engine)


@pytest.fixture
def request_ctx(app) -> Iterator[None]:  # type: ignore[no-untyped-def]
    with app.server.test_request_context("/", headers={"Accept-Language": "en-US,en;q=0.9"}):
        yield


def _texts(component: Any) -> list[str]:
    """Every string inside a Dash component tree."""
    out: list[str] = []
    if isinstance(component, str):
        return [component]
    if isinstance(component, list | tuple):
        for c in component:
            out += _texts(c)
        return out
    children = getattr(component, "children", None)
    return _texts(children) if children is not None else out


def _ids(component: Any) -> set[str]:
    found: set[str] = set()
    stack = [component]
    while stack:
        c = stack.pop()
        if isinstance(c, list | tuple):
            stack.extend(c)
            continue
        cid = getattr(c, "id", None)
        if isinstance(cid, str):
            found.add(cid)
        for prop in ("children",):
            child = getattr(c, prop, None)
            if child is not None and not isinstance(child, str):
                stack.append(child)
    return found


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.__name__.rsplit(".", 1)[-1])
def test_each_page_layout_builds_in_english_from_accept_language(page, source, request_ctx) -> None:  # type: ignore[no-untyped-def]
    layout = page.layout(source)
    assert layout is not None
    assert i18n.t(page.NAME.replace("nav_", "") + "_title", "en") in _texts(layout) or page.NAME == "nav_product"


def test_host_page_preselects_the_host_from_the_url(source, request_ctx) -> None:  # type: ignore[no-untyped-def]
    from livecommerce.dashboard.pages import host as host_page

    layout = host_page.layout(source, host="H0003")
    picker = next(c for c in _walk(layout) if getattr(c, "id", None) == ids.HOST_PICK)
    assert picker.value == "H0003"
    assert {o["value"] for o in picker.options} == set(queries.directory(source.engine, EVERYTHING)["hosts"]["host_id"])
    unknown = host_page.layout(source, host="nobody")
    assert (
        next(c for c in _walk(unknown) if getattr(c, "id", None) == ids.HOST_PICK).value == picker.options[0]["value"]
    )


def _walk(component: Any) -> Iterator[Any]:
    stack = [component]
    while stack:
        c = stack.pop()
        if isinstance(c, list | tuple):
            stack.extend(c)
            continue
        yield c
        child = getattr(c, "children", None)
        if child is not None and not isinstance(child, str):
            stack.append(child)


def test_every_callback_goes_through_the_one_wrapper(app) -> None:  # type: ignore[no-untyped-def]
    assert len(app.callback_map) == len(REGISTERED[id(app)])


def test_frame_is_served_and_pages_are_registered_explicitly(app) -> None:  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    layout = client.get("/_dash-layout", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_json()
    assert "直播电商看板" in json.dumps(layout, ensure_ascii=False)
    paths = {p["path"] for p in __import__("dash").page_registry.values()}
    assert {"/", "/host", "/county", "/product", "/data"} <= paths


# --- language ---------------------------------------------------------------------------------


def test_every_string_has_both_languages() -> None:
    for key in i18n.keys():
        zh, en = i18n.t(key, "zh"), i18n.t(key, "en")
        assert zh and en and zh != en


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Accept-Language": "en-US,en;q=0.9"}, "en"),
        ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, "zh"),
        ({}, "zh"),
        ({"Accept-Language": "en", "Cookie": f"{i18n.COOKIE}=zh"}, "zh"),
    ],
)
def test_language_comes_from_the_saved_choice_then_the_browser(app, headers, expected) -> None:  # type: ignore[no-untyped-def]
    with app.server.test_request_context("/", headers=headers):
        assert i18n.request_language() == expected


def test_money_and_times_are_shown_the_chinese_way() -> None:
    assert i18n.kpi_text("gmv", 123_456_700, "zh") == "¥123.46万"
    assert i18n.kpi_text("gmv", 123_456_700, "en") == "¥1,234,567.00"
    assert i18n.kpi_text("refund_rate_amount", 0.0512, "en") == "5.12%"
    assert i18n.local_time("2024-09-03T11:06:56+00:00") == "2024-09-03 19:06"
    assert slot_name(1, 9, "en") == "Tuesdays mornings (9:00 starts)"
    assert slot_name(1, 9, "zh") == "周二上午（9点开播）"


# --- callbacks: the plain functions -----------------------------------------------------------


def test_overview_load_is_the_queries_and_cards_show_format_kpi(source) -> None:  # type: ignore[no-untyped-def]
    loaded = overview.load(source, OCT)
    expected = queries.kpi_report(source.engine, EVERYTHING, "overview", None, OCT).row(0, named=True)
    assert loaded["kpis"]["gmv"] == expected["gmv"] and loaded["kpis"]["gmv_prev"] == expected["gmv_prev"]
    assert len(loaded["trend"]) == queries.daily_trend(source.engine, EVERYTHING, filters=OCT).height == 31
    cards, trend, *_ = overview.view(loaded, "zh")
    shown = {c.children[1].id: c.children[1].children for c in cards}
    assert shown[ids.kpi_value("overview", "gmv")] == format_kpi("gmv", in_yuan({"gmv": expected["gmv"]})["gmv"], "zh")
    assert sum(trend.data[0].y) == pytest.approx(expected["gmv"] / 100)


def test_host_load_matches_queries_and_the_view_renders_everything(source) -> None:  # type: ignore[no-untyped-def]
    loaded = host.load(source, "H0001", OCT)
    report = queries.kpi_report(source.engine, EVERYTHING, "host", "H0001", OCT).row(0, named=True)
    assert loaded["kpis"]["gmv"] == report["gmv"] > 0
    assert loaded["kpis"]["percentile_gmv_per_live_hour"] == report["percentile_gmv_per_live_hour"]
    sessions = queries.session_list(source.engine, EVERYTHING, "H0001", OCT)
    assert [s["session_id"] for s in loaded["sessions"]] == sessions["session_id"].to_list()
    out = host.view(loaded, "en")
    cards, hints, rows, _cols, options = out[:5]
    assert len(cards) == len(host.KPIS) and len(rows) == sessions.height == len(options)
    assert rows[0]["gmv_fen"] == round(sessions["gmv_fen"][0] / 100, 2)
    assert all(isinstance(h.children, str) for h in hints)


def test_out_of_scope_host_loads_nothing(sample_world) -> None:  # type: ignore[no-untyped-def]
    limited = Source(sample_world.engine, load_settings({}), lambda: Scope.of(hosts=["H0002"]))
    assert host.load(limited, "H0001", OCT) == {}
    assert host.load_session(limited, "taobao:TA240000001")["minutes"] == []


def test_session_replay_has_minutes_explains_and_orders(source) -> None:  # type: ignore[no-untyped-def]
    key = "taobao:TA240000001"
    loaded = host.load_session(source, key)
    curve = queries.session_curve(source.engine, EVERYTHING, "taobao", "TA240000001")
    assert len(loaded["minutes"]) == curve["minutes"].height > 100
    assert len(loaded["explains"]) == curve["explains"].height > 0
    _cards, fig = host.view_session(loaded, "zh")
    assert len(fig.layout.shapes) == curve["explains"].height  # one shaded window per explanation
    names = [tr.name for tr in fig.data]
    assert i18n.t("online", "zh") in names and i18n.t("orders_per_minute", "zh") in names
    assert sum(fig.data[1].y) == curve["minutes"]["orders"].sum()


def test_session_choice_keeps_the_current_then_the_url_then_the_newest() -> None:
    options = [{"label": s, "value": f"taobao:{s}"} for s in ("S3", "S2", "S1")]
    assert host.chosen_session(options, None, None) == "taobao:S3"
    assert host.chosen_session(options, "taobao:S1", None) == "taobao:S1"
    assert host.chosen_session(options, "taobao:S1", "taobao:S2") == "taobao:S2"
    assert host.chosen_session(options, "douyin:X", "gone") == "taobao:S3"
    assert host.chosen_session([], "taobao:S1", None) is None


def test_county_load_matches_queries(source) -> None:  # type: ignore[no-untyped-def]
    loaded = county.load(source, "lixian", OCT)
    league = queries.league_table(source.engine, EVERYTHING, "lixian", OCT)
    assert [r["host_id"] for r in loaded["league"]] == league["host_id"].to_list()
    out = county.view(loaded, "en")
    rows = out[1]
    assert sum(r["gmv"] or 0 for r in rows) == pytest.approx(league["gmv"].fill_null(0).sum() / 100)
    assert county.load(source, "nowhere", OCT) == {}


def test_product_load_forecasts_recommends_and_downloads(source) -> None:  # type: ignore[no-untyped-def]
    loaded = product.load(source, "lixian-huaniu-5jin", 7)
    history = queries.demand_history(source.engine, EVERYTHING, ["lixian-huaniu-5jin"])
    assert len(loaded["history"]) == history.height
    fc = frame(loaded["forecast"])
    assert fc.height == 7 and {"q0.1", "q0.5", "q0.9"} <= set(fc.columns)
    assert (fc["q0.1"] <= fc["q0.5"]).all() and (fc["q0.5"] <= fc["q0.9"]).all()
    assert loaded["accuracy"] and loaded["stock"]["quantity"] >= 0
    note, fan, *_ = product.view(loaded, "en")
    assert note in (i18n.t("forecast_on_the_fly", "en"), "")
    assert len(fan.data) >= 4  # history, two bands (upper edge + filled lower edge each), median
    text = product.csv_text(loaded)
    assert text.splitlines()[0].startswith("unique_id,ds") and len(text.splitlines()) == 8


def test_product_page_reads_a_stored_run_and_its_totals_without_fitting(sample_world, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With a saved run (``livecommerce forecast run``), the page shows its forecast and the stock
    from the run's stored 14-day total: no model is fitted while the page loads."""
    import shutil

    import livecommerce.forecast as forecasting
    from livecommerce.forecast import store
    from livecommerce.inventory import DemandDistribution, recommend_stock
    from livecommerce.warehouse.engine import make_engine

    path = tmp_path / "copy.db"
    shutil.copy(sample_world.url.removeprefix("sqlite:///"), path)
    engine = make_engine(f"sqlite:///{path}")
    pid = "lixian-huaniu-5jin"
    run_id, fc = store.run_from_warehouse(engine, 28, product_ids=[pid], windows=2, n_jobs=1)
    total = store.latest_total(engine, pid, 14)
    assert total is not None and total["run_id"] == run_id
    first14 = fc.sort("ds").head(14)["mean"].sum()
    assert total["mean"] == pytest.approx(first14) and total["q10"] <= total["q50"] <= total["q90"]
    assert {d for d in (7, 14, 28) if store.latest_total(engine, pid, d)} == {7, 14, 28}

    def no_fit(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("the product page fitted a model although a stored run covers the product")

    for name in ("forecast", "forecast_total", "forecast_with_totals", "backtest"):
        monkeypatch.setattr(forecasting, name, no_fit)
    stored_source = Source(engine, load_settings({"LIVECOMMERCE_DB_URL": f"sqlite:///{path}"}))
    loaded = product.load(stored_source, pid, 14)
    assert loaded["stored"] is True and len(loaded["forecast"]) == 14
    price = (loaded["price"].get("recommendation") or {}).get("price")
    info = queries.directory(engine, EVERYTHING)["products"].filter(pl.col("product_id") == pid).row(0, named=True)
    expected = recommend_stock(
        DemandDistribution.from_quantiles({0.1: total["q10"], 0.5: total["q50"], 0.9: total["q90"]}, total["mean"]),
        price=price,
        unit_cost=(info.get("unit_cost_fen") or 0) / 100.0 or None,
        shelf_life_days=info.get("shelf_life_days"),
        category=info.get("category"),
    )
    assert loaded["stock"]["quantity"] == expected.quantity and loaded["stock"]["days"] == 14
    engine.dispose()


def test_csv_neutralises_formulas() -> None:
    assert neutralised("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert neutralised("@SUM") == "'@SUM" and neutralised(-3.5) == -3.5
    assert neutralised("apple") == "apple"


# --- data page: upload through the same ETL ---------------------------------------------------


def _data_url(payload: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(payload).decode()


def test_upload_loads_with_the_etl_and_refuses_big_or_unknown_files(sqlite_warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    counties = (Path(__file__).resolve().parent.parent / "sample_data" / "canonical" / "counties.csv").read_bytes()
    engine = sqlite_warehouse.engine
    out = data.upload(engine, [_data_url(counties)], ["../../etc/counties.csv"])
    assert out[0]["status"] == "loaded" and out[0]["inserted"] == 5 and out[0]["name"] == "counties.csv"
    again = data.upload(engine, [_data_url(counties)], ["counties.csv"])
    assert again[0]["inserted"] == 0
    assert data.upload(engine, [_data_url(b"x" * 101)], ["big.csv"], max_bytes=100)[0]["status"] == "too_big"
    assert data.upload(engine, [_data_url(b"MZ")], ["tool.exe"])[0]["status"] == "bad_type"
    runs = data.runs(engine)
    options = [{"value": r["run_id"], "rejected": r["rejected"]} for r in runs]
    assert runs[0]["file"] == "counties.csv" and data.chosen_run(options, None) == runs[0]["run_id"]
    assert all(isinstance(li.children, str) for li in data.view_upload(out, "zh"))


def test_rejected_rows_are_listed_with_reasons(sqlite_warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = "county_id,name_zh,name_en,province_zh,province_en\n,无名县,Nowhere,甘肃省,Gansu\nok,好县,Good,甘肃省,Gansu\n"
    out = data.upload(sqlite_warehouse.engine, [_data_url(bad.encode())], ["counties.csv"])
    assert out[0]["rejected"] == 1
    run = data.chosen_run(
        [{"value": r["run_id"], "rejected": r["rejected"]} for r in data.runs(sqlite_warehouse.engine)], None
    )
    rows = data.rejects(sqlite_warehouse.engine, run)
    assert rows and rows[0]["line"] == 2 and rows[0]["message"]


def test_safe_names_are_never_paths() -> None:
    assert data.safe_name("../../etc/passwd", 0) == "passwd"
    assert data.safe_name("订单 明细<script>.csv", 1) == "订单_明细_script_.csv"
    assert data.safe_name("..", 2) == "upload-2"


# --- pure builders ----------------------------------------------------------------------------


def test_hints_compare_ratios_with_the_county() -> None:
    host_row = {
        "gmv": 80_000,
        "gmv_prev": 100_000,
        "gmv_per_live_hour": 5_000,
        "county_median_gmv_per_live_hour": 8_000,
        "explain_gpm_inside": 300.0,
        "explain_gpm_outside": 100.0,
        "refund_rate_amount": 0.12,
    }
    slots = pl.DataFrame({"weekday": [1, 5], "hour": [9, 20], "sessions": [3, 4], "gpm": [1_000.0, 9_000.0]})
    county_slots = pl.DataFrame({"weekday": [1, 5], "hour": [9, 20], "sessions": [9, 9], "gpm": [4_000.0, 8_000.0]})
    hints = host_hints(host_row, slots, county_slots, {"refund_rate_amount": 0.05}, "en")
    assert hints[0] == "GMV is down 20.0% on the previous period."
    assert "below the county's median host (¥80.00)" in hints[1]
    assert (
        hints[2] == "GPM on Tuesdays mornings (9:00 starts) (¥10.00) is below the county's for the same slot (¥40.00)."
    )
    assert "Saturdays evenings" in hints[3] and "3.0×" in hints[4] and "12.00%" in hints[5]
    assert host_hints({}, pl.DataFrame(), pl.DataFrame(), None, "zh") == []


def test_figures_draw_yuan_and_beijing_time() -> None:
    trend = pl.DataFrame({"day": [dt.date(2024, 10, 1)], "gmv": [12_345], "net_gmv": [10_000]})
    fig = figures.daily_trend(trend, "en")
    assert list(fig.data[0].y) == [123.45] and fig.data[0].name == "GMV"
    minutes = pl.DataFrame(
        {"minute_utc": [dt.datetime(2024, 10, 1, 11, 0, tzinfo=dt.UTC)], "online": [10], "orders": [2]}
    )
    replay = figures.session_replay(minutes, pl.DataFrame(), pl.DataFrame(), "zh")
    assert replay.data[0].x[0] == dt.datetime(2024, 10, 1, 19, 0)
    heat = figures.slot_heatmap(
        pl.DataFrame({"weekday": [0, 6], "hour": [20, 21], "sessions": [1, 2], "gpm": [500.0, None]}), "zh"
    )
    assert heat.data[0].z[0][0] == 5.0 and heat.data[0].z[6][1] is None and heat.data[0].y[0] == "周一"
    assert (
        figures.bars(pl.DataFrame(), "province", "gmv", "en").layout.annotations[0].text == "No data for this selection"
    )


def test_records_round_trip_times_and_days() -> None:
    when = dt.datetime(2024, 10, 1, 12, tzinfo=dt.UTC)
    rows = records(pl.DataFrame({"at": [when], "day": [dt.date(2024, 10, 1)], "x": [float("nan")]}))
    assert rows == [{"at": "2024-10-01T12:00:00+00:00", "day": "2024-10-01", "x": None}]
    back = frame(rows, times=("at",), days=("day",))
    assert back["at"][0] == when and back["day"][0] == dt.date(2024, 10, 1)
    assert filters_from("2024-10-01", "2024-10-31T00:00:00", "") == OCT


# --- through the app's own HTTP endpoint --------------------------------------------------------


def _update(client, output: str, outputs: dict[str, str], inputs: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    body = {"output": output, "outputs": outputs, "inputs": inputs, "changedPropIds": [], "state": []}
    return client.post("/_dash-update-component", json=body)


def test_load_host_over_http_returns_what_the_plain_function_returns(app, source) -> None:  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    resp = _update(
        client,
        f"{ids.HOST_DATA}.data",
        {"id": ids.HOST_DATA, "property": "data"},
        [
            {"id": ids.HOST_PICK, "property": "value", "value": "H0001"},
            {"id": ids.DATES, "property": "start_date", "value": "2024-10-01"},
            {"id": ids.DATES, "property": "end_date", "value": "2024-10-31"},
            {"id": ids.PLATFORM, "property": "value", "value": None},
        ],
    )
    assert resp.status_code == 200
    got = resp.get_json()["response"][ids.HOST_DATA]["data"]
    assert got["kpis"]["gmv"] == host.load(source, "H0001", OCT)["kpis"]["gmv"]


def test_switching_language_sets_the_cookie_and_translates_every_text_node(app) -> None:  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    text_ids = [ids.text("nav_host"), ids.text("hints")]
    body = {
        "output": next(k for k in app.callback_map if '"type":"text"' in k),
        "outputs": [
            [{"id": i, "property": "children"} for i in text_ids],
            {"id": ids.PLATFORM, "property": "options"},
            {"id": ids.PLATFORM, "property": "placeholder"},
        ],
        "inputs": [{"id": ids.LANG, "property": "value", "value": "en"}],
        "state": [[{"id": i, "property": "id", "value": i} for i in text_ids]],
        "changedPropIds": [f"{ids.LANG}.value"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:500]
    assert f"{i18n.COOKIE}=en" in resp.headers.get("Set-Cookie", "")
    assert "Host" in json.dumps(resp.get_json())


# --- the CLI skins ----------------------------------------------------------------------------


def test_demo_builds_the_sample_world_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from livecommerce.cli import main

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    runner = CliRunner()
    first = runner.invoke(main, ["--db", url, "demo", "--no-serve", "--no-forecast"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(main, ["--db", url, "demo", "--no-serve", "--no-forecast"])
    assert again.exit_code == 0 and "unchanged" in again.output
    from livecommerce.warehouse import connect

    engine = connect(url)
    assert queries.kpi_report(engine, EVERYTHING)["orders"][0] > 8000  # the sample world's paid orders, once
    engine.dispose()


def test_serve_prod_answers_http(sample_world) -> None:  # type: ignore[no-untyped-def]
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LIVECOMMERCE_DB_URL": sample_world.url, "LIVECOMMERCE_SECRET_KEY": "x" * 48}
    proc = subprocess.Popen(
        [sys.executable, "-m", "livecommerce", "serve", "--port", str(port), "--prod"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                # served by waitress behind the login: the login form answers, with its CSRF token
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as resp:
                    assert resp.status == 200 and b"csrf_token" in resp.read()
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_request_bodies_are_read_as_json_reads_them(app) -> None:  # type: ignore[no-untyped-def]
    """The app reads request bodies with orjson (``RequestJSON``): the same values as ``json.loads`` for a plan-like
    body (Chinese, ¥, nested lists, floats, nulls), and what orjson refuses (NaN, a 70-bit integer) still read by
    ``json``; Flask's ``request.get_json()`` (what Dash reads a callback's body with) gives that reading."""
    import math

    import flask

    from livecommerce.dashboard import RequestJSON

    assert isinstance(app.server.json, RequestJSON)
    body = {
        "output": "x.children",
        "inputs": [{"id": "a", "property": "value", "value": [1, 2.5, None, "礼县 ¥1.2万", {"k": [True, -0.1]}]}],
        "state": [{"id": "b", "property": "data", "value": {"sessions": [{"gmv": 1234567, "t": "2026-05-10T20:00"}]}}],
    }
    text = json.dumps(body, ensure_ascii=False)
    assert app.server.json.loads(text) == json.loads(text) == body
    assert app.server.json.loads(text.encode()) == body
    odd = '{"a": NaN, "b": 1180591620717411303424, "c": [Infinity]}'
    got = app.server.json.loads(odd)
    assert math.isnan(got["a"]) and got["b"] == 2**70 and got["c"] == [math.inf]
    with app.server.test_request_context("/x", method="POST", data=text.encode(), content_type="application/json"):
        assert flask.request.get_json() == body


class _Node:
    other: Any = None


def test_settle_collects_the_start_up_garbage_and_freezes_the_rest() -> None:
    """A serving process calls ``settle`` once after start-up: cycles already garbage are gone, and what is
    still alive is frozen (out of the collector's generations, so its full passes no longer walk it)."""
    a, b = _Node(), _Node()
    a.other, b.other = b, a  # a cycle: only the collector frees it
    gone = weakref.ref(a)
    del a, b
    kept = _Node()
    kept.other = _Node()
    before = gc.get_freeze_count()
    try:
        frozen = settle()
        assert gone() is None
        assert frozen == gc.get_freeze_count() > before
        assert not any(o is kept for o in gc.get_objects())  # frozen objects sit outside the generations
    finally:
        gc.unfreeze()  # this test process goes on making garbage of every kind
    assert any(o is kept for o in gc.get_objects())


def test_warm_draws_every_trace_type_the_builders_draw() -> None:
    """``settle`` warms plotly through ``figures.warm``: one trace of every type a builder draws, so that no
    viewer's first figure of a kind loads its validators; a builder drawing a new trace type must be added."""
    import inspect
    import re

    drawn = set(re.findall(r"\bgo\.(\w+)\(", inspect.getsource(figures))) - {"Figure"}
    assert drawn == {kind.__name__ for kind in figures.TRACE_TYPES}
    assert figures.warm() == ["scatter", "bar", "funnel", "heatmap"]
