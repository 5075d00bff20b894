"""The read API: hand-computed answers, properties over the sample world, scope, ground-truth totals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select, text
from test_rollups import D, _seed

from livecommerce import queries as q
from livecommerce.scope import Scope
from livecommerce.warehouse import connect, init
from livecommerce.warehouse.rollups import refresh

ROOT = Path(__file__).resolve().parents[1]
ALL = Scope.everything()
DAY = q.Filters(D, D)


@pytest.fixture
def tiny(warehouse):  # type: ignore[no-untyped-def]
    """The hand-made world of test_rollups (two hosts of 礼县, one session, seven lines)."""
    with warehouse.engine.begin() as conn:
        _seed(conn)
        refresh(conn, {"douyin": (dt.datetime(2025, 9, 30, tzinfo=dt.UTC), dt.datetime(2025, 10, 2, tzinfo=dt.UTC))})
    return warehouse.engine


@pytest.fixture(scope="module")
def sample(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The committed sample world's canonical files loaded through the ETL into a SQLite file."""
    from etl.jobs import load_paths

    db = tmp_path_factory.mktemp("sample") / "wh.db"
    engine = connect(f"sqlite:///{db}")
    init(engine)
    reports = load_paths(engine, [ROOT / "sample_data" / "canonical"])
    assert all(r.status in ("loaded", "skipped") for r in reports), [(r.path, r.status) for r in reports]
    return engine


def test_kpis_for_a_host_by_hand(tiny) -> None:  # type: ignore[no-untyped-def]
    row = q.kpi_report(tiny, ALL, "host", "H1", DAY).row(0, named=True)
    assert row["gmv"] == 23_000 and row["orders"] == 3 and row["buyers"] == 2 and row["refunds"] == 10_000
    assert row["net_gmv"] == 23_000 - 10_000 - 5_000
    assert row["sessions"] == 1 and row["effective_sessions"] == 1 and row["views"] == 1000
    assert row["gpm"] == pytest.approx(23_000 / 1000 * 1000)
    assert row["uv_value"] == pytest.approx(23_000 / 600)
    assert row["gmv_per_live_hour"] == pytest.approx(23_000 / 2)
    assert row["avg_online"] == pytest.approx(40.0)
    # previous day had nothing; position among 礼县's hosts by GMV per live hour (H2 has no live hours)
    assert row["gmv_prev"] == 0
    assert row["percentile_gmv_per_live_hour"] == 1.0 and row["county_median_gmv_per_live_hour"] == pytest.approx(
        11_500
    )


def test_county_league_rows_sum_to_the_county(tiny) -> None:  # type: ignore[no-untyped-def]
    period = q.Filters(D, D + dt.timedelta(days=1))
    league = q.league_table(tiny, ALL, "lixian", period)
    county = q.kpi_report(tiny, ALL, "county", "lixian", period).row(0, named=True)
    assert set(league["host_id"]) == {"H1", "H2", ""}
    for kpi in ("gmv", "net_gmv", "orders", "units", "refunds"):
        assert league[kpi].sum() == county[kpi], kpi
    assert league.filter(pl.col("host_id") == "H1")["effective_sessions"].item() == 1


def test_session_report_and_replay(tiny) -> None:  # type: ignore[no-untyped-def]
    row = q.kpi_report(tiny, ALL, "session", "douyin:S1").row(0, named=True)
    assert row["gmv"] == 23_000 and row["live_hours"] == pytest.approx(2.0) and row["sessions"] == 1
    assert row["explain_gpm_inside"] == pytest.approx(15_000 / 15)
    assert row["explain_gpm_outside"] == pytest.approx((23_000 - 15_000) / 105)
    replay = q.session_curve(tiny, ALL, "douyin", "S1")
    assert replay["explains"]["product_id"].to_list() == ["apple"]
    assert replay["minutes"]["gmv_fen"].sum() == 23_000  # orders per minute, no session_minute rows needed
    sessions = q.session_list(tiny, ALL, "H1")
    assert sessions["session_id"].to_list() == ["S1"] and sessions["gpm"].item() == pytest.approx(23_000)


def test_funnel_heatmap_provinces_refunds(tiny) -> None:  # type: ignore[no-untyped-def]
    fun = q.funnel(tiny, ALL, "host", "H1", DAY)
    assert fun["people"].to_list()[0] == 600 and fun["rate"][0] is None
    heat = q.slot_heatmap(tiny, ALL, "host", "H1")
    assert heat.select("weekday", "hour").row(0) == (2, 19)  # 2025-10-01 was a Wednesday, start 19:30
    provinces = q.buyer_provinces(tiny, ALL, "host", "H1", DAY)
    assert provinces["gmv"].sum() == 23_000 and provinces["share"].sum() == pytest.approx(1.0)
    by_product = q.refunds(tiny, ALL, by="product", filters=DAY)
    assert by_product.row(0, named=True)["refund_fen"] == 10_000
    assert by_product.row(0, named=True)["refund_rate_amount"] == pytest.approx(
        10_000 / 25_000
    )  # apple that day: H1 20,000 + H2 5,000


def test_scope_limits_every_query(tiny) -> None:  # type: ignore[no-untyped-def]
    h2 = Scope.of(hosts=["H2"])
    assert q.kpi_report(tiny, h2, "host", "H1", DAY).is_empty()
    assert q.kpi_report(tiny, h2, "county", "lixian", DAY).is_empty()
    assert q.league_table(tiny, h2, "lixian").is_empty()
    assert q.session_curve(tiny, h2, "douyin", "S1")["minutes"].is_empty()
    assert q.session_list(tiny, h2).is_empty()
    overview = q.kpi_report(tiny, h2, filters=DAY).row(0, named=True)
    assert overview["gmv"] == 5000 and overview["sessions"] == 0  # only H2's own line
    assert set(q.top_hosts(tiny, h2)["host_key"]) == {"H2"}
    envoy = Scope.of(counties=["lixian"])
    assert q.kpi_report(tiny, envoy, "county", "lixian", DAY).row(0, named=True)["gmv"] == 28_000
    assert q.kpi_report(tiny, Scope(), filters=DAY).row(0, named=True)["gmv"] == 0


def test_sample_world_totals_match_the_canonical_orders(sample) -> None:  # type: ignore[no-untyped-def]
    orders = pl.read_csv(ROOT / "sample_data" / "canonical" / "orders.csv", infer_schema_length=0)
    paid_statuses = ["paid", "shipped", "completed", "refunded", "partially_refunded"]  # cancelled counts if paid
    paid = orders.filter(pl.col("status").is_in(paid_statuses) | pl.col("paid_at_utc").is_not_null())
    amount = paid["amount_fen"].cast(pl.Int64)
    row = q.kpi_report(sample, ALL).row(0, named=True)
    assert row["gmv"] == amount.sum()
    assert row["units"] == paid["quantity"].cast(pl.Int64).sum()
    assert row["refunds"] == paid["refund_fen"].cast(pl.Int64).sum()
    assert row["orders"] == paid.select(pl.concat_str("platform_id", "order_id").n_unique()).item()


def test_sample_world_properties(sample) -> None:  # type: ignore[no-untyped-def]
    total = q.kpi_report(sample, ALL).row(0, named=True)
    counties = ["lixian", "puan", "yijun", "yuyang", "nangqian"]
    per_county = [q.kpi_report(sample, ALL, "county", c).row(0, named=True) for c in counties]
    assert sum(r["gmv"] for r in per_county) == total["gmv"]  # every product belongs to one county
    for row in [total, *per_county]:
        assert row["net_gmv"] <= row["gmv"]
        for rate in ("refund_rate_amount", "refund_rate_orders", "cancellation_rate"):
            assert row[rate] is None or 0 <= row[rate] <= 1
    trend = q.daily_trend(sample, ALL)
    assert trend["gmv"].sum() == total["gmv"]
    # a ratio over the whole period is the ratio of the sums, not the mean of daily ratios
    assert total["refund_rate_amount"] == pytest.approx(trend["refunds"].sum() / trend["gmv"].sum())
    history = q.demand_history(sample)
    assert history["y"].sum() == total["units"] and history.equals(history.sort("unique_id", "ds"))
    assert (history["price"] > 0).all()


def test_everything_reads_the_platform_rollup_and_agrees_with_the_host_rollup(sample) -> None:  # type: ignore[no-untyped-def]
    """An analyst's overview, trend and freshness come from rollup_platform_daily (one row per day and
    platform); a scope naming every county and host reads rollup_daily instead: the same numbers."""
    from livecommerce.warehouse.tables import Host

    with sample.connect() as conn:
        hosts = list(conn.execute(select(Host.__table__.c.host_id)).scalars())
    named = Scope.of(hosts=hosts, counties=["lixian", "puan", "yijun", "yuyang", "nangqian"])
    sales = ["gmv", "net_gmv", "refunds", "orders", "units", "buyers", "aov", "refund_rate_amount"]
    everything = q.kpi_report(sample, ALL).select(sales)
    assert everything["gmv"][0] > 0
    assert everything.equals(q.kpi_report(sample, named).select(sales))
    last = q.daily_trend(sample, ALL)["day"].max()
    f = q.Filters(last - dt.timedelta(days=29), last, platform="douyin")
    assert q.daily_trend(sample, ALL, filters=f).equals(q.daily_trend(sample, named, filters=f))
    assert 20 <= q.daily_trend(sample, ALL, filters=f).height <= 30  # the sample world sells most days
    now = dt.datetime.combine(last, dt.time(12), dt.UTC)
    fresh = q.freshness(sample, ALL, now=now).drop("last_load_utc")
    assert fresh.height >= 2 and fresh["open_after_sale_fen"].sum() > 0
    assert fresh.equals(q.freshness(sample, named, now=now).drop("last_load_utc"))
    # refunds of everything and of a county come from the refund rollup without hosts: same figures
    for by in ("reason", "days_in_transit", "product"):
        hostless = q.refunds(sample, ALL, by).sort(by)
        assert hostless["refund_fen"].sum() > 0
        assert hostless.equals(q.refunds(sample, named, by).sort(by))
    county = q.refunds(sample, ALL, "reason", "county", "lixian")
    with sample.connect() as conn:
        by_host = conn.execute(
            text(
                "SELECT sum(r.refund_fen) FROM rollup_refund r JOIN product p ON p.product_id = r.product_key "
                "WHERE p.county_id = 'lixian'"
            )
        ).scalar()
    assert county["refund_fen"].sum() == by_host > 0


def test_provinces_and_refunds_of_all_platforms_add_up_each_platforms(sample) -> None:  # type: ignore[no-untyped-def]
    """Without a platform filter provinces and refunds read rollups summed over platforms; they
    equal the platform-filtered answers (per-platform rollups) added up."""
    with sample.connect() as conn:
        platforms = list(conn.execute(text("SELECT DISTINCT platform_id FROM rollup_geo")).scalars())
    assert len(platforms) >= 2
    cases = [
        (q.buyer_provinces, {}, "province", ["gmv", "orders"]),
        # (a province's GMV there counts only on the platforms with refunds into it: not additive)
        (q.refunds, {"by": "province"}, "province", ["refund_fen", "refunded_lines"]),
        (q.refunds, {"by": "reason"}, "reason", ["refund_fen", "refunded_lines"]),
        (q.refunds, {"by": "product"}, "product", ["refund_fen", "refunded_lines"]),
    ]
    for level, key in (("county", "lixian"), ("overview", None)):
        for func, kw, group, measures in cases:
            whole = func(sample, ALL, level=level, key=key, **kw).select(group, *measures).sort(group)
            parts = pl.concat(
                [
                    func(sample, ALL, level=level, key=key, filters=q.Filters(platform=p), **kw).select(
                        group, *measures
                    )
                    for p in platforms
                ]
            )
            summed = parts.group_by(group).agg(pl.col(m).sum() for m in measures).sort(group)
            assert whole[measures[0]].sum() > 0
            assert whole.cast({m: pl.Int64 for m in measures}).equals(summed.cast({m: pl.Int64 for m in measures}))


def test_session_sales_of_some_hosts_are_their_rows_of_everyone(sample) -> None:  # type: ignore[no-untyped-def]
    everyone = q.session_sales(sample, ALL)
    host = everyone.group_by("host_id").len().sort("len", "host_id", descending=True)["host_id"][0]
    mine = q.session_sales(sample, ALL, host_ids=[host])
    keys = ["platform_id", "session_id", "product_id"]
    assert mine.height > 0 and set(mine["host_id"].to_list()) == {host}
    assert mine.sort(keys).equals(everyone.filter(pl.col("host_id") == host).sort(keys))
    assert q.session_sales(sample, ALL, host_ids=[]).is_empty()


def test_previous_period_has_the_same_length_and_none_before_the_calendar() -> None:
    f = q.Filters(dt.date(2025, 3, 1), dt.date(2025, 3, 31), "douyin")
    assert f.previous() == q.Filters(dt.date(2025, 1, 29), dt.date(2025, 2, 28), "douyin")
    assert q.Filters(dt.date(1, 1, 11), dt.date(1, 1, 20)).previous() == q.Filters(dt.date(1, 1, 1), dt.date(1, 1, 10))
    assert q.Filters(dt.date(1, 1, 10), dt.date(1, 1, 19)).previous() is None
    assert q.Filters(dt.date(1, 1, 5), dt.date(1000, 1, 1)).previous() is None  # would start before year 1
    assert q.Filters(None, dt.date(2025, 1, 1)).previous() is None


def test_top_lists_and_league_carry_the_names_of_their_rows(sample) -> None:  # type: ignore[no-untyped-def]
    from livecommerce.warehouse.tables import Host, Product

    with sample.connect() as conn:
        hosts = dict(conn.execute(select(Host.__table__.c.host_id, Host.__table__.c.name)).all())
        titles = dict(conn.execute(select(Product.__table__.c.product_id, Product.__table__.c.title)).all())
    top = q.top_hosts(sample, ALL, limit=3).filter(pl.col("host_key") != "")
    assert top.height >= 1 and top["name"].to_list() == [hosts[h] for h in top["host_key"].to_list()]
    products = q.top_products(sample, ALL, limit=3)
    assert products["title"].to_list() == [titles[p] for p in products["product_key"].to_list()]
    league = q.league_table(sample, ALL, "lixian").filter(pl.col("host_id") != "")
    assert league.height >= 1 and league["name"].to_list() == [hosts[h] for h in league["host_id"].to_list()]


def _answers(engine, periods, host: str, county: str) -> list[pl.DataFrame]:  # type: ignore[no-untyped-def]
    """What the overview, host and county pages ask for, over each period."""
    from livecommerce.warehouse.tables import Host

    with engine.connect() as conn:
        hosts = list(conn.execute(select(Host.__table__.c.host_id)).scalars())
    named = Scope.of(hosts=hosts, counties=[county])  # reads rollup_daily, not the per-platform rollup
    out = []
    for f in periods:
        out += [
            q.kpi_report(engine, ALL, filters=f),
            q.kpi_report(engine, named, filters=f),
            q.kpi_report(engine, ALL, "host", host, f),
            q.kpi_report(engine, ALL, "county", county, f),
            q.league_table(engine, ALL, county, f),
            q.top_hosts(engine, ALL, f),
            q.top_products(engine, ALL, f, level="host", key=host),
            q.funnel(engine, ALL, "county", county, f),
            q.buyer_provinces(engine, ALL, "host", host, f),
            q.buyer_provinces(engine, ALL, "county", county, f),
            q.refunds(engine, ALL, "reason", "county", county, f),
            q.refunds(engine, ALL, "province", "county", county, f),
            q.refunds(engine, ALL, "days_in_transit", filters=f),
        ]
    return out


def _statements(engine):  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    seen: list[str] = []

    def remember(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    return seen, lambda: event.remove(engine, "before_cursor_execute", remember)


def _tiles_agree(engine, periods, host: str, county: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seen, stop = _statements(engine)
    try:
        tiled = _answers(engine, periods, host, county)
    finally:
        stop()
    monthly = ("rollup_monthly", "rollup_session_monthly", "rollup_geo_host_monthly", "rollup_geo_monthly")
    for table in (*monthly, "rollup_refund_product_monthly"):
        assert any(table in s for s in seen), table
    monkeypatch.setattr(q, "_MONTHLY", {})  # every period from the daily rollups only
    daily = _answers(engine, periods, host, county)
    assert any(frame.height for frame in daily)
    for i, (a, b) in enumerate(zip(tiled, daily, strict=True)):
        assert a.equals(b), (i // 13, i % 13, periods[i // 13])


def test_whole_months_read_the_monthly_rollups_and_answer_the_same(sample_world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A period's whole months come from rollup_monthly / rollup_session_monthly and its partial
    months' days from the daily rollups: every total, league, top list and funnel is the same as from
    the daily rollups alone, for open, month-aligned and unaligned periods."""
    engine = sample_world.engine
    days = q.daily_trend(engine, ALL)["day"]
    first, last = days.min(), days.max()
    second = (first.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    third = (second + dt.timedelta(days=32)).replace(day=1)
    periods = [
        q.Filters(),
        q.Filters(platform="douyin"),
        q.Filters(start=first + dt.timedelta(days=9)),
        q.Filters(end=last - dt.timedelta(days=17)),
        q.Filters(second, third - dt.timedelta(days=1)),  # exactly one month
        q.Filters(second + dt.timedelta(days=4), third + dt.timedelta(days=20), platform="douyin"),
        q.Filters(second + dt.timedelta(days=2), second + dt.timedelta(days=20)),  # inside one month
    ]
    host = q.league_table(engine, ALL, "lixian")["host_id"][0]
    _tiles_agree(engine, periods, host, "lixian", monkeypatch)


def test_monthly_tiles_on_both_databases(warehouse, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The same comparison on the hand-made world spread over three months (PostgreSQL's SQL too)."""
    from test_rollups import _line, _t

    from livecommerce.warehouse import upsert
    from livecommerce.warehouse.tables import LiveSession, OrderLine

    engine = warehouse.engine
    later = [_t(20, day=1) + dt.timedelta(days=d) for d in (12, 33, 47, 61)]  # Oct 13, Nov 3, Nov 17, Dec 1
    with engine.begin() as conn:
        _seed(conn)
        upsert(
            conn,
            OrderLine.__table__,
            [_line(f"m{i}", 1, buyer_id=f"m{i}", created_at_utc=t, paid_at_utc=t, host_id="H1" if i % 2 else "H2")
             for i, t in enumerate(later)],
        )  # fmt: skip
        upsert(
            conn,
            LiveSession.__table__,
            [{"platform_id": "douyin", "session_id": f"L{i}", "host_id": "H1", "started_at_utc": t,
              "ended_at_utc": t + dt.timedelta(minutes=25 + 10 * i), "views": 10 * i, "viewers": 5 + i,
              "peak_online": 3 + i} for i, t in enumerate(later)],
        )  # fmt: skip
        refresh(conn, {"douyin": (_t(0), later[-1] + dt.timedelta(hours=2))})
    periods = [
        q.Filters(),
        q.Filters(platform="douyin"),
        q.Filters(start=dt.date(2025, 10, 2)),
        q.Filters(end=dt.date(2025, 11, 30)),
        q.Filters(dt.date(2025, 11, 1), dt.date(2025, 11, 30)),
        q.Filters(dt.date(2025, 10, 13), dt.date(2025, 12, 1)),
    ]
    _tiles_agree(engine, periods, "H1", "lixian", monkeypatch)


def test_heatmap_cells_are_the_sessions_local_start_times(sample_world) -> None:  # type: ignore[no-untyped-def]
    """The heatmap is summed in the database; its cells equal the sessions' own Asia/Shanghai start
    weekday and hour, counted and summed here from the session list."""
    from livecommerce.metrics import kpis

    engine = sample_world.engine
    hosts = q.league_table(engine, ALL, "lixian")["host_id"].to_list()
    sessions = pl.concat([q.session_list(engine, ALL, h) for h in hosts if h], how="diagonal_relaxed")
    assert sessions.height >= 10
    local = pl.col("started_at_utc").dt.convert_time_zone("Asia/Shanghai")
    cells = sessions.with_columns(
        (local.dt.weekday() - 1).cast(pl.Int8).alias("weekday"),
        local.dt.hour().cast(pl.Int8).alias("hour"),
        pl.lit(1).alias("sessions"),
        pl.col("gmv_fen").alias("live_gmv_fen"),
    )
    names = ["sessions", "gpm", "watch_to_order", "uv_value"]
    expected = kpis(cells, names, by=["weekday", "hour"]).sort("weekday", "hour")
    heat = q.slot_heatmap(engine, ALL, "county", "lixian")
    assert heat.select("weekday", "hour", *names).equals(expected.select("weekday", "hour", *names))
    assert heat["sessions"].sum() == sessions.height


def test_one_products_history_is_its_rows_of_everyones(sample_world) -> None:  # type: ignore[no-untyped-def]
    """A product's demand history reads only its county's sessions: the same rows as everyone's."""
    engine = sample_world.engine
    everyone = q.demand_history(engine)
    assert everyone["sessions"].sum() > 0
    for product in everyone["unique_id"].unique().sort().to_list()[:4]:
        mine = q.demand_history(engine, product_ids=[product])
        assert mine.equals(everyone.filter(pl.col("unique_id") == product)), product
    county = q.demand_history(engine, county_ids=["lixian"])
    assert county.height and county.equals(everyone.filter(pl.col("unique_id").is_in(county["unique_id"].to_list())))


def test_a_load_leaves_statistics_for_the_rollups(sample_world) -> None:  # type: ignore[no-untyped-def]
    """The ETL ANALYZEs the rollups (sampled on SQLite): the planner then reads a county's sessions
    through the (host, day) index, not through the platform's primary key."""
    with sample_world.engine.connect() as conn:
        analysed = set(conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1").scalars())
        assert {"rollup_session", "rollup_daily", "rollup_monthly", "rollup_geo_host_monthly"} <= analysed
        plan = " ".join(
            str(r[-1])
            for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT sum(views) FROM rollup_session WHERE host_id IN ('H0001', 'H0002') "
                "AND day >= '2024-10-01' AND day <= '2024-10-30' AND platform_id = 'douyin'"
            )
        )
    assert "ix_rollup_session_host_id_day" in plan, plan
