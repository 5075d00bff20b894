"""Dashboard query latency against history size: p50/p95 on the medium and large worlds.

    python benchmarks/bench_queries.py [--scale medium --scale large] [--db sqlite|postgresql|both]
                                       [--work DIR] [--repeat 20] [--pg-url URL]

For each world (generated once with ``livecommerce.simulate`` and loaded once with the ETL into
``--work``; later runs reuse both), runs the queries the dashboard's Host and County pages make for
one host and one county over the last 30 days, ``--repeat`` times each, and prints p50 and p95 per
query. The worlds take turns call by call (medium, large, medium, …), so that a slow moment of the
shared machine falls on both instead of on whichever world ran then. In the same run, the plain
baseline answers the same question (the host's and the county's GMV, orders and units for those 30
days) straight from ``order_line`` with one aggregate SQL query, so the print shows what the rollups
buy. Finally the large/medium p95 ratio per query (target
<= 1.5: cost does not grow with history).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _world(work: Path, scale: str) -> Path:
    from livecommerce.simulate import generate

    out = work / f"world-{scale}"
    if not (out / "manifest.json").exists():
        t0 = time.perf_counter()
        generate(out, scale=scale, seed=0)
        print(f"generated {scale} world in {time.perf_counter() - t0:.0f}s", flush=True)
    return out


def _warehouse(work: Path, scale: str, db: str, pg_url: str) -> Any:
    from etl import load_paths
    from livecommerce.warehouse import init, table_counts
    from livecommerce.warehouse.engine import make_engine

    if db == "sqlite":
        engine = make_engine(f"sqlite:///{work / f'wh-{scale}.db'}")
    else:
        engine = make_engine(pg_url, schema=f"bench_{scale}")
    init(engine)
    if table_counts(engine).get("order_line", 0) == 0:
        world = _world(work, scale)
        t0 = time.perf_counter()
        reports = load_paths(engine, [world / "canonical"])
        lines = sum(r.rows_read for r in reports if r.format == "canonical_orders")
        print(f"loaded {scale} into {db}: {lines:,} order lines in {time.perf_counter() - t0:.0f}s", flush=True)
    return engine


def _subjects(engine: Any) -> tuple[str, str, dt.date, dt.date]:
    from livecommerce.warehouse.tables import Host, RollupDaily

    rd, h = RollupDaily.__table__, Host.__table__
    with engine.connect() as conn:
        last = conn.execute(select(func.max(rd.c.day))).scalar_one()
        host = conn.execute(
            select(rd.c.host_key)
            .where(rd.c.host_key != "")
            .group_by(rd.c.host_key)
            .order_by(func.sum(rd.c.gmv_fen).desc())
        ).first()
        host_id = host[0] if host else conn.execute(select(h.c.host_id).limit(1)).scalar_one()
        county = conn.execute(select(h.c.county_id).where(h.c.host_id == host_id)).scalar() or "lixian"
    if isinstance(last, str):
        last = dt.date.fromisoformat(last)
    return host_id, county, last - dt.timedelta(days=29), last


def _queries(engine: Any, host: str, county: str, start: dt.date, end: dt.date) -> dict[str, Callable[[], Any]]:
    from livecommerce import queries as q
    from livecommerce.scope import Scope

    s, f = Scope.everything(), q.Filters(start, end)
    return {
        "host.kpis": lambda: q.kpi_report(engine, s, "host", host, f),
        "host.trend": lambda: q.daily_trend(engine, s, "host", host, f),
        "host.sessions": lambda: q.session_list(engine, s, host, f),
        "host.funnel": lambda: q.funnel(engine, s, "host", host, f),
        "host.slots": lambda: q.slot_heatmap(engine, s, "host", host, f),
        "host.products": lambda: q.top_products(engine, s, f, level="host", key=host),
        "host.provinces": lambda: q.buyer_provinces(engine, s, "host", host, f),
        "host.refunds": lambda: q.refunds(engine, s, "reason", "host", host, f),
        "county.kpis": lambda: q.kpi_report(engine, s, "county", county, f),
        "county.league": lambda: q.league_table(engine, s, county, f),
        "county.trend": lambda: q.daily_trend(engine, s, "county", county, f, by_platform=True),
        "county.products": lambda: q.top_products(engine, s, f, level="county", key=county),
        "county.provinces": lambda: q.buyer_provinces(engine, s, "county", county, f),
        "county.refunds_reason": lambda: q.refunds(engine, s, "reason", "county", county, f),
        "county.refunds_province": lambda: q.refunds(engine, s, "province", "county", county, f),
        "overview.freshness": lambda: q.freshness(engine, s),
    }


def _baseline(engine: Any, host: str, county: str, start: dt.date, end: dt.date) -> dict[str, Callable[[], Any]]:
    """The same 30-day GMV/orders/units, straight from order_line with one aggregate query each."""
    lo = dt.datetime.combine(start, dt.time(), dt.timezone(dt.timedelta(hours=8)))
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.timezone(dt.timedelta(hours=8)))
    if engine.dialect.name == "sqlite":
        lo_s, hi_s = (x.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") for x in (lo, hi))
    else:
        lo_s, hi_s = lo.isoformat(), hi.isoformat()
    sql_host = text(
        "SELECT sum(amount_fen), count(DISTINCT order_id), sum(quantity) FROM order_line "
        "WHERE host_id = :k AND coalesce(paid_at_utc, created_at_utc) >= :lo "
        "AND coalesce(paid_at_utc, created_at_utc) < :hi AND status <> 'unpaid'"
    )
    sql_county = text(
        "SELECT sum(o.amount_fen), count(DISTINCT o.order_id), sum(o.quantity) FROM order_line o "
        "JOIN product p ON p.product_id = o.product_id WHERE p.county_id = :k "
        "AND coalesce(o.paid_at_utc, o.created_at_utc) >= :lo AND coalesce(o.paid_at_utc, o.created_at_utc) < :hi "
        "AND o.status <> 'unpaid'"
    )

    def run(sql: Any, key: str) -> Callable[[], Any]:
        def go() -> Any:
            with engine.connect() as conn:
                return conn.execute(sql, {"k": key, "lo": lo_s, "hi": hi_s}).one()

        return go

    return {"baseline.host_sql": run(sql_host, host), "baseline.county_sql": run(sql_county, county)}


def _summary(times: list[float]) -> tuple[float, float]:
    """Return the p50 and p95 of ``times``."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", action="append", choices=["small", "medium", "large"])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--work", type=Path, default=Path("bench_data"))
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--pg-url", default=DEFAULT_PG)
    args = ap.parse_args()
    scales = args.scale or ["medium", "large"]
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    args.work.mkdir(parents=True, exist_ok=True)
    for db in dbs:
        worlds: dict[str, tuple[Any, dict[str, Callable[[], Any]]]] = {}
        for scale in scales:
            engine = _warehouse(args.work, scale, db, args.pg_url)
            host, county, start, end = _subjects(engine)
            cases = {**_queries(engine, host, county, start, end), **_baseline(engine, host, county, start, end)}
            worlds[scale] = (engine, cases)
            print(f"{db} {scale}: host {host}, county {county}, {start} – {end}")
        names = list(worlds[scales[0]][1])
        times: dict[str, dict[str, list[float]]] = {scale: {name: [] for name in names} for scale in scales}
        for name in names:
            for scale in scales:
                worlds[scale][1][name]()  # warm the caches once
            # one call on each world in turn: a slow moment of the shared machine falls on every world
            for _ in range(args.repeat):
                for scale in scales:
                    t0 = time.perf_counter()
                    worlds[scale][1][name]()
                    times[scale][name].append(time.perf_counter() - t0)
        p95s: dict[str, dict[str, float]] = {}
        for scale in scales:
            print(f"\n{db} {scale}")
            print(f"{'query':28} {'p50 ms':>9} {'p95 ms':>9}")
            p95s[scale] = {}
            for name in names:
                p50, p95 = _summary(times[scale][name])
                p95s[scale][name] = p95
                print(f"{name:28} {p50 * 1000:9.1f} {p95 * 1000:9.1f}")
            ours = p95s[scale]["host.kpis"] + p95s[scale]["county.kpis"]
            base = p95s[scale]["baseline.host_sql"] + p95s[scale]["baseline.county_sql"]
            print(f"KPI reports vs plain order_line SQL (p95, host+county): {ours / base:.2f}x")
            worlds[scale][0].dispose()
        if len(scales) >= 2:
            small, big = scales[0], scales[-1]
            print(f"\n{db}: {big}/{small} p95 ratio (target <= 1.5)")
            worst = 0.0
            for name in p95s[small]:
                ratio = p95s[big][name] / p95s[small][name] if p95s[small][name] else float("nan")
                if not name.startswith("baseline."):
                    worst = max(worst, ratio)
                print(f"{name:28} {ratio:6.2f}")
            print(f"worst dashboard query ratio: {worst:.2f}")


if __name__ == "__main__":
    main()
