"""The one place that writes rows: a dialect-aware upsert on a table's natural key.

Every write in the project goes through :func:`upsert`. It inserts new keys, updates keys whose
values changed and leaves identical rows alone, and says how many of each, so that loading the
same data twice changes nothing and reports "unchanged".

Rows given as a list of mappings go through SQLAlchemy in chunks. Rows given as a polars
DataFrame take the bulk path: on SQLite one ``executemany`` of ``INSERT … ON CONFLICT`` on the
raw driver cursor; on PostgreSQL ``COPY`` into a temporary staging table, then one
``INSERT … SELECT … ON CONFLICT DO UPDATE … RETURNING`` that also counts inserted and updated
rows. ``merge`` lets a column combine the stored and the incoming value (keep the first, keep
the larger, advance a status) instead of overwriting it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Table,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    tuple_,
    values,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["Merge", "UpsertResult", "as_written", "upsert"]

#: how a column combines the stored value (first argument) with the incoming one (second)
Merge = Callable[[ColumnElement[Any], ColumnElement[Any]], ColumnElement[Any]]

# SQLite allows 32,766 bound parameters per statement, PostgreSQL 65,535.
_MAX_PARAMS = 30_000
# keys of a PostgreSQL batch probed before trying the whole batch as new rows
_PG_SAMPLE = 32
_COPY_SLICE = 20_000  # rows per CSV piece handed to COPY


@dataclass(frozen=True)
class UpsertResult:
    """How many rows an upsert inserted, updated and found unchanged."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )

    @property
    def written(self) -> int:
        """Return inserted + updated."""
        return self.inserted + self.updated


def _insert_for(dialect: str, table: Table):  # type: ignore[no-untyped-def]
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upsert supports SQLite and PostgreSQL, not {dialect}")


def _chunks(rows: Sequence[Mapping[str, Any]], size: int) -> Iterable[Sequence[Mapping[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def upsert(
    conn: Connection,
    table: Table,
    rows: Iterable[Mapping[str, Any]] | pl.DataFrame,
    *,
    key: Sequence[str] | None = None,
    update_columns: Sequence[str] | None = None,
    chunk_size: int | None = None,
    merge: Mapping[str, Merge] | None = None,
    stamp: Sequence[str] = (),
    stored: pl.DataFrame | None = None,
) -> UpsertResult:
    """Insert or update ``rows`` in ``table`` on the natural ``key`` and return the counts.

    ``key`` defaults to the primary key. ``update_columns`` are the columns a conflicting row
    may change (default: every non-key column given in the rows); other columns keep the value
    they were first stored with. Rows repeated within ``rows`` count once (the last wins).
    ``merge`` maps an update column to how the stored and incoming values combine (default: the
    incoming value wins). ``stamp`` columns (e.g. the id of the run) are written only when some
    other update column changed, so an unchanged row stays unchanged.
    Runs inside the caller's transaction; concurrent writers are safe because the statement
    itself is ``INSERT … ON CONFLICT DO UPDATE … WHERE <something differs>``. A polars DataFrame
    takes the bulk path (see the module docstring); its counts are exact when writers to the
    table are serialised (the ETL takes a write lock per file). ``stored`` (bulk path only) is the
    frame of the keys already in the table, for a caller that has just read them under that lock:
    on PostgreSQL the rows are then split without looking the keys up (the rollup refresh).
    """
    if not isinstance(rows, list | tuple) and hasattr(rows, "write_csv"):
        return _bulk_upsert(
            conn, table, rows, key=key, update_columns=update_columns, merge=merge, stamp=stamp, stored=stored
        )
    if merge or stamp:
        import polars as pl

        listed = [dict(r) for r in rows]
        if not listed:
            return UpsertResult()
        frame = pl.DataFrame(listed, schema=_polars_schema(table, list(listed[0])))
        return _bulk_upsert(conn, table, frame, key=key, update_columns=update_columns, merge=merge, stamp=stamp)
    rows = list(rows)
    if not rows:
        return UpsertResult()
    key = list(key or [c.name for c in table.primary_key.columns])
    columns = list(rows[0].keys())
    missing = [k for k in key if k not in columns]
    if missing:
        raise ValueError(f"rows for {table.name} lack key column(s) {missing}")
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {unknown}")
    updatable = [c for c in (update_columns if update_columns is not None else columns) if c not in key]
    size = chunk_size or max(1, min(5_000, _MAX_PARAMS // max(len(key), 1)))

    # last occurrence of a key wins, as a later line of an export supersedes an earlier one
    by_key: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for row in rows:
        by_key[tuple(row[k] for k in key)] = row
    unique_rows = list(by_key.values())

    stmt, stored_stmt = _row_statements(conn.dialect.name, table, tuple(key), tuple(updatable))

    result = UpsertResult()
    for chunk in _chunks(unique_rows, size):
        keys = [tuple(r[k] for k in key) for r in chunk]
        found = (
            conn.execute(stored_stmt, {"keys": keys if len(key) > 1 else [k[0] for k in keys]})
            if stored_stmt is not None
            else conn.execute(_stored_rows_joined(table, key, keys, updatable))
        )
        existing = {tuple(rec[: len(key)]): tuple(rec[len(key) :]) for rec in found}
        to_write: list[Mapping[str, Any]] = []
        inserted = updated = unchanged = 0
        for k, row in zip(keys, chunk, strict=True):
            old = existing.get(k)
            if old is None:
                inserted += 1
                to_write.append(row)
            elif any(row[c] != o for c, o in zip(updatable, old, strict=True)):
                updated += 1
                to_write.append(row)
            else:
                unchanged += 1
        if to_write:
            conn.execute(stmt, [dict(r) for r in to_write])
        result = result + UpsertResult(inserted, updated, unchanged)
    return result


#: the statements of the row path per dialect, table, key and update columns (:func:`_row_statements`)
_ROW_STATEMENTS: dict[tuple[str, Table, tuple[str, ...], tuple[str, ...]], tuple[Any, Any]] = {}


def _row_statements(dialect: str, table: Table, key: tuple[str, ...], updatable: tuple[str, ...]) -> tuple[Any, Any]:
    """Return the row path's ``INSERT … ON CONFLICT`` statement and the statement reading the stored key and
    update columns of the keys bound as ``keys``: ``IN`` for one key column, a row-value ``IN`` for several on
    SQLite (it walks the primary key); None for several on PostgreSQL, which joins them instead
    (:func:`_stored_rows_joined`). Built once per table, key and columns and kept: a
    statement is immutable, and building one (its ``excluded`` columns, one comparison per column) cost more
    than executing it for a session plan's few dozen rows."""
    cache_key = (dialect, table, key, updatable)
    found = _ROW_STATEMENTS.get(cache_key)
    if found is not None:
        return found
    key_cols = [table.c[k] for k in key]
    cmp_cols = [table.c[c] for c in updatable]
    base = _insert_for(dialect, table)
    if updatable:
        stmt = base.on_conflict_do_update(
            index_elements=key_cols,
            set_={c: base.excluded[c] for c in updatable},
            where=or_(*[table.c[c].is_distinct_from(base.excluded[c]) for c in updatable]),
        )
    else:
        stmt = base.on_conflict_do_nothing(index_elements=key_cols)
    wanted = bindparam("keys", expanding=True)
    if len(key) == 1:
        stored = select(*key_cols, *cmp_cols).where(key_cols[0].in_(wanted))
    elif dialect != "postgresql":
        stored = select(*key_cols, *cmp_cols).where(tuple_(*key_cols).in_(wanted))
    else:
        stored = None
    _ROW_STATEMENTS[cache_key] = (stmt, stored)
    return stmt, stored


def _stored_rows_joined(table: Table, key: Sequence[str], keys: list[tuple[Any, ...]], updatable: Sequence[str]):  # type: ignore[no-untyped-def]
    """The statement reading the key and ``updatable`` columns of the stored rows among ``keys`` (several key
    columns, PostgreSQL): a join with the keys as a ``VALUES`` list, which it answers through the index (a
    row-value ``IN`` list made it scan the whole table for every chunk)."""
    key_cols = [table.c[k] for k in key]
    wanted = values(*[column(f"k{i}", c.type) for i, c in enumerate(key_cols)], name="wanted").data(keys)
    match = and_(*[c == wanted.c[f"k{i}"] for i, c in enumerate(key_cols)])
    return select(*key_cols, *[table.c[c] for c in updatable]).select_from(table.join(wanted, match))


# --- bulk path -----------------------------------------------------------------------------


def _polars_schema(table: Table, names: Sequence[str]) -> dict[str, Any]:
    import polars as pl

    schema: dict[str, Any] = {}
    for name in names:
        col_type = table.c[name].type
        python = None
        try:
            python = col_type.python_type
        except NotImplementedError:  # pragma: no cover - every warehouse type has one
            python = str
        if isinstance(col_type, DateTime) or getattr(col_type, "impl", None).__class__ is DateTime:
            schema[name] = pl.Datetime("us", "UTC")
        elif isinstance(col_type, Boolean):
            schema[name] = pl.Boolean
        elif python is int:
            schema[name] = pl.Int64
        elif python is float:
            schema[name] = pl.Float64
        else:
            schema[name] = pl.String
    return schema


def _upsert_statement(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    key: Sequence[str],
    updatable: Sequence[str],
    merge: Mapping[str, Merge],
    stamp: Sequence[str],
    source: Any = None,
):  # type: ignore[no-untyped-def]
    base = _insert_for(conn.dialect.name, table)
    if source is not None:
        base = base.from_select(list(columns), select(*[source.c[c] for c in columns]))
    key_cols = [table.c[k] for k in key]
    if not updatable:
        return base.on_conflict_do_nothing(index_elements=key_cols)
    new_values = {c: merge[c](table.c[c], base.excluded[c]) if c in merge else base.excluded[c] for c in updatable}
    set_ = dict(new_values)
    for c in stamp:
        set_[c] = base.excluded[c]
    where = or_(*[table.c[c].is_distinct_from(expr) for c, expr in new_values.items()])
    return base.on_conflict_do_update(index_elements=key_cols, set_=set_, where=where)


def _bulk_upsert(
    conn: Connection,
    table: Table,
    frame: pl.DataFrame,
    *,
    key: Sequence[str] | None,
    update_columns: Sequence[str] | None,
    merge: Mapping[str, Merge] | None,
    stamp: Sequence[str],
    stored: pl.DataFrame | None = None,
) -> UpsertResult:
    if frame.height == 0:
        return UpsertResult()
    key = list(key or [c.name for c in table.primary_key.columns])
    columns = list(frame.columns)
    missing = [k for k in key if k not in columns]
    if missing:
        raise ValueError(f"rows for {table.name} lack key column(s) {missing}")
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {unknown}")
    frame = as_written(table, frame, key)
    columns = list(frame.columns)
    merge = dict(merge or {})
    stamp = [c for c in stamp if c in columns and c not in key]
    updatable = [
        c for c in (update_columns if update_columns is not None else columns) if c not in key and c not in stamp
    ]
    updatable = [c for c in updatable if c in columns]
    if conn.dialect.name == "postgresql":
        return _pg_copy_upsert(conn, table, frame, key, updatable, merge, stamp, stored)
    if conn.dialect.name == "sqlite":
        return _sqlite_bulk_upsert(conn, table, frame, key, updatable, merge, stamp)
    raise NotImplementedError(f"upsert supports SQLite and PostgreSQL, not {conn.dialect.name}")


def as_written(
    table: Table, frame: pl.DataFrame, key: Sequence[str] | None = None, *, repeats: bool = True
) -> pl.DataFrame:
    """Return the rows the bulk path writes for ``frame``: the table's Python-side defaults filled in
    for absent columns and, of rows repeated on the ``key`` (default: the primary key), the last.

    When an upsert of ``frame`` reports every row inserted, these are exactly the rows now stored
    (the ETL hands them to the rollup refresh instead of reading them back). ``repeats=False``: the
    caller knows that no key repeats (an upsert that inserted ``frame.height`` rows), so none is
    searched for."""
    key = list(key or [c.name for c in table.primary_key.columns])
    filled = _with_defaults(table, frame)
    # last occurrence of a key wins, as in the row path
    return filled.unique(subset=key, keep="last", maintain_order=True) if repeats else filled


def _with_defaults(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with the table's Python-side column defaults filled in for absent columns."""
    import polars as pl

    schema = _polars_schema(table, [c.name for c in table.c])
    extra = []
    for col in table.c:
        if (
            col.name in frame.columns
            or col.default is None
            or (not getattr(col.default, "is_scalar", True) and not (getattr(col.default, "is_callable", False)))
        ):
            continue
        default = col.default
        value = default.arg(None) if getattr(default, "is_callable", False) else default.arg  # type: ignore[attr-defined]
        extra.append(pl.lit(value, dtype=schema[col.name]).alias(col.name))
    return frame.with_columns(extra) if extra else frame


def _sqlite_values(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with values as SQLAlchemy stores them on SQLite (naive UTC text, dates, 0/1)."""
    import polars as pl

    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            col = pl.col(name)
            if dtype.time_zone is not None:
                col = col.dt.convert_time_zone("UTC")
            exprs.append(col.dt.strftime("%Y-%m-%d %H:%M:%S%.6f").alias(name))
        elif dtype == pl.Date:
            exprs.append(pl.col(name).dt.strftime("%Y-%m-%d"))  # SQLAlchemy's SQLite DATE storage
        elif dtype == pl.Boolean:
            exprs.append(pl.col(name).cast(pl.Int64))
    return frame.with_columns(exprs) if exprs else frame


def _sqlite_bulk_upsert(
    conn: Connection,
    table: Table,
    frame: pl.DataFrame,
    key: Sequence[str],
    updatable: Sequence[str],
    merge: Mapping[str, Merge],
    stamp: Sequence[str],
) -> UpsertResult:
    """Insert every row with a plain ``INSERT … ON CONFLICT DO NOTHING``; only when some keys
    already existed, run the ``DO UPDATE`` statement with the merge rules over the rows.

    SQLite inserts far slower through ``DO UPDATE SET`` of several columns even when nothing
    conflicts, so new rows never go through it. The counts stay exact: the first pass changes
    exactly the new rows; in the second every row conflicts, and the ``WHERE … IS DISTINCT FROM``
    guard lets through only rows whose merged values differ (a row just inserted merges with
    itself into itself), so its rowcount is the rows updated."""
    columns = list(frame.columns)
    values = _sqlite_values(frame)
    inserted = _sqlite_executed(conn, _upsert_statement(conn, table, columns, key, [], {}, []), columns, values)
    updated = 0
    if inserted < values.height and updatable:
        stmt = _upsert_statement(conn, table, columns, key, updatable, merge, stamp)
        updated = _sqlite_executed(conn, stmt, columns, values)
    return UpsertResult(inserted, updated, frame.height - inserted - updated)


def _sqlite_executed(conn: Connection, stmt: Any, columns: Sequence[str], rows: pl.DataFrame) -> int:
    """Run ``stmt`` for every row of ``rows`` on the raw cursor; return the rows changed."""
    if rows.height == 0:
        return 0
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
    order = list(compiled.positiontup or [])
    if sorted(order) != sorted(columns):  # pragma: no cover - guards the statement builder
        raise RuntimeError(f"unexpected parameters in upsert statement: {order}")
    ordered = rows.select(order)
    sql = str(compiled)
    changed = 0
    step = 50_000
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, ordered.height, step):
            # the rows a buffer at a time (iter_rows), not a list of every tuple of the slice: less
            # memory held and churned per batch, and faster
            cursor.executemany(sql, ordered.slice(start, step).iter_rows())
            changed += max(cursor.rowcount, 0)
    finally:
        cursor.close()
    return changed


def _pg_copy(conn: Connection, target: str, columns: Sequence[str], frame: pl.DataFrame) -> None:
    """COPY ``frame`` (CSV text, UTC timestamps) into ``target`` on the connection's raw cursor."""
    import polars as pl

    preparer = conn.dialect.identifier_preparer
    quoted = ", ".join(preparer.quote(c) for c in columns)
    out = frame.select(
        [
            pl.col(n).dt.convert_time_zone("UTC") if isinstance(t, pl.Datetime) and t.time_zone else pl.col(n)
            for n, t in frame.select(columns).schema.items()
        ]
    )
    from psycopg.copy import QueuedLibpqWriter

    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        # a thread sends each slice while the next is written as CSV: the server parses and inserts
        # while the client serialises, instead of one after the other
        with cur.copy(f"COPY {target} ({quoted}) FROM STDIN (FORMAT csv)", writer=QueuedLibpqWriter(cur)) as copy:
            step = _COPY_SLICE
            for start in range(0, out.height, step):
                copy.write(out.slice(start, step).write_csv(include_header=False).encode("utf-8"))


def _pg_temp(conn: Connection, table: Table, columns: Sequence[str], role: str) -> str:
    """Return the name of an empty temporary table with ``columns`` typed as in ``table``."""
    digest = hashlib.sha1(",".join(columns).encode()).hexdigest()[:10]
    name = f"_{role}_{table.name}_{digest}"
    preparer = conn.dialect.identifier_preparer
    quoted = ", ".join(preparer.quote(c) for c in columns)
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DROP AS "
        f"SELECT {quoted} FROM {preparer.format_table(table)} WITH NO DATA"
    )
    conn.exec_driver_sql(f"TRUNCATE {name}")
    return name


def _pg_copy_upsert(
    conn: Connection,
    table: Table,
    frame: pl.DataFrame,
    key: Sequence[str],
    updatable: Sequence[str],
    merge: Mapping[str, Merge],
    stamp: Sequence[str],
    stored: pl.DataFrame | None = None,
) -> UpsertResult:
    """COPY the keys to find which exist (or take them from ``stored``); COPY new rows straight into
    the table (as fast as a plain bulk load) and send only existing keys through a staging table and ``ON CONFLICT DO
    UPDATE`` with the merge rules. The caller serialises writers of the table (the ETL's advisory
    lock): a key inserted by someone else meanwhile makes the COPY fail and the transaction roll back.

    A batch whose sampled keys are all new is first COPYed whole inside a savepoint (a first load
    does no key lookups at all); if a key did exist after all, the savepoint is rolled back and
    the batch takes the careful path, so the counts and the merge rules never depend on the guess."""
    import polars as pl
    from psycopg.errors import UniqueViolation

    columns = list(frame.columns)
    preparer = conn.dialect.identifier_preparer
    if stored is not None:
        existing = stored.select([pl.col(k).cast(t) for k, t in frame.select(key).schema.items()])
    else:
        sample = frame.select(key).sample(min(frame.height, _PG_SAMPLE), seed=0)
        if not _pg_any_exists(conn, table, sample):
            try:
                with conn.begin_nested():
                    _pg_copy(conn, preparer.format_table(table), columns, frame)
                return UpsertResult(frame.height, 0, 0)
            except UniqueViolation:
                pass  # some keys were there after all
        keys_name = _pg_temp(conn, table, list(key), "keys")
        _pg_copy(conn, keys_name, list(key), frame)
        keys = _table_clause(keys_name, list(key))
        match = and_(*[table.c[k] == keys.c[k] for k in key])
        found = conn.execute(
            select(*[keys.c[k] for k in key]).where(
                select(literal_column("1")).select_from(table).where(match).exists()
            )
        ).all()
        existing = pl.DataFrame([tuple(r) for r in found], schema=frame.select(key).schema, orient="row")
    if existing.height:
        marked = frame.join(existing.with_columns(pl.lit(True).alias("_exists")), on=list(key), how="left")
        old_rows = marked.filter(pl.col("_exists").fill_null(False)).drop("_exists")
        new_rows = marked.filter(~pl.col("_exists").fill_null(False)).drop("_exists")
    else:
        old_rows, new_rows = frame.head(0), frame
    if new_rows.height:
        _pg_copy(conn, preparer.format_table(table), columns, new_rows)
    updated = 0
    if old_rows.height and updatable:
        staging_name = _pg_temp(conn, table, columns, "stage")
        _pg_copy(conn, staging_name, columns, old_rows)
        staging = _table_clause(staging_name, columns)
        stmt = _upsert_statement(conn, table, columns, key, updatable, merge, stamp, source=staging)
        written = stmt.returning(literal_column("1").label("one")).cte("written")
        updated = int(conn.execute(select(func.count()).select_from(written)).scalar_one())
    inserted = new_rows.height
    return UpsertResult(inserted, updated, frame.height - inserted - updated)


def _pg_any_exists(conn: Connection, table: Table, keys: pl.DataFrame) -> bool:
    """Return True if any of the (few) ``keys`` is already in ``table``."""
    if keys.height == 0:
        return False
    names = list(keys.columns)
    # one EXISTS per key, each a primary-key lookup whatever the planner believes of the table's size
    # (an OR of key equalities was planned as a scan inside a loading transaction, whose statistics
    # still say the table is small: up to 240 ms a probe; a row-value IN list scanned the table too)
    probes = [exists().where(*[table.c[k] == v for k, v in zip(names, row, strict=True)]) for row in keys.rows()]
    return bool(conn.execute(select(or_(*probes))).scalar())


def _table_clause(name: str, columns: Sequence[str]):  # type: ignore[no-untyped-def]
    """Return a lightweight table construct named ``name`` with ``columns`` (for staging tables)."""
    return table(name, *[column(c) for c in columns])
