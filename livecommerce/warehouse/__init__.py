"""The warehouse: schema, engine, migrations and the one upsert helper.

>>> engine = connect("sqlite://")
>>> init(engine)            # create or upgrade in place, seed the platforms
'0002'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection, Engine

from livecommerce.config import Settings, load_settings
from livecommerce.schemas import PLATFORMS
from livecommerce.warehouse import tables
from livecommerce.warehouse.engine import DatabaseURLError, make_engine, masked_url
from livecommerce.warehouse.migrate import current_revision, head_revision, upgrade
from livecommerce.warehouse.tables import metadata
from livecommerce.warehouse.upsert import UpsertResult, upsert

__all__ = [
    "DatabaseURLError",
    "UpsertResult",
    "connect",
    "current_revision",
    "head_revision",
    "info",
    "init",
    "masked_url",
    "metadata",
    "rollup_statistics_refreshed",
    "statistics_refreshed",
    "table_counts",
    "tables",
    "upsert",
]


def connect(url: str | None = None, *, settings: Settings | None = None) -> Engine:
    """Return an Engine for ``url``, or for the configured warehouse when ``url`` is None."""
    settings = settings or load_settings()
    return make_engine(url or settings.db_url, schema=settings.db_schema)


def init(engine: Engine) -> str | None:
    """Create or upgrade the schema in place, seed reference data, return the schema revision."""
    revision = upgrade(engine)
    rows = [
        {"platform_id": pid, "name_zh": zh, "name_en": en, "has_live": live}
        for pid, (zh, en, live) in PLATFORMS.items()
    ]
    with engine.begin() as conn:
        upsert(conn, tables.Platform.__table__, rows)
        _rollups_backfilled(conn)
    return revision


def _rollups_backfilled(conn) -> bool:  # type: ignore[no-untyped-def]
    """Build the rollups once for a warehouse that has facts but an empty rollup table (after an upgrade)."""
    from livecommerce.warehouse.rollups import refresh_all

    has_facts = conn.execute(select(tables.OrderLine.__table__.c.order_id).limit(1)).first()
    if not has_facts:
        return False
    rollups = (tables.RollupDaily.__table__, tables.RollupPlatformDaily.__table__, tables.RollupGeo.__table__)
    if all(conn.execute(select(t.c.day).limit(1)).first() for t in rollups):
        return False
    refresh_all(conn)
    return True


#: the fact tables the rollup refresh reads, whose statistics a big load makes stale
REFRESH_READS = ("order_line", "live_session", "session_product")


def statistics_refreshed(conn: Connection, tables: Sequence[str] = REFRESH_READS) -> list[str]:
    """On PostgreSQL, ``ANALYZE`` ``tables`` inside the caller's transaction (its own new rows count)
    and return their names; on SQLite do nothing and return []. Without it, the planner of a
    transaction that has just loaded millions of lines still believes the tables nearly empty and
    scans every line of a platform for each 500 sessions of the rollup refresh (the large world's
    session rollup took minutes per chunk)."""
    if conn.dialect.name != "postgresql":
        return []
    preparer = conn.dialect.identifier_preparer
    for name in tables:
        conn.exec_driver_sql(f"ANALYZE {preparer.quote(name)}")
    return list(tables)


def rollup_statistics_refreshed(conn: Connection) -> list[str]:
    """``ANALYZE`` the rollup tables inside the caller's transaction and return their names; on SQLite
    each index is sampled (``PRAGMA analysis_limit``), which costs milliseconds. Without statistics
    SQLite reads a county's month of sessions through the platform's primary key (every session of
    the platform) instead of the (host, day) index: 31 ms instead of 13 on the large world."""
    present = set(inspect(conn).get_table_names())
    names = [t.name for t in metadata.sorted_tables if t.name.startswith("rollup_") and t.name in present]
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA analysis_limit=400")
    preparer = conn.dialect.identifier_preparer
    for name in names:
        conn.exec_driver_sql(f"ANALYZE {preparer.quote(name)}")
    return names


def table_counts(engine: Engine) -> dict[str, int]:
    """Return the number of rows in each warehouse table that exists (schema order)."""
    present = set(inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in present:
                counts[table.name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return counts


def info(engine: Engine) -> dict[str, Any]:
    """Return what a person or script needs to know about a warehouse.

    Keys: ``url`` (password masked), ``dialect``, ``schema_version``, ``schema_head``,
    ``up_to_date`` and ``tables`` (row count per table).
    """
    revision = current_revision(engine)
    head = head_revision()
    return {
        "url": masked_url(engine.url.render_as_string(hide_password=False)),
        "dialect": engine.dialect.name,
        "schema_version": revision,
        "schema_head": head,
        "up_to_date": revision == head,
        "tables": table_counts(engine) if revision else {},
    }
