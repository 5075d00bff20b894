"""Make the database engine: SQLite pragmas, PostgreSQL pool and schema, sensible errors."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

__all__ = ["DatabaseURLError", "make_engine", "masked_url"]

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class DatabaseURLError(ValueError):
    """The database URL cannot be used; the message says why and what a good URL looks like."""


def masked_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str, *, schema: str | None = None, echo: bool = False) -> Engine:
    """Return an Engine for ``url``.

    SQLite: the file's folder is created, and every connection runs with foreign keys on, WAL
    and a 30 s busy timeout; ``sqlite://`` (in memory) shares one connection. PostgreSQL:
    pre-ping pool; with ``schema`` every connection uses it as its ``search_path`` (created if
    missing). Raises :class:`DatabaseURLError` for a URL that cannot be parsed or a driver
    that is not installed.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(
            f"cannot parse database URL {masked_url(url)!r}; use e.g. sqlite:///data/livecommerce.db "
            "or postgresql+psycopg://user@host:5432/db / 无法解析数据库地址，示例："
            "sqlite:///data/livecommerce.db 或 postgresql+psycopg://user@host:5432/db"
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseURLError(
            f"unsupported database {backend!r} in {masked_url(url)!r}: livecommerce runs on SQLite "
            f"(sqlite:///path.db) or PostgreSQL (postgresql+psycopg://user@host/db) / "
            f"不支持的数据库 {backend!r}：请使用 SQLite 或 PostgreSQL"
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if backend == "sqlite":
            database = parsed.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(parsed, echo=echo)
            else:
                engine = create_engine(
                    parsed,
                    echo=echo,
                    poolclass=StaticPool,
                    connect_args={"check_same_thread": False},
                )
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        if backend == "postgresql":
            connect_args = {}
            if schema:
                if not _SCHEMA_NAME.match(schema):
                    raise DatabaseURLError(f"invalid schema name {schema!r} / 模式名无效：{schema!r}")
                connect_args["options"] = f"-csearch_path={schema}"
            engine = create_engine(parsed, echo=echo, pool_pre_ping=True, connect_args=connect_args)
            if schema:
                with engine.begin() as conn:  # a web-server role may lack CREATE: only create when missing
                    exists = conn.exec_driver_sql(
                        "SELECT 1 FROM information_schema.schemata WHERE schema_name = %(s)s", {"s": schema}
                    ).first()
                    if not exists:
                        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        return engine
    except ModuleNotFoundError as exc:
        raise DatabaseURLError(
            f"the driver for {parsed.drivername} is not installed ({exc.name}); for PostgreSQL run "
            "`pip install 'livecommerce[postgres]'` / 缺少数据库驱动，PostgreSQL 请安装 livecommerce[postgres]"
        ) from exc
