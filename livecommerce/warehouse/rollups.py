"""Daily and per-session rollups, rebuilt for the days a load touched.

The dashboard and reports read these small tables instead of scanning ``order_line``: a query
for one host over 30 days reads a few hundred rollup rows whatever the size of the history.
:func:`refresh` runs inside the loader's transaction (which holds the ETL write lock), so a
failed load leaves the rollups as they were and a repeated load leaves them unchanged.

Every write goes through :func:`livecommerce.warehouse.upsert.upsert`; rows for groups that no
longer exist in the refreshed window (e.g. an order re-attributed to another host) are deleted.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from livecommerce.config import LOCAL_TZ
from livecommerce.pipeline import read_ahead
from livecommerce.scratch import new_scratch
from livecommerce.warehouse.tables import (
    LiveSession,
    OrderLine,
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
from livecommerce.warehouse.upsert import UpsertResult, upsert

__all__ = ["PAID_STATUSES", "WrittenLines", "lines_as_read", "local_day", "paid_condition", "refresh", "refresh_all"]

_TZ = ZoneInfo(LOCAL_TZ)
#: statuses of a line that was paid (a ``cancelled`` line counts as paid when it has a payment time)
PAID_STATUSES = ("paid", "shipped", "completed", "refunded", "partially_refunded")
_OL = OrderLine.__table__
_RD = RollupDaily.__table__
_RP = RollupPlatformDaily.__table__
_RPD = RollupProductDaily.__table__
_RS = RollupSession.__table__
_RM = RollupMonthly.__table__
_RSM = RollupSessionMonthly.__table__
_RG = RollupGeo.__table__
_RGT = RollupGeoTotal.__table__
_RGHM = RollupGeoHostMonthly.__table__
_RGM = RollupGeoMonthly.__table__
_RRPM = RollupRefundProductMonthly.__table__
_RR = RollupRefund.__table__
_RRP = RollupRefundProduct.__table__
_RRT = RollupRefundTotal.__table__
#: (per-platform rollup, its sum over platforms): the sums are rebuilt after every platform's refresh
_TOTALS = ((_RG, _RGT), (_RRP, _RRT))
#: the monthly rollup summed in polars from each day rollup's rows of the refreshed months (the host
#: geo rows arrive per month already; rollup_session_monthly is counted in the database)
_MONTHLY_OF = {
    "rollup_daily": _RM,
    "rollup_geo": _RGM,
    "rollup_refund_product": _RRPM,
    "rollup_geo_host_monthly": _RGHM,
}
_LS = LiveSession.__table__
_SP = SessionProduct.__table__
_PIECE = dt.timedelta(days=92)  # a longer span of days is aggregated a quarter at a time
_FETCH = 100_000  # order lines fetched at once while reading a window
_NEW_ROWS = 250_000  # rows of a rollup gathered before they are inserted (see _NewRows)
_SESSION_REACH = dt.timedelta(hours=24)  # the longest session whose orders a window can contain


def local_day(conn: Connection, column: ColumnElement[dt.datetime]) -> ColumnElement[dt.date]:
    """Return a SQL expression for the Asia/Shanghai calendar day of a UTC timestamp column."""
    if conn.dialect.name == "sqlite":
        return type_coerce(func.date(column, "+8 hours"), Date)  # Asia/Shanghai: no DST since 1991
    return cast(func.timezone(LOCAL_TZ, column), Date)


def paid_condition() -> ColumnElement[bool]:
    """Return the SQL condition for an order line that counts in GMV (it was paid)."""
    return or_(_OL.c.status.in_(PAID_STATUSES), _OL.c.paid_at_utc.is_not(None))


def _utc_bounds(first_day: dt.date, last_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(first_day, dt.time(), _TZ).astimezone(dt.UTC)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), _TZ).astimezone(dt.UTC)
    return start, end


def _when_value(conn: Connection, when: ColumnElement[dt.datetime]) -> ColumnElement[Any]:
    """The UTC time as the database hands it over cheapest: on SQLite the stored text
    ``YYYY-MM-DD HH:MM:SS.ffffff``, on PostgreSQL whole microseconds since 1970 (formatting text
    there cost more server time than reading the rest of the line)."""
    if conn.dialect.name == "sqlite":
        return cast(when, String)  # SQLAlchemy stores SQLite datetimes in exactly this layout
    return cast(func.extract("epoch", when) * 1_000_000, BigInteger)


def _when_type(conn: Connection) -> Any:
    """The polars type of :func:`_when_value`."""
    return pl.Utf8 if conn.dialect.name == "sqlite" else pl.Int64


def _when_parsed(conn: Connection) -> pl.Expr:
    """The expression turning :func:`_when_value` into a UTC datetime."""
    if conn.dialect.name == "sqlite":
        return pl.col("when").str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC")
    return pl.from_epoch("when", time_unit="us").dt.replace_time_zone("UTC")


def _lines_stmt(conn: Connection, platform: str, start: dt.datetime, end: dt.datetime) -> Any:
    """The query of the paid lines of ``platform`` in ``[start, end)`` with what the rollups need.

    The rollups are aggregated in polars (SQLite's GROUP BY and window functions over a long history
    were the slowest part of a load). Few text columns travel: the local day is derived from the
    time, the status only as "cancelled or not"."""
    when = func.coalesce(_OL.c.paid_at_utc, _OL.c.created_at_utc)
    return select(
        func.coalesce(_OL.c.host_id, literal("")).label("host_key"),
        func.coalesce(_OL.c.product_id, literal("")).label("product_key"),
        _OL.c.order_id,
        _OL.c.line_no,
        func.coalesce(_OL.c.buyer_id, _OL.c.order_id).label("buyer_key"),
        _when_value(conn, when).label("when"),
        _OL.c.amount_fen,
        _OL.c.refund_fen,
        _OL.c.quantity,
        case((_OL.c.status == "cancelled", 1), else_=0).label("cancelled"),
        case((_OL.c.attribution_provisional == True, 1), else_=0).label("provisional"),  # noqa: E712
        func.coalesce(_OL.c.province, literal("")).label("province"),
        func.coalesce(_OL.c.refund_reason, literal("")).label("reason"),
        _transit_days(conn).label("transit_days"),
    ).where(_OL.c.platform_id == platform, when >= start, when < end, paid_condition())


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_INTS = ("line_no", "amount_fen", "refund_fen", "quantity", "cancelled", "provisional", "transit_days")


def _line_pieces(conn: Connection, platform: str, start: dt.datetime, end: dt.datetime) -> Iterator[pl.DataFrame]:
    """Yield the lines of :func:`_lines_stmt` a piece of about ``_FETCH`` rows at a time, as polars
    frames with the local ``day`` (plain driver tuples on SQLite, ``COPY … TO STDOUT`` as CSV on
    PostgreSQL: no Row objects, and columns take far less memory)."""
    stmt = _lines_stmt(conn, platform, start, end)
    schema = _raw_schema(conn, stmt)
    when = _when_parsed(conn)

    def typed(frame: pl.DataFrame) -> pl.DataFrame:
        return _local_day(frame.with_columns(when))

    if conn.dialect.name == "postgresql":
        for piece in _copied_pieces(conn, stmt, schema):
            yield typed(piece)
        return
    result = conn.execute(stmt)
    try:
        while rows := result.cursor.fetchmany(_FETCH):
            yield typed(pl.DataFrame(rows, schema=schema, orient="row"))
    finally:
        result.close()


def _line_type(name: str, when: Any) -> Any:
    """The polars type of column ``name`` of :func:`_lines_stmt` (``when`` as given)."""
    return when if name == "when" else pl.Int64 if name in _INTS else pl.Utf8


def _raw_schema(conn: Connection, stmt: Any) -> dict[str, Any]:
    """The polars types of the columns of :func:`_lines_stmt` as the driver returns them."""
    return {c.name: _line_type(c.name, _when_type(conn)) for c in stmt.selected_columns}


def _copied_pieces(conn: Connection, stmt: Any, schema: dict[str, Any]) -> Iterator[pl.DataFrame]:
    """Yield the rows of ``stmt`` read with ``COPY (…) TO STDOUT (FORMAT csv)``, ``_FETCH`` rows a
    frame (PostgreSQL sends one row per message, so a piece always ends on a whole row). Twice as fast
    as fetching tuples; the statement's values are rendered as literals (dates and fixed words only)."""
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True, "literal_binds": True}))
    raw = conn.connection.driver_connection

    def frame(chunks: list[bytes]) -> pl.DataFrame:
        return pl.read_csv(b"".join(chunks), has_header=False, schema=schema, empty_string_is_null=False)

    with raw.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:  # type: ignore[union-attr]
        chunks: list[bytes] = []
        for data in copy:
            chunks.append(bytes(data))
            if len(chunks) >= _FETCH:
                yield frame(chunks)
                chunks = []
        if chunks:
            yield frame(chunks)


def _local_day(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the Asia/Shanghai ``day`` of its UTC ``when``."""
    return frame.with_columns(pl.col("when").dt.convert_time_zone(LOCAL_TZ).dt.date().alias("day"))


def lines_as_read(rows: pl.DataFrame) -> pl.DataFrame:
    """Return what :func:`_line_pieces` would read back for ``rows``, order lines as written to
    ``order_line`` (its column names, UTC datetimes; absent columns are NULL): the paid lines only,
    with the columns of :func:`_lines_stmt` computed the same way, and the local ``day``.

    The ETL keeps this for the lines a load inserted (:class:`WrittenLines`), so that the rollups of a
    first load's days need not read a million lines straight back; ``tests/test_rollups.py`` checks it
    against the database's own reading on both dialects."""

    def col(name: str, dtype: Any = pl.Utf8) -> pl.Expr:
        return pl.col(name) if name in rows.columns else pl.lit(None, dtype=dtype)

    def utc(name: str) -> pl.Expr:  # naive times are UTC, as the upsert stores them
        dtype = rows.schema.get(name)
        if not isinstance(dtype, pl.Datetime):
            return col(name, pl.Datetime("us", "UTC")).cast(pl.Datetime("us", "UTC"))
        stamp = pl.col(name).dt.cast_time_unit("us")
        return stamp.dt.replace_time_zone("UTC") if dtype.time_zone is None else stamp.dt.convert_time_zone("UTC")

    when = pl.coalesce(utc("paid_at_utc"), utc("created_at_utc"))
    paid = (col("status").is_in(list(PAID_STATUSES)) | utc("paid_at_utc").is_not_null()).fill_null(False)
    shipped, refunded = utc("shipped_at_utc"), utc("refunded_at_utc")
    day_us = 86_400_000_000
    transit = (
        pl.when(shipped.is_not_null() & refunded.is_not_null() & (refunded >= shipped))
        .then((refunded - shipped).dt.total_microseconds() // day_us)
        .otherwise(-1)
    )
    flag = lambda cond: pl.when(cond.fill_null(False)).then(1).otherwise(0)  # noqa: E731
    frame = rows.filter(paid).select(
        pl.coalesce(col("host_id"), pl.lit("")).alias("host_key"),
        pl.coalesce(col("product_id"), pl.lit("")).alias("product_key"),
        pl.col("order_id").cast(pl.Utf8),
        pl.col("line_no"),
        pl.coalesce(col("buyer_id"), pl.col("order_id")).alias("buyer_key"),
        when.alias("when"),
        col("amount_fen", pl.Int64).alias("amount_fen"),
        col("refund_fen", pl.Int64).alias("refund_fen"),
        col("quantity", pl.Int64).alias("quantity"),
        flag(col("status") == "cancelled").alias("cancelled"),
        flag(col("attribution_provisional", pl.Boolean) == True).alias("provisional"),  # noqa: E712
        pl.coalesce(col("province"), pl.lit("")).alias("province"),
        pl.coalesce(col("refund_reason"), pl.lit("")).alias("reason"),
        transit.alias("transit_days"),
    )
    schema = {n: _line_type(n, pl.Datetime("us", "UTC")) for n in frame.columns}
    return _local_day(frame.cast(schema))


class WrittenLines:
    """The order lines one load inserted, per platform, as :func:`lines_as_read` gives them, parked
    in Arrow files (memory holds a batch or two at a time whatever the size of the file).

    :func:`refresh` reads a platform's lines from here instead of the database when its days held no
    paid line before the load and the load only inserted lines of it: the lines in the window are then
    exactly these. A write that did anything else to a platform's lines (an update, an applied
    after-sale, a re-attribution) *spoils* the platform, which is then read from the database as
    always. A batch is turned into those columns and written on a second thread while the database
    takes the next one (:meth:`add` returns at once; an error comes out of the next call). Use as a
    context manager (the folder is removed on exit)."""

    def __init__(self) -> None:
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._files: dict[str, list[Path]] = {}
        self._spoiled: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []

    def __enter__(self) -> WrittenLines:
        self._folder = new_scratch("written")
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="written-lines")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
        self._files.clear()

    def _settled(self) -> None:
        """Wait for the batches handed to the thread (raising what one of them raised)."""
        pending, self._pending = self._pending, []
        for job in pending:
            job.result()

    def add(self, platform: str, rows: pl.DataFrame) -> None:
        """Keep ``rows``, order lines of ``platform`` just inserted (as :func:`as_written` gives them)."""
        if platform in self._spoiled or self._folder is None or self._pool is None:
            return
        if len(self._pending) >= 2:  # at most two batches waiting: memory stays bounded
            self._settled()
        files = self._files.setdefault(platform, [])
        path = Path(self._folder.name) / f"{len(self._files)}-{len(files)}.arrow"
        self._pending.append(self._pool.submit(lambda: lines_as_read(rows).write_ipc(path)))
        files.append(path)

    def spoil(self, platform: str) -> None:
        """Record that the load changed lines of ``platform`` otherwise than by inserting them."""
        self._settled()
        self._spoiled.add(platform)
        for path in self._files.pop(platform, []):
            path.unlink(missing_ok=True)

    def only_inserted(self, platform: str) -> bool:
        """Return True if nothing but the inserts kept here changed ``platform``'s lines so far."""
        return platform not in self._spoiled

    def usable(self, platform: str) -> bool:
        """Return True if the load inserted lines of ``platform`` and every write to its lines was such
        a plain insert, kept here."""
        return self._folder is not None and platform not in self._spoiled and platform in self._files

    def pieces(self, platform: str, start: dt.datetime, end: dt.datetime) -> Iterator[pl.DataFrame]:
        """Yield the kept lines of ``platform`` paid (or created) in ``[start, end)``, a batch at a time."""
        self._settled()
        for path in self._files.get(platform, []):
            piece = pl.read_ipc(path)
            yield piece.filter((pl.col("when") >= start) & (pl.col("when") < end))


def _no_lines(conn: Connection) -> pl.DataFrame:
    """An empty frame with the columns of :func:`_line_pieces`."""
    stmt = _lines_stmt(conn, "", _EPOCH, _EPOCH)
    empty = pl.DataFrame(schema=_raw_schema(conn, stmt)).with_columns(_when_parsed(conn))
    return empty.with_columns(pl.lit(None, dtype=pl.Date).alias("day"))


def _pieces(
    conn: Connection, platform: str, start: dt.datetime, end: dt.datetime, written: WrittenLines | None = None
) -> Iterator[pl.DataFrame]:
    """The lines of ``platform`` in ``[start, end)`` a piece at a time: from ``written`` when given,
    else read from the database (:func:`_line_pieces`)."""
    if written is not None:
        return written.pieces(platform, start, end)
    return _line_pieces(conn, platform, start, end)


def _lines(
    conn: Connection, platform: str, start: dt.datetime, end: dt.datetime, written: WrittenLines | None = None
) -> pl.DataFrame:
    """Return the lines of :func:`_lines_stmt` as one frame (with the local ``day``), from ``written``
    when given (see :func:`_pieces`)."""
    return pl.concat([_no_lines(conn), *_pieces(conn, platform, start, end, written)], rechunk=True)


def _parked_spans(
    conn: Connection,
    platform: str,
    first_day: dt.date,
    last_day: dt.date,
    folder: Path,
    written: WrittenLines | None = None,
) -> list[tuple[dt.date, dt.date, Callable[[], pl.DataFrame]]]:
    """Read the lines of ``first_day`` … ``last_day`` (from ``written`` when given, see
    :class:`WrittenLines`) and return ``(first, last, lines)`` for consecutive spans of at most
    ``_PIECE`` days covering them (every span, with or without lines), where ``lines()`` returns the
    span's lines. A longer history is read in one pass and its pieces parked by span in Arrow files
    under ``folder``, so that memory holds one span at a time whatever the length of the history. All
    database reading happens here, none in ``lines()``."""
    start, end = _utc_bounds(first_day, last_day)
    if last_day - first_day < _PIECE:
        lines = _lines(conn, platform, start, end, written)
        return [(first_day, last_day, lambda: lines)]
    spans = []
    day = first_day
    while day <= last_day:
        spans.append((day, min(last_day, day + _PIECE - dt.timedelta(days=1))))
        day = spans[-1][1] + dt.timedelta(days=1)
    lasts = pl.Series([b for _, b in spans])
    files: dict[int, list[Path]] = {}
    for piece in _pieces(conn, platform, start, end, written):
        piece = piece.with_columns(lasts.search_sorted(piece["day"], side="left").alias("_span"))
        for (k,), part in piece.group_by("_span"):
            path = folder / f"{platform}-{k}-{len(files.setdefault(int(k), []))}.arrow"
            part.drop("_span").write_ipc(path)
            files[int(k)].append(path)
    empty = _no_lines(conn)

    def loader(paths: list[Path]) -> Callable[[], pl.DataFrame]:
        return lambda: pl.concat([pl.read_ipc(f) for f in paths], rechunk=True) if paths else empty

    return [(a, b, loader(files.get(k, []))) for k, (a, b) in enumerate(spans)]


def _aggregated(
    spans: list[tuple[dt.date, dt.date, Callable[[], pl.DataFrame]]], platform: str
) -> Iterator[tuple[dt.date, dt.date, list[tuple[Any, pl.DataFrame]]]]:
    """Yield ``(first, last, [(rollup table, rows), …])`` per span: the daily, platform, geo, refund
    and product refund rows of its lines (pure polars, no database: it runs ahead on a thread)."""
    for first, last, lines_of in spans:
        lines = lines_of()
        daily = _daily_rows(lines, platform)
        refunds = _refund_rows(lines, platform)
        yield (
            first,
            last,
            [
                (_RD, daily),
                (_RP, _platform_rows(daily, platform)),
                (_RPD, _product_rows(daily, platform)),
                (_RG, _geo_rows(lines, platform)),
                (_RR, refunds),
                (_RRP, _refund_product_rows(refunds, platform)),
                (_RGHM, _host_geo_rows(lines, platform)),
            ],
        )
        del lines


def _daily_rows(lines: pl.DataFrame, platform: str) -> pl.DataFrame:
    """Per (day, host, product): GMV, refunds, cancellations, orders (on each order's first line per
    host), units, buyers (once per day and host, on their first purchase), live GMV, provisional lines."""
    if lines.is_empty():
        return _typed([], _RD, platform)
    per_order = ["order_id", "host_key"]
    # each order's first line, refunds and cancellation per host in one grouping (three windows over the
    # same groups cost three); a buyer's first purchase of a day and host is the first of its key in time
    orders = lines.group_by(per_order).agg(
        pl.col("line_no").min().alias("_first_line"),
        (pl.col("refund_fen") > 0).any().alias("order_refunded"),
        (pl.col("cancelled") == 1).all().alias("order_cancelled"),
    )
    frame = (
        lines.sort("when", "order_id", "line_no")
        .join(orders, on=per_order, how="left", maintain_order="left")
        .with_columns(
            (pl.col("line_no") == pl.col("_first_line")).alias("order_first"),
            pl.struct("day", "host_key", "buyer_key").is_first_distinct().alias("buyer_first"),
        )
    )
    out = frame.group_by("day", "host_key", "product_key").agg(
        pl.col("amount_fen").sum().alias("gmv_fen"),
        pl.col("refund_fen").sum().alias("refund_fen"),
        pl.when(pl.col("cancelled") == 1)
        .then(pl.col("amount_fen") - pl.col("refund_fen"))
        .otherwise(0)
        .sum()
        .alias("cancelled_fen"),
        pl.col("order_first").sum().alias("orders"),
        pl.col("quantity").sum().alias("units"),
        pl.col("buyer_first").sum().alias("buyers"),
        (pl.col("order_first") & pl.col("order_refunded")).sum().alias("refunded_orders"),
        (pl.col("order_first") & pl.col("order_cancelled")).sum().alias("cancelled_orders"),
        pl.when(pl.col("host_key") != "").then(pl.col("amount_fen")).otherwise(0).sum().alias("live_gmv_fen"),
        pl.col("provisional").sum().alias("provisional_lines"),
    )
    return _cast(out, _RD, platform)


def _platform_rows(daily: pl.DataFrame, platform: str) -> pl.DataFrame:
    """Per day: the daily rows summed over hosts and products (``rollup_platform_daily``)."""
    return _summed(daily, _RP, platform)


def _product_rows(daily: pl.DataFrame, platform: str) -> pl.DataFrame:
    """Per day and product: the daily rows summed over hosts (``rollup_product_daily``)."""
    return _summed(daily, _RPD, platform)


def _summed(rows: pl.DataFrame, table: Any, platform: str) -> pl.DataFrame:
    """``rows`` of a finer rollup summed to the grain of ``table``: grouped by its primary key (without
    the platform), every other column of it summed."""
    by = _day_key(table)
    if rows.is_empty():
        return _typed([], table, platform)
    measures = [c.name for c in table.c if not c.primary_key]
    return _cast(rows.group_by(by).agg([pl.col(c).sum() for c in measures]), table, platform)


def _cast(frame: pl.DataFrame, table: Any, platform: str) -> pl.DataFrame:
    schema = _polars_types(table, list(table.c.keys()))
    frame = frame.with_columns(pl.lit(platform).alias("platform_id"))
    return frame.select([pl.col(c).cast(t) for c, t in schema.items()]).sort(
        [c.name for c in table.primary_key.columns]
    )


def _stale_deleted(
    conn: Connection, table: Any, platform: str, first_day: dt.date, last_day: dt.date, fresh: pl.DataFrame
) -> pl.DataFrame:
    """Delete the rows of ``table`` in the window whose key is not in ``fresh``; return the keys of
    the rows that stay (with ``platform_id``), so that the upsert need not look them up again."""
    key = _day_key(table)
    keep = set(fresh.select(key).iter_rows()) if not fresh.is_empty() else set()
    existing = conn.execute(
        select(*[table.c[k] for k in key]).where(*_span_where(table, platform, first_day, last_day))
    ).all()
    stale = [tuple(r) for r in existing if tuple(r) not in keep]
    for start in range(0, len(stale), 500):
        chunk = stale[start : start + 500]
        conn.execute(
            delete(table).where(*_platform_where(table, platform), tuple_(*[table.c[k] for k in key]).in_(chunk))
        )
    stays = [tuple(r) for r in existing if tuple(r) in keep]
    return _typed_keys(stays, table, key, platform)


def _replaced(
    conn: Connection, table: Any, platform: str, first_day: dt.date, last_day: dt.date, rows: pl.DataFrame
) -> UpsertResult:
    """Make ``table``'s rows of ``platform`` from ``first_day`` to ``last_day`` exactly ``rows``: the stale
    ones deleted (none to look for when the span holds no row yet), the rest upserted; return the counts."""
    if _any_row(conn, table, platform, first_day, last_day):
        stays = _stale_deleted(conn, table, platform, first_day, last_day, rows)
    else:
        stays = _typed_keys([], table, _day_key(table), platform)
    return upsert(conn, table, rows, stored=stays) if not rows.is_empty() else UpsertResult()


def _any_row(conn: Connection, table: Any, platform: str, first_day: dt.date, last_day: dt.date) -> bool:
    """Return True if ``table`` holds any row of ``platform`` from ``first_day`` to ``last_day``."""
    where = _span_where(table, platform, first_day, last_day)
    return conn.execute(select(table.c.day).where(*where).limit(1)).first() is not None


def _platform_where(table: Any, platform: str) -> list[ColumnElement[bool]]:
    """The rows of ``platform`` in a rollup kept per platform; every row in one summed over platforms."""
    return [table.c.platform_id == platform] if "platform_id" in table.c else []


def _span_where(table: Any, platform: str, first_day: dt.date, last_day: dt.date) -> list[ColumnElement[bool]]:
    return [*_platform_where(table, platform), table.c.day >= first_day, table.c.day <= last_day]


def _day_key(table: Any) -> list[str]:
    """The primary key of a daily rollup without ``platform_id``."""
    return [c.name for c in table.primary_key.columns if c.name != "platform_id"]


def _polars_types(table: Any, names: list[str]) -> dict[str, Any]:
    """The polars type of each of ``names`` in a rollup ``table`` (day, text or whole number)."""
    text = {c.name for c in table.c if isinstance(c.type, String)}
    return {n: (pl.Date if n == "day" else pl.Utf8 if n in text else pl.Int64) for n in names}


def _typed_keys(rows: list[tuple[Any, ...]], table: Any, key: list[str], platform: str) -> pl.DataFrame:
    schema = _polars_types(table, key)
    frame = pl.DataFrame(rows, schema=list(schema), orient="row") if rows else pl.DataFrame(schema=schema)
    if frame.height and frame["day"].dtype == pl.Utf8:  # SQLite returns dates as text
        frame = frame.with_columns(pl.col("day").str.to_date())
    frame = frame.with_columns(*[pl.col(k).cast(t) for k, t in schema.items()])
    return frame.with_columns(pl.lit(platform).alias("platform_id")) if "platform_id" in table.c else frame


def _typed(rows: list[Any], table: Any, platform: str) -> pl.DataFrame:
    schema = _polars_types(table, list(table.c.keys()))
    if not rows:
        return pl.DataFrame(schema=schema)
    frame = pl.DataFrame([tuple(r) for r in rows], schema=list(rows[0]._fields), orient="row")
    frame = frame.with_columns(pl.lit(platform).alias("platform_id"))
    if frame["day"].dtype == pl.Utf8:
        frame = frame.with_columns(pl.col("day").str.to_date())
    return frame.select([pl.col(c).cast(schema[c]) for c in table.c.keys()])


def _geo_rows(lines: pl.DataFrame, platform: str) -> pl.DataFrame:
    """Per (day, product, province): GMV, distinct orders, refunds and refunded lines."""
    if lines.is_empty():
        return _typed([], _RG, platform)
    out = lines.group_by("day", "product_key", "province").agg(
        pl.col("amount_fen").sum().alias("gmv_fen"),
        pl.col("order_id").n_unique().alias("orders"),
        pl.col("refund_fen").sum().alias("refund_fen"),
        (pl.col("refund_fen") > 0).sum().alias("refunded_lines"),
    )
    return _cast(out, _RG, platform)


def _host_geo_rows(lines: pl.DataFrame, platform: str) -> pl.DataFrame:
    """Per (month, host, province) of the lines credited to a host: GMV, distinct orders, refunds and
    refunded lines (a span's part of a month; the parts of a month add up: an order is paid at once)."""
    lines = lines.filter(pl.col("host_key") != "")
    if lines.is_empty():
        return _typed([], _RGHM, platform)
    out = lines.group_by(pl.col("day").dt.month_start(), "host_key", "province").agg(
        pl.col("amount_fen").sum().alias("gmv_fen"),
        pl.col("order_id").n_unique().alias("orders"),
        pl.col("refund_fen").sum().alias("refund_fen"),
        (pl.col("refund_fen") > 0).sum().alias("refunded_lines"),
    )
    return _cast(out, _RGHM, platform)


def _transit_days(conn: Connection) -> ColumnElement[int]:
    shipped, refunded = _OL.c.shipped_at_utc, _OL.c.refunded_at_utc
    if conn.dialect.name == "sqlite":
        days = cast(func.julianday(refunded) - func.julianday(shipped), Integer)
    else:
        days = cast(func.floor(func.extract("epoch", refunded - shipped) / 86400.0), Integer)
    return case((and_(shipped.is_not(None), refunded.is_not(None), refunded >= shipped), days), else_=-1)


def _refund_rows(lines: pl.DataFrame, platform: str) -> pl.DataFrame:
    """Per (day, host, product, reason, days in transit): refunded amount and lines."""
    refunded = lines.filter(pl.col("refund_fen") > 0)
    if refunded.is_empty():
        return _typed([], _RR, platform)
    out = refunded.group_by("day", "host_key", "product_key", "reason", "transit_days").agg(
        pl.col("refund_fen").sum().alias("refund_fen"), pl.len().alias("refunded_lines")
    )
    return _cast(out, _RR, platform)


def _refund_product_rows(refunds: pl.DataFrame, platform: str) -> pl.DataFrame:
    """The refund rows summed over hosts (``rollup_refund_product``)."""
    return _summed(refunds, _RRP, platform)


def _session_rows(conn: Connection, platform: str, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    sessions = conn.execute(
        select(_LS).where(
            _LS.c.platform_id == platform, _LS.c.started_at_utc >= start - _SESSION_REACH, _LS.c.started_at_utc < end
        )
    ).all()
    if not sessions:
        return pl.DataFrame()
    ids = [s.session_id for s in sessions]
    sales: dict[str, tuple[int, ...]] = {}
    explain: dict[str, int] = {}
    windows: dict[str, int] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        buyer = func.coalesce(_OL.c.buyer_id, _OL.c.order_id)
        in_window = (
            select(func.count())
            .select_from(_SP)
            .where(
                _SP.c.platform_id == _OL.c.platform_id,
                _SP.c.session_id == _OL.c.session_id,
                _SP.c.product_id == _OL.c.product_id,
                _SP.c.explain_start_utc <= _OL.c.created_at_utc,
                or_(_SP.c.explain_end_utc.is_(None), _SP.c.explain_end_utc > _OL.c.created_at_utc),
            )
            .scalar_subquery()
        )
        stmt = (
            select(
                _OL.c.session_id,
                func.sum(_OL.c.amount_fen),
                func.sum(_OL.c.refund_fen),
                func.count(func.distinct(_OL.c.order_id)),
                func.sum(_OL.c.quantity),
                func.count(func.distinct(buyer)),
                func.sum(case((in_window > 0, _OL.c.amount_fen), else_=0)),
            )
            .where(_OL.c.platform_id == platform, _OL.c.session_id.in_(chunk), paid_condition())
            .group_by(_OL.c.session_id)
        )
        for sid, *vals in conn.execute(stmt):
            sales[sid] = tuple(int(v or 0) for v in vals)
        minutes = (
            func.julianday(_SP.c.explain_end_utc) - func.julianday(_SP.c.explain_start_utc)
            if conn.dialect.name == "sqlite"
            else func.extract("epoch", _SP.c.explain_end_utc - _SP.c.explain_start_utc) / 86400.0
        )
        for sid, days in conn.execute(
            select(_SP.c.session_id, func.sum(minutes))
            .where(_SP.c.platform_id == platform, _SP.c.session_id.in_(chunk), _SP.c.explain_end_utc.is_not(None))
            .group_by(_SP.c.session_id)
        ):
            windows[sid] = round(float(days or 0) * 1440)
    rows = []
    for s in sessions:
        live_minutes = max(0, round((s.ended_at_utc - s.started_at_utc).total_seconds() / 60))
        gmv, refund, orders, units, buyers, explain_gmv = sales.get(s.session_id, (0, 0, 0, 0, 0, 0))
        explain[s.session_id] = explain_gmv
        rows.append(
            {
                "platform_id": platform,
                "session_id": s.session_id,
                "host_id": s.host_id,
                "day": s.started_at_utc.astimezone(_TZ).date(),
                "started_at_utc": s.started_at_utc,
                "live_minutes": live_minutes,
                "online_minutes": round((s.avg_online or 0) * live_minutes),
                "views": s.views or 0,
                "viewers": s.viewers or 0,
                "peak_online": s.peak_online or 0,
                "watch_seconds": s.watch_seconds or 0,
                "new_followers": s.new_followers or 0,
                "interacting_viewers": s.interacting_viewers or 0,
                "product_exposed_viewers": s.product_exposed_viewers or 0,
                "product_clickers": s.product_clickers or 0,
                "gmv_fen": gmv,
                "refund_fen": refund,
                "orders": orders,
                "units": units,
                "live_buyers": buyers,
                "explain_gmv_fen": explain_gmv,
                "explain_minutes": min(windows.get(s.session_id, 0), live_minutes),
            }
        )
    return pl.DataFrame(rows)


def refresh(
    conn: Connection,
    platform_days: Mapping[str, tuple[dt.datetime, dt.datetime]],
    written: WrittenLines | None = None,
) -> UpsertResult:
    """Rebuild the rollups for each platform's span of order times; return the upsert counts.

    ``platform_days`` maps a platform to the first and last (UTC) order time a load touched; every
    local day in between is recomputed from ``order_line``, a quarter of days at a time for a long
    span (see :func:`_parked_spans`; the next quarter is aggregated on a thread while one is written),
    and the sessions of those days from ``live_session``. Call it inside the transaction that
    changed the facts. ``written``: the lines the load inserted; a platform whose days held no paid
    line before (no daily rollup row) and whose lines the load only inserted is aggregated from
    them instead of read back (the same lines, see :class:`WrittenLines`).
    """
    result = UpsertResult()
    new_rows = _NewRows(conn)
    fresh: dict[str, list[pl.DataFrame]] = {source.name: [] for source, _ in _TOTALS}
    refreshed: dict[str, tuple[dt.date, dt.date]] = {}
    for platform, (first, last) in sorted(platform_days.items()):
        # whole local months: the monthly rollups are summed from the days (or lines) of each month
        first_day, last_day = _month_bounds(first.astimezone(_TZ).date(), last.astimezone(_TZ).date())
        refreshed[platform] = (first_day, last_day)
        start, end = _utc_bounds(first_day, last_day)
        # a rollup with no row at all in the span (a first load) has nothing stale to look for
        tables = (_RD, _RP, _RPD, _RG, _RR, _RRP)
        stored = {t.name for t in tables if _any_row(conn, t, platform, first_day, last_day)}
        # the day rows just written (the whole months' rows: the window is whole months), summed to
        # the monthly rollups in polars; a month may straddle two spans
        days: dict[str, list[pl.DataFrame]] = {name: [] for name in _MONTHLY_OF}
        # nothing paid in these days before the load, and the load only inserted lines: the lines in
        # the window are exactly those it wrote
        inserted_only = written is not None and written.usable(platform) and _RP.name not in stored
        with new_scratch("rollup") as parked:
            spans = _parked_spans(conn, platform, first_day, last_day, Path(parked), written if inserted_only else None)
            # the next span is aggregated on a thread while this one is written
            for span_first, span_last, tables in read_ahead(_aggregated(spans, platform)):
                for table, rows in tables:
                    if table.name in days:
                        days[table.name].append(rows)
                    if table is _RGHM:
                        continue
                    if table.name in stored:  # rows of the span no longer there are deleted, even when none is left
                        stays = _stale_deleted(conn, table, platform, span_first, span_last, rows)
                        if not rows.is_empty():
                            result = result + upsert(conn, table, rows, stored=stays)
                    elif table is _RG:  # nothing there, many rows: written while the next span is aggregated
                        if not rows.is_empty():
                            stays = _typed_keys([], table, _day_key(table), platform)
                            result = result + upsert(conn, table, rows, stored=stays)
                    else:  # nothing there, few rows a span: gathered and inserted in a few statements
                        result = result + new_rows.add(table, rows)
                    if table.name in fresh:
                        fresh[table.name].append(rows)
        sessions = _session_rows(conn, platform, start, end)
        if not sessions.is_empty():
            result = result + upsert(conn, _RS, sessions.to_dicts())
        result = result + _session_months(conn, platform, first_day, last_day)
        for name, parts in days.items():
            target = _MONTHLY_OF[name]
            monthly = pl.concat(parts).with_columns(pl.col("day").dt.month_start()) if parts else pl.DataFrame()
            result = result + _replaced(conn, target, platform, first_day, last_day, _summed(monthly, target, platform))
    result = result + new_rows.flushed()
    for source, target in _TOTALS:
        result = result + _totals(conn, source, target, fresh[source.name], refreshed)
    return result


class _NewRows:
    """Rollup rows for spans of a table that held no row at all, gathered (across spans and
    platforms: their keys cannot meet) and inserted ``_NEW_ROWS`` at a time, in key order: a long
    first load writes each of the smaller rollups in a few statements instead of one per quarter and
    platform (each statement cost 10–15 ms on PostgreSQL however few its rows)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._parts: dict[str, tuple[Any, list[pl.DataFrame]]] = {}

    def add(self, table: Any, rows: pl.DataFrame) -> UpsertResult:
        """Keep ``rows`` of ``table``; return the counts of what had to be written now (or none)."""
        if rows.is_empty():
            return UpsertResult()
        _, parts = self._parts.setdefault(table.name, (table, []))
        parts.append(rows)
        return self._written(table.name) if sum(p.height for p in parts) >= _NEW_ROWS else UpsertResult()

    def flushed(self) -> UpsertResult:
        """Write every row still kept; return the counts."""
        result = UpsertResult()
        for name in list(self._parts):
            result = result + self._written(name)
        return result

    def _written(self, name: str) -> UpsertResult:
        table, parts = self._parts.pop(name)
        key = [c.name for c in table.primary_key.columns]
        rows = pl.concat(parts).sort(key)
        return upsert(self._conn, table, rows, stored=rows.head(0).select(key))  # none stored: all new


def _month_start(conn: Connection, day: ColumnElement[dt.date]) -> ColumnElement[dt.date]:
    """Return a SQL expression for the first day of the month of a date column."""
    if conn.dialect.name == "sqlite":
        return type_coerce(func.date(day, "start of month"), Date)
    return cast(func.date_trunc("month", day), Date)


def _month_bounds(first_day: dt.date, last_day: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of ``first_day``'s month and the last day of ``last_day``'s month."""
    following = (last_day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_day.replace(day=1), following - dt.timedelta(days=1)


def _session_months(conn: Connection, platform: str, first_day: dt.date, last_day: dt.date) -> UpsertResult:
    """Rebuild ``rollup_session_monthly`` for ``platform`` and the whole months from ``first_day`` to
    ``last_day``, counted and summed in the database from ``rollup_session`` (a few sessions per host
    and day); return the upsert counts."""
    host = func.coalesce(_RS.c.host_id, "").label("host_id")
    effective = func.sum(case((_RS.c.live_minutes >= 30, 1), else_=0))
    measures = [
        func.count().label("sessions"),
        cast(effective, BigInteger).label("effective_sessions"),
        *[
            (func.max(_RS.c[m]) if m == "peak_online" else cast(func.sum(_RS.c[m]), BigInteger)).label(m)
            for m in _measures(_RSM)
            if m not in ("sessions", "effective_sessions")
        ],
    ]
    month = _month_start(conn, _RS.c.day)
    rows = conn.execute(
        select(month.label("day"), host, *measures)
        .where(_RS.c.platform_id == platform, _RS.c.day >= first_day, _RS.c.day <= last_day)
        .group_by(month, host)
    ).all()
    return _replaced(conn, _RSM, platform, first_day, last_day, _typed(rows, _RSM, platform))


def _measures(table: Any) -> list[str]:
    return [c.name for c in table.c if not c.primary_key]


def _totals(
    conn: Connection,
    source: Any,
    target: Any,
    fresh: list[pl.DataFrame],
    refreshed: Mapping[str, tuple[dt.date, dt.date]],
) -> UpsertResult:
    """Rebuild ``target`` (``source`` summed over platforms) for the days of ``refreshed``, which maps
    each platform just refreshed to its first and last day: ``fresh`` holds that platform's new
    ``source`` rows, and the rows of the other platforms on those days are read from ``source``.
    Summed in polars (a GROUP BY in the database, on SQLite, cost as much as the write); return the
    upsert counts."""
    if not refreshed:
        return UpsertResult()
    first_day = min(a for a, _ in refreshed.values())
    last_day = max(b for _, b in refreshed.values())
    key = _day_key(target)
    measures = [c.name for c in target.c if not c.primary_key]
    just = [and_(source.c.platform_id == p, source.c.day >= a, source.c.day <= b) for p, (a, b) in refreshed.items()]
    others = conn.execute(
        select(*[source.c[k] for k in key], *[source.c[m] for m in measures]).where(
            source.c.day >= first_day, source.c.day <= last_day, ~or_(*just)
        )
    ).all()
    stored = _typed_keys([tuple(r) for r in others], target, [*key, *measures], "")
    rows = _summed(pl.concat([*(f.select(*key, *measures) for f in fresh), stored]), target, "")
    return _replaced(conn, target, "", first_day, last_day, rows)


def refresh_all(conn: Connection) -> UpsertResult:
    """Rebuild every rollup from the facts (after a migration or a manual fix); return the counts."""
    spans = conn.execute(
        select(
            _OL.c.platform_id,
            func.min(func.coalesce(_OL.c.paid_at_utc, _OL.c.created_at_utc)),
            func.max(func.coalesce(_OL.c.paid_at_utc, _OL.c.created_at_utc)),
        ).group_by(_OL.c.platform_id)
    ).all()
    session_spans = conn.execute(
        select(_LS.c.platform_id, func.min(_LS.c.started_at_utc), func.max(_LS.c.ended_at_utc)).group_by(
            _LS.c.platform_id
        )
    ).all()
    merged: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    for platform, lo, hi in [*spans, *session_spans]:
        lo, hi = _aware(lo), _aware(hi)
        if platform in merged:
            lo, hi = min(lo, merged[platform][0]), max(hi, merged[platform][1])
        merged[platform] = (lo, hi)
    return refresh(conn, merged)


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):  # SQLite returns text from min()/max() over a TypeDecorator column
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
