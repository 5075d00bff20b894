"""The one place that writes rows: a dialect-aware upsert on a table's natural key.

Every write in the project goes through :func:`upsert`. It inserts new keys, updates keys whose
values changed and leaves identical rows alone, and says how many of each, so that loading the
same data twice changes nothing and reports "unchanged".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

__all__ = ["UpsertResult", "upsert"]

# SQLite allows 32,766 bound parameters per statement, PostgreSQL 65,535.
_MAX_PARAMS = 30_000


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


def _insert_for(conn: Connection, table: Table):  # type: ignore[no-untyped-def]
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upsert supports SQLite and PostgreSQL, not {name}")


def _chunks(rows: Sequence[Mapping[str, Any]], size: int) -> Iterable[Sequence[Mapping[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def upsert(
    conn: Connection,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str] | None = None,
    update_columns: Sequence[str] | None = None,
    chunk_size: int | None = None,
) -> UpsertResult:
    """Insert or update ``rows`` in ``table`` on the natural ``key`` and return the counts.

    ``key`` defaults to the primary key. ``update_columns`` are the columns a conflicting row
    may change (default: every non-key column given in the rows); other columns keep the value
    they were first stored with. Rows repeated within ``rows`` count once (the last wins).
    Runs inside the caller's transaction; concurrent writers are safe because the statement
    itself is ``INSERT … ON CONFLICT DO UPDATE … WHERE <something differs>``.
    """
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

    key_cols = [table.c[k] for k in key]
    cmp_cols = [table.c[c] for c in updatable]
    base = _insert_for(conn, table)
    if updatable:
        stmt = base.on_conflict_do_update(
            index_elements=key_cols,
            set_={c: base.excluded[c] for c in updatable},
            where=or_(*[table.c[c].is_distinct_from(base.excluded[c]) for c in updatable]),
        )
    else:
        stmt = base.on_conflict_do_nothing(index_elements=key_cols)

    result = UpsertResult()
    for chunk in _chunks(unique_rows, size):
        keys = [tuple(r[k] for k in key) for r in chunk]
        cond = key_cols[0].in_([k[0] for k in keys]) if len(key) == 1 else tuple_(*key_cols).in_(keys)
        existing = {
            tuple(rec[: len(key)]): tuple(rec[len(key) :])
            for rec in conn.execute(select(*key_cols, *cmp_cols).where(cond))
        }
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
