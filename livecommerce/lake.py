"""The Parquet lake: the warehouse's facts as hive-partitioned Parquet, append-only, with a manifest.

Layout under the lake directory (plain Parquet, standard types: timestamps ``timestamp[us, UTC]``,
money ``int64`` fen, text UTF-8; the partition columns live in the paths, not in the files)::

    order_line/dt=2024-11-11/platform=douyin/part-00001-1a2b3c4d.parquet   local day of coalesce(paid, created)
    live_session/dt=2024-11-11/platform=douyin/part-00001-1a2b3c4d.parquet local day of the start
    platform/ county/ host/ product/ product_alias/  part-….parquet        one file per dimension
    _manifest.json                                                        files, rows, sha256, watermarks

polars (``scan_parquet(..., hive_partitioning=True)``), Dask (``dd.read_parquet``), Spark
(``spark.read.parquet``) and Trino (a Hive table partitioned by ``dt, platform``) read it as it is.

**Append-only.** A part file is never rewritten. The first export writes everything; each later one
re-reads the warehouse from the *watermark* (the last local day exported, per fact) on and writes,
for every partition from that day on, one new part file with the rows whose natural key the lake does
not hold yet (the watermark day may have been exported half-way through). Rows of earlier days that
appear or change in the warehouse afterwards (a late export, a refund of an old line) are not
appended: the summary lists those partitions as ``stale`` (their row counts differ) and ``--full``
(:func:`export_lake` with ``full=True``) writes a complete new generation of part files, switches the
manifest to it and then deletes the old generation. Dimensions are small: a dimension's file is
replaced (new name, old file deleted) only when its content changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import BigInteger, Boolean, Date, Float, Integer, SmallInteger, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from livecommerce.config import LOCAL_TZ
from livecommerce.warehouse.rollups import PAID_STATUSES, local_day
from livecommerce.warehouse.tables import (
    County,
    Host,
    LiveSession,
    OrderLine,
    Platform,
    Product,
    ProductAlias,
    UtcDateTime,
)

__all__ = ["FACTS", "MANIFEST", "LakeError", "demand_history", "export_lake", "manifest", "scan"]

MANIFEST = "_manifest.json"
FORMAT_VERSION = 1
_TZ = ZoneInfo(LOCAL_TZ)
_BATCH = 100_000  # rows fetched from the warehouse at a time
_DIMS = {t.__tablename__: t.__table__ for t in (Platform, County, Host, Product, ProductAlias)}


@dataclass(frozen=True)
class _Fact:
    table: Any
    keys: tuple[str, ...]  # natural key
    day_of: tuple[str, ...]  # the timestamp columns whose first non-null value gives the partition day


_FACT_DEFS = {
    "order_line": _Fact(OrderLine.__table__, ("platform_id", "order_id", "line_no"), ("paid_at_utc", "created_at_utc")),
    "live_session": _Fact(LiveSession.__table__, ("platform_id", "session_id"), ("started_at_utc",)),
}
#: fact tables of the lake, partitioned by ``dt`` (local day) and ``platform``
FACTS = tuple(_FACT_DEFS)


class LakeError(ValueError):
    """The directory is not a lake, or another export is writing to it."""


# --- types -----------------------------------------------------------------------------------


def _dtype(column: Any) -> pl.DataType:
    t = column.type
    if isinstance(t, UtcDateTime):
        return pl.Datetime("us", "UTC")
    if isinstance(t, Boolean):
        return pl.Boolean()
    if isinstance(t, BigInteger | Integer | SmallInteger):
        return pl.Int64()
    if isinstance(t, Float):
        return pl.Float64()
    if isinstance(t, Date):
        return pl.Date()
    return pl.String()


def _schema(table: Any) -> dict[str, pl.DataType]:
    return {c.name: _dtype(c) for c in table.c}


def _when(fact: _Fact) -> ColumnElement[Any]:
    cols = [fact.table.c[c] for c in fact.day_of]
    return func.coalesce(*cols) if len(cols) > 1 else cols[0]


def _day_expr(fact: _Fact) -> pl.Expr:
    when = pl.coalesce(list(fact.day_of)) if len(fact.day_of) > 1 else pl.col(fact.day_of[0])
    return when.dt.convert_time_zone(LOCAL_TZ).dt.date().alias("dt")


def _start_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), _TZ).astimezone(dt.UTC)


# --- the manifest ----------------------------------------------------------------------------


def manifest(lake: str | Path) -> dict[str, Any]:
    """Return the lake's manifest: ``format``, ``exports`` (one entry per export: id, time, mode, rows,
    files, watermark, the warehouse's latest timestamps), ``files`` (``path``, ``table``, ``rows``,
    ``bytes``, ``sha256``, ``export_id``; paths relative to the lake) and ``watermark`` (last local day
    exported per fact). Raises :class:`LakeError` when ``lake`` has none."""
    path = Path(lake) / MANIFEST
    if not path.exists():
        raise LakeError(
            f"{lake} is not a lake (no {MANIFEST}): write one with `livecommerce export lake --out {lake}` "
            f"/ {lake} 不是数据湖目录，请先运行 livecommerce export lake。"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _empty_manifest() -> dict[str, Any]:
    return {"format": FORMAT_VERSION, "exports": [], "files": [], "watermark": {}}


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_part(root: Path, rel: str, frame: pl.DataFrame, table: str, export_id: str) -> dict[str, Any]:
    """Write ``frame`` to ``root/rel`` (through a hidden temporary name) and return its manifest entry."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():  # never overwrite a part (export ids are unique; this is a guard)
        raise LakeError(f"{rel} exists already: part files are never rewritten")
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(tmp, compression="zstd", statistics=True)
    os.replace(tmp, path)
    return {
        "path": rel,
        "table": table,
        "rows": frame.height,
        "bytes": path.stat().st_size,
        "sha256": _sha256(path),
        "export_id": export_id,
    }


# --- reading the warehouse -------------------------------------------------------------------


def _batches(engine: Engine, stmt: Any, schema: dict[str, pl.DataType]) -> Iterator[pl.DataFrame]:
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=_BATCH).execute(stmt)
        for rows in result.partitions():
            yield pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _fact_days(engine: Engine, fact: _Fact, since: dt.date | None) -> Iterator[pl.DataFrame]:
    """Yield the fact's rows from local day ``since`` on (all when None), one frame per local day in order,
    with ``dt``; rows are read in batches ordered by time, so memory holds about one batch and one day."""
    when = _when(fact)
    stmt = select(*fact.table.c)
    if since is not None:
        stmt = stmt.where(when >= _start_utc(since))
    stmt = stmt.order_by(when, *[fact.table.c[k] for k in fact.keys])
    pending: pl.DataFrame | None = None
    for batch in _batches(engine, stmt, _schema(fact.table)):
        batch = batch.with_columns(_day_expr(fact))
        pending = batch if pending is None else pl.concat([pending, batch])
        last = pending["dt"].max()
        done = pending.filter(pl.col("dt") < last)
        pending = pending.filter(pl.col("dt") == last)
        for (_,), day in done.group_by("dt", maintain_order=True):
            yield day
    if pending is not None and pending.height:
        yield pending


def _warehouse_counts(engine: Engine, fact: _Fact, before: dt.date) -> dict[tuple[dt.date, str], int]:
    """Rows per (local day, platform) of the fact before local day ``before``."""
    when = _when(fact)
    platform = fact.table.c.platform_id
    with engine.connect() as conn:
        # group on a subquery's column: PostgreSQL would see two different bound time-zone parameters
        days = select(local_day(conn, when).label("d"), platform.label("p")).where(when < _start_utc(before)).subquery()
        stmt = select(days.c.d, days.c.p, func.count()).group_by(days.c.d, days.c.p)
        return {(dt.date.fromisoformat(str(d)[:10]), p): int(n) for d, p, n in conn.execute(stmt)}


def _warehouse_latest(engine: Engine) -> dict[str, Any]:
    ol, ls = OrderLine.__table__, LiveSession.__table__
    with engine.connect() as conn:
        row = conn.execute(
            select(func.max(ol.c.created_at_utc), func.max(ol.c.paid_at_utc), func.count()).select_from(ol)
        ).one()
        srow = conn.execute(select(func.max(ls.c.started_at_utc), func.count()).select_from(ls)).one()
    return {
        "order_line_max_created_at_utc": row[0],
        "order_line_max_paid_at_utc": row[1],
        "order_line_rows": int(row[2]),
        "live_session_max_started_at_utc": srow[0],
        "live_session_rows": int(srow[1]),
    }


# --- export ----------------------------------------------------------------------------------


def _partition(table: str, day: dt.date, platform: str) -> str:
    return f"{table}/dt={day.isoformat()}/platform={quote(platform, safe='')}"


def _partition_day(partition: str) -> dt.date:
    return dt.date.fromisoformat(partition.split("/")[1].removeprefix("dt="))


def _existing_keys(root: Path, files: Sequence[dict[str, Any]], keys: Sequence[str]) -> pl.DataFrame | None:
    cols = [k for k in keys if k != "platform_id"]
    if not files:
        return None
    return pl.concat([pl.read_parquet(root / f["path"], columns=cols) for f in files])


def _export_fact(
    engine: Engine, root: Path, name: str, export_id: str, old: dict[str, Any], full: bool
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    fact = _FACT_DEFS[name]
    watermark = None if full else old["watermark"].get(name)
    since = dt.date.fromisoformat(watermark) if watermark else None
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for f in old["files"] if not full else []:
        if f["table"] == name:
            by_partition.setdefault(f["path"].rsplit("/", 1)[0], []).append(f)
    entries: list[dict[str, Any]] = []
    skipped = 0
    last = since
    for day_rows in _fact_days(engine, fact, since):
        day = day_rows["dt"][0]
        last = day if last is None or day > last else last
        for (platform,), rows in day_rows.group_by("platform_id", maintain_order=True):
            part = _partition(name, day, str(platform))
            have = _existing_keys(root, by_partition.get(part, []), fact.keys)
            if have is not None:
                n = rows.height
                rows = rows.join(have, on=list(have.columns), how="anti", nulls_equal=True)
                skipped += n - rows.height
            if rows.height:
                rel = f"{part}/part-{export_id}.parquet"
                entries.append(_write_part(root, rel, rows.drop("dt", "platform_id"), name, export_id))
    stale: list[str] = []
    if since is not None:  # earlier days: the lake's row count per partition against the warehouse's
        counts = {_partition(name, d, p): n for (d, p), n in _warehouse_counts(engine, fact, since).items()}
        held: dict[str, int] = {}
        for f in old["files"]:
            part = f["path"].rsplit("/", 1)[0]
            if f["table"] == name and _partition_day(part) < since:
                held[part] = held.get(part, 0) + f["rows"]
        stale = sorted(p for p in set(counts) | set(held) if counts.get(p, 0) != held.get(p, 0))
    summary = {
        "files": len(entries),
        "rows": sum(e["rows"] for e in entries),
        "already_in_lake": skipped,
        "watermark": last.isoformat() if last else None,
        "stale_partitions": stale,
    }
    return entries, summary


def _export_dims(engine: Engine, root: Path, export_id: str, old: dict[str, Any], full: bool) -> list[dict[str, Any]]:
    """Return the manifest entries of the dimension files: the current ones kept, changed ones rewritten."""
    current = {f["table"]: f for f in old["files"] if f["table"] in _DIMS}
    entries = []
    for name, table in _DIMS.items():
        key = [c.name for c in table.primary_key.columns]
        with engine.connect() as conn:
            rows = conn.execute(select(*table.c).order_by(*[table.c[k] for k in key])).all()
        frame = pl.DataFrame([tuple(r) for r in rows], schema=_schema(table), orient="row")
        prev = current.get(name)
        if prev is not None and not full and pl.read_parquet(root / prev["path"]).equals(frame):
            entries.append(prev)
            continue
        entries.append(_write_part(root, f"{name}/part-{export_id}.parquet", frame, name, export_id))
    return entries


def export_lake(engine: Engine, out: str | Path, *, full: bool = False) -> dict[str, Any]:
    """Export the warehouse's facts and dimensions to the Parquet lake ``out`` (created when missing).

    Appends (see the module docstring) unless ``full`` or the lake is new, then writes everything as a
    new generation and deletes the files of the previous one once the manifest points to the new one.
    Returns the summary: ``lake``, ``export_id``, ``mode`` (``full`` or ``append``), per fact ``files``,
    ``rows``, ``already_in_lake`` (rows re-read at the watermark day and skipped), ``watermark``,
    ``stale_partitions``; ``dimension_files`` written; ``deleted`` files; ``warehouse`` (latest
    timestamps and row counts read). Raises :class:`LakeError` when another export holds the lake.
    """
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    lock = root / ".export.lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError as exc:
        raise LakeError(
            f"another export is writing to {root} ({lock} exists; delete it if that export died) "
            f"/ 另一个导出正在写入 {root}"
        ) from exc
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        old = manifest(root) if (root / MANIFEST).exists() else _empty_manifest()
        full = full or not old["files"]
        seq = len(old["exports"]) + 1
        export_id = f"{seq:05d}-{uuid.uuid4().hex[:8]}"
        latest = _warehouse_latest(engine)
        facts: dict[str, Any] = {}
        new_files: list[dict[str, Any]] = []
        for name in FACTS:
            entries, facts[name] = _export_fact(engine, root, name, export_id, old, full)
            new_files += entries
        dims = _export_dims(engine, root, export_id, old, full)
        kept = [] if full else [f for f in old["files"] if f["table"] in _FACT_DEFS]
        files = kept + new_files + dims
        watermark = {n: facts[n]["watermark"] for n in FACTS if facts[n]["watermark"]}
        entry = {
            "export_id": export_id,
            "at_utc": dt.datetime.now(dt.UTC).isoformat(),
            "mode": "full" if full else "append",
            "rows": {n: facts[n]["rows"] for n in FACTS},
            "files": len(new_files) + sum(1 for d in dims if d["export_id"] == export_id),
            "watermark": watermark,
            "warehouse": latest,
        }
        doc = {"format": FORMAT_VERSION, "exports": [*old["exports"], entry], "files": files, "watermark": watermark}
        _write_json(root / MANIFEST, doc)
        live = {f["path"] for f in files}
        deleted = [f["path"] for f in old["files"] if f["path"] not in live]
        for rel in deleted:
            (root / rel).unlink(missing_ok=True)
    finally:
        lock.unlink(missing_ok=True)
    return {
        "lake": str(root),
        "export_id": export_id,
        "mode": entry["mode"],
        "tables": facts,
        "dimension_files": sum(1 for d in dims if d["export_id"] == export_id),
        "deleted": len(deleted),
        "warehouse": latest,
    }


# --- reading the lake ------------------------------------------------------------------------


def scan(lake: str | Path, table: str) -> pl.LazyFrame:
    """Return a lazy scan of one table of the lake (the files its manifest lists). Facts carry their hive
    partition columns ``dt`` (date) and ``platform`` (string)."""
    root = Path(lake)
    doc = manifest(root)
    files = [root / f["path"] for f in doc["files"] if f["table"] == table]
    if table in _FACT_DEFS:
        fact = _FACT_DEFS[table]
        schema = {k: v for k, v in _schema(fact.table).items() if k != "platform_id"}
        if not files:
            return pl.LazyFrame(schema={**schema, "dt": pl.Date, "platform": pl.String})
        return pl.scan_parquet(
            files,
            hive_partitioning=True,
            hive_schema={"dt": pl.Date, "platform": pl.String},
            schema=schema,
        )
    if table not in _DIMS:
        raise LakeError(f"no table {table!r} in the lake: one of {', '.join([*FACTS, *_DIMS])}")
    return pl.scan_parquet(files) if files else pl.LazyFrame(schema=_schema(_DIMS[table]))


def demand_history(
    lake: str | Path, product_ids: Sequence[str] | None = None, county_ids: Sequence[str] | None = None
) -> pl.DataFrame:
    """Return daily demand per product from the lake: ``unique_id`` (product id), ``ds`` (local date),
    ``y`` (units paid), ``gmv_fen``; the definition of :func:`livecommerce.queries.demand_history`: paid
    lines (status paid, shipped, completed, (partially) refunded, or with a payment time), on the
    Asia/Shanghai day of coalesce(paid, created) (the ``dt`` partition). Days without sales are absent."""
    lines = scan(lake, "order_line")
    paid = pl.col("status").is_in(list(PAID_STATUSES)) | pl.col("paid_at_utc").is_not_null()
    cond = paid & pl.col("product_id").is_not_null() & (pl.col("product_id") != "")
    if product_ids:
        cond = cond & pl.col("product_id").is_in(list(product_ids))
    if county_ids:
        ids = scan(lake, "product").filter(pl.col("county_id").is_in(list(county_ids))).select("product_id").collect()
        cond = cond & pl.col("product_id").is_in(ids["product_id"].to_list())
    return (
        lines.filter(cond)
        .group_by(pl.col("product_id").alias("unique_id"), pl.col("dt").alias("ds"))
        .agg(pl.col("quantity").sum().cast(pl.Int64).alias("y"), pl.col("amount_fen").sum().alias("gmv_fen"))
        .sort("unique_id", "ds")
        .collect()
    )
