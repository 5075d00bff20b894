"""The warehouse schema on SQLite and PostgreSQL: constraints, upsert, time zones, migrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError

from livecommerce.warehouse import current_revision, head_revision, init, metadata, table_counts, upsert
from livecommerce.warehouse.migrate import upgrade
from livecommerce.warehouse.tables import County, Host, LiveSession, OrderLine, Product

T0 = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
ORDERS = OrderLine.__table__


def _dims(conn) -> None:  # type: ignore[no-untyped-def]
    upsert(conn, County.__table__, [{"county_id": "lixian", "name_zh": "礼县", "name_en": "Li County"}])
    upsert(
        conn,
        Product.__table__,
        [{"product_id": "P1", "title": "礼县花牛苹果 5斤", "county_id": "lixian", "unit_cost_fen": 2500}],
    )
    upsert(conn, Host.__table__, [{"host_id": "H1", "name": "果农小王", "kind": "farmer", "county_id": "lixian"}])


def _line(**over):  # type: ignore[no-untyped-def]
    row = {
        "platform_id": "douyin",
        "order_id": "5118609024991031607",
        "line_no": 1,
        "product_id": "P1",
        "quantity": 2,
        "unit_price_fen": 3990,
        "amount_fen": 7980,
        "refund_fen": 0,
        "status": "paid",
        "created_at_utc": T0,
    }
    row.update(over)
    return row


def test_init_reaches_head_and_matches_the_tables(warehouse) -> None:  # type: ignore[no-untyped-def]
    assert current_revision(warehouse.engine) == head_revision()
    with warehouse.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"migrations and tables.py disagree: {diff}"
    assert table_counts(warehouse.engine)["platform"] == 4


def test_init_twice_changes_nothing(warehouse) -> None:  # type: ignore[no-untyped-def]
    before = table_counts(warehouse.engine)
    assert init(warehouse.engine) == head_revision()
    assert table_counts(warehouse.engine) == before


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ({"quantity": 0}, "quantity_positive"),
        ({"quantity": -3}, "quantity_positive"),
        ({"amount_fen": -1}, "amount_nonneg"),
        ({"refund_fen": 9000}, "refund_range"),
        ({"status": "lost"}, "status"),
        ({"product_id": "NOPE"}, "foreign key"),
        ({"platform_id": "tiktok"}, "foreign key"),
    ],
)
def test_constraints_reject_bad_order_lines(warehouse, bad, why) -> None:  # type: ignore[no-untyped-def]
    with warehouse.engine.begin() as conn:
        _dims(conn)
    with pytest.raises(IntegrityError) as err, warehouse.engine.begin() as conn:
        conn.execute(insert(ORDERS).values(**_line(**bad)))
    text = str(err.value.orig).lower()
    assert why.replace("_", "") in text.replace("_", "") or "check" in text or "foreign" in text
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ORDERS)).scalar_one() == 0


def test_session_cannot_end_before_it_starts(warehouse) -> None:  # type: ignore[no-untyped-def]
    with warehouse.engine.begin() as conn:
        _dims(conn)
    row = {
        "platform_id": "douyin",
        "session_id": "S1",
        "host_id": "H1",
        "started_at_utc": T0,
        "ended_at_utc": T0 - timedelta(minutes=1),
    }
    with pytest.raises(IntegrityError), warehouse.engine.begin() as conn:
        conn.execute(insert(LiveSession.__table__).values(**row))


def test_naive_timestamps_are_refused_and_aware_ones_come_back_in_utc(warehouse) -> None:  # type: ignore[no-untyped-def]
    shanghai = timezone(timedelta(hours=8))
    with warehouse.engine.begin() as conn:
        _dims(conn)
        upsert(conn, ORDERS, [_line(created_at_utc=datetime(2025, 10, 1, 20, 0, tzinfo=shanghai))])
    with warehouse.engine.connect() as conn:
        stored = conn.execute(select(ORDERS.c.created_at_utc)).scalar_one()
    assert stored == T0 and stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    with pytest.raises(StatementError, match="naive datetime"), warehouse.engine.begin() as conn:
        upsert(conn, ORDERS, [_line(order_id="2", created_at_utc=datetime(2025, 10, 1, 20, 0))])


def test_upsert_is_idempotent_and_counts_what_it_did(warehouse) -> None:  # type: ignore[no-untyped-def]
    rows = [_line(order_id=str(i), amount_fen=1000 + i, unit_price_fen=500) for i in range(7)]
    with warehouse.engine.begin() as conn:
        _dims(conn)
        first = upsert(conn, ORDERS, rows, chunk_size=3)
    with warehouse.engine.begin() as conn:
        again = upsert(conn, ORDERS, rows, chunk_size=3)
    changed = [dict(r) for r in rows]
    changed[2]["status"] = "refunded"
    changed[2]["refund_fen"] = changed[2]["amount_fen"]
    with warehouse.engine.begin() as conn:
        third = upsert(conn, ORDERS, [*changed, _line(order_id="new")])
    assert (first.inserted, first.updated, first.unchanged) == (7, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 7)
    assert (third.inserted, third.updated, third.unchanged) == (1, 1, 6)
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ORDERS)).scalar_one() == 8
        status = conn.execute(select(ORDERS.c.status).where(ORDERS.c.order_id == "2")).scalar_one()
    assert status == "refunded"


def test_upsert_keeps_columns_outside_update_columns(warehouse) -> None:  # type: ignore[no-untyped-def]
    with warehouse.engine.begin() as conn:
        _dims(conn)
        upsert(conn, ORDERS, [_line(title="first title", status="paid")])
        res = upsert(
            conn,
            ORDERS,
            [_line(title="later title", status="completed")],
            update_columns=["status"],
        )
    assert (res.inserted, res.updated) == (0, 1)
    with warehouse.engine.connect() as conn:
        title, status = conn.execute(select(ORDERS.c.title, ORDERS.c.status)).one()
    assert (title, status) == ("first title", "completed")


def test_upsert_statements_are_kept_per_table_key_and_columns(warehouse) -> None:  # type: ignore[no-untyped-def]
    """The row path builds its statements once per table, key and update columns and keeps them: the same
    objects on the next call; another set of update columns gets statements of its own (a title left alone by
    an upsert of the status alone is then updated by a plain upsert)."""
    from livecommerce.warehouse.upsert import _row_statements

    key = tuple(c.name for c in ORDERS.primary_key.columns)
    dialect = warehouse.engine.dialect.name
    assert _row_statements(dialect, ORDERS, key, ("status",)) is _row_statements(dialect, ORDERS, key, ("status",))
    assert _row_statements(dialect, ORDERS, key, ("status",)) != _row_statements(dialect, ORDERS, key, ("title",))
    with warehouse.engine.begin() as conn:
        _dims(conn)
        upsert(conn, ORDERS, [_line(title="first title", status="paid")])
        kept = upsert(conn, ORDERS, [_line(title="later title", status="paid")], update_columns=["status"])
        plain = upsert(conn, ORDERS, [_line(title="later title", status="paid")])
    assert (kept.updated, kept.unchanged, plain.updated) == (0, 1, 1)
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(ORDERS.c.title)).scalar_one() == "later title"


def test_upsert_last_duplicate_in_a_batch_wins(warehouse) -> None:  # type: ignore[no-untyped-def]
    with warehouse.engine.begin() as conn:
        _dims(conn)
        res = upsert(conn, ORDERS, [_line(status="paid"), _line(status="shipped")])
    assert res.inserted == 1
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(ORDERS.c.status)).scalar_one() == "shipped"


def test_migration_from_first_version_keeps_data(bare_warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = bare_warehouse.engine
    assert upgrade(engine, "0001") == "0001"
    assert "product_alias" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(
            insert(metadata.tables["platform"]).values(
                platform_id="douyin", name_zh="抖音", name_en="Douyin", has_live=True
            )
        )
        _dims(conn)
        conn.execute(insert(ORDERS).values(**_line()))
    assert init(engine) == head_revision()
    with engine.connect() as conn:
        kept = conn.execute(select(ORDERS.c.order_id, ORDERS.c.amount_fen, ORDERS.c.created_at_utc)).one()
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert tuple(kept) == ("5118609024991031607", 7980, T0)
    assert diff == []
    counts = table_counts(engine)
    assert counts["order_line"] == 1 and counts["product_alias"] == 0 and counts["platform"] == 4


def test_migrations_fill_the_new_rollups_from_the_stored_ones(bare_warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = bare_warehouse.engine
    assert upgrade(engine, "0011") == "0011"
    day = datetime(2025, 10, 1).date()
    rows = [
        {"day": day, "platform_id": "douyin", "host_key": "H1", "product_key": "apple", "gmv_fen": 700, "orders": 2},
        {"day": day, "platform_id": "douyin", "host_key": "", "product_key": "tea", "gmv_fen": 300, "orders": 1},
        {"day": day, "platform_id": "taobao", "host_key": "H2", "product_key": "tea", "gmv_fen": 50, "orders": 1},
    ]
    with engine.begin() as conn:
        for pid in ("douyin", "taobao"):
            conn.execute(insert(metadata.tables["platform"]).values(platform_id=pid, name_zh=pid, name_en=pid))
        zeros = {c: 0 for c in metadata.tables["rollup_daily"].c.keys() if c.endswith(("_fen", "_lines", "s"))}
        conn.execute(insert(metadata.tables["rollup_daily"]), [{**zeros, **r} for r in rows])
        refund = {"day": day, "platform_id": "douyin", "product_key": "apple", "reason": "坏果", "transit_days": 2}
        conn.execute(
            insert(metadata.tables["rollup_refund"]),
            [{**refund, "host_key": h, "refund_fen": 100, "refunded_lines": 1} for h in ("H1", "H2", "")],
        )
    assert init(engine) == head_revision()
    table = metadata.tables["rollup_platform_daily"]
    with engine.connect() as conn:
        got = {(r.platform_id, r.gmv_fen, r.orders) for r in conn.execute(select(table))}
        hostless = [tuple(r) for r in conn.execute(select(metadata.tables["rollup_refund_product"]))]
        per_product = {
            (r.platform_id, r.product_key, r.gmv_fen)
            for r in conn.execute(select(metadata.tables["rollup_product_daily"]))
        }
    assert got == {("douyin", 1000, 3), ("taobao", 50, 1)}
    assert per_product == {("douyin", "apple", 700), ("douyin", "tea", 300), ("taobao", "tea", 50)}
    assert hostless == [(day, "douyin", "apple", "坏果", 2, 300, 3)]


@pytest.mark.parametrize("guess_all_new", [False, True, "stored"])
def test_bulk_upsert_counts_and_merges_whatever_the_guess(warehouse, monkeypatch, guess_all_new) -> None:  # type: ignore[no-untyped-def]
    """The frame path counts exactly like the row path; on PostgreSQL a batch wrongly guessed to be
    all new (its COPY hits an existing key) falls back to the careful path with the same result, and
    a caller that passes the stored keys (``stored=``) gets the same result without any lookup."""
    import importlib

    import polars as pl

    from etl.load import ORDER_MERGE

    upsert_module = importlib.import_module("livecommerce.warehouse.upsert")

    def keys(conn):  # type: ignore[no-untyped-def]
        if guess_all_new != "stored":
            return None
        found = conn.execute(select(ORDERS.c.platform_id, ORDERS.c.order_id, ORDERS.c.line_no)).all()
        return pl.DataFrame([tuple(r) for r in found], schema=["platform_id", "order_id", "line_no"], orient="row")

    if guess_all_new:
        monkeypatch.setattr(upsert_module, "_pg_any_exists", lambda *_: False)
        if guess_all_new == "stored":
            monkeypatch.setattr(upsert_module, "_pg_any_exists", None)  # never asked
    rows = [_line(order_id=str(i), amount_fen=1000 + i, unit_price_fen=500) for i in range(7)]
    frame = pl.DataFrame(rows)
    with warehouse.engine.begin() as conn:
        _dims(conn)
        first = upsert(conn, ORDERS, frame, merge=ORDER_MERGE, stored=keys(conn))
    with warehouse.engine.begin() as conn:
        again = upsert(conn, ORDERS, frame, merge=ORDER_MERGE, stored=keys(conn))
    changed = [dict(r) for r in rows]
    changed[2].update(status="refunded", refund_fen=changed[2]["amount_fen"])
    changed[3].update(status="paid")  # the stored status is the same: nothing to do
    changed[4].update(status="unpaid")  # an older snapshot never moves a status back
    with warehouse.engine.begin() as conn:
        third = upsert(
            conn, ORDERS, pl.DataFrame([*changed, _line(order_id="new")]), merge=ORDER_MERGE, stored=keys(conn)
        )
    assert (first.inserted, first.updated, first.unchanged) == (7, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 7)
    assert (third.inserted, third.updated, third.unchanged) == (1, 1, 6)
    with warehouse.engine.connect() as conn:
        stored = dict(conn.execute(select(ORDERS.c.order_id, ORDERS.c.status)).all())
    assert len(stored) == 8 and stored["2"] == "refunded" and stored["4"] == "paid"
