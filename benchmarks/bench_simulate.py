"""Benchmark: generate the medium (and large) simulated worlds; compare with a plain baseline.

Usage: python benchmarks/bench_simulate.py [--scale medium|large|both] [--out DIR]
Prints time, order lines, rows/second and peak memory (RSS high-water mark of this process), and
the ratio against a baseline measured in the same run: numpy draws the same number of random rows
(ten numeric columns) and polars writes them to CSV.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from livecommerce.simulate import generate


def _peak_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def baseline(rows: int, out: Path) -> float:
    """Return seconds to draw ``rows`` random rows (10 columns) with numpy and write them with polars."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    chunk = 1_000_000
    with (out / "baseline.csv").open("wb") as f:
        for a in range(0, rows, chunk):
            n = min(chunk, rows - a)
            df = pl.DataFrame({f"c{i}": rng.integers(0, 10**9, n) for i in range(10)})
            f.write(df.write_csv(include_header=a == 0).encode())
    return time.perf_counter() - t0


def run(scale: str, out: Path) -> None:
    """Generate ``scale`` into ``out`` and print the measurements."""
    t0 = time.perf_counter()
    s = generate(out / scale, scale=scale, seed=0)
    secs = time.perf_counter() - t0
    size = sum(int(f["bytes"]) for f in s.files.values())
    base = baseline(s.order_lines, out)
    print(
        f"{scale}: {s.order_lines:,} order lines, {s.sessions:,} sessions, {size / 1e6:,.0f} MB in {secs:.1f}s "
        f"= {s.order_lines / secs:,.0f} lines/s; peak RSS {_peak_mb():,.0f} MB; "
        f"baseline (numpy rows + polars CSV) {base:.1f}s; ratio {secs / base:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=["medium", "large", "both"], default="medium")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    scales = ["medium", "large"] if args.scale == "both" else [args.scale]
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for scale in scales:
            run(scale, out)


if __name__ == "__main__":
    main()
