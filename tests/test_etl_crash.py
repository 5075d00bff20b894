"""Crash safety and concurrency with real processes, on SQLite and PostgreSQL.

A load killed with ``kill -9`` at several points leaves the warehouse exactly as before that file
(or, when the kill came after the commit, exactly as after it); rerunning completes to the same
state as a clean load. Two loads of overlapping files running at once end with no duplicate and
no lost row.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text
from test_etl_load import DY_HEAD, snapshot

from etl import load_paths


def _big_export(path: Path, first: int, count: int, status: str = "待发货") -> Path:
    rows = [
        f"{900000000 + i},{900000000 + i}1,苹果,{3664938891258188413 + i % 7},{1 + i % 3},2024-09-01 20:03:00,"
        f"{status},{(499 + i % 1000) / 10:.2f},0,{i % 5},主播{i % 5},直播间-自营,直播\n"
        for i in range(first, first + count)
    ]
    path.write_text(DY_HEAD + "".join(rows), encoding="utf-8-sig")
    return path


def _load_process(warehouse, path: Path) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = {**os.environ, **warehouse.env}
    return subprocess.Popen(
        [sys.executable, "-m", "livecommerce", "etl", "load", str(path), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _state(engine) -> tuple[object, ...]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        counts = tuple(
            conn.execute(text(f"select count(*) from {t}")).scalar_one()
            for t in ("ingest_run", "loaded_file", "rejected_row")
        )
    return (snapshot(engine), counts)


def test_kill_9_at_random_points_leaves_before_or_after(warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    load_paths(engine, [_big_export(tmp_path / "first.csv", 0, 500)])
    big = _big_export(tmp_path / "big.csv", 250, 20_000, status="已发货")
    before = _state(engine)
    # how long a full load takes here, to spread the kills over it
    started = time.monotonic()
    probe = _load_process(warehouse, big)
    probe.kill()
    probe.wait()
    assert _state(engine) == before
    rng = random.Random(4)
    timing_run = _load_process(warehouse, _big_export(tmp_path / "timing.csv", 10_000_000, 20_000))
    timing_run.wait()
    duration = time.monotonic() - started
    engine.dispose()
    with engine.begin() as conn:  # forget the timing run's rows so "before" holds again
        conn.execute(text("delete from order_line where order_id >= '910000000'"))
        conn.execute(text("delete from rejected_row"))
        conn.execute(text("delete from loaded_file where path like '%timing.csv'"))
        conn.execute(text("delete from ingest_run where path like '%timing.csv'"))
        conn.execute(text("delete from product_alias where product_id not in (select product_id from order_line)"))
    before = _state(engine)

    outcomes = []
    for point in [rng.uniform(0.2, 1.0) * duration for _ in range(5)]:
        proc = _load_process(warehouse, big)
        time.sleep(point)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        engine.dispose()
        state = _state(engine)
        if state == before:
            outcomes.append("before")
        else:
            # the kill came after the commit: the file is loaded completely, once
            assert state[0]["order_line"] and len(state[0]["order_line"]) == 20_250, "a killed load left a partial file"
            outcomes.append("after")
            break
    assert "before" in outcomes, f"no kill landed inside the load ({outcomes}); duration {duration:.1f}s"

    [report] = load_paths(engine, [big])  # rerun completes
    assert report.status in ("loaded", "unchanged"), report.message
    rerun = snapshot(engine)
    clean = tmp_path / "clean.db"
    from livecommerce.warehouse import init
    from livecommerce.warehouse.engine import make_engine

    clean_engine = make_engine(f"sqlite:///{clean}")
    init(clean_engine)
    load_paths(clean_engine, [tmp_path / "first.csv"])
    load_paths(clean_engine, [big])
    assert rerun == snapshot(clean_engine)
    clean_engine.dispose()


def test_two_overlapping_loads_at_once(warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = _big_export(tmp_path / "a.csv", 0, 8000, status="待发货")
    b = _big_export(tmp_path / "b.csv", 4000, 8000, status="已完成")
    procs = [_load_process(warehouse, a), _load_process(warehouse, b)]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    engine = warehouse.engine
    with engine.connect() as conn:
        total, distinct = conn.execute(text("select count(*), count(distinct order_id) from order_line")).one()
        statuses = dict(conn.execute(text("select status, count(*) from order_line group by status")).all())
        runs = conn.execute(text("select status, inserted, updated from ingest_run order by run_id")).all()
    assert total == distinct == 12_000  # no duplicate, no lost row
    assert statuses == {"paid": 4000, "completed": 8000}  # the overlap ends completed whichever ran first
    assert sum(r.inserted for r in runs) == 12_000
