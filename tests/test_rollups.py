"""Rollups: hand-computed daily and session figures, local day boundaries, idempotence, re-attribution."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import func, select, update

from livecommerce.metrics import kpis
from livecommerce.warehouse import upsert
from livecommerce.warehouse.rollups import refresh, refresh_all
from livecommerce.warehouse.tables import (
    County,
    Host,
    LiveSession,
    OrderLine,
    Product,
    RollupDaily,
    RollupGeo,
    RollupGeoHostMonthly,
    RollupGeoMonthly,
    RollupGeoTotal,
    RollupMonthly,
    RollupPlatformDaily,
    RollupProductDaily,
    RollupRefund,
    RollupRefundProduct,
    RollupRefundProductMonthly,
    RollupRefundTotal,
    RollupSession,
    RollupSessionMonthly,
    SessionProduct,
)

UTC = dt.UTC
ROLLUPS = (
    RollupDaily,
    RollupMonthly,
    RollupPlatformDaily,
    RollupProductDaily,
    RollupGeo,
    RollupGeoHostMonthly,
    RollupGeoMonthly,
    RollupGeoTotal,
    RollupRefund,
    RollupRefundProduct,
    RollupRefundProductMonthly,
    RollupRefundTotal,
)
D = dt.date(2025, 10, 1)


def _t(hh: int, mm: int = 0, day: int = 1) -> dt.datetime:
    """Asia/Shanghai wall time on 2025-10-<day> as a UTC datetime."""
    return dt.datetime(2025, 10, day, hh, mm, tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(UTC)


def _line(order: str, line: int, **kw):  # type: ignore[no-untyped-def]
    row = {
        "platform_id": "douyin",
        "order_id": order,
        "line_no": line,
        "product_id": "apple",
        "quantity": 1,
        "unit_price_fen": 5000,
        "amount_fen": 5000,
        "refund_fen": 0,
        "status": "completed",
        "created_at_utc": _t(20),
        "paid_at_utc": _t(20),
        "buyer_id": "b1",
        "host_id": "H1",
        "session_id": "S1",
        "attribution_provisional": False,
    }
    row.update(kw)
    return row


LINES = [
    _line("o1", 1),  # 50.00, buyer b1
    _line("o1", 2, product_id="tea", amount_fen=3000, unit_price_fen=3000),  # same order, other product
    _line("o2", 1, quantity=2, amount_fen=10000, refund_fen=10000, status="refunded"),  # b1 again, refunded
    _line("o3", 1, buyer_id="b2", status="cancelled", created_at_utc=_t(21), paid_at_utc=_t(21)),
    _line("o4", 1, buyer_id="b3", status="unpaid", paid_at_utc=None),  # not GMV
    _line("o5", 1, buyer_id="b4", host_id="H2", session_id=None, created_at_utc=_t(23, 59), paid_at_utc=_t(23, 59)),
    _line(
        "o6",
        1,
        buyer_id="b4",
        host_id=None,
        session_id=None,
        created_at_utc=_t(0, 1, day=2),
        paid_at_utc=_t(0, 1, day=2),
        attribution_provisional=True,
    ),
]


def _seed(conn) -> None:  # type: ignore[no-untyped-def]
    upsert(conn, County.__table__, [{"county_id": "lixian", "name_zh": "礼县", "name_en": "Li County"}])
    upsert(conn, Product.__table__, [{"product_id": p, "title": p, "county_id": "lixian"} for p in ("apple", "tea")])
    upsert(
        conn, Host.__table__, [{"host_id": h, "name": h, "kind": "farmer", "county_id": "lixian"} for h in ("H1", "H2")]
    )
    upsert(
        conn,
        LiveSession.__table__,
        [
            {
                "platform_id": "douyin",
                "session_id": "S1",
                "host_id": "H1",
                "started_at_utc": _t(19, 30),
                "ended_at_utc": _t(21, 30),
                "views": 1000,
                "viewers": 600,
                "peak_online": 80,
                "avg_online": 40.0,
            }
        ],
    )
    upsert(
        conn,
        SessionProduct.__table__,
        [
            {
                "platform_id": "douyin",
                "session_id": "S1",
                "product_id": "apple",
                "explain_start_utc": _t(19, 55),
                "explain_end_utc": _t(20, 10),
                "price_fen": 5000,
            }
        ],
    )
    upsert(conn, OrderLine.__table__, LINES)


def _daily(engine) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(select(RollupDaily.__table__)).mappings().all()
    return pl.DataFrame([dict(r) for r in rows])


def test_daily_rollup_by_hand(warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    with engine.begin() as conn:
        _seed(conn)
        refresh(conn, {"douyin": (_t(0), _t(0, 1, day=2))})
    daily = _daily(engine)
    h1 = daily.filter(pl.col("host_key") == "H1", pl.col("day") == D)
    apple = h1.filter(pl.col("product_key") == "apple").row(0, named=True)
    tea = h1.filter(pl.col("product_key") == "tea").row(0, named=True)
    # apple: o1/1 5000 + o2 10000 (refunded) + o3 5000 (cancelled after payment); o4 unpaid excluded
    assert apple["gmv_fen"] == 20_000 and apple["refund_fen"] == 10_000 and apple["cancelled_fen"] == 5_000
    assert apple["orders"] == 3 and apple["units"] == 4
    assert apple["refunded_orders"] == 1 and apple["cancelled_orders"] == 1
    # o1 counts once (on its first line, apple); b1 bought twice that day, counted once
    assert tea["orders"] == 0 and tea["gmv_fen"] == 3000
    assert int(h1["buyers"].sum()) == 2  # b1, b2
    # 23:59 local belongs to Oct 1, 00:01 local to Oct 2 (UTC would put both on Oct 1)
    assert daily.filter(pl.col("host_key") == "H2")["day"].to_list() == [D]
    shelf = daily.filter(pl.col("host_key") == "").row(0, named=True)
    assert shelf["day"] == D + dt.timedelta(days=1) and shelf["provisional_lines"] == 1
    # KPIs from rollups: hosts add up to the whole
    total = kpis(daily, ["gmv", "net_gmv", "orders"]).row(0, named=True)
    assert total["gmv"] == 5000 + 3000 + 10000 + 5000 + 5000 + 5000
    assert total["net_gmv"] == total["gmv"] - 10_000 - 5_000


def test_session_rollup_by_hand(warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    with engine.begin() as conn:
        _seed(conn)
        refresh(conn, {"douyin": (_t(0), _t(23))})
        row = conn.execute(select(RollupSession.__table__)).mappings().one()
    assert row["live_minutes"] == 120 and row["online_minutes"] == 4800 and row["day"] == D
    assert row["gmv_fen"] == 5000 + 3000 + 10000 + 5000 and row["orders"] == 3 and row["live_buyers"] == 2
    # only apple lines created 19:55-20:10 are inside the explain window: o1/1 and o2 at 20:00
    assert row["explain_gmv_fen"] == 15_000 and row["explain_minutes"] == 15


def _summed_rollup_equals(engine, table, daily: pl.DataFrame) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """Assert that ``table`` holds exactly ``daily`` summed to its primary key; return its rows."""
    by = [c.name for c in table.primary_key.columns]
    measures = [c.name for c in table.c if not c.primary_key]
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(table)).mappings()]
    stored = pl.DataFrame(rows).sort(by) if rows else pl.DataFrame()
    summed = daily.group_by(by).agg([pl.col(c).sum() for c in measures]).sort(by) if daily.height else daily
    assert stored.height == summed.height
    if summed.height:
        ints = {c: pl.Int64 for c in measures}
        assert stored.select(*by, *measures).cast(ints).equals(summed.select(*by, *measures).cast(ints))
    return stored


def _platform_rows_are_daily_summed(engine) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """Assert that rollup_platform_daily and rollup_product_daily hold exactly rollup_daily summed per
    day and platform, and over hosts; return the platform rows."""
    daily = _daily(engine)
    _summed_rollup_equals(engine, RollupProductDaily.__table__, daily)
    return _summed_rollup_equals(engine, RollupPlatformDaily.__table__, daily)


def test_refresh_is_idempotent_and_follows_reattribution(warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    span = {"douyin": (_t(0), _t(0, 1, day=2))}
    with engine.begin() as conn:
        _seed(conn)
        refresh(conn, span)
    before = _daily(engine)
    with engine.begin() as conn:
        again = refresh(conn, span)
    assert again.inserted == 0 and again.updated == 0
    assert _daily(engine).equals(before)
    with engine.begin() as conn:
        conn.execute(update(OrderLine.__table__).where(OrderLine.__table__.c.order_id == "o5").values(host_id="H1"))
        refresh(conn, span)
    after = _daily(engine)
    assert after.filter(pl.col("host_key") == "H2").is_empty()
    assert int(after["gmv_fen"].sum()) == int(before["gmv_fen"].sum())
    platform = _platform_rows_are_daily_summed(engine)
    assert int(platform["gmv_fen"].sum()) == int(after["gmv_fen"].sum()) and platform.height == 2


def test_platform_rollup_loses_a_day_whose_lines_are_gone(warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    span = {"douyin": (_t(0), _t(0, 1, day=2))}
    with engine.begin() as conn:
        _seed(conn)
        refresh(conn, span)
    assert set(_platform_rows_are_daily_summed(engine)["day"].to_list()) == {D, D + dt.timedelta(days=1)}
    with engine.begin() as conn:
        lines = OrderLine.__table__
        conn.execute(lines.delete().where(func.coalesce(lines.c.paid_at_utc, lines.c.created_at_utc) >= _t(0, day=2)))
        refresh(conn, span)
    assert _platform_rows_are_daily_summed(engine)["day"].to_list() == [D]


def test_refresh_all_equals_incremental(warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    with engine.begin() as conn:
        _seed(conn)
        refresh(conn, {"douyin": (_t(0), _t(23))})
        refresh(conn, {"douyin": (_t(0, day=2), _t(1, day=2))})
    incremental = _daily(engine).sort("day", "host_key", "product_key")
    with engine.begin() as conn:
        conn.execute(RollupDaily.__table__.delete())
        refresh_all(conn)
    assert _daily(engine).sort("day", "host_key", "product_key").equals(incremental)


def test_geo_and_refund_rollups_by_hand(warehouse) -> None:  # type: ignore[no-untyped-def]

    engine = warehouse.engine
    extra = ("province", "refund_reason", "shipped_at_utc", "refunded_at_utc")
    lines = [{**dict.fromkeys(extra), **r} for r in LINES]
    lines[0].update(province="广东省")
    lines[2].update(
        province="广东省",
        refund_reason="坏果",
        shipped_at_utc=_t(22),
        refunded_at_utc=_t(22) + dt.timedelta(days=3, hours=1),
    )
    with engine.begin() as conn:
        _seed(conn)
        upsert(conn, OrderLine.__table__, lines)
        refresh(conn, {"douyin": (_t(0), _t(0, 1, day=2))})
        geo = pl.DataFrame([dict(r) for r in conn.execute(select(RollupGeo.__table__)).mappings()])
        ref = pl.DataFrame([dict(r) for r in conn.execute(select(RollupRefund.__table__)).mappings()])
    gd = geo.filter(pl.col("day") == D, pl.col("province") == "广东省", pl.col("product_key") == "apple").row(
        0, named=True
    )
    assert (gd["gmv_fen"], gd["orders"], gd["refund_fen"], gd["refunded_lines"]) == (15_000, 2, 10_000, 1)
    assert geo["gmv_fen"].sum() == 33_000  # every paid line, province or not
    assert ref.height == 1
    row = ref.row(0, named=True)
    assert (row["host_key"], row["reason"], row["transit_days"], row["refund_fen"]) == ("H1", "坏果", 3, 10_000)
    with engine.connect() as conn:
        hostless = [tuple(r) for r in conn.execute(select(RollupRefundProduct.__table__))]
    assert hostless == [(D, "douyin", "apple", "坏果", 3, 10_000, 1)]


def _geo(engine, table=RollupGeo) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return pl.DataFrame([dict(r) for r in conn.execute(select(table.__table__)).mappings()])


def test_geo_total_is_geo_summed_over_platforms_and_loses_stale_rows(warehouse) -> None:  # type: ignore[no-untyped-def]
    """The same product sells into the same province on two platforms: the total row adds both
    platforms' GMV, orders and refunds; a province that no platform sells into any more disappears."""
    engine = warehouse.engine
    taobao = [
        _line("t1", 1, platform_id="taobao", province="广东省", host_id=None, session_id=None, amount_fen=7000),
        _line("t2", 1, platform_id="taobao", province="四川省", host_id=None, session_id=None, refund_fen=2000),
    ]
    lines = [{**r, "province": "广东省" if r["order_id"] in ("o1", "o2") else None} for r in LINES]
    spans = {"douyin": (_t(0), _t(0, 1, day=2)), "taobao": (_t(0), _t(23))}
    with engine.begin() as conn:
        _seed(conn)
        upsert(conn, OrderLine.__table__, [*lines, *taobao])
        refresh(conn, spans)
    geo = _geo(engine)
    assert set(geo["platform_id"]) == {"douyin", "taobao"}
    total = _summed_rollup_equals(engine, RollupGeoTotal.__table__, geo)
    gd = total.filter(pl.col("province") == "广东省", pl.col("product_key") == "apple").row(0, named=True)
    # douyin o1/1 (50.00) and o2 (100.00, refunded) plus taobao t1 (70.00): three orders
    assert (gd["gmv_fen"], gd["orders"], gd["refund_fen"], gd["refunded_lines"]) == (22_000, 3, 10_000, 1)
    assert total["gmv_fen"].sum() == geo["gmv_fen"].sum() == 33_000 + 12_000
    # t2's buyer turns out to live in 广东省 too: 四川省 has no sales left on any platform
    with engine.begin() as conn:
        conn.execute(
            update(OrderLine.__table__).where(OrderLine.__table__.c.order_id == "t2").values(province="广东省")
        )
        refresh(conn, {"taobao": spans["taobao"]})
    total = _summed_rollup_equals(engine, RollupGeoTotal.__table__, _geo(engine))
    assert "四川省" not in set(total["province"])
    gd = total.filter(pl.col("province") == "广东省", pl.col("product_key") == "apple").row(0, named=True)
    assert (gd["gmv_fen"], gd["orders"], gd["refund_fen"], gd["refunded_lines"]) == (27_000, 4, 12_000, 2)
    # refunds by reason: o2 (douyin, no reason, refunded before shipment) and t2 (taobao, same) add up
    refunds = _summed_rollup_equals(engine, RollupRefundTotal.__table__, _geo(engine, RollupRefundProduct))
    assert [
        (r["product_key"], r["reason"], r["refund_fen"], r["refunded_lines"]) for r in refunds.iter_rows(named=True)
    ] == [("apple", "", 12_000, 2)]


def test_a_long_span_aggregated_a_quarter_at_a_time_equals_one_pass(warehouse, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A refresh longer than ``_PIECE`` days parks the lines by span on disk and aggregates one span at
    a time (memory flat with history); with spans of one day the rollups are the same as in one pass,
    and a span without lines loses its stale rows all the same."""
    from livecommerce.warehouse import rollups

    engine = warehouse.engine
    span = {"douyin": (_t(0), _t(23, day=3))}

    def everything() -> list[list[tuple]]:  # type: ignore[type-arg]
        with engine.connect() as conn:
            return [sorted(tuple(r) for r in conn.execute(select(t.__table__))) for t in ROLLUPS]

    with engine.begin() as conn:
        _seed(conn)
        refresh(conn, span)
    one_pass = everything()
    filled = [t for t, rows in zip(ROLLUPS, one_pass, strict=True) if rows]
    assert {RollupDaily, RollupPlatformDaily, RollupProductDaily, RollupRefund, RollupGeoHostMonthly} <= set(filled)
    with engine.begin() as conn:
        for t in ROLLUPS:
            conn.execute(t.__table__.delete())
        upsert(conn, RollupDaily.__table__, [{"day": D + dt.timedelta(days=2), "platform_id": "douyin",
                                               "host_key": "H9", "product_key": "stale", "gmv_fen": 1}])  # fmt: skip
    monkeypatch.setattr(rollups, "_PIECE", dt.timedelta(days=1))
    with engine.begin() as conn:
        refresh(conn, span)  # three one-day spans; day 3 has no lines
    assert everything() == one_pass


def test_lines_read_for_the_rollups_keep_every_value(warehouse, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The lines the refresh reads (on PostgreSQL through COPY … TO STDOUT as CSV, in pieces) are the
    rows of the statement exactly: empty keys stay empty text, a reason with a comma, quotes and a
    line break survives, pieces end on whole rows."""
    from livecommerce.warehouse import rollups

    engine = warehouse.engine
    tricky = '坏果, 包装"破损"\n第二行'
    extra = ("province", "refund_reason", "shipped_at_utc", "refunded_at_utc")
    lines = [{**dict.fromkeys(extra), **r} for r in LINES]
    lines[2].update(refund_reason=tricky, province="甘肃省")
    lines[0].update(host_id=None, product_id=None)
    monkeypatch.setattr(rollups, "_FETCH", 2)  # many small pieces
    span = (_t(0) - dt.timedelta(days=1), _t(0, day=3))
    with engine.begin() as conn:
        _seed(conn)
        upsert(conn, OrderLine.__table__, lines)
        pieces = list(rollups._line_pieces(conn, "douyin", *span))
        stmt = rollups._lines_stmt(conn, "douyin", *span)
        raw = pl.DataFrame([tuple(r) for r in conn.execute(stmt)], schema=rollups._raw_schema(conn, stmt), orient="row")
        expected = sorted(raw.with_columns(rollups._when_parsed(conn)).iter_rows())
    assert len(pieces) >= 2 and all(p.height <= 2 for p in pieces)
    got = pl.concat(pieces)
    assert sorted(got.drop("day").iter_rows()) == expected
    assert got["when"].min() == _t(20)
    shanghai = [(w + dt.timedelta(hours=8)).date() for w in got["when"].to_list()]
    assert got["day"].to_list() == shanghai and set(shanghai) == {D, D + dt.timedelta(days=1)}  # local days
    assert tricky in got["reason"].to_list() and "" in got["host_key"].to_list()


def _by_month(engine, table, keys: list[str]) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    frame = pl.DataFrame([dict(r) for r in rows])
    if frame.is_empty():
        return frame
    if frame["day"].dtype == pl.Utf8:
        frame = frame.with_columns(pl.col("day").str.to_date())
    return frame.with_columns(pl.col("day").dt.month_start()).sort("day", *keys)


def test_monthly_rollups_are_the_daily_ones_summed_per_month(warehouse) -> None:  # type: ignore[no-untyped-def]
    """rollup_monthly is rollup_daily summed per month; rollup_session_monthly counts the sessions (and
    the effective ones) and sums their measures per month and host; both follow a re-attribution and
    lose a month whose lines are gone."""
    engine = warehouse.engine
    nov = _t(20, day=1) + dt.timedelta(days=33)  # 2025-11-03 20:00 local
    span = {"douyin": (_t(0), nov)}
    with engine.begin() as conn:
        _seed(conn)
        upsert(conn, OrderLine.__table__, [_line("o7", 1, buyer_id="b7", created_at_utc=nov, paid_at_utc=nov)])
        upsert(
            conn,
            LiveSession.__table__,
            [
                {"platform_id": "douyin", "session_id": "S2", "host_id": "H1", "started_at_utc": _t(9, day=5),
                 "ended_at_utc": _t(9, 20, day=5), "views": 50, "viewers": 30, "peak_online": 120},
                {"platform_id": "douyin", "session_id": "S3", "host_id": "H1", "started_at_utc": nov,
                 "ended_at_utc": nov + dt.timedelta(hours=1), "views": 70, "viewers": 40, "peak_online": 9},
            ],
        )  # fmt: skip
        refresh(conn, span)

    def check() -> tuple[pl.DataFrame, pl.DataFrame]:
        keys = ["platform_id", "host_key", "product_key"]
        measures = [c.name for c in RollupMonthly.__table__.c if not c.primary_key]
        daily = _by_month(engine, RollupDaily.__table__, keys)
        expected = daily.group_by("day", *keys).agg(pl.col(m).sum() for m in measures).sort("day", *keys)
        monthly = _by_month(engine, RollupMonthly.__table__, keys).select(expected.columns)
        assert monthly.equals(expected.with_columns(pl.col(m).cast(monthly[m].dtype) for m in measures))
        return monthly, _by_month(engine, RollupSessionMonthly.__table__, ["platform_id", "host_id"])

    monthly, sessions = check()
    assert monthly["day"].unique().sort().to_list() == [D, dt.date(2025, 11, 1)]
    october = sessions.filter(pl.col("day") == D).row(0, named=True)
    # S1 (two hours) and S2 (20 minutes): two sessions, one effective; peak is the highest, views add up
    assert (october["host_id"], october["sessions"], october["effective_sessions"]) == ("H1", 2, 1)
    assert (october["peak_online"], october["views"], october["viewers"]) == (120, 1050, 630)
    assert sessions.filter(pl.col("day") == dt.date(2025, 11, 1))["sessions"].to_list() == [1]
    with engine.begin() as conn:
        assert refresh(conn, span).inserted == 0  # nothing changes, nothing is written
        lines = OrderLine.__table__
        conn.execute(update(lines).where(lines.c.order_id == "o5").values(host_id="H1"))
        conn.execute(lines.delete().where(lines.c.order_id == "o7"))
        refresh(conn, span)
    monthly, _ = check()
    assert monthly["day"].unique().to_list() == [D] and "H2" not in monthly["host_key"].to_list()


def test_lines_as_written_give_what_the_database_reads_back(warehouse) -> None:  # type: ignore[no-untyped-def]
    """``lines_as_read`` of the rows an insert wrote equals the lines the refresh reads back from the
    database, value for value: unpaid lines left out, a cancelled line with a payment kept, empty and
    missing keys, a buyer-less line keyed by its order, days in transit (whole, partial, refund before
    shipping, a missing time), the local day across midnight, a time given in another zone, a column
    the rows lack (the table's default)."""
    from livecommerce.warehouse import rollups
    from livecommerce.warehouse.upsert import as_written

    shipped = _t(9, day=2)
    extra = {"province": None, "refund_reason": None, "shipped_at_utc": None, "refunded_at_utc": None}
    lines = [{**extra, **r} for r in LINES]
    lines[0].update(host_id=None, product_id=None, province="甘肃省")
    lines[1].update(buyer_id=None, refund_reason='坏果, "破损"', shipped_at_utc=shipped)
    lines[2].update(shipped_at_utc=shipped, refunded_at_utc=shipped + dt.timedelta(days=3))  # exactly 3 days
    lines[3].update(shipped_at_utc=shipped, refunded_at_utc=shipped + dt.timedelta(days=2, hours=23, seconds=59))
    lines[5].update(shipped_at_utc=shipped, refunded_at_utc=shipped - dt.timedelta(hours=1), buyer_id="")
    lines.append({**extra, **_line("o8", 1, status="paid", paid_at_utc=_t(22), province="", refunded_at_utc=shipped)})
    lines.append({**extra, **_line("o9", 1, status="cancelled", paid_at_utc=None)})  # cancelled unpaid: not read
    frame = pl.DataFrame(lines, schema=_order_schema(list(lines[0])))
    frame = frame.with_columns(pl.col("paid_at_utc").dt.convert_time_zone("Asia/Shanghai")).drop("refund_fen")
    span = (_t(0) - dt.timedelta(days=1), _t(0, day=4))
    with warehouse.engine.begin() as conn:
        _seed(conn)
        conn.execute(OrderLine.__table__.delete())
        upsert(conn, OrderLine.__table__, frame)
        read_back = rollups._lines(conn, "douyin", *span)
    mine = rollups.lines_as_read(as_written(OrderLine.__table__, frame))
    assert mine.schema == read_back.schema
    assert sorted(mine.iter_rows()) == sorted(read_back.iter_rows())
    assert read_back.height == len(lines) - 2  # o4 and o9 never paid
    assert {r["order_id"]: r["transit_days"] for r in read_back.iter_rows(named=True)} == {
        "o1": -1, "o2": 3, "o3": 2, "o5": -1, "o6": -1, "o8": -1
    }  # fmt: skip
    assert sorted(mine.filter(pl.col("order_id") == "o1")["buyer_key"]) == ["b1", "o1"]
    assert mine["refund_fen"].to_list() == [0] * mine.height  # the column's default
    assert mine.filter(pl.col("order_id") == "o6")["day"].to_list() == [D + dt.timedelta(days=1)]


def _order_schema(names: list[str]) -> dict[str, pl.DataType]:
    """The polars types of ``order_line`` columns ``names`` (as the bulk upsert expects them)."""
    from livecommerce.warehouse.upsert import _polars_schema

    return _polars_schema(OrderLine.__table__, names)
