"""Attribution of order lines to the live session and host that sold them.

The rule used is stored per line in ``order_line.attribution_rule``; the first that applies wins:

=================  =====================================================================================
``file_host``      ``--host ID`` credited the whole file to a host (left alone here)
``affiliate``      流量来源 says 精选联盟 (or 达人ID is an affiliate): an affiliate's sale, no host credited
``export_session`` the file names the session (canonical orders): that session and its host
``export_host``    the export names the host (达人ID → ``host.platform_host_id``); the session is that
                   host's session containing the order time, when there is one and the line is live
``shelf``          the line says it is not live (流量来源 商品卡/搜索…, 流量体裁 商品卡, a platform without live)
``session``        a known session (session file, minute log, compass) on the platform contains the order time
``schedule``       a session built from a host schedule contains the order time (widened by
                   :data:`GRACE_BEFORE` / :data:`GRACE_AFTER`: real sessions start and end a few minutes off plan)
``explain``        no session contains the time, but the product's explain window (minute log) ended at most
                   :data:`EXPLAIN_REACH` before it (carted during the live, ordered just after)
``shelf``          nothing else: an off-live (货架) sale
=================  =====================================================================================

When several sessions contain the time (two hosts live on one platform at once), the one explaining
the product at that moment wins, then the one whose host belongs to the product's county, then a known
session over a scheduled one, then the one whose (unwidened) window contains the time, then the one
that started last. Lines whose 流量体裁 reads ``数据将于第二天更新`` are ``attribution_provisional``;
a later export that fills the field re-attributes them.

Attribution is a function of the line and of the sessions, hosts and explain windows in the
warehouse, recomputed after every load for the lines the load could affect, so the order in which
files arrive does not change the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl
from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from livecommerce.schemas import PLATFORMS, C
from livecommerce.warehouse.tables import Host, LiveSession, OrderLine, Product, SessionProduct
from livecommerce.warehouse.upsert import _polars_schema, upsert

__all__ = [
    "EXPLAIN_REACH",
    "GRACE_AFTER",
    "GRACE_BEFORE",
    "PLACEHOLDER_GENRE",
    "RULES",
    "attributed_frame",
    "attribution",
    "reattributed",
]

#: a scheduled shift's session may start this much before the plan (the simulator: up to 3 minutes)
GRACE_BEFORE = dt.timedelta(minutes=10)
#: … and end this much after it (the simulator: up to 10 minutes)
GRACE_AFTER = dt.timedelta(minutes=15)
#: a known session's orders may be placed this long after its recorded end
KNOWN_AFTER = dt.timedelta(minutes=2)
#: an order this long after a product's explain window still belongs to it (rule ``explain``)
EXPLAIN_REACH = dt.timedelta(minutes=30)
PLACEHOLDER_GENRE = "数据将于第二天更新"
RULES = ("file_host", "affiliate", "export_session", "export_host", "session", "schedule", "explain", "shelf")

_OL = OrderLine.__table__
_LS = LiveSession.__table__
_SP = SessionProduct.__table__
_HOST = Host.__table__
_KEY = [C.platform_id, C.order_id, C.line_no]
_INPUTS = [
    C.product_id,
    C.created_at_utc,
    C.export_host_id,
    C.traffic_source,
    C.traffic_genre,
    "export_session_id",
]
_OUTPUTS = [C.host_id, C.session_id, C.attribution_rule, C.attribution_provisional]
_UTC = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class _Context:
    """What attribution looks at besides the line: sessions, explain windows, hosts, product counties."""

    sessions: pl.DataFrame  # session_id, s_host, s_start, s_end, s_source, s_county
    windows: pl.DataFrame  # session_id, product_id, w_start, w_end
    export_hosts: pl.DataFrame  # export_host_id, eh_host, eh_kind
    counties: pl.DataFrame  # product_id, p_county
    has_live: bool


def _frame(rows: list[tuple[object, ...]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def _context(conn: Connection, platform: str, lo: dt.datetime, hi: dt.datetime) -> _Context:
    """Return the sessions (and their explain windows) of ``platform`` near [lo, hi], hosts and counties."""
    reach = dt.timedelta(days=1)
    rows = conn.execute(
        select(
            _LS.c.session_id, _LS.c.host_id, _LS.c.started_at_utc, _LS.c.ended_at_utc, _LS.c.source, _HOST.c.county_id
        )
        .select_from(_LS.outerjoin(_HOST, _HOST.c.host_id == _LS.c.host_id))
        .where(_LS.c.platform_id == platform, _LS.c.started_at_utc < hi + reach, _LS.c.ended_at_utc > lo - reach)
    ).all()
    sessions = _frame(
        [tuple(r) for r in rows],
        {
            "session_id": pl.String,
            "s_host": pl.String,
            "s_start": _UTC,
            "s_end": _UTC,
            "s_source": pl.String,
            "s_county": pl.String,
        },
    )
    window_rows: list[tuple[object, ...]] = []
    ids = sessions["session_id"].to_list()
    for start in range(0, len(ids), 500):
        window_rows.extend(
            tuple(r)
            for r in conn.execute(
                select(_SP.c.session_id, _SP.c.product_id, _SP.c.explain_start_utc, _SP.c.explain_end_utc).where(
                    _SP.c.platform_id == platform, _SP.c.session_id.in_(ids[start : start + 500])
                )
            )
        )
    windows = _frame(window_rows, {"session_id": pl.String, C.product_id: pl.String, "w_start": _UTC, "w_end": _UTC})
    hosts = conn.execute(
        select(_HOST.c.platform_host_id, _HOST.c.host_id, _HOST.c.kind).where(
            _HOST.c.platform_id == platform, _HOST.c.platform_host_id.is_not(None)
        )
    ).all()
    export_hosts = _frame(
        [tuple(r) for r in hosts], {C.export_host_id: pl.String, "eh_host": pl.String, "eh_kind": pl.String}
    ).unique(C.export_host_id, keep="first", maintain_order=True)
    products = conn.execute(select(Product.__table__.c.product_id, Product.__table__.c.county_id)).all()
    counties = _frame([tuple(r) for r in products], {C.product_id: pl.String, "p_county": pl.String})
    return _Context(sessions, windows, export_hosts, counties, PLATFORMS.get(platform, ("", "", True))[2])


def attribution(lines: pl.DataFrame, ctx: _Context) -> pl.DataFrame:
    """Return ``platform_id, order_id, line_no, host_id, session_id, attribution_rule, attribution_provisional``
    for ``lines`` (one platform; columns ``_KEY`` + ``_INPUTS``), by the rules of this module."""
    text = [C.export_host_id, C.traffic_source, C.traffic_genre, "export_session_id", C.product_id]
    lines = lines.with_columns([pl.col(c).cast(pl.String) for c in text]).with_columns(
        pl.col(C.created_at_utc).cast(_UTC).alias("_t"), pl.int_range(pl.len()).alias("_row")
    )
    src = pl.col(C.traffic_source).fill_null("")
    genre = pl.col(C.traffic_genre).fill_null("")
    placeholder = genre == PLACEHOLDER_GENRE
    lines = lines.join(ctx.export_hosts, on=C.export_host_id, how="left").join(
        ctx.counties, on=C.product_id, how="left"
    )
    lines = lines.with_columns(
        placeholder.alias("_provisional"),
        (src.str.contains("精选联盟") | (pl.col("eh_kind") == "affiliate").fill_null(False)).alias("_affiliate"),
        (
            pl.lit(not ctx.has_live)
            | ((src != "") & ~src.str.contains("直播"))
            | ((genre != "") & ~placeholder & ~genre.str.contains("直播"))
        ).alias("_shelf"),
    )

    # sessions whose (widened) window contains the order time
    s = ctx.sessions.with_columns(
        pl.when(pl.col("s_source") == "schedule")
        .then(pl.col("s_start") - GRACE_BEFORE)
        .otherwise(pl.col("s_start"))
        .alias("_ws"),
        pl.when(pl.col("s_source") == "schedule")
        .then(pl.col("s_end") + GRACE_AFTER)
        .otherwise(pl.col("s_end") + KNOWN_AFTER)
        .alias("_we"),
    )
    probe = lines.select("_row", "_t", C.product_id, "p_county")
    cand = probe.join_where(s, pl.col("_t") >= pl.col("_ws"), pl.col("_t") < pl.col("_we"))
    hits = (
        cand.select("_row", "session_id", C.product_id, "_t")
        .join(ctx.windows, on=["session_id", C.product_id])
        .filter((pl.col("_t") >= pl.col("w_start")) & (pl.col("w_end").is_null() | (pl.col("_t") < pl.col("w_end"))))
        .select("_row", "session_id")
        .unique()
        .with_columns(pl.lit(True).alias("_explaining"))
    )
    cand = cand.join(hits, on=["_row", "session_id"], how="left").with_columns(
        pl.col("_explaining").fill_null(False),
        ((pl.col("s_county") == pl.col("p_county")).fill_null(False)).alias("_county"),
        (pl.col("s_source") != "schedule").alias("_known"),
        ((pl.col("_t") >= pl.col("s_start")) & (pl.col("_t") < pl.col("s_end"))).alias("_strict"),
    )
    order = ["_explaining", "_county", "_known", "_strict", "s_start", "session_id"]
    best = (
        cand.sort(["_row", *order], descending=[False, True, True, True, True, True, False])
        .group_by("_row", maintain_order=True)
        .first()
        .select(
            "_row",
            pl.col("session_id").alias("_c_session"),
            pl.col("s_host").alias("_c_host"),
            pl.col("s_source").alias("_c_source"),
        )
    )
    # the named host's own session at that time
    own = (
        cand.join(lines.select("_row", "eh_host"), on="_row")
        .filter(pl.col("s_host") == pl.col("eh_host"))
        .sort(["_row", *order], descending=[False, True, True, True, True, True, False])
        .group_by("_row", maintain_order=True)
        .first()
        .select("_row", pl.col("session_id").alias("_h_session"))
    )
    # explain windows shortly before the order (no session contains its time)
    late = (
        probe.join(ctx.windows.join(ctx.sessions.select("session_id", "s_host"), on="session_id"), on=C.product_id)
        .filter(
            (pl.col("_t") >= pl.col("w_start"))
            & (pl.col("_t") < pl.col("w_end").fill_null(pl.col("w_start")) + EXPLAIN_REACH)
        )
        .sort(["_row", "w_start", "session_id"], descending=[False, True, False])
        .group_by("_row", maintain_order=True)
        .first()
        .select("_row", pl.col("session_id").alias("_e_session"), pl.col("s_host").alias("_e_host"))
    )
    named = ctx.sessions.select(pl.col("session_id").alias("export_session_id"), pl.col("s_host").alias("_n_host"))
    out = (
        lines.join(best, on="_row", how="left")
        .join(own, on="_row", how="left")
        .join(late, on="_row", how="left")
        .join(named.unique("export_session_id"), on="export_session_id", how="left")
    )
    affiliate = pl.col("_affiliate")
    given = pl.col("export_session_id").is_not_null()
    host_named = pl.col("eh_host").is_not_null()
    shelf = pl.col("_shelf")
    timed = pl.col("_c_session").is_not_null()
    explained = pl.col("_e_session").is_not_null()
    rule = (
        pl.when(affiliate)
        .then(pl.lit("affiliate"))
        .when(given)
        .then(pl.lit("export_session"))
        .when(host_named)
        .then(pl.lit("export_host"))
        .when(shelf)
        .then(pl.lit("shelf"))
        .when(timed)
        .then(pl.when(pl.col("_c_source") == "schedule").then(pl.lit("schedule")).otherwise(pl.lit("session")))
        .when(explained)
        .then(pl.lit("explain"))
        .otherwise(pl.lit("shelf"))
    )
    host = (
        pl.when(affiliate)
        .then(None)
        .when(given)
        .then(pl.coalesce("_n_host", "eh_host"))
        .when(host_named)
        .then(pl.col("eh_host"))
        .when(shelf)
        .then(None)
        .when(timed)
        .then(pl.col("_c_host"))
        .when(explained)
        .then(pl.col("_e_host"))
    )
    session = (
        pl.when(affiliate)
        .then(None)
        .when(given)
        .then(pl.col("export_session_id"))
        .when(host_named)
        .then(pl.when(shelf).then(None).otherwise(pl.col("_h_session")))
        .when(shelf)
        .then(None)
        .when(timed)
        .then(pl.col("_c_session"))
        .when(explained)
        .then(pl.col("_e_session"))
    )
    return out.sort("_row").select(
        *_KEY,
        host.cast(pl.String).alias(C.host_id),
        session.cast(pl.String).alias(C.session_id),
        rule.alias(C.attribution_rule),
        pl.col("_provisional").alias(C.attribution_provisional),
    )


def _span(frame: pl.DataFrame) -> tuple[dt.datetime, dt.datetime]:
    times = frame[C.created_at_utc]
    return times.min(), times.max()  # type: ignore[return-value]


def attributed_frame(conn: Connection, frame: pl.DataFrame, platform: str) -> pl.DataFrame:
    """Return an orders batch (about to be written) with its attribution columns filled in.

    A ``session_id`` the file carries (canonical orders) becomes ``export_session_id``, an input of
    attribution, never overwritten by it.
    """
    if frame.height == 0:
        return frame
    if C.session_id in frame.columns and "export_session_id" not in frame.columns:
        frame = frame.rename({C.session_id: "export_session_id"})
    frame = frame.drop([c for c in _OUTPUTS if c in frame.columns])
    missing = [pl.lit(None, dtype=pl.String).alias(c) for c in _INPUTS if c not in frame.columns]
    probe = frame.with_columns(missing) if missing else frame
    probe = probe.with_columns(pl.lit(platform).alias(C.platform_id)).select(*_KEY, *_INPUTS)
    lo, hi = _span(probe)
    result = attribution(probe, _context(conn, platform, lo, hi))
    return frame.with_columns(result.select(_OUTPUTS).get_columns())


def _lines(conn: Connection, condition: object) -> pl.DataFrame:
    cols = [_OL.c[c] for c in (*_KEY, *_INPUTS, *_OUTPUTS, C.paid_at_utc)]
    rows = conn.execute(
        select(*cols).where(condition, or_(_OL.c.attribution_rule.is_(None), _OL.c.attribution_rule != "file_host"))
    ).all()
    schema = _polars_schema(_OL, [c.name for c in cols])
    return _frame([tuple(r) for r in rows], schema)


def _written(conn: Connection, platform: str, lines: pl.DataFrame) -> list[dt.datetime]:
    """Recompute ``lines``' attribution, write the lines whose attribution changed; return their times."""
    if lines.height == 0:
        return []
    lo, hi = _span(lines)
    fresh = attribution(lines.select(*_KEY, *_INPUTS), _context(conn, platform, lo, hi))
    joined = lines.select(*_KEY, *_OUTPUTS, C.created_at_utc, C.paid_at_utc).join(fresh, on=_KEY, suffix="_new")
    changed = joined.filter(pl.any_horizontal([pl.col(c).ne_missing(pl.col(c + "_new")) for c in _OUTPUTS]))
    if changed.height == 0:
        return []
    orders = changed[C.order_id].unique().to_list()
    full_rows: list[tuple[object, ...]] = []
    for start in range(0, len(orders), 500):
        full_rows.extend(
            tuple(r)
            for r in conn.execute(
                select(_OL).where(_OL.c.platform_id == platform, _OL.c.order_id.in_(orders[start : start + 500]))
            )
        )
    names = [c.name for c in _OL.c]
    full = _frame(full_rows, _polars_schema(_OL, names))
    updates = changed.select(*_KEY, *[pl.col(c + "_new").alias(c) for c in _OUTPUTS])
    full = full.drop(_OUTPUTS).join(updates, on=_KEY).select(names)
    upsert(conn, _OL, full, update_columns=_OUTPUTS)
    times = changed.select(pl.coalesce(C.paid_at_utc, C.created_at_utc).alias("t"), C.created_at_utc)
    return [times["t"].min(), times["t"].max(), times[C.created_at_utc].min()]  # type: ignore[list-item]


def reattributed(
    conn: Connection,
    *,
    run_id: int | None = None,
    platforms: Iterable[str] = (),
    spans: Mapping[str, tuple[dt.datetime, dt.datetime]] | None = None,
) -> dict[str, list[dt.datetime]]:
    """Re-attribute the lines a load could have changed; return per platform the times of changed lines.

    ``run_id`` + ``platforms``: lines of those platforms the run updated (inserted lines were attributed
    on the way in). ``spans``: every line of the platform whose order time lies in the span, widened by
    the schedule grace and the explain reach (a session, schedule or minute log was loaded).
    """
    changed: dict[str, list[dt.datetime]] = {}
    if run_id is not None:
        for platform in sorted(set(platforms)):
            lines = _lines(
                conn,
                and_(_OL.c.platform_id == platform, _OL.c.last_run_id == run_id, _OL.c.first_run_id != run_id),
            )
            changed.setdefault(platform, []).extend(_written(conn, platform, lines))
    for platform, (lo, hi) in sorted((spans or {}).items()):
        lines = _lines(
            conn,
            and_(
                _OL.c.platform_id == platform,
                _OL.c.created_at_utc >= lo - GRACE_BEFORE - KNOWN_AFTER,
                _OL.c.created_at_utc <= hi + GRACE_AFTER + EXPLAIN_REACH,
            ),
        )
        changed.setdefault(platform, []).extend(_written(conn, platform, lines))
    return {p: [t for t in v if t is not None] for p, v in changed.items() if v}
