"""Properties (hypothesis): loading twice equals loading once; any order of files ends in the same
warehouse; a newer status export never loses an order. Exports are snapshots of one small world of
Douyin orders whose statuses only move forward, plus an after-sale sheet."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from test_etl_load import DY_HEAD, snapshot

from etl import load_paths
from livecommerce.warehouse import init
from livecommerce.warehouse.engine import make_engine

NOW = dt.datetime(2024, 12, 17, tzinfo=dt.UTC)
STAGES = ["待发货", "已发货", "已完成"]
GENRES = ["数据将于第二天更新", "直播", "直播"]


@st.composite
def worlds(draw):  # type: ignore[no-untyped-def]
    """Draw orders (lines, paid amounts) and export snapshots (which orders, at which stage)."""
    n_orders = draw(st.integers(1, 5))
    orders = []
    for i in range(n_orders):
        lines = draw(st.integers(1, 3))
        orders.append(
            [(f"88{i}", f"88{i}{j}", draw(st.integers(1, 3)), draw(st.integers(100, 50_000))) for j in range(lines)]
        )
    n_files = draw(st.integers(1, 3))
    files = []
    for k in range(n_files):
        chosen = draw(st.lists(st.integers(0, n_orders - 1), min_size=1, max_size=n_orders, unique=True))
        files.append((k, sorted(chosen)))
    refunds = draw(
        st.lists(st.tuples(st.integers(0, n_orders - 1), st.integers(1, 100)), max_size=3, unique_by=lambda t: t[0])
    )
    order = draw(st.permutations(list(range(n_files + 1))))
    return orders, files, refunds, order


def _write(folder: Path, orders, files, refunds) -> list[Path]:  # type: ignore[no-untyped-def]
    paths = []
    for k, chosen in files:
        stage = min(k, len(STAGES) - 1)
        body = "".join(
            f"{o},{s},苹果,3664938891258188413,{q},2024-09-01 20:03:00,{STAGES[stage]},{paid / 100:.2f},0,1,"
            f"小王,直播间-自营,{GENRES[stage]}\n"
            for i in chosen
            for o, s, q, paid in orders[i]
        )
        path = folder / f"export_{k}.csv"
        path.write_text(DY_HEAD + body, encoding="utf-8-sig")
        paths.append(path)
    head = (
        "售后单号,订单号,商品单号,商品名称,商品ID,应付金额（元）,售后类型,退商品金额（元）,退运费金额（元）,"
        "售后状态,售后申请时间,退款方式,售后原因,售后原因标签,商家退款时间,售后完结时间\n"
    )
    body = ""
    for i, pct in refunds:
        o, s, _q, paid = orders[i][0]
        body += (
            f"99{i},{o},{s},苹果,3664938891258188413,{paid / 100:.2f},仅退款,{paid * pct // 100 / 100:.2f},0,"
            "同意退款，退款成功,2024-09-03 10:00:00,原路退回,坏果,,2024-09-04 10:00:00,2024-09-04 10:00:00\n"
        )
    after = folder / "aftersale.csv"
    after.write_text(head + body, encoding="utf-8-sig")
    paths.append(after)
    return paths


def _fresh():  # type: ignore[no-untyped-def]
    engine = make_engine("sqlite://")
    init(engine)
    return engine


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_any_load_order_twice_or_once_ends_in_the_same_warehouse(world) -> None:  # type: ignore[no-untyped-def]
    orders, files, refunds, order = world
    with tempfile.TemporaryDirectory() as tmp:
        paths = _write(Path(tmp), orders, files, refunds)
        reference = _fresh()
        for p in paths:
            load_paths(reference, [p], now=NOW)
        expected = snapshot(reference)

        shuffled = _fresh()
        for i in order:
            load_paths(shuffled, [paths[i]], now=NOW)
        assert snapshot(shuffled) == expected  # any order of files

        for i in order:  # everything again: nothing changes
            [report] = load_paths(shuffled, [paths[i]], now=NOW)
            assert report.inserted == 0 and report.updated == 0
        assert snapshot(shuffled) == expected

        # a newer export never loses an order: every order seen in any file is there, at its latest stage
        with shuffled.connect() as conn:
            stored = {
                (r[0], r[1]): r[2]
                for r in conn.execute(text("select order_id, platform_line_id, status from order_line"))
            }
        latest: dict[tuple[str, str], int] = {}
        for k, chosen in files:
            for i in chosen:
                for o, s, _q, _p in orders[i]:
                    latest[(o, s)] = max(latest.get((o, s), 0), min(k, len(STAGES) - 1))
        assert set(stored) == set(latest)
        refunded = {orders[i][0][:2] for i, _ in refunds}
        canonical = ["paid", "shipped", "completed"]
        for key, stage in latest.items():
            if key not in refunded:
                assert stored[key] == canonical[stage]
            else:
                assert stored[key] in ("partially_refunded", "refunded")

        # lineage (no foreign key since migration 0010): every line names the runs that wrote it,
        # the first no later than the last, both recorded in ingest_run
        with shuffled.connect() as conn:
            runs = set(conn.execute(text("select run_id from ingest_run")).scalars())
            lineage = conn.execute(text("select first_run_id, last_run_id from order_line")).all()
        assert lineage and all(first in runs and last in runs and first <= last for first, last in lineage)
        # attribution (no foreign key since migration 0027): every credited line names a stored host
        with shuffled.connect() as conn:
            hosts = set(conn.execute(text("select host_id from host")).scalars())
            credited = conn.execute(text("select host_id from order_line where host_id is not null")).scalars().all()
        assert credited and set(credited) <= hosts
