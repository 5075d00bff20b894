"""Plans in the warehouse (SQLite and PostgreSQL): save, list, load, re-save after an edit; the CLI on the
sample world (plan, --save, --csv, --ics, --json; plan actual) and plan vs actual."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from livecommerce import planner
from livecommerce.cli import main
from livecommerce.scope import Scope
from livecommerce.warehouse import upsert
from livecommerce.warehouse.tables import County, Host, Product, SessionPlan, SessionPlanItem


def _dims(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        upsert(conn, County.__table__, [{"county_id": "ca", "name_zh": "甲县", "name_en": "A"}])
        upsert(
            conn,
            Host.__table__,
            [{"host_id": "A1", "name": "甲一", "kind": "farmer", "county_id": "ca", "platform_id": "taobao"}],
        )
        upsert(
            conn,
            Product.__table__,
            [
                {"product_id": p, "title": p, "county_id": "ca", "list_price_fen": 4990, "unit_cost_fen": 2600}
                for p in ("a-apple", "a-tea")
            ],
        )


def _session(products: tuple[str, ...]) -> planner.PlannedSession:
    start = dt.datetime(2024, 11, 2, 11, 0, tzinfo=dt.UTC)
    items = tuple(
        planner.PlannedItem(
            product_id=p,
            title=p,
            role="traffic" if k == 0 else "profit",
            price_fen=4990,
            list_price_fen=4990,
            price_test=k == 1,
            explain_minutes=40.0,
            expected_units=50.5,
            units_p50=50,
            units_p90=62,
            units_to_prepare=60,
            expected_gmv_fen=252_000,
            expected_profit_fen=120_000,
            stock_on_hand=None,
            reasons=(planner.Reason("why", "为什么"),),
        )
        for k, p in enumerate(products)
    )
    return planner.PlannedSession(
        plan_id=planner._plan_id("A1", start),
        host_id="A1",
        host_name="甲一",
        county_id="ca",
        platform_id="taobao",
        start_utc=start,
        end_utc=start + dt.timedelta(hours=3),
        slot="prime",
        based_on="county",
        expected_gmv_fen=504_000,
        gmv_low_fen=400_000,
        gmv_high_fen=610_000,
        expected_profit_fen=240_000,
        items=items,
        reasons=(planner.Reason("based on county data", "基于县域数据"),),
    )


def test_save_list_load_and_resave(warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    _dims(engine)
    s = _session(("a-apple", "a-tea"))
    assert planner.save_plan(engine, [s]) == [s.plan_id]
    listed = planner.plans(engine, county_id="ca", start=dt.date(2024, 11, 2), end=dt.date(2024, 11, 2))
    assert listed["plan_id"].to_list() == [s.plan_id] and listed["status"][0] == "planned"
    few = planner.plans(engine, county_id="ca", columns=("plan_id", "host_id", "planned_start_utc"))
    assert (
        few.columns == ["plan_id", "host_id", "planned_start_utc"] and few.rows() == listed.select(few.columns).rows()
    )
    assert planner.plans(engine, Scope.of(hosts=["someone-else"]), columns=("plan_id",)).is_empty()
    back = planner.load_plan(engine, s.plan_id)
    assert back.start_utc == s.start_utc and back.expected_gmv_fen == 504_000 and back.reasons == s.reasons
    got = [(i.product_id, i.units_p90, i.price_test) for i in back.items]
    assert got == [("a-apple", 62, False), ("a-tea", 62, True)]
    # the same session saved again from a plan built later: nothing is written, it keeps when it was first saved
    first_saved = listed["created_at_utc"][0]
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        before = conn.execute(select(SessionPlan.__table__)).all()
    planner.save_plan(engine, planner.Plan((s,), dt.date(2024, 11, 2), 1, later))
    with engine.begin() as conn:
        assert conn.execute(select(SessionPlan.__table__)).all() == before
    # changed, it is updated, still with its first saving time
    moved = replace(s, expected_gmv_fen=505_000)
    planner.save_plan(engine, planner.Plan((moved,), dt.date(2024, 11, 2), 1, later))
    again = planner.plans(engine, county_id="ca")
    assert again["expected_gmv_fen"][0] == 505_000 and again["created_at_utc"][0] == first_saved != later
    # an edit dropped the tea: saving again updates the session and removes the item
    planner.save_plan(engine, [_session(("a-apple",))])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SessionPlanItem.__table__)).scalar() == 1
    assert planner.plans(engine, Scope.of(hosts=["someone-else"])).is_empty()
    assert planner.plan_vs_actual(engine, s.plan_id)["session_id"].to_list() == [None]
    # the host and its county's envoy may open the saved session; another host may not, nor anyone a plan
    # that does not exist
    for scope in (Scope.of(hosts=["A1"]), Scope.of(counties=["ca"])):
        assert planner.load_plan(engine, s.plan_id, scope).host_name == "甲一"
    for scope, plan_id in ((Scope.of(hosts=["someone-else"]), s.plan_id), (Scope.everything(), "no-such-plan")):
        with pytest.raises(planner.PlanError, match="no saved plan"):
            planner.load_plan(engine, plan_id, scope)
        with pytest.raises(planner.PlanError, match="no saved plan"):
            planner.plan_vs_actual(engine, plan_id, scope)


def test_cli_plans_saves_exports_and_compares(sample_world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = sample_world.env
    ics, out = tmp_path / "plan.ics", tmp_path / "plan.csv"
    args = ["plan", "--county", "lixian", "--from", "2024-09-07", "--days", "1", "--save", "--json"]
    result = runner.invoke(main, [*args, "--ics", str(ics), "--csv", str(out)], env=env)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert len(doc["sessions"]) == 1 and doc["saved"] == [doc["sessions"][0]["plan_id"]]
    assert ics.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")
    assert out.read_text(encoding="utf-8-sig").splitlines()[0].split(",") == list(planner.CSV_COLUMNS)
    plan_id = doc["saved"][0]
    actual = runner.invoke(main, ["plan", "actual", "--plan", plan_id, "--json"], env=env)
    assert actual.exit_code == 0, actual.output
    rows = json.loads(actual.output)["products"]
    frame = planner.plan_vs_actual(sample_world.engine, plan_id)
    keys = ("product_id", "units_to_prepare", "actual_units", "actual_gmv_fen", "stock_left", "sold_out", "session_id")
    assert [{k: r[k] for k in keys} for r in rows] == [{k: r[k] for k in keys} for r in frame.to_dicts()]
    assert frame["session_id"][0] == "TA240000002" and frame["actual_units"].sum() > 0
    both = runner.invoke(main, ["plan", "--county", "lixian", "--host", "H0001"], env=env)
    assert both.exit_code == 2 and "--host" in both.output
    missing = runner.invoke(main, ["plan", "actual", "--plan", "nope"], env=env)
    assert missing.exit_code == 1 and "nope" in missing.output and "Traceback" not in missing.output


def test_a_stored_demand_model_is_read_until_the_warehouse_changes(sample_world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``forecast run`` stores the planner's model; plans read it (no refit) while the sessions, hosts and
    products it was fitted on are unchanged, and refit once they change."""
    from livecommerce.warehouse import connect
    from livecommerce.warehouse.tables import PlannerModel, RollupSession

    path = tmp_path / "copy.db"
    with sample_world.engine.connect() as conn:  # a consistent copy of the shared world
        conn.exec_driver_sql(f"VACUUM INTO '{path}'")
    engine = connect(f"sqlite:///{path}")
    try:
        planner._FITS.clear()
        fitted = planner.demand_model(engine)
        model_id = planner.store_demand_model(engine)
        pm = PlannerModel.__table__
        with engine.begin() as conn:
            assert conn.execute(select(func.count()).select_from(pm)).scalar() == 1
            doc = json.loads(conn.execute(select(pm.c.payload)).scalar())
            # the stored model is the fit on every session
            assert doc["coef"] == pytest.approx(dict(fitted.coef), rel=1e-9)
            # mark the stored model so that reading it (not refitting) is visible
            term = next(iter(doc["coef"]))
            doc["coef"][term] = 123.0
            conn.execute(pm.update().values(payload=json.dumps(doc)))
        planner._FITS.clear()
        assert planner.demand_model(engine).coef[term] == 123.0
        # a model for an earlier end date is fitted, never read from the store
        until = fitted.last_day - dt.timedelta(days=1)
        assert planner.demand_model(engine, until=until).coef[term] != 123.0
        # one session fewer: the stored model no longer fits the warehouse and is refitted
        rs = RollupSession.__table__
        with engine.begin() as conn:
            last = conn.execute(select(rs.c.platform_id, rs.c.session_id).order_by(rs.c.started_at_utc.desc())).first()
            conn.execute(rs.delete().where(rs.c.platform_id == last[0], rs.c.session_id == last[1]))
        planner._FITS.clear()
        assert planner.demand_model(engine).coef[term] != 123.0
        # the newest few are kept
        ids = [planner.store_demand_model(engine) for _ in range(4)]
        with engine.connect() as conn:
            kept = set(conn.execute(select(pm.c.model_id)).scalars())
        assert model_id not in kept and kept == set(ids[-3:])
    finally:
        planner._FITS.clear()
        engine.dispose()


def test_the_plan_page_keeps_an_outline_and_details_what_is_opened_or_saved(sample_world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The plan page's store holds an outline (no item laws); the session opened shows, and saving stores,
    the same quantities and reasons as the detailed plan of ``plan_from_warehouse``."""
    from livecommerce.config import load_settings
    from livecommerce.dashboard.callbacks import plan as page
    from livecommerce.dashboard.data import Source
    from livecommerce.money import format_yuan
    from livecommerce.warehouse import connect

    path = tmp_path / "copy.db"
    with sample_world.engine.connect() as conn:  # saving writes: a copy of the shared world
        conn.exec_driver_sql(f"VACUUM INTO '{path}'")
    engine = connect(f"sqlite:///{path}")
    try:
        source = Source(engine, load_settings({"LIVECOMMERCE_DB_URL": f"sqlite:///{path}"}))
        data = page.build(source, "lixian", None, "2024-09-07", 3)
        full = planner.plan_from_warehouse(engine, county_id="lixian", start=dt.date(2024, 9, 7), days=3)
        stored = data["plan"]["sessions"]
        assert [s["plan_id"] for s in stored] == [s.plan_id for s in full.sessions] and stored
        assert all(i["units_to_prepare"] is None for s in stored for i in s["items"])
        for s in full.sessions:
            _, _, chosen, rows, _, expected, reasons = page.session_view(page.picked(data, s.plan_id), "zh", source)
            assert chosen == [i.product_id for i in s.items]
            assert format_yuan(s.expected_gmv_fen, lang="zh") in expected
            assert [(r["units_p50"], r["units_p90"], r["units_to_prepare"]) for r in rows] == [
                (i.units_p50, i.units_p90, i.units_to_prepare) for i in s.items
            ]
            assert len(reasons) == len(s.reasons) + sum(len(i.reasons) for i in s.items)
        assert page.save(source, data, "zh") == f"已保存 {len(full.sessions)} 场"
        for s in full.sessions:
            back = planner.load_plan(engine, s.plan_id)
            assert [(i.units_p50, i.units_p90, i.units_to_prepare, i.reasons) for i in back.items] == [
                (i.units_p50, i.units_p90, i.units_to_prepare, i.reasons) for i in s.items
            ]
    finally:
        engine.dispose()


def test_the_plan_page_reads_the_county_directory_once_for_hosts_and_products(sample_world) -> None:  # type: ignore[no-untyped-def]
    """Building a plan on the page reads the county's directory once: the store carries the county's products
    (the session editor's choices), and the plan made from the hosts read there is the plan ``plan_from_warehouse``
    makes reading them itself, for the county and for one of its hosts; a host outside the county is refused."""
    import polars as pl

    from livecommerce import queries
    from livecommerce.config import load_settings
    from livecommerce.dashboard.callbacks import plan as page
    from livecommerce.dashboard.data import Source
    from livecommerce.scope import Scope

    engine = sample_world.engine
    source = Source(engine, load_settings({"LIVECOMMERCE_DB_URL": "sqlite://"}))
    found = queries.directory(engine, Scope.everything(), county_id="lixian")
    planner.demand_model(engine, source.scope())  # fitted (and kept) before: its fit reads the whole directory
    reads = []
    real = queries.directory

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(kwargs.get("county_id"))
        return real(*args, **kwargs)

    queries.directory = counted
    try:
        data = page.build(source, "lixian", None, "2024-09-07", 3)
        host = found["hosts"].filter(pl.col("platform_id").is_not_null())["host_id"][0]
        mine = page.build(source, "lixian", host, "2024-09-07", 3)
    finally:
        queries.directory = real
    assert reads == ["lixian", "lixian"]  # one read a plan, by county
    wanted = found["products"].select("product_id", "title").to_dicts()
    assert data["products"] == wanted and mine["products"] == wanted and len(wanted) > 1
    day = dt.date(2024, 9, 7)
    county = planner.plan_from_warehouse(engine, county_id="lixian", start=day, days=3, detail=False)
    alone = planner.plan_from_warehouse(engine, host_id=host, start=day, days=3, detail=False)
    assert [s["plan_id"] for s in data["plan"]["sessions"]] == [s.plan_id for s in county.sessions]
    assert [s["plan_id"] for s in mine["plan"]["sessions"]] == [s.plan_id for s in alone.sessions]
    assert {s["host_id"] for s in mine["plan"]["sessions"]} == {host} and alone.sessions
    assert planner.Plan.from_dict(data["plan"]).sessions == county.sessions
    other = queries.directory(engine, Scope.everything())["hosts"].filter(
        (pl.col("county_id") != "lixian") & pl.col("platform_id").is_not_null()
    )["host_id"][0]
    refused = page.build(source, "lixian", other, "2024-09-07", 3)
    assert "plan" not in refused and other in refused["error"] and refused["products"] == wanted


def test_the_plan_page_downloads_the_detailed_plan_as_csv_and_calendar(sample_world) -> None:  # type: ignore[no-untyped-def]
    """The plan page's downloads are the plan as ``planner.to_csv`` / ``to_ics`` write it, detailed: one CSV row per
    session and product with its units to prepare (and a byte-order mark for Excel), one calendar event per
    session with its stable UID; no plan, no file."""
    import csv
    import io

    from livecommerce.config import load_settings
    from livecommerce.dashboard.callbacks import plan as page
    from livecommerce.dashboard.data import Source

    source = Source(sample_world.engine, load_settings({"LIVECOMMERCE_DB_URL": "sqlite://"}))
    data = page.build(source, "lixian", None, "2024-09-07", 3)
    full = planner.plan_from_warehouse(sample_world.engine, county_id="lixian", start=dt.date(2024, 9, 7), days=3)
    assert full.sessions and all(i["units_to_prepare"] is None for s in data["plan"]["sessions"] for i in s["items"])
    sheet = page.plan_file(source, data, "csv", "zh")
    assert sheet is not None and sheet["filename"] == "plan-lixian-2024-09-07-3d.csv" and sheet["type"] == "text/csv"
    assert sheet["content"].startswith("\ufeff") and sheet["content"][1:] == planner.to_csv(full)
    rows = list(csv.DictReader(io.StringIO(sheet["content"][1:])))
    assert len(rows) == sum(len(s.items) for s in full.sessions)
    assert [int(r["units_to_prepare"]) for r in rows] == [i.units_to_prepare for s in full.sessions for i in s.items]
    cal = page.plan_file(source, data, "ics", "en")
    assert cal is not None and cal["filename"].endswith(".ics") and cal["type"] == "text/calendar"
    uids = [line[4:] for line in cal["content"].split("\r\n") if line.startswith("UID:")]
    assert uids == [f"{s.plan_id}@livecommerce" for s in full.sessions]
    assert page.plan_file(source, {}, "csv", "zh") is None and page.plan_file(source, None, "ics", "zh") is None


def test_a_plans_csv_neutralises_text_that_a_spreadsheet_would_run() -> None:
    """A product title or host name from a platform export that starts like a formula (``=``, ``+``, ``-``, ``@``)
    is written with a leading apostrophe: opened in Excel or WPS it stays text."""
    import csv
    import io

    session = replace(_session(("=HYPERLINK(1)", "apple")), host_name="@SUM(A1)")
    plan = planner.Plan((session,), dt.date(2024, 11, 2), 1, dt.datetime(2024, 11, 1, tzinfo=dt.UTC))
    rows = list(csv.DictReader(io.StringIO(planner.to_csv(plan))))
    assert [r["product_id"] for r in rows] == ["'=HYPERLINK(1)", "apple"]
    assert [r["title"] for r in rows] == ["'=HYPERLINK(1)", "apple"]
    assert {r["host_name"] for r in rows} == {"'@SUM(A1)"} and rows[0]["expected_gmv_yuan"] == "2520.00"
