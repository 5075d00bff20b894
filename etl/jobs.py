"""ETL jobs: load files and folders, one transaction per file, and say what happened to each.

:func:`load_paths` is the one orchestrator the CLI (and later the dashboard upload) calls. For
each file it sniffs the encoding, finds the header, picks the reader, validates every row,
writes the good rows, the rejects, the run record and the manifest in one transaction, and
returns a :class:`FileReport` per file.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.engine import Engine

from etl.attribution import reattributed
from etl.extract import (
    KIND_ORDER,
    PENDING_KINDS,
    READERS,
    EncodingRefused,
    MappingError,
    RawTable,
    Reader,
    detect,
    known_headers,
    mapped_reader,
    open_tables,
)
from etl.extract.sniff import scans_kept
from etl.load import (
    Assignments,
    assignments_applied,
    file_transaction,
    finished_run,
    host_known,
    manifest_recorded,
    new_run,
    order_span,
    pending_after_sales_applied,
    rejects_written,
    rows_written,
    sha256_of,
)
from etl.sessions import SESSION_KINDS, FileRefused, sessions_loaded
from etl.validate import Prepared, Reject, prepared_batches
from livecommerce.pipeline import read_ahead
from livecommerce.schemas import C
from livecommerce.warehouse import rollup_statistics_refreshed, statistics_refreshed
from livecommerce.warehouse.rollups import WrittenLines, refresh
from livecommerce.warehouse.tables import IngestRun, Product, RejectedRow
from livecommerce.warehouse.upsert import UpsertResult

__all__ = [
    "SUPPORTED_SUFFIXES",
    "FileReport",
    "LoadRefused",
    "assignments_from",
    "load_paths",
    "rejects",
    "runs",
]

#: a load that wrote this many rows refreshes the database's statistics before the rollup refresh
ANALYZE_AFTER_ROWS = 50_000
SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".jsonl", ".ndjson")


class LoadRefused(ValueError):
    """A file refused as a whole (encoding, unknown format, missing companion); nothing loaded."""


@dataclass
class FileReport:
    """What happened to one file; :meth:`as_json` is the ``--json`` document's entry."""

    path: str
    format: str | None = None
    encoding: str | None = None
    status: str = "running"
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects: list[Reject] = field(default_factory=list)
    message: str | None = None
    notes: list[str] = field(default_factory=list)
    run_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the summary of this file as in the CLI contract (plus ``message``/``notes``)."""
        return {
            "path": self.path,
            "format": self.format,
            "encoding": self.encoding,
            "status": self.status,
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejects": [
                {"line": r.line, "column": r.column, "code": r.code, "message": r.message} for r in self.rejects
            ],
            "message": self.message,
            "notes": self.notes,
        }

    def rejected_by_reason(self) -> dict[str, int]:
        """Return the number of rejected rows per reject code."""
        counts: dict[str, set[int | None]] = {}
        for r in self.rejects:
            counts.setdefault(r.code, set()).add(r.line)
        return {code: len(lines) for code, lines in sorted(counts.items())}


@dataclass
class _Planned:
    path: Path
    tables: list[tuple[RawTable, Reader]]
    companions: list[tuple[RawTable, Reader]] = field(default_factory=list)
    refused: str | None = None
    skipped: str | None = None
    encoding: str | None = None

    @property
    def order(self) -> tuple[int, str]:
        kinds = [KIND_ORDER.get(r.kind, 9) for _, r in self.tables] or [9]
        return (min(kinds), str(self.path))

    @property
    def format(self) -> str | None:
        # the sheets of a Douyin compass workbook are one format (ingest_run.format holds 64 characters)
        names = list(dict.fromkeys("douyin_compass" if r.kind == "compass" else r.name for _, r in self.tables))
        return "+".join(names) if names else None


class _DryRun(Exception):
    pass


def assignments_from(path: Path | None, *, county_id: str | None = None, host_id: str | None = None) -> Assignments:
    """Return the dimension assignments of a registry file (YAML/JSON/TOML) plus ``--county``/``--host``.

    The file maps ``platform:platform id`` to our ids and counties::

        products:
          "douyin:3601234567": {product_id: lixian-huaniu-5jin, county_id: lixian}
        hosts:
          "douyin:7012345": {host_id: xiaowang, county_id: lixian}
    """
    products: dict[str, dict[str, str]] = {}
    hosts: dict[str, dict[str, str]] = {}
    if path is not None:
        text = path.read_text(encoding="utf-8-sig")
        try:
            if path.suffix.lower() == ".json":
                doc = json.loads(text)
            elif path.suffix.lower() == ".toml":
                doc = tomllib.loads(text)
            else:
                import yaml

                doc = yaml.safe_load(text)
        except Exception as exc:
            raise MappingError(
                f"{path}: cannot read the registry file ({exc}) / {path}：无法读取登记文件（{exc}）"
            ) from exc
        doc = doc or {}
        for section, target, id_key in (("products", products, "product_id"), ("hosts", hosts, "host_id")):
            for key, value in (doc.get(section) or {}).items():
                if ":" not in str(key):
                    raise MappingError(
                        f"{path}: {section} key {key!r} must be 'platform:id', e.g. 'douyin:3601234567' / "
                        f"{path}：{section} 的键 {key!r} 应写成 平台:编号，例如 douyin:3601234567"
                    )
                target[str(key)] = (
                    {id_key: str(value)} if isinstance(value, str) else {k: str(v) for k, v in dict(value).items()}
                )
    return Assignments(county_id=county_id, host_id=host_id, products=products, hosts=hosts)


def _files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.iterdir())
                if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
        else:
            found.append(path)
    return found


def _planned(path: Path, fmt: str | None, extra: tuple[Reader, ...]) -> _Planned:
    if not path.exists():
        return _Planned(path, [], refused=f"{path}: no such file / 文件不存在")
    try:
        tables = open_tables(path, known_headers() | {k for r in extra for ks in r.keys.values() for k in ks})
    except EncodingRefused as exc:
        return _Planned(path, [], refused=str(exc))
    except Exception as exc:  # a broken workbook or Parquet file: refused whole, with its reason
        return _Planned(
            path,
            [],
            refused=f"{path}: cannot read the file ({type(exc).__name__}: {exc}); export it again / "
            f"{path}：无法读取文件，请重新导出",
        )
    encoding = next((t.encoding for t in tables if t.encoding), None)
    matched = []
    only = None if extra else fmt
    for table in tables:
        reader = detect(table, only=only, extra=extra)
        if reader is not None:
            matched.append((table, reader))
    if not matched:
        hint = f" with --format {fmt}" if fmt else ""
        headers = ", ".join(h for h in tables[0].header[:8]) if tables else "(empty)"
        return _Planned(
            path,
            [],
            encoding=encoding,
            refused=f"{path}: not a known export{hint} (header: {headers}); name the format with --format "
            f"({', '.join(sorted(READERS))}) or describe the columns with --mapping FILE / "
            f"{path}：无法识别的导出格式，请用 --format 指定格式，或用 --mapping 提供列映射",
        )
    pending = [r for _, r in matched if r.kind in PENDING_KINDS]
    if pending and len(pending) == len(matched):
        return _Planned(
            path,
            matched,
            encoding=encoding,
            skipped=f"{path}: {pending[0].name} files are loaded by a later version (live sessions, issue 5); "
            f"skipped / {path}：直播场次、排班与日志文件暂不支持导入，已跳过",
        )
    matched = [(t, r) for t, r in matched if r.kind not in PENDING_KINDS]
    return _Planned(path, matched, encoding=encoding)


def _paired(plans: list[_Planned]) -> None:
    """Attach order-item tables (Taobao item report, Qianniu line sheet) to their order tables."""
    pool: dict[str, list[tuple[_Planned, RawTable, Reader]]] = {}
    for plan in plans:
        for table, reader in plan.tables:
            if reader.kind == "order_items":
                pool.setdefault(reader.name, []).append((plan, table, reader))
    used: set[int] = set()
    for plan in plans:
        for _table, reader in plan.tables:
            if reader.kind != "order_headers" or not reader.companion:
                continue
            candidates = pool.get(reader.companion, [])
            # prefer a sheet of the same workbook, then a file in the same folder
            candidates = sorted(candidates, key=lambda c: (c[0] is not plan, c[0].path.parent != plan.path.parent))
            for owner, item_table, item_reader in candidates:
                if id(item_table) in used:
                    continue
                used.add(id(item_table))
                plan.companions.append((item_table, item_reader))
                if owner is not plan:
                    owner.tables = [(t, r) for t, r in owner.tables if t is not item_table]
                    if not owner.tables:
                        owner.skipped = (
                            f"{owner.path}: read together with {plan.path.name} / 已与 {plan.path.name} 一起读取"
                        )
                break
    for plan in plans:
        lonely = [(t, r) for t, r in plan.tables if r.kind == "order_items" and id(t) not in used]
        if lonely and len(lonely) == len(plan.tables) and not plan.skipped:
            plan.refused = (
                f"{plan.path}: an item report ({lonely[0][1].name}) has no order times or amounts of its own; load it "
                f"together with its order report (same folder or same command) / "
                f"{plan.path}：宝贝/子订单报表缺少下单时间和实付金额，请与对应的订单报表一起导入（同一文件夹或同一命令）"
            )
        plan.tables = [(t, r) for t, r in plan.tables if r.kind != "order_items"]


def load_paths(
    engine: Engine,
    paths: Sequence[str | Path],
    *,
    fmt: str | None = None,
    mapping: str | Path | None = None,
    assign: Assignments | None = None,
    dry_run: bool = False,
    progress: Callable[[str, int, int | None], None] | None = None,
    now: dt.datetime | None = None,
) -> list[FileReport]:
    """Load every file in ``paths`` (folders: every supported file inside) and return one report each.

    Files are loaded in a sensible order: dimensions, then orders, then after-sales. Each file
    is one transaction. ``fmt`` forces a reader by name; ``mapping`` is a user's mapping file for
    an unknown export; ``assign`` maps new products and hosts to counties; ``dry_run`` checks
    and counts everything, then rolls back. ``progress(path, rows_done, rows_total)`` is called
    after each batch. Raises :class:`MappingError` for an unreadable mapping file.
    """
    if fmt is not None and fmt not in READERS:
        raise MappingError(f"unknown format {fmt!r}; known formats: {', '.join(sorted(READERS))} / 未知格式 {fmt!r}")
    extra = (mapped_reader(Path(mapping)),) if mapping else ()
    assign = assign or Assignments()
    with scans_kept():  # detection, encoding and manifest share one read of each file
        plans = [_planned(p, fmt, extra) for p in _files([Path(p) for p in paths])]
        _paired(plans)
        plans.sort(key=lambda p: p.order)
        reports: list[FileReport] = []
        for plan in plans:
            reports.append(_load_one(engine, plan, assign=assign, dry_run=dry_run, progress=progress, now=now))
    return reports


def _refused_recorded(engine: Engine, report: FileReport, sha: str | None) -> None:
    with file_transaction(engine) as conn:
        run_id = new_run(conn, report.path, sha, report.format, report.encoding)
        finished_run(conn, run_id, report.status, {}, report.message)
        report.run_id = run_id


def _load_one(
    engine: Engine,
    plan: _Planned,
    *,
    assign: Assignments,
    dry_run: bool,
    progress: Callable[[str, int, int | None], None] | None,
    now: dt.datetime | None,
) -> FileReport:
    path = str(plan.path)
    report = FileReport(path, plan.format, plan.encoding)
    sha = sha256_of(plan.path) if plan.path.exists() else None
    if plan.refused:
        report.status, report.message = "refused", plan.refused
        if not dry_run:
            _refused_recorded(engine, report, sha)
        return report
    if plan.skipped:
        report.status, report.message = "skipped", plan.skipped
        return report
    for _, reader in plan.tables:
        report.notes.extend(n for n in reader.notes if n not in report.notes)
    try:
        with file_transaction(engine) as conn, WrittenLines() as written:
            run_id = new_run(conn, path, sha, report.format, report.encoding)
            report.run_id = run_id
            if assign.host_id and not host_known(conn, assign.host_id):  # lines name their host without a key
                raise LoadRefused(
                    f"{path}: host {assign.host_id!r} given with --host is not in the warehouse; nothing was "
                    "loaded. Load the hosts file first (or map the export's 达人ID in the registry file). / "
                    f"{path}：--host 指定的主播 {assign.host_id!r} 不在数仓中，未导入任何数据。"
                    "请先导入主播文件（或在登记文件中映射导出中的达人ID）。"
                )
            if assign.products or assign.hosts:
                assignments_applied(conn, assign)
            totals = UpsertResult()
            touched: dict[str, list[dt.datetime]] = {}
            live_spans: dict[str, tuple[dt.datetime, dt.datetime]] = {}
            order_platforms: set[str] = set()
            live_tables = [(t, r) for t, r in plan.tables if r.kind in SESSION_KINDS]
            if live_tables:  # issue 5: sessions, minute logs, compass workbooks, schedules
                live = sessions_loaded(
                    conn, live_tables, run_id=run_id, now=now or dt.datetime.now(dt.UTC), assign=assign
                )
                report.rows_read += live.rows_read
                _rejects_noted(conn, run_id, report, Prepared(pl.DataFrame(), live.rejects))
                report.notes.extend(n for n in live.notes if n not in report.notes)
                totals = totals + live.result
                for plat, times in live.spans.items():
                    if times:
                        live_spans[plat] = (min(times), max(times))
                        touched.setdefault(plat, []).extend(times)
            for table, reader in plan.tables:
                if reader.kind in SESSION_KINDS:
                    continue
                known = None
                if reader.kind in ("orders", "product_aliases") and reader.platform is None:
                    known = set(conn.execute(select(Product.__table__.c.product_id)).scalars())
                items = (
                    _companion_items(conn, run_id, plan, reader, report, now)
                    if reader.kind == "order_headers"
                    else None
                )
                for prepared in read_ahead(prepared_batches(table, reader, now=now, known_products=known)):
                    report.rows_read += prepared.rows_read
                    _rejects_noted(conn, run_id, report, prepared)
                    frame = prepared.frame
                    kind = reader.kind
                    if kind == "order_headers":
                        frame, kind = _lines_from_headers(frame, items), "orders"
                    elif reader.name == "taobao_export21":
                        frame = _lines_from_joined_titles(frame)
                    totals = totals + rows_written(
                        conn,
                        kind,
                        frame.drop("_line"),
                        run_id=run_id,
                        platform=reader.platform,
                        assign=assign,
                        written=written,
                    )
                    if kind == "orders" and frame.height:
                        order_platforms.update(frame[C.platform_id].unique().to_list())
                        for plat, part in frame.group_by(C.platform_id):
                            span = touched.setdefault(str(plat[0]), [])
                            paid = part[C.paid_at_utc] if C.paid_at_utc in part.columns else part[C.created_at_utc]
                            span.extend([part[C.created_at_utc].min(), part[C.created_at_utc].max(), paid.max()])
                    elif kind == "after_sale" and frame.height and reader.platform:
                        orders = frame[C.order_id].unique().to_list()
                        touched.setdefault(reader.platform, []).extend(order_span(conn, reader.platform, orders))
                    if progress:
                        progress(path, report.rows_read, None)
            for platform in touched:
                if pending_after_sales_applied(conn, platform, run_id):
                    written.spoil(platform)
            # issue 5: lines whose attribution the file may have changed (etl.attribution); a platform
            # whose lines the file only inserted has none (they were attributed on the way in)
            updated = {p for p in order_platforms if not written.only_inserted(p)}
            for plat, times in reattributed(conn, run_id=run_id, platforms=updated, spans=live_spans).items():
                touched.setdefault(plat, []).extend(times)
                written.spoil(plat)
            report.inserted, report.updated, report.unchanged = totals.inserted, totals.updated, totals.unchanged
            report.rejected = len({r.line for r in report.rejects if r.path == path}) + len(
                {(r.path, r.line) for r in report.rejects if r.path != path}
            )
            report.status = "loaded" if totals.written or report.rows_read == 0 else "unchanged"
            if totals.written == 0 and report.rows_read > 0 and report.rejected == report.rows_read:
                report.status = "loaded"
            spans = {p: [t for t in v if t is not None] for p, v in touched.items()}
            if totals.written >= ANALYZE_AFTER_ROWS:  # the planner must know the new size first
                statistics_refreshed(conn)
            refresh(conn, {p: (min(v), max(v)) for p, v in spans.items() if v}, written)  # in this transaction
            if conn.dialect.name == "sqlite" or totals.written >= ANALYZE_AFTER_ROWS:
                rollup_statistics_refreshed(conn)  # cheap on SQLite; PostgreSQL's autovacuum does small loads
            counts = {
                "rows_read": report.rows_read,
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
            }
            finished_run(conn, run_id, "dry_run" if dry_run else report.status, counts, "; ".join(report.notes) or None)
            if sha and not dry_run:
                manifest_recorded(conn, sha, path, report.format or "", run_id)
            if dry_run:
                raise _DryRun
    except _DryRun:
        report.status = "dry_run"
        report.run_id = None
    except (MappingError, LoadRefused, FileRefused) as exc:
        report.status, report.message = "refused", str(exc)
    except Exception as exc:
        report.status = "failed"
        report.message = (
            f"{path}: the load failed and was rolled back, nothing of this file was kept ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:300]}) / {path}：导入失败，已回滚，本文件未写入任何数据"
        )
        try:
            _refused_recorded(engine, report, sha)
        except Exception:  # the database itself is gone: the report still says what happened
            pass
    return report


def _rejects_noted(conn: Any, run_id: int, report: FileReport, prepared: Prepared) -> None:
    if prepared.rejects:
        rejects_written(conn, run_id, prepared.rejects)
        report.rejects.extend(prepared.rejects)


def _companion_items(
    conn: Any, run_id: int, plan: _Planned, reader: Reader, report: FileReport, now: dt.datetime | None
) -> pl.DataFrame | None:
    """Return every good row of the item table that goes with ``reader``'s order table (or None)."""
    frames = []
    for table, item_reader in plan.companions:
        if item_reader.name != reader.companion:
            continue
        if str(table.path) != report.path:
            report.notes.append(f"items read from {table.path.name} / 商品明细取自 {table.path.name}")
        for prepared in prepared_batches(table, item_reader, now=now):
            _rejects_noted(conn, run_id, report, prepared)
            frames.append(prepared.frame)
    if not frames:
        return None
    return pl.concat(frames, how="diagonal_relaxed")


def _split(amount: pl.Expr, weight: pl.Expr, order: pl.Expr, seq: pl.Expr) -> pl.Expr:
    """Return ``amount`` split across the rows of each order in proportion to ``weight`` (exact fen)."""
    total = weight.sum().over(order)
    product = amount * weight
    base = pl.when(total > 0).then(product // total).otherwise(amount // pl.len().over(order))
    frac = pl.when(total > 0).then(product % total).otherwise(amount % pl.len().over(order))
    short = amount - base.sum().over(order)
    rank = pl.struct(-frac, seq).rank("ordinal").over(order)
    return (base + (rank <= short).cast(pl.Int64)).cast(pl.Int64)


def _lines_from_headers(headers: pl.DataFrame, items: pl.DataFrame | None) -> pl.DataFrame:
    """Return order lines from order-level rows joined with their items.

    Orders without items become one line (title and quantity of the order row). Orders with
    items get one line per item; an item's own paid amount is used when the export has one
    (Qianniu), otherwise the order's paid amount and refund are split across its items in
    proportion to price × quantity, to the fen.
    """
    base_cols = [c for c in headers.columns if c not in ("address", "total_fen", "settled_fen", "item_kinds")]
    headers = headers.select(base_cols)
    if C.quantity not in headers.columns:
        # the analysis subset of the Taobao report has no 宝贝总数量: one unit per order
        headers = headers.with_columns(pl.lit(1, dtype=pl.Int64).alias(C.quantity))
    if items is None or items.height == 0:
        return headers.with_columns(pl.lit(1, dtype=pl.Int64).alias(C.line_no), pl.col(C.quantity).fill_null(1))
    keep = [c for c in items.columns if c not in ("_line", C.platform_id)]
    joined = headers.join(items.select(keep), on=C.order_id, how="left", suffix="_item")
    has_item = pl.col(C.line_no).is_not_null()
    item_qty = pl.col(C.quantity + "_item").fill_null(1) if C.quantity + "_item" in joined.columns else pl.lit(1)
    weight = pl.col(C.unit_price_fen).fill_null(0) * item_qty if C.unit_price_fen in joined.columns else item_qty
    seq = pl.col(C.line_no).fill_null(1)
    split_amount = _split(pl.col(C.amount_fen), weight, pl.col(C.order_id), seq)
    split_refund = _split(pl.col(C.refund_fen), weight, pl.col(C.order_id), seq)
    exprs = [
        seq.alias(C.line_no),
        pl.when(has_item)
        .then(item_qty)
        .otherwise(pl.col(C.quantity) if C.quantity in joined.columns else pl.lit(1))
        .fill_null(1)
        .alias(C.quantity),
    ]
    if C.title + "_item" in joined.columns:
        exprs.append(
            pl.coalesce(
                [pl.col(C.title + "_item"), pl.col(C.title)]
                if C.title in joined.columns
                else [pl.col(C.title + "_item")]
            ).alias(C.title)
        )
    if C.amount_fen + "_item" in joined.columns:
        exprs.append(pl.coalesce([pl.col(C.amount_fen + "_item"), split_amount]).alias(C.amount_fen))
    else:
        exprs.append(split_amount.alias(C.amount_fen))
    if C.refund_fen + "_item" in joined.columns:
        exprs.append(
            pl.min_horizontal(pl.coalesce([pl.col(C.refund_fen + "_item"), split_refund]), pl.col(C.amount_fen)).alias(
                C.refund_fen
            )
        )
    else:
        exprs.append(split_refund.alias(C.refund_fen))
    if C.status + "_item" in joined.columns:
        exprs.append(pl.coalesce([pl.col(C.status + "_item"), pl.col(C.status)]).alias(C.status))
    if C.shipped_at_utc + "_item" in joined.columns:
        exprs.append(
            pl.coalesce(
                [pl.col(C.shipped_at_utc + "_item")]
                + ([pl.col(C.shipped_at_utc)] if C.shipped_at_utc in joined.columns else [])
            ).alias(C.shipped_at_utc)
        )
    if C.shipping_fen in joined.columns:
        exprs.append(pl.when(seq == 1).then(pl.col(C.shipping_fen)).otherwise(0).alias(C.shipping_fen))
    out = joined.with_columns(exprs)
    out = out.with_columns(pl.min_horizontal(pl.col(C.refund_fen), pl.col(C.amount_fen)).alias(C.refund_fen))
    return out.drop([c for c in out.columns if c.endswith("_item")])


def _lines_from_joined_titles(frame: pl.DataFrame) -> pl.DataFrame:
    """Return one line per item of the newer 21-column export, whose items share one 商品标题 cell.

    Quantities are spread over the items (at least one each) and the paid amount is split in
    proportion to them, because the export has no amount per item.
    """
    titles = frame[C.title].fill_null("").str.split(by=",").list.eval(pl.element().str.strip_chars())
    frame = frame.with_columns(
        titles.alias("_titles"),
    )
    frame = frame.with_columns(
        pl.col(C.title)
        .str.replace_all("，", ",")
        .str.split(",")
        .list.eval(pl.element().str.strip_chars())
        .alias("_titles")
    )
    frame = frame.with_columns(pl.col("_titles").list.len().clip(lower_bound=1).alias("_n"))
    exploded = frame.explode("_titles").with_columns(
        (pl.int_range(pl.len()).over(C.order_id) + 1).cast(pl.Int64).alias(C.line_no)
    )
    q = pl.col(C.quantity)
    n = pl.col("_n")
    each = pl.when(q >= n).then(q // n + (pl.col(C.line_no) <= (q % n)).cast(pl.Int64)).otherwise(1)
    exploded = exploded.with_columns(each.alias("_q"))
    exploded = exploded.with_columns(
        _split(pl.col(C.amount_fen), pl.col("_q"), pl.col(C.order_id), pl.col(C.line_no)).alias("_amount"),
        _split(pl.col(C.refund_fen), pl.col("_q"), pl.col(C.order_id), pl.col(C.line_no)).alias("_refund"),
    )
    exploded = exploded.with_columns(
        pl.col("_titles").alias(C.title),
        pl.col("_q").alias(C.quantity),
        pl.col("_amount").alias(C.amount_fen),
        pl.col("_refund").alias(C.refund_fen),
        pl.when(pl.col(C.line_no) == 1).then(pl.col(C.shipping_fen)).otherwise(0).alias(C.shipping_fen)
        if C.shipping_fen in frame.columns
        else pl.lit(None, dtype=pl.Int64).alias(C.shipping_fen),
    )
    return exploded.drop("_titles", "_n", "_q", "_amount", "_refund")


def runs(engine: Engine, *, limit: int = 100) -> list[dict[str, Any]]:
    """Return the latest ``limit`` ingest runs, newest first, as plain dicts."""
    table = IngestRun.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.run_id.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


def rejects(engine: Engine, *, run_id: int | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """Return rejected rows (of run ``run_id``, or of every run), in file and line order."""
    table = RejectedRow.__table__
    query = select(table).order_by(table.c.run_id, table.c.line, table.c.id).limit(limit)
    if run_id is not None:
        query = query.where(table.c.run_id == run_id)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [dict(r) for r in rows]
