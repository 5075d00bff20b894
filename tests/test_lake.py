"""The Parquet lake: layout and types other engines read, append-only exports, forecasts from the lake.

The sample world is loaded in two steps split in the middle of a local day (dimensions, sessions and
the orders paid before the split; then the rest), exported after each step, and compared with one
full export of the final warehouse.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal
from sqlalchemy import delete

from etl.jobs import load_paths
from livecommerce import lake, queries
from livecommerce.cli import main
from livecommerce.forecast import store
from livecommerce.forecast.engine import serial_map
from livecommerce.warehouse import init
from livecommerce.warehouse.engine import make_engine
from livecommerce.warehouse.tables import OrderLine

ROOT = Path(__file__).resolve().parents[1]
CANONICAL = ROOT / "sample_data/canonical"
SPLIT = "2024-11-11T04:00:00Z"  # 12:00 in Asia/Shanghai: the split day is exported half-way


def _hashes(root: Path) -> dict[str, str]:
    return {f["path"]: f["sha256"] for f in lake.manifest(root)["files"]}


def _table(root: Path, name: str) -> pl.DataFrame:
    keys = {"order_line": ["platform", "order_id", "line_no"], "live_session": ["platform", "session_id"]}
    return lake.scan(root, name).collect().sort(keys[name])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The split load and its two exports, then a full export of the same warehouse."""
    tmp = tmp_path_factory.mktemp("lake")
    first, second = tmp / "first", tmp / "second"
    first.mkdir()
    second.mkdir()
    for f in CANONICAL.iterdir():
        if f.name != "orders.csv":
            (first / f.name).write_bytes(f.read_bytes())
    orders = pl.read_csv(CANONICAL / "orders.csv", infer_schema=False)
    when = pl.coalesce("paid_at_utc", "created_at_utc")
    orders.filter(when < SPLIT).write_csv(first / "orders.csv")
    orders.filter(when >= SPLIT).write_csv(second / "orders.csv")
    engine = make_engine(f"sqlite:///{tmp / 'wh.db'}")
    init(engine)
    load_paths(engine, [first])
    out = tmp / "lake"
    one = lake.export_lake(engine, out)
    before = _hashes(out)
    load_paths(engine, [second])
    two = lake.export_lake(engine, out)
    lake.export_lake(engine, tmp / "full")
    return {"engine": engine, "lake": out, "full": tmp / "full", "one": one, "two": two, "before": before, "tmp": tmp}


def test_the_layout_is_hive_partitioned_by_local_day_and_platform(world: dict[str, Any]) -> None:
    root: Path = world["lake"]
    parts = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet"))
    assert parts == sorted(_hashes(root))  # every file is in the manifest, nothing else
    facts = [p for p in parts if p.startswith(("order_line/", "live_session/"))]
    assert facts and all(
        p.split("/")[1].startswith("dt=") and p.split("/")[2].startswith("platform=") and p.split("/")[3][:5] == "part-"
        for p in facts
    )
    dims = {p.split("/")[0] for p in parts} - {"order_line", "live_session"}
    assert dims == {"platform", "county", "host", "product", "product_alias"}
    lines = _table(root, "order_line")
    local = pl.coalesce("paid_at_utc", "created_at_utc").dt.convert_time_zone("Asia/Shanghai").dt.date()
    assert lines.filter(local != pl.col("dt")).is_empty()
    assert lines.height == world["two"]["warehouse"]["order_line_rows"] == 9162


def test_files_use_standard_parquet_types(world: dict[str, Any]) -> None:
    root: Path = world["lake"]
    path = next(root.glob("order_line/dt=*/platform=*/part-*.parquet"))
    schema = pq.read_schema(path)
    assert str(schema.field("created_at_utc").type) == "timestamp[us, tz=UTC]"
    assert str(schema.field("amount_fen").type) == "int64" and str(schema.field("quantity").type) == "int64"
    assert str(schema.field("order_id").type) in ("string", "large_string")
    assert "platform_id" not in schema.names and "dt" not in schema.names  # partition columns live in the path
    meta = pq.ParquetFile(path).metadata.schema.column(schema.get_field_index("created_at_utc"))
    assert "isAdjustedToUTC=true" in str(meta.logical_type) and "MICROS" in str(meta.logical_type).upper()


@pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")  # inside dask's parquet reader, on pandas 3
def test_polars_and_dask_read_the_lake_with_hive_partitions(world: dict[str, Any]) -> None:
    dd = pytest.importorskip("dask.dataframe")
    root: Path = world["lake"]
    hive = pl.scan_parquet(root / "order_line/**/*.parquet", hive_partitioning=True).collect()
    assert hive.height == 9162 and {"dt", "platform"} <= set(hive.columns)
    assert hive.schema["created_at_utc"] == pl.Datetime("us", "UTC")
    frame = dd.read_parquet(str(root / "order_line"), engine="pyarrow")
    assert {"dt", "platform"} <= set(frame.columns)
    per_platform = frame.groupby("platform", observed=True)["quantity"].sum().compute()
    expected = hive.group_by("platform").agg(pl.col("quantity").sum())
    assert {str(k): int(v) for k, v in per_platform.items()} == dict(expected.iter_rows())
    sessions = dd.read_parquet(str(root / "live_session"), engine="pyarrow")
    assert len(sessions) == world["two"]["warehouse"]["live_session_rows"] == 97


def test_a_second_export_appends_files_changes_none_and_equals_a_full_export(world: dict[str, Any]) -> None:
    root: Path = world["lake"]
    one, two, before = world["one"], world["two"], world["before"]
    assert one["mode"] == "full" and two["mode"] == "append" and two["deleted"] == 0
    after = _hashes(root)
    assert set(before) < set(after)
    assert all(after[p] == h for p, h in before.items())  # manifest entries kept
    assert all(lake._sha256(root / p) == h for p, h in before.items())  # and the files themselves unchanged
    ol = two["tables"]["order_line"]
    assert ol["files"] > 0 and ol["already_in_lake"] > 0 and ol["stale_partitions"] == []
    assert one["tables"]["order_line"]["rows"] + ol["rows"] == 9162
    split_day = "2024-11-11"
    assert one["tables"]["order_line"]["watermark"] == split_day
    assert len([p for p in after if p.startswith(f"order_line/dt={split_day}/") and p not in before]) >= 1
    for name in ("order_line", "live_session"):
        assert_frame_equal(_table(root, name), _table(world["full"], name))
    for dim in ("product", "host"):
        assert_frame_equal(lake.scan(root, dim).collect(), lake.scan(world["full"], dim).collect())
    doc = lake.manifest(root)
    assert [e["mode"] for e in doc["exports"]] == ["full", "append"]
    assert doc["exports"][-1]["warehouse"]["order_line_max_paid_at_utc"].startswith("2024-12-16")


def test_the_lake_gives_the_warehouse_demand_and_the_same_forecasts(world: dict[str, Any]) -> None:
    engine, root = world["engine"], world["lake"]
    ours = lake.demand_history(root)
    theirs = queries.demand_history(engine).select("unique_id", "ds", "y", "gmv_fen")
    assert_frame_equal(ours, theirs, check_dtypes=False)
    assert_frame_equal(
        lake.demand_history(root, county_ids=["puan"]),
        queries.demand_history(engine, county_ids=["puan"]).select("unique_id", "ds", "y", "gmv_fen"),
        check_dtypes=False,
    )
    kw: dict[str, Any] = {"windows": 1, "engine_map": serial_map}
    _, from_wh = store.run_from_warehouse(engine, 7, **kw)
    run_id, from_lake = store.run_from_warehouse(engine, 7, history=ours, source="lake", **kw)
    assert from_lake["unique_id"].n_unique() == 10
    assert_frame_equal(from_wh, from_lake, check_exact=True)
    assert store.runs(engine).filter(pl.col("run_id") == run_id)["source"].to_list() == ["lake"]


def test_changed_old_days_are_reported_stale_and_full_rewrites_a_new_generation(world: dict[str, Any]) -> None:
    engine, tmp = world["engine"], world["tmp"]
    root = tmp / "stale"
    lake.export_lake(engine, root)
    first = _hashes(root)
    old = OrderLine.__table__
    with engine.begin() as conn:
        conn.execute(delete(old).where(old.c.order_id == "3600000000004014376"))  # a line of 2024-09-01
    again = lake.export_lake(engine, root)
    assert again["tables"]["order_line"]["stale_partitions"] == ["order_line/dt=2024-09-01/platform=taobao"]
    assert again["tables"]["order_line"]["files"] == 0 and _hashes(root) == first
    redo = lake.export_lake(engine, root, full=True)
    files = _hashes(root)
    assert redo["mode"] == "full" and redo["deleted"] == len(first) and not set(files) & set(first)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet")) == sorted(files)
    assert _table(root, "order_line").height == 9161
    assert lake.export_lake(engine, root)["tables"]["order_line"]["stale_partitions"] == []


def test_cli_export_lake_and_forecast_from_the_lake(world: dict[str, Any], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wh.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--db", db, "etl", "load", str(CANONICAL)]).exit_code == 0
    out = tmp_path / "lake"
    result = runner.invoke(main, ["--db", db, "export", "lake", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["mode"] == "full" and doc["tables"]["order_line"]["rows"] == 9162
    again = json.loads(runner.invoke(main, ["--db", db, "export", "lake", "--out", str(out), "--json"]).output)
    assert again["mode"] == "append" and again["tables"]["order_line"]["files"] == 0
    text = runner.invoke(main, ["--db", db, "export", "lake", "--out", str(out)])
    assert text.exit_code == 0 and "order_line" in text.output
    sku = "puan-black-tea-250g"
    args = ["--db", db, "forecast", "run", "--horizon", "7", "--windows", "1", "--sku", sku, "--engine", "local"]
    run = runner.invoke(main, [*args, "--lake", str(out), "--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["source"] == "lake" and json.loads(run.output)["series"] == 1
    bad = runner.invoke(main, [*args, "--lake", str(tmp_path)])
    assert bad.exit_code == 1 and "export lake" in bad.output and "Traceback" not in bad.output


def test_an_empty_warehouse_exports_an_empty_lake(tmp_path: Path) -> None:
    engine = make_engine("sqlite://")
    init(engine)
    summary = lake.export_lake(engine, tmp_path / "l")
    assert summary["tables"]["order_line"]["rows"] == 0 and lake.demand_history(tmp_path / "l").is_empty()
    assert lake.scan(tmp_path / "l", "order_line").collect().columns[-2:] == ["dt", "platform"]


@pytest.mark.postgres
def test_a_lake_from_postgresql_equals_the_lake_from_sqlite(world: dict[str, Any], pg_warehouse: Any) -> None:
    engine = pg_warehouse.engine
    load_paths(engine, [CANONICAL])
    out = world["tmp"] / f"pg-{pg_warehouse.schema}"
    summary = lake.export_lake(engine, out)
    assert summary["tables"]["order_line"]["rows"] == 9162
    runs = ["first_run_id", "last_run_id", "ingest_run_id"]  # ingest run numbers differ between the two loads
    for name in ("order_line", "live_session"):
        ours, theirs = _table(out, name), _table(world["full"], name)
        assert_frame_equal(ours.drop(runs, strict=False), theirs.drop(runs, strict=False))
    assert_frame_equal(lake.demand_history(out), lake.demand_history(world["full"]))
    assert lake.export_lake(engine, out)["tables"]["order_line"]["stale_partitions"] == []
