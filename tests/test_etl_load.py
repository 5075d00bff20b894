"""Loading on SQLite and PostgreSQL: idempotence, newer exports, manifest and runs, dimensions,
the CLI contract (JSON document, exit codes) in a subprocess. Asserts on database state."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from etl import assignments_from, load_paths
from etl.load import Assignments
from livecommerce.warehouse.tables import Host, IngestRun, LoadedFile, OrderLine, Product, RejectedRow, metadata

FIX = Path(__file__).parent / "fixtures" / "etl"
NOW = dt.datetime(2024, 12, 17, tzinfo=dt.UTC)

#: columns that record which run wrote a row or when: not part of "the same warehouse"
_VOLATILE = {"first_run_id", "last_run_id", "created_at_utc_dim", "run_id"}
DATA_TABLES = ("county", "host", "product", "product_alias", "order_line", "after_sale")


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Return the data tables' rows (sorted, without run ids and registration times)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name in DATA_TABLES:
            rows = conn.execute(select(metadata.tables[name])).mappings().all()  # typed: same on both dialects
            cleaned = []
            for row in rows:
                items = {k: v for k, v in row.items() if k not in _VOLATILE}
                if name in ("host", "product"):
                    items.pop("created_at_utc", None)
                cleaned.append(tuple(sorted((k, str(v)) for k, v in items.items())))
            out[name] = sorted(cleaned)
    return out


DY_HEAD = (
    "主订单编号,子订单编号,选购商品,商品ID,商品数量,订单提交时间,订单状态,"
    "订单应付金额,运费,达人ID,达人昵称,流量来源,流量体裁\n"
)


def douyin_file(path: Path, rows: list[tuple[str, str, int, str, str, str]]) -> Path:
    """Write a small Douyin order export: (order id, sub id, qty, status, paid, genre) per line."""
    body = "".join(
        f"{o},{s},礼县花牛苹果 5斤,3664938891258188413,{q},2024-09-01 20:03:00,{st},{paid},0,"
        f"262326536451,小王,直播间-自营,{genre}\n"
        for o, s, q, st, paid, genre in rows
    )
    path.write_text(DY_HEAD + body, encoding="utf-8-sig")
    return path


def test_loading_twice_changes_nothing_and_says_so(warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    [first] = load_paths(engine, [FIX / "douyin_orders_bom.csv"], now=NOW)
    before = snapshot(engine)
    [second] = load_paths(engine, [FIX / "douyin_orders_bom.csv"], now=NOW)
    assert (first.inserted, first.updated) == (3, 0)
    assert (second.status, second.inserted, second.updated, second.unchanged) == ("unchanged", 0, 0, 3)
    assert snapshot(engine) == before
    with engine.connect() as conn:
        runs = conn.execute(select(IngestRun.__table__).order_by(IngestRun.__table__.c.run_id)).all()
        manifest = conn.execute(select(LoadedFile.__table__)).all()
        rejected = conn.execute(select(RejectedRow.__table__.c.run_id)).scalars().all()
    assert [r.status for r in runs] == ["loaded", "unchanged"]
    assert runs[0].rows_read == 10 and runs[0].rejected == 7 and runs[0].inserted == 3
    assert len(manifest) == 1 and manifest[0].run_id == runs[0].run_id and len(manifest[0].sha256) == 64
    assert sorted(set(rejected)) == [runs[0].run_id, runs[1].run_id]  # each run keeps its own rejects


def test_a_big_load_refreshes_the_planner_statistics_before_the_rollups(warehouse, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL a load that wrote ``ANALYZE_AFTER_ROWS`` rows or more analyses the tables the
    rollup refresh reads, inside its transaction (here the threshold is lowered to 1): the stored
    row estimate is the table's true size once it commits. SQLite has nothing to refresh."""
    import etl.jobs

    engine = warehouse.engine
    monkeypatch.setattr(etl.jobs, "ANALYZE_AFTER_ROWS", 1)
    calls: list[list[str]] = []
    real = etl.jobs.statistics_refreshed
    monkeypatch.setattr(etl.jobs, "statistics_refreshed", lambda conn: calls.append(real(conn)) or calls[-1])
    [report] = load_paths(engine, [FIX / "douyin_orders_bom.csv"], now=NOW)
    assert report.inserted == 3 and len(calls) == 1
    if engine.dialect.name != "postgresql":
        assert calls == [[]]
        return
    assert calls == [["order_line", "live_session", "session_product"]]
    with engine.connect() as conn:
        estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('order_line')")).scalar()
        lines = conn.execute(select(func.count()).select_from(OrderLine.__table__)).scalar()
    assert estimate == lines == 3


def test_newer_export_advances_status_and_keeps_first_seen_fields(warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    old = douyin_file(tmp_path / "v1.csv", [("7001", "70011", 1, "待发货", "49.90", "数据将于第二天更新")])
    new = douyin_file(
        tmp_path / "v2.csv",
        [("7001", "70011", 1, "已完成", "49.90", "直播"), ("7002", "70021", 2, "待发货", "99.80", "直播")],
    )
    [r1] = load_paths(engine, [old], now=NOW)
    [r2] = load_paths(engine, [new], now=NOW)
    assert (r1.inserted, r2.inserted, r2.updated) == (1, 1, 1)
    [r3] = load_paths(engine, [old], now=NOW)  # an older export arriving late changes nothing
    assert (r3.updated, r3.unchanged) == (0, 1)
    with engine.connect() as conn:
        line = conn.execute(select(OrderLine.__table__).where(OrderLine.__table__.c.order_id == "7001")).one()
    assert line.status == "completed" and line.traffic_genre == "直播" and line.amount_fen == 4990
    assert line.first_run_id == r1.run_id and line.last_run_id == r2.run_id


def test_products_and_hosts_registered_unassigned_or_by_option(warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    registry = tmp_path / "registry.yaml"
    registry.write_text(
        'hosts:\n  "douyin:262326536451": {county_id: lixian}\n'
        'products:\n  "douyin:3605968339377623332": {product_id: lixian-fuji-10jin, county_id: lixian}\n',
        encoding="utf-8",
    )
    with engine.begin() as conn:
        conn.execute(text("insert into county (county_id, name_zh, name_en) values ('lixian', '礼县', 'Li County')"))
        conn.execute(text("insert into county (county_id, name_zh, name_en) values ('puan', '普安县', 'Pu''an')"))
    assign = assignments_from(registry, county_id="puan")
    load_paths(engine, [FIX / "douyin_orders_bom.csv"], assign=assign, now=NOW)
    with engine.connect() as conn:
        products = dict(conn.execute(select(Product.__table__.c.product_id, Product.__table__.c.county_id)).all())
        hosts = dict(conn.execute(text("select platform_host_id, county_id from host")).all())
        fuji = conn.execute(
            text("select product_id from order_line where platform_line_id = '6900000000000000012'")
        ).scalar()
    assert products["douyin:3664938891258188413"] == "puan"  # --county for new products
    assert products["lixian-fuji-10jin"] == "lixian" and fuji == "lixian-fuji-10jin"  # the registry
    assert hosts["262326536451"] == "lixian" and hosts["7000000001"] == "puan"


def test_a_file_credited_to_an_unknown_host_is_refused_whole(warehouse) -> None:  # type: ignore[no-untyped-def]
    """``--host`` names the host of every line; a host the warehouse does not know refuses the file with
    a message in both languages and writes nothing (``order_line.host_id`` has no foreign key since 0027:
    the loader is what keeps lines to stored hosts); a known host credits every line to it."""
    engine = warehouse.engine
    [refused] = load_paths(engine, [FIX / "douyin_orders_bom.csv"], assign=Assignments(host_id="H404"), now=NOW)
    assert refused.status == "refused" and "'H404'" in refused.message and "--host" in refused.message
    assert "主播" in refused.message and "未导入" in refused.message
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OrderLine.__table__)).scalar() == 0
        assert conn.execute(text("select count(*) from host")).scalar() == 0
    with engine.begin() as conn:
        conn.execute(Host.__table__.insert().values(host_id="H1", name="小王", kind="farmer"))
    [loaded] = load_paths(engine, [FIX / "douyin_orders_bom.csv"], assign=Assignments(host_id="H1"), now=NOW)
    with engine.connect() as conn:
        credited = conn.execute(text("select host_id, attribution_rule from order_line")).all()
    assert loaded.status == "loaded" and loaded.inserted == 3 and set(credited) == {("H1", "file_host")}


def test_first_export_loads_unassigned_without_preparation(warehouse) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(warehouse.engine, [FIX / "pinduoduo_orders.csv"], now=NOW)
    assert report.status == "loaded"
    with warehouse.engine.connect() as conn:
        counties = conn.execute(text("select county_id from product")).scalars().all()
    assert counties and all(c is None for c in counties)


# --- CLI in a subprocess ---------------------------------------------------------------------------


def _cli(warehouse, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, **warehouse.env}
    return subprocess.run(
        [sys.executable, "-m", "livecommerce", "etl", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_cli_load_json_document_and_exit_codes(warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = _cli(warehouse, "load", str(FIX / "pinduoduo_orders.csv"), str(FIX / "taobao_subset.csv"), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    keys = {
        "path",
        "format",
        "encoding",
        "status",
        "rows_read",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "rejects",
    }
    assert [set(f) >= keys for f in doc["files"]] == [True, True]
    pdd = next(f for f in doc["files"] if f["path"].endswith("pinduoduo_orders.csv"))
    assert pdd["rejects"] == [
        {"line": 4, "column": "订单成交时间", "code": "summary_row", "message": pdd["rejects"][0]["message"]}
    ]
    assert pdd["inserted"] == 2 and pdd["rejected"] == 1 and pdd["encoding"] == "utf-8"

    refused = _cli(warehouse, "load", str(FIX / "not_text.csv"), "--json")
    assert refused.returncode == 2
    assert json.loads(refused.stdout)["files"][0]["status"] == "refused"

    before = snapshot(warehouse.engine)
    dry = _cli(warehouse, "load", str(FIX / "douyin_orders_bom.csv"), "--dry-run", "--json")
    assert dry.returncode == 0 and json.loads(dry.stdout)["files"][0]["inserted"] == 3
    assert snapshot(warehouse.engine) == before

    runs = json.loads(_cli(warehouse, "runs", "--json").stdout)["runs"]
    assert [r["status"] for r in runs] == ["refused", "loaded", "loaded"]  # newest first; a dry run leaves none
    pdd_run = next(r for r in runs if r["path"].endswith("pinduoduo_orders.csv"))
    rejects = json.loads(_cli(warehouse, "rejects", "--run", str(pdd_run["run_id"]), "--json").stdout)["rejects"]
    assert [(r["line"], r["code"]) for r in rejects] == [(4, "summary_row")]

    bad_format = _cli(warehouse, "load", str(FIX / "pinduoduo_orders.csv"), "--format", "nope")
    assert bad_format.returncode == 1 and "nope" in bad_format.stderr and "Traceback" not in bad_format.stderr


def test_reloading_a_dimension_file_changes_nothing(tmp_path, memory_engine) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from etl.jobs import load_paths

    src = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
    load_paths(memory_engine, [src / "counties.csv", src / "hosts.csv"])
    again = tmp_path / "hosts_again.csv"  # same rows, different bytes: the manifest does not short-cut it
    again.write_text((src / "hosts.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    [report] = load_paths(memory_engine, [again])
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 8)


def test_read_ahead_keeps_order_raises_where_the_producer_failed_and_stops_early() -> None:
    import threading

    from livecommerce.pipeline import read_ahead

    assert list(read_ahead(iter(range(50)))) == list(range(50))
    produced: list[int] = []

    def failing():  # type: ignore[no-untyped-def]
        for i in range(5):
            produced.append(i)
            yield i
        raise ValueError("bad batch at 5")

    got = []
    with pytest.raises(ValueError, match="bad batch at 5"):
        for item in read_ahead(failing()):
            got.append(item)
    assert got == [0, 1, 2, 3, 4]  # every item before the failure arrives first

    def endless():  # type: ignore[no-untyped-def]
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    produced.clear()
    for item in read_ahead(endless(), depth=2):
        if item == 3:
            break
    assert not any(t.name == "etl-read-ahead" and t.is_alive() for t in threading.enumerate())
    assert len(produced) <= 3 + 2 + 2  # the consumer's items, the queue, one in the producer's hand


@pytest.mark.postgres
def test_the_write_lock_holds_one_schema_not_the_database(bare_pg) -> None:  # type: ignore[no-untyped-def]
    """While a load holds a warehouse's write lock, a load into another schema of the same database goes
    ahead and a second load into the same warehouse waits until the first commits."""
    import threading

    from etl.load import file_transaction
    from livecommerce.warehouse.engine import make_engine
    from tests.conftest import _drop_pg_schema, _new_pg_schema

    other, other_schema = _new_pg_schema()
    same = make_engine(bare_pg.url, schema=bare_pg.schema)
    done = {"other": threading.Event(), "same": threading.Event()}

    def load(engine, name: str) -> None:  # type: ignore[no-untyped-def]
        with file_transaction(engine):
            done[name].set()

    try:
        with file_transaction(bare_pg.engine):
            loads = [threading.Thread(target=load, args=(e, n)) for e, n in ((other, "other"), (same, "same"))]
            for t in loads:
                t.start()
            assert done["other"].wait(30.0)  # another warehouse: not held up
            assert not done["same"].wait(1.0)  # the same warehouse: waits for the first load
        assert done["same"].wait(30.0)
        for t in loads:
            t.join(30.0)
    finally:
        same.dispose()
        other.dispose()
        _drop_pg_schema(other_schema)


def test_rollups_of_a_first_load_come_from_the_lines_written_and_equal_a_rebuild(warehouse, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Files whose lines are all new, into days that held nothing paid, are rolled up from the lines as
    the load wrote them: nothing is read back (the platform exports: 107 days, so in quarter spans). Files
    that change lines already there (an after-sale sheet, sessions that re-attribute, the canonical
    orders of the same world) read them back. Either way every rollup equals a rebuild from the facts
    (new rollup rows are gathered across quarters and platforms, and inserted 500 at a time here)."""
    from livecommerce.warehouse import rollups
    from livecommerce.warehouse.tables import metadata

    sample = Path(__file__).parent.parent / "sample_data"
    engine = warehouse.engine
    reads: list[str] = []
    real = rollups._line_pieces
    monkeypatch.setattr(
        rollups, "_line_pieces", lambda conn, platform, *a: reads.append(platform) or real(conn, platform, *a)
    )
    monkeypatch.setattr(rollups, "_NEW_ROWS", 500)  # new rollup rows written in many pieces
    names = [t for t in metadata.tables if t.startswith("rollup_")]

    def rolled() -> dict[str, list[tuple[Any, ...]]]:
        with engine.connect() as conn:
            return {
                n: sorted(tuple(str(v) for v in r) for r in conn.execute(select(metadata.tables[n]))) for n in names
            }

    def rebuilt() -> dict[str, list[tuple[Any, ...]]]:
        with engine.begin() as conn:
            rollups.refresh_all(conn)
        reads.clear()  # what the rebuild read
        return rolled()

    canonical, exports = sample / "canonical", sample / "exports"
    load_paths(engine, [canonical / f for f in ("counties.csv", "hosts.csv", "products.csv", "product_aliases.csv")])
    orders = ["douyin_orders.csv", "pinduoduo_orders.xlsx", "taobao_orders.csv", "taobao_items.csv"]
    reports = load_paths(engine, [exports / f for f in orders])
    assert [(r.status, r.inserted, r.updated) for r in reports if r.status != "skipped"] == [
        ("loaded", 1222, 0), ("loaded", 702, 0), ("loaded", 4512, 0)
    ]  # fmt: skip
    assert reads == []  # every platform from the lines written
    first = rolled()
    assert len(first["rollup_daily"]) > 100 and {"douyin", "pinduoduo", "taobao"} == {
        r[1] for r in first["rollup_platform_daily"]
    }
    assert rebuilt() == first
    [after_sale] = load_paths(engine, [exports / "douyin_aftersale.csv"])
    assert after_sale.inserted == 82 and reads == ["douyin"]  # refunds applied to lines: read back
    refunded = rolled()
    assert refunded != first and rebuilt() == refunded
    reports = load_paths(
        engine, [canonical / "sessions.csv", canonical / "session_log.jsonl", canonical / "orders.csv"]
    )
    assert [r.status for r in reports] == ["loaded"] * 3 and reports[-1].updated > 0
    assert {"kuaishou", "taobao"} <= set(reads)
    final = rolled()
    assert final != refunded and rebuilt() == final
