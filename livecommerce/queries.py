"""The read API: every number the dashboard, the CLI and the JSON API show comes from here.

Each function takes an Engine, a :class:`~livecommerce.scope.Scope` (which hosts and counties
the caller may see; the scope is added to the SQL) and filters (local dates, inclusive, and a
platform), and returns a polars DataFrame. KPIs are computed by ``livecommerce.metrics`` from
the rollups, so a query over 30 days reads a few hundred rows whatever the size of the history.

Levels: ``overview`` (all the scope sees), ``host``, ``county`` (the sales of the county's
products, whoever sold them), ``product`` and ``session``. Money stays in fen here; the CLI and
the dashboard turn it into yuan at the edge.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Integer, Table, and_, case, cast, extract, func, literal, or_, select, union_all
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import FromClause, Select
from sqlalchemy.sql.elements import ColumnElement

from livecommerce.config import LOCAL_TZ
from livecommerce.metrics import BASE_MEASURES, METRICS, kpis
from livecommerce.scope import Scope
from livecommerce.warehouse.rollups import paid_condition
from livecommerce.warehouse.tables import (
    County,
    Host,
    IngestRun,
    LiveSession,
    OrderLine,
    Product,
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
    SessionMinute,
    SessionProduct,
)

__all__ = [
    "LEVELS",
    "Filters",
    "Scope",
    "buyer_provinces",
    "daily_trend",
    "demand_history",
    "directory",
    "freshness",
    "funnel",
    "kpi_report",
    "league_table",
    "may_see",
    "refunds",
    "session_curve",
    "session_list",
    "session_sales",
    "slot_heatmap",
    "top_hosts",
    "top_products",
]

Level = Literal["overview", "host", "county", "product", "session"]
LEVELS: tuple[str, ...] = ("overview", "host", "county", "product", "session")
_TZ = ZoneInfo(LOCAL_TZ)
_RD = RollupDaily.__table__
_RP = RollupPlatformDaily.__table__  # rollup_daily summed per day and platform
_RPD = RollupProductDaily.__table__  # rollup_daily summed over hosts
_RS = RollupSession.__table__
_RM = RollupMonthly.__table__  # rollup_daily summed per month
_RSM = RollupSessionMonthly.__table__  # rollup_session summed per month and host
_RGHM = RollupGeoHostMonthly.__table__  # a host's lines per month and province
_MONTHLY = {
    _RD.name: _RM,
    _RS.name: _RSM,
    "order_line": _RGHM,
    "rollup_geo": RollupGeoMonthly.__table__,
    "rollup_refund_product": RollupRefundProductMonthly.__table__,
}
_RG = RollupGeo.__table__
_RGT = RollupGeoTotal.__table__  # rollup_geo summed over platforms
_RR = RollupRefund.__table__
_RRP = RollupRefundProduct.__table__  # rollup_refund summed over hosts
_RRT = RollupRefundTotal.__table__  # and over platforms and days in transit
_OL = OrderLine.__table__
_SALES_BASES = [c for c in _RD.c.keys() if c in BASE_MEASURES]
_LIVE_BASES = [c for c in _RS.c.keys() if c in BASE_MEASURES and c not in ("gmv_fen", "refund_fen", "orders", "units")]


@dataclass(frozen=True)
class Filters:
    """Local (Asia/Shanghai) dates, both inclusive, and an optional platform; None means no limit."""

    start: dt.date | None = None
    end: dt.date | None = None
    platform: str | None = None

    def previous(self) -> Filters | None:
        """Return the period of the same length just before this one (None without both dates, or
        when it would begin before the calendar does)."""
        if self.start is None or self.end is None:
            return None
        days = (self.end - self.start).days + 1
        if (self.start - dt.date.min).days < days:
            return None
        return Filters(self.start - dt.timedelta(days=days), self.start - dt.timedelta(days=1), self.platform)


# --- scope --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Visible:
    everything: bool
    hosts: frozenset[str]
    products: frozenset[str]
    counties: frozenset[str]


def _visible(conn: Connection, scope: Scope) -> _Visible:
    if scope.all_data:
        return _Visible(True, frozenset(), frozenset(), frozenset())
    hosts = set(scope.host_ids)
    products: set[str] = set()
    if scope.county_ids:
        h, p = Host.__table__, Product.__table__
        hosts |= set(conn.execute(select(h.c.host_id).where(h.c.county_id.in_(scope.county_ids))).scalars())
        products |= set(conn.execute(select(p.c.product_id).where(p.c.county_id.in_(scope.county_ids))).scalars())
    return _Visible(False, frozenset(hosts), frozenset(products), frozenset(scope.county_ids))


def _daily_scope(v: _Visible, table: Table = _RD) -> ColumnElement[bool]:
    if v.everything:
        return literal(True)
    return or_(table.c.host_key.in_(v.hosts), table.c.product_key.in_(v.products))


def _daily_table(v: _Visible, level: Level) -> Table:
    """The daily rollup to read: per platform when the caller sees everything and asks for everything,
    per product for a county or a product (whose rows the caller sees whole, see :func:`_allowed`),
    else ``rollup_daily``: the first two do not grow with the number of hosts."""
    if level == "overview":
        return _RP if v.everything else _RD
    return _RPD if level in ("county", "product") else _RD


def _table_scope(table: Table, v: _Visible) -> list[ColumnElement[bool]]:
    """The scope conditions on a daily rollup (none for the per-platform one: only for everything)."""
    if table is _RD or table is _RM:
        return [_daily_scope(v, table)]
    if table is _RPD and not v.everything:
        return [_RPD.c.product_key.in_(v.products)]
    return []


def _session_scope(v: _Visible, table: Table = _RS) -> ColumnElement[bool]:
    return literal(True) if v.everything else table.c.host_id.in_(v.hosts)


def _order_scope(v: _Visible) -> ColumnElement[bool]:
    if v.everything:
        return literal(True)
    return or_(_OL.c.host_id.in_(v.hosts), _OL.c.product_id.in_(v.products))


# --- helpers ------------------------------------------------------------------------------


def _frame(conn: Connection, stmt: Select[Any]) -> pl.DataFrame:
    result = conn.execute(stmt)
    names = list(result.keys())
    rows = [tuple(r) for r in result]
    if not rows:
        return pl.DataFrame({n: [] for n in names})
    frame = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
    # PostgreSQL sums integers as NUMERIC: bring them back to integers (or floats when they have a scale)
    decimals = [(n, t) for n, t in frame.schema.items() if isinstance(t, pl.Decimal)]
    return frame.with_columns([pl.col(n).cast(pl.Int64 if (t.scale or 0) == 0 else pl.Float64) for n, t in decimals])


def _period(col: ColumnElement[Any], f: Filters) -> list[ColumnElement[bool]]:
    conds = []
    if f.start is not None:
        conds.append(col >= f.start)
    if f.end is not None:
        conds.append(col <= f.end)
    return conds


def _utc_period(col: ColumnElement[Any], f: Filters) -> list[ColumnElement[bool]]:
    conds = []
    if f.start is not None:
        conds.append(col >= dt.datetime.combine(f.start, dt.time(), _TZ))
    if f.end is not None:
        conds.append(col < dt.datetime.combine(f.end + dt.timedelta(days=1), dt.time(), _TZ))
    return conds


def _month_after(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _whole_months(f: Filters) -> tuple[dt.date | None, dt.date | None] | None:
    """The local months the period covers whole: ``(first, stop)`` where ``first`` is the first one's
    first day and ``stop`` the first day after the last one (None: no limit on that side); None when
    the period covers no whole month."""
    first = None if f.start is None else f.start if f.start.day == 1 else _month_after(f.start)
    stop = None if f.end is None else (f.end + dt.timedelta(days=1)).replace(day=1)
    if first is not None and stop is not None and first >= stop:
        return None
    return first, stop


Where = Callable[[Table], list[ColumnElement[bool]]]


def _tiled(table: Table, f: Filters, columns: Callable[[Table], list[Any]], where: Where) -> FromClause:
    """Return the rows of a daily rollup (``rollup_daily``, ``rollup_session``) in the period as a
    subquery of ``columns(t)`` filtered by ``where(t)``: the whole months the period covers come from
    the monthly rollup (``t``), only the days of its partial months from the daily one. Other tables,
    and periods without a whole month, read the daily rows only."""
    monthly = _MONTHLY.get(table.name)
    whole = _whole_months(f) if monthly is not None else None
    if monthly is None or whole is None:
        return select(*columns(table)).where(*_period(table.c.day, f), *where(table)).subquery()
    first, stop = whole
    months = [*([monthly.c.day >= first] if first else []), *([monthly.c.day < stop] if stop else [])]
    parts = [select(*columns(monthly)).where(*months, *where(monthly))]
    edges = [and_(*_period(table.c.day, p)) for p in _partial_months(f, first, stop)]
    if edges:
        parts.append(select(*columns(table)).where(or_(*edges), *where(table)))
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()


def _partial_months(f: Filters, first: dt.date | None, stop: dt.date | None) -> list[Filters]:
    """The days of ``f`` before its whole months (which begin at ``first``) and after them (from ``stop``)."""
    periods = []
    if first is not None and f.start is not None and f.start < first:
        periods.append(Filters(f.start, first - dt.timedelta(days=1), f.platform))
    if stop is not None and f.end is not None and stop <= f.end:
        periods.append(Filters(stop, f.end, f.platform))
    return periods


def _session_columns(bases: Sequence[str]) -> Callable[[Table], list[Any]]:
    """Columns of a session source: ``host_id``, ``sessions``, ``effective_sessions`` (one per
    session of at least 30 minutes) and ``bases`` — counted per row of ``rollup_session``, stored in
    ``rollup_session_monthly``."""

    def columns(t: Table) -> list[Any]:
        if t is _RSM:
            counts = [t.c.sessions, t.c.effective_sessions]
        else:
            counts = [
                literal(1, Integer).label("sessions"),
                case((t.c.live_minutes >= 30, 1), else_=0).label("effective_sessions"),
            ]
        return [t.c.host_id, *counts, *[t.c[b] for b in bases]]

    return columns


def _county_hosts(conn: Connection, county_id: str) -> set[str]:
    h = Host.__table__
    return set(conn.execute(select(h.c.host_id).where(h.c.county_id == county_id)).scalars())


def _in_county(county_id: str) -> Any:
    """The subquery of a county's host ids: one statement whatever the number of hosts (a literal list
    of a large county's hosts cost more to build and compile than the query took to run)."""
    h = Host.__table__
    return select(h.c.host_id).where(h.c.county_id == county_id).scalar_subquery()


def _county_products(conn: Connection, county_id: str) -> set[str]:
    p = Product.__table__
    return set(conn.execute(select(p.c.product_id).where(p.c.county_id == county_id)).scalars())


def _level_where(conn: Connection, level: Level, key: str | None) -> Where:
    """The conditions on a sales rollup (any of the daily or monthly ones) for ``level``/``key``."""
    if level == "host":
        return lambda t: [t.c.host_key == key]
    if level == "product":
        return lambda t: [t.c.product_key == key]
    if level == "county":
        products = _county_products(conn, key or "")
        return lambda t: [t.c.product_key.in_(products)]
    return lambda t: []


def _level_sessions(conn: Connection, level: Level, key: str | None) -> Where | None:
    """The conditions on a session rollup (per session or per month) for ``level``/``key``; None for a
    product (no session traffic of its own)."""
    if level == "host":
        return lambda t: [t.c.host_id == key]
    if level == "county":
        return lambda t: [t.c.host_id.in_(_in_county(key or ""))]
    if level == "overview":
        return lambda t: []
    return None


def _platform_where(f: Filters) -> Where:
    return (lambda t: [t.c.platform_id == f.platform]) if f.platform else (lambda t: [])


def _sales_where(v: _Visible, f: Filters, level: Where) -> Where:
    """``level``'s conditions on a sales rollup plus the scope's and the platform filter's."""
    return lambda t: [*level(t), *_table_scope(t, v), *_platform_where(f)(t)]


def _session_where(v: _Visible, f: Filters, level: Where) -> Where:
    """``level``'s conditions on a session rollup plus the scope's and the platform filter's."""
    return lambda t: [_session_scope(v, t), *level(t), *_platform_where(f)(t)]


def _sales_bases(conn: Connection, v: _Visible, f: Filters, level: Where, table: Table = _RD) -> dict[str, int]:
    src = _tiled(table, f, lambda t: [t.c[b] for b in _SALES_BASES], _sales_where(v, f, level))
    row = conn.execute(select(*[func.coalesce(func.sum(src.c[b]), 0).label(b) for b in _SALES_BASES])).one()
    return {b: int(row[i]) for i, b in enumerate(_SALES_BASES)}


def _live_bases(conn: Connection, v: _Visible, f: Filters, level: Where) -> dict[str, int]:
    src = _tiled(_RS, f, _session_columns(_LIVE_BASES), _session_where(v, f, level))
    cols = [
        (func.coalesce(func.max(src.c[b]), 0) if BASE_MEASURES[b] == "max" else func.coalesce(func.sum(src.c[b]), 0))
        for b in _LIVE_BASES
    ]
    sessions = func.coalesce(func.sum(src.c.sessions), 0)
    effective = func.coalesce(func.sum(src.c.effective_sessions), 0)
    row = conn.execute(select(*cols, sessions, effective)).one()
    out = {b: int(row[i]) for i, b in enumerate(_LIVE_BASES)}
    out["sessions"] = int(row[len(_LIVE_BASES)])
    out["effective_sessions"] = int(row[len(_LIVE_BASES) + 1])
    out["outside_minutes"] = max(0, out.get("live_minutes", 0) - out.get("explain_minutes", 0))
    return out


def _bases(conn: Connection, v: _Visible, level: Level, key: str | None, f: Filters) -> dict[str, int]:
    table = _daily_table(v, level)
    bases = _sales_bases(conn, v, f, _level_where(conn, level, key), table)
    live_conds = _level_sessions(conn, level, key)
    if live_conds is not None:
        live = _live_bases(conn, v, f, live_conds)
        live["outside_gmv_fen"] = max(0, bases["live_gmv_fen"] - live.get("explain_gmv_fen", 0))
        bases.update(live)
    return bases


def _session_report(conn: Connection, v: _Visible, key: str, f: Filters) -> pl.DataFrame:
    platform, _, session_id = key.partition(":") if ":" in key else (f.platform or "", "", key)
    where = [_session_scope(v), _RS.c.session_id == session_id]
    if platform:
        where.append(_RS.c.platform_id == platform)
    frame = _frame(conn, select(_RS).where(*where))
    if frame.is_empty():
        return pl.DataFrame({"level": [], "key": []})
    frame = frame.with_columns(
        pl.lit(1).alias("sessions"),
        (pl.col("live_minutes") >= 30).cast(pl.Int64).alias("effective_sessions"),
        pl.col("gmv_fen").alias("live_gmv_fen"),
        (pl.col("live_minutes") - pl.col("explain_minutes")).clip(0).alias("outside_minutes"),
        (pl.col("gmv_fen") - pl.col("explain_gmv_fen")).clip(0).alias("outside_gmv_fen"),
    )
    out = kpis(frame)
    return out.with_columns(pl.lit("session").alias("level"), pl.lit(key).alias("key")).select(
        "level", "key", *out.columns
    )


def kpi_report(
    engine: Engine,
    scope: Scope,
    level: Level = "overview",
    key: str | None = None,
    filters: Filters | None = None,
    names: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Return one row of KPIs (registry names, money in fen) for ``level``/``key`` over ``filters``.

    Extra columns: ``level``, ``key``, ``start``, ``end``; for each KPI ``<kpi>_prev`` (the
    previous period of the same length, when both dates are given); for a host,
    ``county_median_gmv_per_live_hour`` and ``percentile_gmv_per_live_hour`` (its position among
    the hosts of its county). A session key is ``platform:session_id`` (or the id with
    ``filters.platform``). Out of scope → an empty frame.
    """
    f = filters or Filters()
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r} / 层级无效")
    with engine.connect() as conn:
        v = _visible(conn, scope)
        if level == "session":
            return _session_report(conn, v, key or "", f)
        if level != "overview" and not _allowed(conn, v, level, key):
            return pl.DataFrame({"level": [], "key": []})
        row: dict[str, Any] = {"level": level, "key": key, "start": f.start, "end": f.end}
        wanted = list(names or METRICS)
        row.update(kpis(pl.DataFrame([_bases(conn, v, level, key, f)]), wanted).row(0, named=True))
        prev = f.previous()
        if prev is not None:
            before = kpis(pl.DataFrame([_bases(conn, v, level, key, prev)]), wanted).row(0, named=True)
            row.update({f"{k}_prev": val for k, val in before.items()})
        if level == "host":
            row.update(_host_position(conn, v, key or "", f))
    return pl.DataFrame([row])


def _allowed(conn: Connection, v: _Visible, level: Level, key: str | None) -> bool:
    if level in ("host", "product", "county") and not _exists(conn, level, key):
        return False
    if v.everything:
        return True
    if level == "host":
        return key in v.hosts
    if level == "product":
        return key in v.products
    if level == "county":
        return key in v.counties  # a streamer sees their own rows, not the county's league
    return True


def _exists(conn: Connection, level: Level, key: str | None) -> bool:
    table, column = {
        "host": (Host.__table__, "host_id"),
        "product": (Product.__table__, "product_id"),
        "county": (County.__table__, "county_id"),
    }[level]
    return conn.execute(select(table.c[column]).where(table.c[column] == key)).first() is not None


def _host_position(conn: Connection, v: _Visible, host_id: str, f: Filters) -> dict[str, Any]:
    county = conn.execute(select(Host.__table__.c.county_id).where(Host.__table__.c.host_id == host_id)).scalar()
    if county is None:
        return {"county_id": None, "county_median_gmv_per_live_hour": None, "percentile_gmv_per_live_hour": None}
    league = _league(conn, county, f).filter(pl.col("host_id") != "")
    values = league.filter(pl.col("gmv_per_live_hour").is_not_null())
    mine = values.filter(pl.col("host_id") == host_id)["gmv_per_live_hour"]
    median = values["gmv_per_live_hour"].median() if values.height else None
    pct = None
    if mine.len() and values.height:
        pct = float((values["gmv_per_live_hour"] <= mine[0]).sum()) / values.height
    return {"county_id": county, "county_median_gmv_per_live_hour": median, "percentile_gmv_per_live_hour": pct}


# --- league, trends, lists ----------------------------------------------------------------


def _league(conn: Connection, county_id: str, f: Filters) -> pl.DataFrame:
    products = _county_products(conn, county_id)
    hosts = _county_hosts(conn, county_id)
    platform = _platform_where(f)
    sold = _tiled(
        _RD,
        f,
        lambda t: [t.c.host_key, *[t.c[b] for b in _SALES_BASES]],
        lambda t: [t.c.product_key.in_(products), *platform(t)],
    )
    sales = _frame(
        conn,
        select(sold.c.host_key.label("host_id"), *[func.sum(sold.c[b]).label(b) for b in _SALES_BASES]).group_by(
            sold.c.host_key
        ),
    )
    lived = _tiled(
        _RS, f, _session_columns(_LIVE_BASES), lambda t: [t.c.host_id.in_(_in_county(county_id)), *platform(t)]
    )
    live = _frame(
        conn,
        select(
            lived.c.host_id,
            func.sum(lived.c.sessions).label("sessions"),
            func.sum(lived.c.effective_sessions).label("effective_sessions"),
            *[
                (func.max(lived.c[b]) if BASE_MEASURES[b] == "max" else func.sum(lived.c[b])).label(b)
                for b in _LIVE_BASES
            ],
        ).group_by(lived.c.host_id),
    )
    everyone = pl.DataFrame({"host_id": sorted(hosts | set(sales["host_id"].to_list() if sales.height else []))})
    if sales.height:
        frame = everyone.join(sales, on="host_id", how="left")
    else:  # no sales in the period: zero sales measures, so the ratios exist (as nulls) instead of failing
        frame = everyone.with_columns([pl.lit(0).alias(b) for b in _SALES_BASES])
    if live.height:
        frame = frame.join(live, on="host_id", how="left")
    else:
        frame = frame.with_columns(
            [pl.lit(0).alias(c) for c in ("sessions", "effective_sessions", *_LIVE_BASES) if c not in frame.columns]
        )
    numeric = [c for c in frame.columns if c != "host_id"]
    frame = frame.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in numeric])
    return kpis(frame, by=["host_id"])


def league_table(engine: Engine, scope: Scope, county_id: str, filters: Filters | None = None) -> pl.DataFrame:
    """Return one row per host of ``county_id`` (plus ``host_id == ''`` for sales no host is credited
    with) with their KPIs over the period: GMV, net GMV, GMV per live hour, UV value, GPM, refund
    rates, sessions and effective sessions (≥ 30 minutes), sorted by GMV; names joined.
    Rows sum to the county's totals. Out of scope → empty.
    """
    f = filters or Filters()
    with engine.connect() as conn:
        v = _visible(conn, scope)
        if not _allowed(conn, v, "county", county_id):
            return pl.DataFrame({"host_id": []})
        league = _league(conn, county_id, f)
        h = Host.__table__
        others = sorted(set(league["host_id"].to_list()) - _county_hosts(conn, county_id))  # credited elsewhere
        names = _frame(
            conn,
            select(h.c.host_id, h.c.name).where(or_(h.c.county_id == county_id, h.c.host_id.in_(others))),
        )
    if names.height:
        league = league.join(names, on="host_id", how="left")
    return league.sort("gmv", descending=True, nulls_last=True)


def daily_trend(
    engine: Engine,
    scope: Scope,
    level: Level = "overview",
    key: str | None = None,
    filters: Filters | None = None,
    by_platform: bool = False,
) -> pl.DataFrame:
    """Return one row per local day (and platform when ``by_platform``) with gmv, net_gmv, orders,
    units, buyers and refunds (fen), for ``level``/``key``. Out of scope → empty."""
    f = filters or Filters()
    with engine.connect() as conn:
        v = _visible(conn, scope)
        if level not in ("overview",) and not _allowed(conn, v, level, key):
            return pl.DataFrame({"day": []})
        table = _daily_table(v, level)
        where = [*_period(table.c.day, f), *_level_where(conn, level, key)(table), *_table_scope(table, v)]
        if f.platform:
            where.append(table.c.platform_id == f.platform)
        groups = [table.c.day, table.c.platform_id] if by_platform else [table.c.day]
        frame = _frame(
            conn,
            select(*groups, *[func.sum(table.c[b]).label(b) for b in _SALES_BASES])
            .where(*where)
            .group_by(*groups)
            .order_by(*groups),
        )
    if frame.is_empty():
        return frame
    by = ["day", "platform_id"] if by_platform else ["day"]
    return kpis(frame, ["gmv", "net_gmv", "refunds", "orders", "units", "buyers"], by=by)


def _top(
    engine: Engine, scope: Scope, column: str, f: Filters, limit: int, level: Level, key: str | None
) -> pl.DataFrame:
    with engine.connect() as conn:
        v = _visible(conn, scope)
        if level != "overview" and not _allowed(conn, v, level, key):
            return pl.DataFrame({column: []})
        # products of a county, of one product or of everything: the rollup without hosts
        by_product = column == "product_key" and (level in ("county", "product") or v.everything)
        table = _RPD if by_product and level != "host" else _RD
        src = _tiled(
            table,
            f,
            lambda t: [t.c[column], *[t.c[b] for b in _SALES_BASES]],
            _sales_where(v, f, _level_where(conn, level, key)),
        )
        frame = _frame(
            conn,
            select(src.c[column], *[func.sum(src.c[b]).label(b) for b in _SALES_BASES]).group_by(src.c[column]),
        )
    if frame.is_empty():
        return frame
    out = kpis(frame, ["gmv", "net_gmv", "orders", "units", "refund_rate_amount"], by=[column])
    return out.sort("gmv", descending=True).head(limit)


def _top_named(
    engine: Engine, scope: Scope, column: str, names: Select[Any], f: Filters, limit: int, level: Level, key: str | None
) -> pl.DataFrame:
    out = _top(engine, scope, column, f, limit, level, key)
    if out.is_empty():
        return out
    first = names.selected_columns[0]
    key_column = getattr(first, "element", first)  # the labelled id column
    with engine.connect() as conn:  # the names of the listed rows only, not of every host or product
        labels = _frame(conn, names.where(key_column.in_(out[column].to_list())))
    return out.join(labels, on=column, how="left") if labels.height else out


def top_products(
    engine: Engine,
    scope: Scope,
    filters: Filters | None = None,
    limit: int = 10,
    level: Level = "overview",
    key: str | None = None,
) -> pl.DataFrame:
    """Return the ``limit`` best-selling products (by GMV) with gmv, net_gmv, orders, units, refund rate and title."""
    p = Product.__table__
    titles = select(p.c.product_id.label("product_key"), p.c.title)
    return _top_named(engine, scope, "product_key", titles, filters or Filters(), limit, level, key)


def top_hosts(
    engine: Engine,
    scope: Scope,
    filters: Filters | None = None,
    limit: int = 10,
    level: Level = "overview",
    key: str | None = None,
) -> pl.DataFrame:
    """Return the ``limit`` hosts with the highest GMV (``host_key == ''``: sales credited to no host)."""
    h = Host.__table__
    names = select(h.c.host_id.label("host_key"), h.c.name)
    return _top_named(engine, scope, "host_key", names, filters or Filters(), limit, level, key)


def session_list(
    engine: Engine, scope: Scope, host_id: str | None = None, filters: Filters | None = None
) -> pl.DataFrame:
    """Return the sessions (newest first) with start, minutes, views, viewers, GMV, orders, GPM and UV value."""
    f = filters or Filters()
    with engine.connect() as conn:
        v = _visible(conn, scope)
        where = [_session_scope(v), *_period(_RS.c.day, f)]
        if host_id is not None:
            where.append(_RS.c.host_id == host_id)
        if f.platform:
            where.append(_RS.c.platform_id == f.platform)
        frame = _frame(conn, select(_RS).where(*where).order_by(_RS.c.started_at_utc.desc()))
    if frame.is_empty():
        return frame
    frame = frame.with_columns(pl.col("gmv_fen").alias("live_gmv_fen"))
    ratios = kpis(frame, ["gpm", "uv_value", "watch_to_order"], by=["platform_id", "session_id"])
    return frame.join(ratios, on=["platform_id", "session_id"], how="left").drop("live_gmv_fen")


def session_curve(engine: Engine, scope: Scope, platform_id: str, session_id: str) -> dict[str, pl.DataFrame]:
    """Return a session's replay: ``minutes`` (minute_utc, online, entries, exits, likes, comments,
    follows, orders, gmv_fen), ``explains`` (product explain windows with price, title) and
    ``prices`` (the price shown at each explain start). Out of scope → empty frames."""
    sm, sp, ls = SessionMinute.__table__, SessionProduct.__table__, LiveSession.__table__
    with engine.connect() as conn:
        v = _visible(conn, scope)
        host = conn.execute(
            select(ls.c.host_id).where(ls.c.platform_id == platform_id, ls.c.session_id == session_id)
        ).scalar()
        if host is None or not (v.everything or host in v.hosts):
            empty = pl.DataFrame({"minute_utc": []})
            return {"minutes": empty, "explains": pl.DataFrame({"product_id": []}), "prices": pl.DataFrame()}
        minutes = _frame(
            conn,
            select(sm.c.minute_utc, sm.c.online, sm.c.entries, sm.c.exits, sm.c.likes, sm.c.comments, sm.c.follows)
            .where(sm.c.platform_id == platform_id, sm.c.session_id == session_id)
            .order_by(sm.c.minute_utc),
        )
        orders = _frame(
            conn,
            select(_OL.c.created_at_utc, _OL.c.order_id, _OL.c.amount_fen).where(
                _OL.c.platform_id == platform_id, _OL.c.session_id == session_id, paid_condition()
            ),
        )
        explains = _frame(
            conn,
            select(
                sp.c.product_id, sp.c.explain_start_utc, sp.c.explain_end_utc, sp.c.price_fen, Product.__table__.c.title
            )
            .join(Product.__table__, Product.__table__.c.product_id == sp.c.product_id)
            .where(sp.c.platform_id == platform_id, sp.c.session_id == session_id)
            .order_by(sp.c.explain_start_utc),
        )
    if orders.height:
        per_minute = (
            orders.with_columns(pl.col("created_at_utc").dt.truncate("1m").alias("minute_utc"))
            .group_by("minute_utc")
            .agg(pl.col("order_id").n_unique().alias("orders"), pl.col("amount_fen").sum().alias("gmv_fen"))
        )
        if minutes.height:
            minutes = minutes.join(per_minute, on="minute_utc", how="left")
        else:
            minutes = per_minute.sort("minute_utc")
        minutes = minutes.with_columns(pl.col("orders").fill_null(0), pl.col("gmv_fen").fill_null(0))
    prices = explains.select("explain_start_utc", "product_id", "price_fen") if explains.height else pl.DataFrame()
    return {"minutes": minutes, "explains": explains, "prices": prices}


def funnel(
    engine: Engine, scope: Scope, level: Level = "host", key: str | None = None, filters: Filters | None = None
) -> pl.DataFrame:
    """Return the live funnel as rows (step, people, rate_from_previous): viewers → product exposed →
    product clickers → buyers, from the sessions of ``level``/``key``."""
    f = filters or Filters()
    with engine.connect() as conn:
        v = _visible(conn, scope)
        if level != "overview" and not _allowed(conn, v, level, key):
            return pl.DataFrame({"step": [], "people": [], "rate": []})
        live = _live_bases(conn, v, f, _level_sessions(conn, level, key) or (lambda t: []))
    steps = [
        ("viewers", "观看人数", live.get("viewers", 0)),
        ("product_exposed_viewers", "商品曝光人数", live.get("product_exposed_viewers", 0)),
        ("product_clickers", "商品点击人数", live.get("product_clickers", 0)),
        ("live_buyers", "成交人数", live.get("live_buyers", 0)),
    ]
    rates = [None] + [(b / a if a else None) for (_, _, a), (_, _, b) in itertools.pairwise(steps)]
    return pl.DataFrame(
        {
            "step": [s[0] for s in steps],
            "label_zh": [s[1] for s in steps],
            "people": [s[2] for s in steps],
            "rate": rates,
        },
        schema_overrides={"rate": pl.Float64},
    )


def slot_heatmap(
    engine: Engine, scope: Scope, level: Level = "host", key: str | None = None, filters: Filters | None = None
) -> pl.DataFrame:
    """Return one row per (weekday 0=Mon, local start hour) with sessions, GPM and watch-to-order
    conversion of the sessions that started then (ratios of sums)."""
    f = filters or Filters()
    with engine.connect() as conn:
        v = _visible(conn, scope)
        if level != "overview" and not _allowed(conn, v, level, key):
            return pl.DataFrame({"weekday": [], "hour": []})
        level_where = _level_sessions(conn, level, key) or (lambda t: [])
        where = [*_period(_RS.c.day, f), *_session_where(v, f, level_where)(_RS)]
        weekday, hour = _local_weekday_hour(conn)
        bases = ("gmv_fen", "views", "viewers", "live_buyers")
        frame = _frame(  # one row per cell, summed in the database: a county's years of sessions stay there
            conn,
            select(
                weekday.label("weekday"),
                hour.label("hour"),
                func.count().label("sessions"),
                *[func.sum(_RS.c[b]).label(b) for b in bases],
            )
            .where(*where)
            .group_by(weekday, hour),
        )
    if frame.is_empty():
        return pl.DataFrame({"weekday": [], "hour": []})
    frame = frame.with_columns(pl.col("weekday", "hour").cast(pl.Int8), pl.col("gmv_fen").alias("live_gmv_fen"))
    return kpis(frame, ["sessions", "gpm", "watch_to_order", "uv_value"], by=["weekday", "hour"]).sort(
        "weekday", "hour"
    )


def _local_weekday_hour(conn: Connection) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """SQL for a session's local weekday (0 = Monday, from its local ``day``) and local start hour."""
    if conn.dialect.name == "sqlite":
        weekday = (cast(func.strftime("%w", _RS.c.day), Integer) + 6) % 7
        hour = cast(func.strftime("%H", _RS.c.started_at_utc, "+8 hours"), Integer)  # no DST since 1991
        return weekday, hour
    weekday = cast(extract("isodow", _RS.c.day), Integer) - 1
    hour = cast(extract("hour", func.timezone(LOCAL_TZ, _RS.c.started_at_utc)), Integer)
    return weekday, hour


def _rollup_conditions(
    conn: Connection, v: _Visible, level: Level, key: str | None, f: Filters, host_column: bool
) -> Where:
    """Scope, platform and level conditions (no period) on a rollup keyed by product (and maybe host),
    daily or monthly; a county's products are looked up once."""
    products = _county_products(conn, key or "") if level == "county" else None

    def where(t: Table) -> list[ColumnElement[bool]]:
        conds = _platform_where(f)(t)
        if not v.everything:
            scoped = t.c.product_key.in_(v.products)
            conds.append(or_(t.c.host_key.in_(v.hosts), scoped) if host_column else scoped)
        if level == "product":
            conds.append(t.c.product_key == key)
        elif products is not None:
            conds.append(t.c.product_key.in_(products))
        elif level == "host":
            conds.append(t.c.host_key == key)
        return conds

    return where


def _geo_table(f: Filters) -> Table:
    """The geo rollup to read: per platform when one is chosen, else summed over platforms (fewer rows,
    and their number for a period stops growing once every province buys every day)."""
    return _RG if f.platform else _RGT


def _host_orders(conn: Connection, host_id: str, f: Filters, cols: list[Any]) -> pl.DataFrame:
    """A host's paid lines in the period, read through the (host, created time) index."""
    when = func.coalesce(_OL.c.paid_at_utc, _OL.c.created_at_utc)
    where = [_OL.c.host_id == host_id, paid_condition(), *_utc_period(when, f)]
    if f.start is not None:  # payment follows creation within days: bound created time for the index
        where.append(_OL.c.created_at_utc >= dt.datetime.combine(f.start - dt.timedelta(days=7), dt.time(), _TZ))
    if f.end is not None:
        where.append(_OL.c.created_at_utc < dt.datetime.combine(f.end + dt.timedelta(days=1), dt.time(), _TZ))
    if f.platform:
        where.append(_OL.c.platform_id == f.platform)
    return _frame(conn, select(*cols).where(*where))


def _host_provinces(conn: Connection, host_id: str, f: Filters) -> pl.DataFrame:
    """A host's GMV and orders per buyer province (``''`` unknown): whole months from
    ``rollup_geo_host_monthly``, the days of partial months from the host's own lines."""
    monthly = _MONTHLY.get(_OL.name)
    whole = _whole_months(f) if monthly is not None else None
    periods = [f]
    parts = []
    if monthly is not None and whole is not None:
        first, stop = whole
        where = [monthly.c.host_key == host_id, *_platform_where(f)(monthly)]
        where += [*([monthly.c.day >= first] if first else []), *([monthly.c.day < stop] if stop else [])]
        parts.append(
            _frame(
                conn,
                select(
                    monthly.c.province,
                    func.sum(monthly.c.gmv_fen).label("gmv"),
                    func.sum(monthly.c.orders).label("orders"),
                )
                .where(*where)
                .group_by(monthly.c.province),
            )
        )
        periods = _partial_months(f, first, stop)
    cols = [_OL.c.platform_id, _OL.c.province, _OL.c.order_id, _OL.c.amount_fen]
    for period in periods:
        lines = _host_orders(conn, host_id, period, cols)
        if lines.height:
            parts.append(
                lines.group_by(pl.col("province").fill_null("")).agg(
                    pl.col("amount_fen").sum().alias("gmv"),
                    pl.struct("platform_id", "order_id").n_unique().alias("orders"),  # an order per platform
                )
            )
    parts = [p.select("province", pl.col("gmv", "orders").cast(pl.Int64)) for p in parts if p.height]
    if not parts:
        return pl.DataFrame({"province": []})
    return pl.concat(parts).group_by("province").agg(pl.col("gmv").sum(), pl.col("orders").sum())


def buyer_provinces(
    engine: Engine, scope: Scope, level: Level = "overview", key: str | None = None, filters: Filters | None = None
) -> pl.DataFrame:
    """Return one row per buyer province (``未知`` when unknown) with gmv (fen), orders and share of
    GMV, largest first. Counties, products and the overview read the geo rollups; a host its own lines."""
    f = filters or Filters()
    with engine.connect() as conn:
        v = _visible(conn, scope)
        if level != "overview" and not _allowed(conn, v, level, key):
            return pl.DataFrame({"province": []})
        if level == "host":
            out = _host_provinces(conn, key or "", f)
        else:
            src = _tiled(
                _geo_table(f),
                f,
                lambda t: [t.c.province, t.c.gmv_fen, t.c.orders],
                _rollup_conditions(conn, v, level, key, f, host_column=False),
            )
            out = _frame(
                conn,
                select(
                    src.c.province, func.sum(src.c.gmv_fen).label("gmv"), func.sum(src.c.orders).label("orders")
                ).group_by(src.c.province),
            )
    if out.is_empty():
        return pl.DataFrame({"province": []})
    out = out.with_columns(pl.when(pl.col("province") == "").then(pl.lit("未知")).otherwise(pl.col("province")))
    total = out["gmv"].sum()
    return out.with_columns((pl.col("gmv") / total if total else pl.lit(None)).alias("share")).sort(
        "gmv", descending=True
    )


def refunds(
    engine: Engine,
    scope: Scope,
    by: Literal["product", "reason", "province", "days_in_transit"] = "reason",
    level: Level = "overview",
    key: str | None = None,
    filters: Filters | None = None,
) -> pl.DataFrame:
    """Return refunds grouped ``by`` product, reason (``未知`` when none was given), destination province
    or whole days between shipment and refund (null: refunded before shipment): refunded amount (fen),
    refunded lines and share of all refunds; for product and province also the group's GMV and its
    refund rate by amount. Largest first. Reads the refund, daily and geo rollups."""
    f = filters or Filters()
    with engine.connect() as conn:
        v = _visible(conn, scope)
        if level != "overview" and not _allowed(conn, v, level, key):
            return pl.DataFrame({by: []})
        if by == "province":
            if level == "host":
                lines = _host_orders(conn, key or "", f, [_OL.c.province, _OL.c.amount_fen, _OL.c.refund_fen])
                out = lines.group_by(pl.col("province").fill_null("")).agg(
                    pl.col("refund_fen").sum(),
                    (pl.col("refund_fen") > 0).sum().cast(pl.Int64).alias("refunded_lines"),
                    pl.col("amount_fen").sum().alias("gmv_fen"),
                )
            else:
                src = _tiled(
                    _geo_table(f),
                    f,
                    lambda t: [t.c.province, t.c.refund_fen, t.c.refunded_lines, t.c.gmv_fen],
                    _rollup_conditions(conn, v, level, key, f, host_column=False),
                )
                out = _frame(
                    conn,
                    select(
                        src.c.province,
                        func.sum(src.c.refund_fen).label("refund_fen"),
                        func.sum(src.c.refunded_lines).label("refunded_lines"),
                        func.sum(src.c.gmv_fen).label("gmv_fen"),
                    ).group_by(src.c.province),
                )
            out = out.with_columns(pl.when(pl.col("province") == "").then(pl.lit("未知")).otherwise(pl.col("province")))
        else:
            # a county or a product (whose rows the caller sees whole) and everything read the rollup
            # without hosts: its size does not grow with the number of hosts; without a platform
            # filter reasons and products read it summed over platforms and days in transit too
            whole = level in ("county", "product") or (level == "overview" and v.everything)
            table = _RR if not whole else _RRT if not f.platform and by != "days_in_transit" else _RRP
            name = {"product": "product_key", "reason": "reason", "days_in_transit": "transit_days"}[by]
            src = _tiled(
                table,
                f,
                lambda t: [t.c[name], t.c.refund_fen, t.c.refunded_lines],
                _rollup_conditions(conn, v, level, key, f, host_column=table is _RR),
            )
            out = _frame(
                conn,
                select(
                    src.c[name].label(by),
                    func.sum(src.c.refund_fen).label("refund_fen"),
                    func.sum(src.c.refunded_lines).label("refunded_lines"),
                ).group_by(src.c[name]),
            )
            if by == "product" and out.height:
                dwhere = [_daily_scope(v), _RD.c.product_key.in_(out[by].to_list()), *_period(_RD.c.day, f)]
                dwhere += _level_where(conn, level, key)(_RD)
                if f.platform:
                    dwhere.append(_RD.c.platform_id == f.platform)
                gmv = _frame(
                    conn,
                    select(_RD.c.product_key.label(by), func.sum(_RD.c.gmv_fen).label("gmv_fen"))
                    .where(*dwhere)
                    .group_by(_RD.c.product_key),
                )
                out = out.join(gmv, on=by, how="left")
    out = out.filter(pl.col("refund_fen") > 0) if out.height else out
    if out.is_empty():
        return pl.DataFrame({by: []})
    if by == "reason":
        out = out.with_columns(pl.when(pl.col(by) == "").then(pl.lit("未知")).otherwise(pl.col(by)).alias(by))
    if by == "days_in_transit":
        out = out.with_columns(pl.when(pl.col(by) < 0).then(None).otherwise(pl.col(by)).alias(by))
    total = out["refund_fen"].sum()
    out = out.with_columns(
        pl.col("refund_fen").cast(pl.Int64),
        pl.col("refunded_lines").cast(pl.Int64),
        (pl.col("refund_fen") / total).alias("share_of_refunds"),
    )
    if "gmv_fen" in out.columns:
        out = out.with_columns((pl.col("refund_fen") / pl.col("gmv_fen")).alias("refund_rate_amount"))
    return out.sort("refund_fen", descending=True)


#: attribution fields arrive the next day: a line still provisional after this many days of newer data is stale
PROVISIONAL_DAYS = 30


def freshness(
    engine: Engine, scope: Scope, *, after_sale_days: int = 15, now: dt.datetime | None = None
) -> pl.DataFrame:
    """Return one row per platform: last day with sales, last load, lines whose attribution is still
    provisional (in the last :data:`PROVISIONAL_DAYS` days of data), and GMV of the days still inside
    the after-sale window (their net GMV is provisional). Reads only the recent end of the daily rollup
    (per platform when the caller sees everything), so its cost grows neither with the history nor with
    the number of hosts (a platform with no sales in that recent end is absent)."""
    now = now or dt.datetime.now(dt.UTC)
    window_start = (now.astimezone(_TZ) - dt.timedelta(days=after_sale_days)).date()
    with engine.connect() as conn:
        v = _visible(conn, scope)
        table = _daily_table(v, "overview")
        newest = conn.execute(select(func.max(table.c.day))).scalar()  # the day index answers this at once
        if newest is None:
            return pl.DataFrame({"platform_id": []})
        if isinstance(newest, str):
            newest = dt.date.fromisoformat(newest)
        recent = min(window_start, newest - dt.timedelta(days=PROVISIONAL_DAYS))
        where = [table.c.day >= recent] if table is _RP else [_daily_scope(v), table.c.day >= recent]
        frame = _frame(
            conn,
            select(
                table.c.platform_id,
                func.max(table.c.day).label("last_day"),
                func.sum(table.c.provisional_lines).label("provisional_lines"),
                func.sum(case((table.c.day >= window_start, table.c.gmv_fen), else_=0)).label("open_after_sale_fen"),
            )
            .where(*where)
            .group_by(table.c.platform_id)
            .order_by(table.c.platform_id),
        )
        last_load = conn.execute(
            select(func.max(IngestRun.__table__.c.finished_at_utc)).where(IngestRun.__table__.c.status == "loaded")
        ).scalar()
    if frame.is_empty():
        return frame
    return frame.with_columns(pl.lit(last_load).alias("last_load_utc"))


# --- series for forecasting, pricing and stock ---------------------------------------------


def demand_history(
    engine: Engine,
    scope: Scope | None = None,
    product_ids: Sequence[str] | None = None,
    county_ids: Sequence[str] | None = None,
    filters: Filters | None = None,
) -> pl.DataFrame:
    """Return daily demand per product in the forecasting long format: ``unique_id`` (product id),
    ``ds`` (local date), ``y`` (units paid), ``price`` (mean paid unit price in yuan), ``gmv_fen``,
    ``sessions`` and ``live_minutes`` (sessions of the product's county hosts that day). Days without
    sales are absent (the forecaster fills them as zero demand)."""
    f = filters or Filters()
    scope = scope or Scope.everything()
    with engine.connect() as conn:
        v = _visible(conn, scope)
        t = _RPD if v.everything else _RD  # a narrower scope sees some hosts' rows of a product only
        where = [*_table_scope(t, v), t.c.product_key != "", *_period(t.c.day, f)]
        if f.platform:
            where.append(t.c.platform_id == f.platform)
        if product_ids:
            where.append(t.c.product_key.in_(list(product_ids)))
        p = Product.__table__
        if county_ids:
            where.append(t.c.product_key.in_(select(p.c.product_id).where(p.c.county_id.in_(list(county_ids)))))
        sales = _frame(
            conn,
            select(
                t.c.product_key.label("unique_id"),
                t.c.day.label("ds"),
                func.sum(t.c.units).label("y"),
                func.sum(t.c.gmv_fen).label("gmv_fen"),
            )
            .where(*where)
            .group_by(t.c.product_key, t.c.day)
            .order_by(t.c.product_key, t.c.day),
        )
        h = Host.__table__
        hosts_where = [h.c.county_id.is_not(None)]
        if product_ids:  # only the counties of these products: their hosts' sessions, not everyone's
            hosts_where.append(h.c.county_id.in_(select(p.c.county_id).where(p.c.product_id.in_(list(product_ids)))))
        if county_ids:
            hosts_where.append(h.c.county_id.in_(list(county_ids)))
        live = _frame(
            conn,
            select(
                h.c.county_id,
                _RS.c.day.label("ds"),
                func.count().label("sessions"),
                func.sum(_RS.c.live_minutes).label("live_minutes"),
            )
            .join(h, h.c.host_id == _RS.c.host_id)
            .where(_session_scope(v), *hosts_where, *_period(_RS.c.day, f))  # sessions in scope
            .group_by(h.c.county_id, _RS.c.day),
        )
        counties = _frame(conn, select(p.c.product_id.label("unique_id"), p.c.county_id))
    if sales.is_empty():
        return pl.DataFrame(
            schema={
                "unique_id": pl.Utf8,
                "ds": pl.Date,
                "y": pl.Int64,
                "price": pl.Float64,
                "gmv_fen": pl.Int64,
                "sessions": pl.Int64,
                "live_minutes": pl.Int64,
            }
        )
    out = sales.with_columns((pl.col("gmv_fen") / pl.col("y") / 100.0).alias("price"))
    out = out.join(counties, on="unique_id", how="left")
    if live.height:
        out = out.join(live, on=["county_id", "ds"], how="left")
    else:
        out = out.with_columns(pl.lit(0).alias("sessions"), pl.lit(0).alias("live_minutes"))
    out = out.with_columns(
        pl.col("sessions").fill_null(0).cast(pl.Int64), pl.col("live_minutes").fill_null(0).cast(pl.Int64)
    )
    return out.select("unique_id", "ds", "y", "price", "gmv_fen", "sessions", "live_minutes").sort("unique_id", "ds")


def session_sales(
    engine: Engine,
    scope: Scope | None = None,
    product_ids: Sequence[str] | None = None,
    filters: Filters | None = None,
    host_ids: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Return one row per (session, product) sold or explained: ``platform_id``, ``session_id``,
    ``host_id``, ``started_at_utc``, ``live_minutes``, ``product_id``, ``units``, ``gmv_fen``,
    ``price`` (yuan: the explain price, else the mean paid price), ``explain_minutes``; the sessions
    of ``host_ids`` only when given."""
    f = filters or Filters()
    scope = scope or Scope.everything()
    sp = SessionProduct.__table__
    with engine.connect() as conn:
        v = _visible(conn, scope)
        swhere = [_session_scope(v), *_period(_RS.c.day, f)]
        if host_ids is not None:
            swhere.append(_RS.c.host_id.in_(list(host_ids)))
        if f.platform:
            swhere.append(_RS.c.platform_id == f.platform)
        sessions = _frame(
            conn,
            select(_RS.c.platform_id, _RS.c.session_id, _RS.c.host_id, _RS.c.started_at_utc, _RS.c.live_minutes).where(
                *swhere
            ),
        )
        if sessions.is_empty():
            return pl.DataFrame({"session_id": []})
        by_platform = sessions.group_by("platform_id").agg("session_id").sort("platform_id").rows()

        def of_sessions(t: Table) -> ColumnElement[bool]:  # (platform_id, session_id): both tables' index
            return or_(*[(t.c.platform_id == p) & t.c.session_id.in_(ids) for p, ids in by_platform])

        owhere = [of_sessions(_OL), paid_condition()]
        if product_ids:
            owhere.append(_OL.c.product_id.in_(list(product_ids)))
        sold = _frame(
            conn,
            select(
                _OL.c.platform_id,
                _OL.c.session_id,
                _OL.c.product_id,
                func.sum(_OL.c.quantity).label("units"),
                func.sum(_OL.c.amount_fen).label("gmv_fen"),
            )
            .where(*owhere)
            .group_by(_OL.c.platform_id, _OL.c.session_id, _OL.c.product_id),
        )
        ewhere = [of_sessions(sp)]
        if product_ids:
            ewhere.append(sp.c.product_id.in_(list(product_ids)))
        explained = _frame(
            conn,
            select(
                sp.c.platform_id,
                sp.c.session_id,
                sp.c.product_id,
                sp.c.explain_start_utc,
                sp.c.explain_end_utc,
                sp.c.price_fen,
            ).where(*ewhere),
        )
    keys = ["platform_id", "session_id", "product_id"]
    if explained.height:
        explained = (
            explained.with_columns(
                ((pl.col("explain_end_utc") - pl.col("explain_start_utc")).dt.total_seconds() / 60.0).alias("minutes")
            )
            .group_by(keys)
            .agg(
                pl.col("minutes").sum().alias("explain_minutes"), pl.col("price_fen").mean().alias("explain_price_fen")
            )
        )
    frames = [x for x in (sold, explained) if x.height]
    if not frames:
        return pl.DataFrame({"session_id": []})
    both = frames[0] if len(frames) == 1 else sold.join(explained, on=keys, how="full", coalesce=True)
    for col in ("units", "gmv_fen", "explain_minutes", "explain_price_fen"):
        if col not in both.columns:
            both = both.with_columns(pl.lit(None).alias(col))
    both = both.with_columns(
        pl.col("units").fill_null(0),
        pl.col("gmv_fen").fill_null(0),
        pl.col("explain_minutes").fill_null(0.0),
        pl.coalesce(pl.col("explain_price_fen"), pl.col("gmv_fen") / pl.col("units")).truediv(100.0).alias("price"),
    )
    out = both.join(sessions, on=["platform_id", "session_id"], how="inner")
    return out.select(
        "platform_id",
        "session_id",
        "host_id",
        "started_at_utc",
        "live_minutes",
        "product_id",
        "units",
        "gmv_fen",
        "price",
        "explain_minutes",
    ).sort("started_at_utc", "product_id")


# --- directory: the names a picker offers (added for the dashboard, issue 9) ----------------


def may_see(engine: Engine, scope: Scope, level: Level, key: str | None) -> bool:
    """Return True when ``key`` (a host, product or county id, by ``level``) exists and ``scope`` may see it."""
    with engine.connect() as conn:
        return _allowed(conn, _visible(conn, scope), level, key)


def directory(engine: Engine, scope: Scope, county_id: str | None = None) -> dict[str, pl.DataFrame]:
    """Return what ``scope`` may pick from, as three frames sorted by id: ``counties`` (county_id,
    name_zh, name_en), ``hosts`` (host_id, name, county_id, platform_id) and ``products``
    (product_id, title, county_id, category, unit_cost_fen, list_price_fen, shelf_life_days). A
    county is listed when the scope names it or one of its hosts. ``county_id``: only that county's
    rows (read from the database by county, so a page of one county does not read every host)."""
    c, h, p = County.__table__, Host.__table__, Product.__table__
    with engine.connect() as conn:
        v = _visible(conn, scope)
        hosts = select(h.c.host_id, h.c.name, h.c.county_id, h.c.platform_id).order_by(h.c.host_id)
        products = select(
            p.c.product_id,
            p.c.title,
            p.c.county_id,
            p.c.category,
            p.c.unit_cost_fen,
            p.c.list_price_fen,
            p.c.shelf_life_days,
        ).order_by(p.c.product_id)
        counties = select(c.c.county_id, c.c.name_zh, c.c.name_en).order_by(c.c.county_id)
        if not v.everything:
            hosts = hosts.where(h.c.host_id.in_(v.hosts))
            products = products.where(p.c.product_id.in_(v.products))
            host_counties = select(h.c.county_id).where(h.c.host_id.in_(v.hosts))
            counties = counties.where(or_(c.c.county_id.in_(v.counties), c.c.county_id.in_(host_counties)))
        if county_id is not None:
            hosts = hosts.where(h.c.county_id == county_id)
            products = products.where(p.c.county_id == county_id)
            counties = counties.where(c.c.county_id == county_id)
        return {
            "counties": _frame(conn, counties),
            "hosts": _frame(conn, hosts),
            "products": _frame(conn, products),
        }
