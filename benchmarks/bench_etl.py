"""ETL throughput against a plain baseline measured in the same run.

    python benchmarks/bench_etl.py [--world DIR] [--scale medium] [--db sqlite|postgresql|both]
                                   [--pg-url URL] [--rows N] [--rounds N]

Loads the simulated world's ``canonical/orders.csv`` (medium: about 1.4M order lines) into a fresh
warehouse with ``etl.load_paths`` (detection, validation of every row, upsert with merge rules,
manifest, rejects, rollup refresh, one transaction), and as the baseline reads the same CSV with
polars and bulk-inserts the same rows into the same table the fastest plain way (SQLite: one
``executemany`` in one transaction; PostgreSQL: ``COPY``). Each phase runs in its own process so
that its peak memory (max RSS) is its own. Prints times, the ratio, rows per second and peak memory.
With ``--rounds N`` the pair runs N times, alternating which goes first, and the median of the
rounds' ratios is printed too: on a shared machine whose speed drifts over minutes, each ratio
compares two runs made side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ORDER_COLUMNS = [
    "platform_id", "order_id", "line_no", "product_id", "title", "quantity", "unit_price_fen", "amount_fen",
    "shipping_fen", "discount_fen", "refund_fen", "status", "refund_reason", "created_at_utc", "paid_at_utc",
    "shipped_at_utc", "finished_at_utc", "refunded_at_utc", "buyer_id", "province", "city", "export_host_id",
    "export_host_name", "traffic_source", "traffic_genre", "session_id",
]  # fmt: skip


def _engine(url: str, schema: str | None):  # type: ignore[no-untyped-def]
    from livecommerce.warehouse import init
    from livecommerce.warehouse.engine import make_engine

    engine = make_engine(url, schema=schema)
    init(engine)
    return engine


def _dimensions(engine, world: Path) -> None:  # type: ignore[no-untyped-def]
    from etl import load_paths

    load_paths(engine, [world / "canonical" / n for n in ("counties.csv", "hosts.csv", "products.csv")])


def phase_etl(url: str, schema: str | None, world: Path, orders: Path) -> dict[str, object]:
    """Load ``orders`` with the ETL; return seconds and counts."""
    import etl.jobs
    from etl import load_paths

    engine = _engine(url, schema)
    _dimensions(engine, world)
    spent = {"rollups": 0.0}
    refresh = etl.jobs.refresh

    def timed_refresh(*args, **kwargs):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return refresh(*args, **kwargs)
        finally:
            spent["rollups"] += time.perf_counter() - began

    etl.jobs.refresh = timed_refresh  # measure the rollup refresh (issue 6) inside the load
    start = time.perf_counter()
    [report] = load_paths(engine, [orders])
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rollups": spent["rollups"],
        "rows": report.rows_read,
        "inserted": report.inserted,
        "status": report.status,
    }


def phase_baseline(url: str, schema: str | None, world: Path, orders: Path) -> dict[str, object]:
    """Read ``orders`` with polars and bulk-insert it plainly; return seconds and rows."""
    import polars as pl

    engine = _engine(url, schema)
    _dimensions(engine, world)
    start = time.perf_counter()
    frame = pl.read_csv(orders, infer_schema_length=10_000, schema_overrides={"order_id": pl.String})
    stamps = [c for c in ORDER_COLUMNS if c.endswith("_utc")]
    frame = frame.with_columns(
        [pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%SZ", strict=False, time_zone="UTC") for c in stamps]
    ).select(ORDER_COLUMNS)
    frame = frame.with_columns(pl.lit(False).alias("attribution_provisional"))
    columns = [*ORDER_COLUMNS, "attribution_provisional"]
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            rows = frame.with_columns(
                [pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S%.6f") for c in stamps]
                + [pl.col(c).cast(pl.String) for c in ("session_id", "refund_reason", "export_host_id")]
                + [pl.col("attribution_provisional").cast(pl.Int64)]
            ).rows()
            marks = ", ".join("?" for _ in columns)
            conn.exec_driver_sql(f"INSERT INTO order_line ({', '.join(columns)}) VALUES ({marks})", rows)
        else:
            raw = conn.connection.driver_connection
            with (
                raw.cursor() as cur,
                cur.copy(f"COPY order_line ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy,
            ):
                for start_row in range(0, frame.height, 200_000):
                    copy.write(frame.slice(start_row, 200_000).write_csv(include_header=False).encode())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": frame.height}


def _child(phase: str, args: argparse.Namespace, url: str, schema: str | None, orders: Path) -> tuple[dict, float]:
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--url",
        url,
        "--world",
        str(args.world),
        "--orders",
        str(orders),
    ]
    if schema:
        cmd += ["--schema", schema]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{phase} failed")
    doc = json.loads(out.strip().splitlines()[-1])
    return doc, float(doc["peak_mb"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", type=Path, default=Path(tempfile.gettempdir()) / "livecommerce-medium")
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("LIVECOMMERCE_TEST_PG_URL"))
    parser.add_argument("--rows", type=int, default=0, help="use only the first N order lines (0: all)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="ETL and baseline this many times, alternating which goes first"
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--orders", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:  # inside a child process
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        run = phase_etl if args.phase == "etl" else phase_baseline
        doc = run(args.url, args.schema, args.world, args.orders)
        doc["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(doc))
        return

    orders = args.world / "canonical" / "orders.csv"
    if not orders.exists():
        print(f"generating the {args.scale} world into {args.world} …", flush=True)
        from livecommerce.simulate import generate

        generate(args.world, scale=args.scale, seed=1)
    if args.rows:
        part = Path(tempfile.gettempdir()) / f"bench_orders_{args.rows}.csv"
        with orders.open(encoding="utf-8") as src, part.open("w", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i > args.rows:
                    break
                dst.write(line)
        orders = part

    targets = []
    if args.db in ("sqlite", "both"):
        targets.append("sqlite")
    if args.db in ("postgresql", "both"):
        if not args.pg_url:
            print("PostgreSQL skipped: give --pg-url or set LIVECOMMERCE_TEST_PG_URL")
        else:
            targets.append("postgresql")
    for target in targets:
        ratios = []
        for round_no in range(args.rounds):
            results = _round(args, target, orders, first="etl" if round_no % 2 == 0 else "baseline")
            (etl, etl_mb), (base, base_mb) = results["etl"], results["baseline"]
            ratio = etl["seconds"] / base["seconds"]
            ratios.append(ratio)
            print(
                f"{target}: {etl['rows']:,} order lines | ETL {etl['seconds']:.1f} s "
                f"({etl['rows'] / etl['seconds']:,.0f} rows/s, peak {etl_mb:,.0f} MB, {etl['status']}) | "
                f"baseline polars read + {'executemany' if target == 'sqlite' else 'COPY'} {base['seconds']:.1f} s "
                f"({base['rows'] / base['seconds']:,.0f} rows/s, peak {base_mb:,.0f} MB) | "
                f"ratio {ratio:.2f}x (target <= 1.5x) | of the ETL, rollup refresh {etl['rollups']:.1f} s; "
                f"without it {(etl['seconds'] - etl['rollups']) / base['seconds']:.2f}x",
                flush=True,
            )
        if len(ratios) > 1:
            listed = ", ".join(f"{r:.2f}" for r in ratios)
            print(f"{target}: median ratio of {len(ratios)} rounds {statistics.median(ratios):.2f}x ({listed})")


def _round(args: argparse.Namespace, target: str, orders: Path, first: str) -> dict[str, tuple[dict, float]]:
    """Run the ETL and the baseline once each, ``first`` first, on fresh databases; return both results."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for phase in (first, "baseline" if first == "etl" else "etl"):
            if target == "sqlite":
                url, schema = f"sqlite:///{Path(tmp) / (phase + '.db')}", None
            else:
                url, schema = args.pg_url, f"bench_{uuid.uuid4().hex[:10]}"
            try:
                results[phase] = _child(phase, args, url, schema, orders)
            finally:
                if schema:
                    from sqlalchemy import create_engine

                    admin = create_engine(url)
                    with admin.begin() as conn:
                        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                    admin.dispose()
    return results


if __name__ == "__main__":
    main()
