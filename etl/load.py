"""Writing one file's good rows into the warehouse, inside the caller's single transaction.

Everything here takes a ``Connection`` already in the file's transaction (see
:func:`file_transaction`): the run record, the rows, the rejects, the manifest and the rollup
refresh commit together or not at all, so a load killed at any point leaves the warehouse as it
was before that file. Order lines are upserted on their natural key with merge rules that make
the result independent of the order files arrive in: a status only advances, a refund only grows,
first-seen fields are kept, next-day fields (流量体裁) are filled in when they arrive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import case, func, literal_column, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from etl.attribution import attributed_frame
from etl.extract.sniff import scan_file
from etl.validate import Reject
from livecommerce.schemas import C
from livecommerce.warehouse.rollups import WrittenLines
from livecommerce.warehouse.tables import (
    AfterSale,
    County,
    Host,
    IngestRun,
    LoadedFile,
    OrderLine,
    Product,
    ProductAlias,
    RejectedRow,
    utcnow,
)
from livecommerce.warehouse.upsert import Merge, UpsertResult, as_written, upsert

__all__ = [
    "Assignments",
    "after_sales_applied",
    "assignments_applied",
    "file_transaction",
    "finished_run",
    "host_known",
    "manifest_recorded",
    "new_run",
    "order_span",
    "pending_after_sales_applied",
    "rejects_written",
    "rows_written",
    "sha256_of",
]

_STATUS_RANK = {
    "unpaid": 0,
    "paid": 1,
    "shipped": 2,
    "completed": 3,
    "partially_refunded": 4,
    "refunded": 5,
    "cancelled": 6,
}
_PLACEHOLDER_GENRE = "数据将于第二天更新"
_ETL_LOCK = 0x6C697665  # "live": PostgreSQL advisory lock id that serialises file loads (per schema, below)


@dataclass(frozen=True)
class Assignments:
    """How new dimensions seen in a file are mapped: ``--county``, ``--host`` and the registry file.

    ``products`` / ``hosts`` map ``"platform:platform id"`` to ``{"product_id"|"host_id", "county_id"}``.
    """

    county_id: str | None = None
    host_id: str | None = None
    products: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    hosts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def sha256_of(path: Any) -> str:
    """Return the hex SHA-256 of the file at ``path`` (from the one read :func:`scan_file` makes)."""
    return scan_file(Path(path)).sha256


@contextmanager
def file_transaction(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in one transaction that holds the ETL's write lock until commit.

    SQLite: ``BEGIN IMMEDIATE`` (writers wait for each other; counts are exact). PostgreSQL: a
    transaction-scoped advisory lock of the connection's schema, so two loads of overlapping files into
    one warehouse run one after the other instead of deadlocking on each other's rows, while loads into
    warehouses in other schemas of the same database go ahead.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            trans = conn.begin()
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            trans = conn.begin()
            conn.execute(select(func.pg_advisory_xact_lock(_ETL_LOCK, func.hashtext(func.current_schema()))))
        try:
            yield conn
        except BaseException:
            trans.rollback()
            raise
        else:
            trans.commit()


def new_run(conn: Connection, path: str, sha: str | None, fmt: str | None, encoding: str | None) -> int:
    """Return the id of a new ``ingest_run`` row (status ``running``) for ``path``."""
    table = IngestRun.__table__
    result = conn.execute(
        table.insert()
        .values(path=path, sha256=sha, format=fmt, encoding=encoding, status="running", started_at_utc=utcnow())
        .returning(table.c.run_id)
    )
    return int(result.scalar_one())


def finished_run(conn: Connection, run_id: int, status: str, counts: Mapping[str, int], message: str | None) -> None:
    """Record the outcome and counts of run ``run_id``."""
    table = IngestRun.__table__
    conn.execute(
        update(table)
        .where(table.c.run_id == run_id)
        .values(status=status, finished_at_utc=utcnow(), message=message, **dict(counts))
    )


def host_known(conn: Connection, host_id: str) -> bool:
    """Return True if ``host_id`` is a stored host (``order_line.host_id`` has no foreign key since 0027)."""
    hosts = Host.__table__
    return conn.execute(select(hosts.c.host_id).where(hosts.c.host_id == host_id)).first() is not None


def manifest_recorded(conn: Connection, sha: str, path: str, fmt: str, run_id: int) -> None:
    """Add the file to the ``loaded_file`` manifest (the first load of these bytes is kept)."""
    upsert(
        conn, LoadedFile.__table__, [{"sha256": sha, "path": path, "format": fmt, "run_id": run_id}], update_columns=[]
    )


def rejects_written(conn: Connection, run_id: int, rejects: Sequence[Reject]) -> int:
    """Insert ``rejects`` into ``rejected_row`` and return how many were written."""
    if not rejects:
        return 0
    rows = [
        {
            "run_id": run_id,
            "path": r.path,
            "line": r.line,
            "column": r.column,
            "code": r.code,
            "message": r.message,
            "raw": r.raw,
        }
        for r in rejects
    ]
    conn.execute(RejectedRow.__table__.insert(), rows)
    return len(rows)


# --- merge rules -----------------------------------------------------------------------------


def _rank(col: ColumnElement[Any]) -> ColumnElement[Any]:
    return case(
        *[(col == literal_column(f"'{name}'"), literal_column(str(rank))) for name, rank in _STATUS_RANK.items()],
        else_=literal_column("-1"),
    )


def _advanced_status(old: ColumnElement[Any], new: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((_rank(new) >= _rank(old), new), else_=old)


def _larger(old: ColumnElement[Any], new: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((new.is_(None), old), (old.is_(None), new), (new > old, new), else_=old)


def _first(old: ColumnElement[Any], new: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(old, new)


def _filled(old: ColumnElement[Any], new: ColumnElement[Any]) -> ColumnElement[Any]:
    placeholder = literal_column(f"'{_PLACEHOLDER_GENRE}'")
    return case((new.is_(None), old), ((new == placeholder) & old.is_not(None), old), else_=new)


def _latest_given(old: ColumnElement[Any], new: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(new, old)


ORDER_MERGE: dict[str, Merge] = {
    C.status: _advanced_status,
    C.refund_fen: _larger,
    C.refund_reason: _first,
    C.paid_at_utc: _larger,
    C.shipped_at_utc: _larger,
    C.finished_at_utc: _larger,
    C.refunded_at_utc: _larger,
    C.product_id: _first,
    C.host_id: _first,
    C.attribution_rule: _first,
    C.export_host_id: _filled,
    C.export_host_name: _filled,
    C.traffic_source: _filled,
    C.traffic_genre: _filled,
    "platform_line_id": _first,
}
_ORDER_COLUMNS = {c.name for c in OrderLine.__table__.c}


# --- dimensions --------------------------------------------------------------------------------


def _known(conn: Connection, column: Any, values: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), 5000):
        part = list(values[start : start + 5000])
        found.update(conn.execute(select(column).where(column.in_(part))).scalars())
    return found


def _product_ids(conn: Connection, frame: pl.DataFrame, platform: str, assign: Assignments) -> pl.DataFrame:
    """Return ``frame`` with ``product_id`` resolved through aliases, registering new products."""
    if C.product_id in frame.columns and frame[C.product_id].null_count() == 0:
        return frame
    alias_parts = [c for c in ("platform_product_id", "seller_code") if c in frame.columns]
    title = pl.col(C.title) if C.title in frame.columns else pl.lit(None, dtype=pl.String)
    alias = pl.coalesce([*[pl.col(c) for c in alias_parts], pl.lit("title:") + title.str.slice(0, 100)])
    frame = frame.with_columns(alias.alias("_alias"))
    wanted = (
        frame.filter(pl.col("_alias").is_not_null())
        .group_by("_alias")
        .agg(
            title.first().alias("_title") if C.title in frame.columns else pl.lit(None).alias("_title"),
            (pl.col("seller_code").first() if "seller_code" in frame.columns else pl.lit(None, dtype=pl.String)).alias(
                "_code"
            ),
        )
    )
    aliases = ProductAlias.__table__
    existing: dict[str, str] = {}
    keys = wanted["_alias"].to_list()
    for start in range(0, len(keys), 5000):
        part = keys[start : start + 5000]
        rows = conn.execute(
            select(aliases.c.platform_product_id, aliases.c.product_id).where(
                aliases.c.platform_id == platform, aliases.c.platform_product_id.in_(part)
            )
        )
        existing.update(dict(rows.all()))
    missing = wanted.filter(~pl.col("_alias").is_in(list(existing)))
    if missing.height:
        codes = [c for c in missing["_code"].to_list() if c]
        ours = _known(conn, Product.__table__.c.product_id, codes) if codes else set()
        new_products: list[dict[str, Any]] = []
        new_aliases: list[dict[str, Any]] = []
        for alias_id, title_text, code in missing.iter_rows():
            mapped = assign.products.get(f"{platform}:{alias_id}") or (
                assign.products.get(f"{platform}:{code}") if code else None
            )
            if mapped and mapped.get("product_id"):
                product_id = mapped["product_id"]
            elif code and code in ours:
                product_id = code  # 商家编码 is one of our product ids
            else:
                product_id = f"{platform}:{alias_id}"
            county = (mapped or {}).get("county_id") or assign.county_id
            new_products.append(
                {"product_id": product_id, "title": (title_text or product_id)[:256], "county_id": county}
            )
            new_aliases.append({"platform_id": platform, "platform_product_id": alias_id, "product_id": product_id})
            existing[alias_id] = product_id
        upsert(conn, Product.__table__, _unique(new_products, "product_id"), update_columns=[])
        upsert(conn, aliases, new_aliases, update_columns=[])
    mapping = pl.DataFrame(
        {"_alias": list(existing), "_pid": list(existing.values())}, schema={"_alias": pl.String, "_pid": pl.String}
    )
    frame = frame.join(mapping, on="_alias", how="left")
    if C.product_id in frame.columns:
        frame = frame.with_columns(pl.coalesce([pl.col(C.product_id), pl.col("_pid")]).alias(C.product_id))
    else:
        frame = frame.with_columns(pl.col("_pid").alias(C.product_id))
    return frame.drop("_alias", "_pid")


def _unique(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    seen: dict[Any, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row[key], row)
    return list(seen.values())


def _hosts_registered(conn: Connection, frame: pl.DataFrame, platform: str, assign: Assignments) -> None:
    """Register hosts named by the export (达人ID / 达人昵称) the warehouse does not know yet."""
    if C.export_host_id not in frame.columns:
        return
    name = pl.col(C.export_host_name) if C.export_host_name in frame.columns else pl.lit(None, dtype=pl.String)
    source = pl.col(C.traffic_source) if C.traffic_source in frame.columns else pl.lit(None, dtype=pl.String)
    seen = (
        frame.filter(pl.col(C.export_host_id).is_not_null())
        .group_by(C.export_host_id)
        .agg(name.drop_nulls().first().alias("name"), source.str.contains("精选联盟").any().alias("affiliate"))
    )
    if not seen.height:
        return
    hosts = Host.__table__
    ids = seen[C.export_host_id].to_list()
    known: set[str] = set()
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        known.update(
            conn.execute(
                select(hosts.c.platform_host_id).where(
                    hosts.c.platform_id == platform, hosts.c.platform_host_id.in_(part)
                )
            ).scalars()
        )
    rows = []
    for pid, host_name, affiliate in seen.iter_rows():
        if pid in known:
            continue
        mapped = assign.hosts.get(f"{platform}:{pid}", {})
        rows.append(
            {
                "host_id": mapped.get("host_id") or f"{platform}:{pid}",
                "name": (host_name or pid)[:128],
                "kind": "affiliate" if affiliate else "unknown",
                "county_id": mapped.get("county_id") or assign.county_id,
                "platform_id": platform,
                "platform_host_id": pid,
            }
        )
    if rows:
        upsert(conn, hosts, rows, update_columns=[])


def assignments_applied(conn: Connection, assign: Assignments) -> None:
    """Map dimensions named in the registry file: aliases, hosts and counties of unassigned rows."""
    products, aliases, hosts = Product.__table__, ProductAlias.__table__, Host.__table__
    for key, target in assign.products.items():
        platform, _, alias_id = key.partition(":")
        product_id = target.get("product_id") or key
        upsert(
            conn, products, [{"product_id": product_id, "title": target.get("title", product_id)}], update_columns=[]
        )
        upsert(
            conn,
            aliases,
            [{"platform_id": platform, "platform_product_id": alias_id, "product_id": product_id}],
            update_columns=["product_id"],
        )
        if target.get("county_id"):
            conn.execute(
                update(products)
                .where(products.c.product_id == product_id, products.c.county_id.is_(None))
                .values(county_id=target["county_id"])
            )
    for key, target in assign.hosts.items():
        platform, _, pid = key.partition(":")
        if target.get("county_id"):
            conn.execute(
                update(hosts)
                .where(hosts.c.platform_id == platform, hosts.c.platform_host_id == pid, hosts.c.county_id.is_(None))
                .values(county_id=target["county_id"])
            )


# --- facts -------------------------------------------------------------------------------------


def _frame_for(table_columns: set[str], frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select([c for c in frame.columns if c in table_columns])


def rows_written(
    conn: Connection,
    kind: str,
    frame: pl.DataFrame,
    *,
    run_id: int,
    platform: str | None,
    assign: Assignments,
    written: WrittenLines | None = None,
) -> UpsertResult:
    """Upsert one batch of good rows of ``kind`` and return the counts.

    Orders: products and hosts seen for the first time are registered (unassigned unless
    ``assign`` says otherwise); lines are merged by :data:`ORDER_MERGE`. After-sale cases are
    stored and applied to their lines. Dimensions are upserted on their ids. ``written`` is told
    which order lines were inserted and which platforms' lines changed otherwise (for the rollups).
    """
    if frame.height == 0:
        return UpsertResult()
    if kind == "orders":
        result = UpsertResult()
        for plat, part in frame.partition_by(C.platform_id, as_dict=True).items():
            result = result + _orders_written(conn, part, plat[0], run_id, assign, written)
        return result
    if kind == "after_sale":
        rows = frame.with_columns(
            pl.lit(run_id).alias("first_run_id"),
            pl.lit(run_id).alias("last_run_id"),
            pl.coalesce([pl.col(c) for c in (C.refunded_at_utc, C.finished_at_utc) if c in frame.columns]).alias(
                C.refunded_at_utc
            )
            if C.refunded_at_utc in frame.columns or C.finished_at_utc in frame.columns
            else pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias(C.refunded_at_utc),
        )
        if C.refund_reason in rows.columns:
            rows = rows.rename({C.refund_reason: "reason"})
        rows = _frame_for({c.name for c in AfterSale.__table__.c}, rows)
        result = upsert(
            conn,
            AfterSale.__table__,
            rows,
            update_columns=[c for c in rows.columns if c not in ("first_run_id", "last_run_id")],
            stamp=["last_run_id"],
        )
        changed = after_sales_applied(conn, platform or "", frame[C.order_id].unique().to_list(), run_id)
        if changed and written is not None:
            written.spoil(platform or "")
        return result
    table = {"counties": County, "hosts": Host, "products": Product, "product_aliases": ProductAlias}[kind].__table__
    rows = _frame_for({c.name for c in table.c}, frame)
    keep = {"created_at_utc"}  # first-seen time: a reload must not make the row look updated
    return upsert(conn, table, rows, update_columns=[c for c in rows.columns if c not in keep])


def _orders_written(
    conn: Connection,
    frame: pl.DataFrame,
    platform: str,
    run_id: int,
    assign: Assignments,
    written: WrittenLines | None,
) -> UpsertResult:
    frame = _product_ids(conn, frame, platform, assign)
    _hosts_registered(conn, frame, platform, assign)
    if not assign.host_id:  # issue 5: new lines are written with their attribution (etl.attribution)
        frame = attributed_frame(conn, frame, platform)
    extra = [
        pl.lit(run_id).alias("first_run_id"),
        pl.lit(run_id).alias("last_run_id"),
    ]
    if assign.host_id:
        extra += [pl.lit(assign.host_id).alias(C.host_id), pl.lit("file_host").alias(C.attribution_rule)]
    rows = _frame_for(_ORDER_COLUMNS, frame.with_columns(extra))
    update_columns = [c for c in ORDER_MERGE if c in rows.columns]
    result = upsert(
        conn, OrderLine.__table__, rows, update_columns=update_columns, merge=ORDER_MERGE, stamp=["last_run_id"]
    )
    if written is not None:
        if result.updated or result.unchanged:  # some lines were there already
            written.spoil(platform)
        else:  # every row inserted: as many as given means no key repeated in the batch
            written.add(platform, as_written(OrderLine.__table__, rows, repeats=result.inserted < rows.height))
    return result


def pending_after_sales_applied(conn: Connection, platform: str, run_id: int) -> int:
    """Apply stored after-sale cases to the lines run ``run_id`` inserted or changed; return lines changed.

    Called once per orders file, after its rows are written: one join instead of a lookup per batch.
    """
    cases_t, lines_t = AfterSale.__table__, OrderLine.__table__
    if conn.execute(select(cases_t.c.order_id).where(cases_t.c.platform_id == platform).limit(1)).first() is None:
        return 0
    touched = (
        select(cases_t.c.order_id)
        .join(lines_t, (lines_t.c.platform_id == cases_t.c.platform_id) & (lines_t.c.order_id == cases_t.c.order_id))
        .where(cases_t.c.platform_id == platform, lines_t.c.last_run_id == run_id)
        .distinct()
    )
    orders = list(conn.execute(touched).scalars())
    return after_sales_applied(conn, platform, orders, run_id)


def order_span(conn: Connection, platform: str, order_ids: Sequence[str]) -> list[dt.datetime]:
    """Return the earliest and latest order times of ``order_ids`` (for the rollup refresh), or []."""
    lines_t = OrderLine.__table__
    when = func.coalesce(lines_t.c.paid_at_utc, lines_t.c.created_at_utc)
    found: list[dt.datetime] = []
    for start in range(0, len(order_ids), 5000):
        part = list(order_ids[start : start + 5000])
        lo, hi = conn.execute(
            select(func.min(lines_t.c.created_at_utc), func.max(when)).where(
                lines_t.c.platform_id == platform, lines_t.c.order_id.in_(part)
            )
        ).one()
        found.extend(_aware(v) for v in (lo, hi) if v is not None)
    return found


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):  # SQLite gives text for min()/max() over a timestamp column
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def after_sales_applied(conn: Connection, platform: str, order_ids: Sequence[str], run_id: int) -> int:
    """Apply the stored refunds of ``order_ids`` to their order lines; return the lines changed.

    Matching: the after-sale's sub-order id (商品单号) when a line carries it, else the line of
    the same platform product, else the order's only (or first) line. A line's refund is the sum
    of its successful refunds, capped at its amount; it never decreases, and the status advances
    to ``partially_refunded`` or ``refunded``. Cases whose order is not loaded yet wait in
    ``after_sale`` and are applied when the order arrives.
    """
    if not order_ids:
        return 0
    cases_t, lines_t, alias_t = AfterSale.__table__, OrderLine.__table__, ProductAlias.__table__
    cases: list[Any] = []
    for start in range(0, len(order_ids), 5000):
        part = list(order_ids[start : start + 5000])
        cases.extend(
            conn.execute(
                select(cases_t).where(
                    cases_t.c.platform_id == platform, cases_t.c.order_id.in_(part), cases_t.c.status == "refunded"
                )
            ).all()
        )
    if not cases:
        return 0
    orders = sorted({c.order_id for c in cases})
    lines: list[Any] = []
    for start in range(0, len(orders), 5000):
        part = orders[start : start + 5000]
        lines.extend(
            conn.execute(
                select(lines_t, alias_t.c.platform_product_id.label("_ppid"))
                .select_from(
                    lines_t.outerjoin(
                        alias_t,
                        (alias_t.c.platform_id == lines_t.c.platform_id)
                        & (alias_t.c.product_id == lines_t.c.product_id),
                    )
                )
                .where(lines_t.c.platform_id == platform, lines_t.c.order_id.in_(part))
                .order_by(lines_t.c.order_id, lines_t.c.line_no)
            ).all()
        )
    by_order: dict[str, list[Any]] = {}
    for line in lines:
        group = by_order.setdefault(line.order_id, [])
        if all(g.line_no != line.line_no for g in group):
            group.append(line)
    refunds: dict[tuple[str, int], list[Any]] = {}
    for case_row in sorted(cases, key=lambda c: c.after_sale_id):
        group = by_order.get(case_row.order_id)
        if not group:
            continue
        target = next(
            (g for g in group if case_row.platform_line_id and g.platform_line_id == case_row.platform_line_id), None
        )
        if target is None and case_row.platform_product_id:
            target = next((g for g in group if g._ppid == case_row.platform_product_id), None)
        target = target or group[0]
        refunds.setdefault((target.order_id, target.line_no), []).append(case_row)
    updates: list[dict[str, Any]] = []
    for line in (g for group in by_order.values() for g in group):
        found = refunds.get((line.order_id, line.line_no))
        if not found:
            continue
        refund = min(line.amount_fen, sum(c.refund_fen or 0 for c in found))
        status = "refunded" if refund >= line.amount_fen else ("partially_refunded" if refund > 0 else line.status)
        latest = max(
            found,
            key=lambda c: (
                c.refunded_at_utc or c.applied_at_utc or dt.datetime.min.replace(tzinfo=dt.UTC),
                c.after_sale_id,
            ),
        )
        row = {c.name: getattr(line, c.name) for c in lines_t.c}
        row.update(
            refund_fen=refund,
            status=status,
            refund_reason=latest.reason,
            refunded_at_utc=latest.refunded_at_utc,
            last_run_id=run_id,
        )
        updates.append(row)
    if not updates:
        return 0
    merge = {**ORDER_MERGE, C.refund_reason: _latest_given}
    result = upsert(
        conn,
        lines_t,
        updates,
        update_columns=[C.status, C.refund_fen, C.refund_reason, C.refunded_at_utc],
        merge=merge,
        stamp=["last_run_id"],
    )
    return result.updated
