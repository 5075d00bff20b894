"""The simulated world with ground truth: ``generate(out_dir, scale, seed, defects)``.

A world of rural producers selling in live sessions on Taobao Live, Douyin and Kuaishou (and on
the Pinduoduo shelf), whose every generating parameter is known, so that forecasting, pricing and
attribution code can be checked against the truth. Output layout: docs/formats.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from livecommerce.simulate._world import SCALES, ScaleSpec, World, build_world
from livecommerce.simulate._writers import ground_truth, write_world

__all__ = ["SCALES", "ScaleSpec", "Summary", "World", "build_world", "generate", "ground_truth"]


@dataclass(frozen=True)
class Summary:
    """What :func:`generate` wrote: where, how much, and how long it took."""

    out_dir: Path
    scale: str
    seed: int
    start: date
    days: int
    sessions: int
    orders: int
    order_lines: int
    defects: int
    files: dict[str, dict[str, object]]
    seconds: float

    def as_dict(self) -> dict[str, object]:
        """Return the summary as a JSON-ready dict."""
        return {
            "out_dir": str(self.out_dir),
            "scale": self.scale,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "days": self.days,
            "sessions": self.sessions,
            "orders": self.orders,
            "order_lines": self.order_lines,
            "defects": self.defects,
            "bytes": sum(int(f["bytes"]) for f in self.files.values()),  # type: ignore[call-overload]
            "files": {k: v["rows"] for k, v in self.files.items()},
            "seconds": round(self.seconds, 3),
        }


def generate(
    out_dir: str | Path,
    scale: str = "small",
    seed: int = 0,
    defects: float = 0.0,
    start: date | None = None,
    days: int | None = None,
) -> Summary:
    """Generate the world of ``scale`` for ``seed`` into ``out_dir``; return a :class:`Summary`.

    ``defects`` (0..0.5) is the per-row rate of injected faults in the export files and the
    canonical orders/sessions files, each listed in ``defects.json``. ``start``/``days`` override
    the scale's period. The same arguments always give the same bytes.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if not 0.0 <= defects <= 0.5:
        raise ValueError(f"--defects must be between 0 and 0.5, not {defects}")
    if days is not None and days < 1:
        raise ValueError(f"--days must be at least 1, not {days}")
    t0 = time.perf_counter()
    world = build_world(seed, SCALES[scale], start=start, days=days)
    manifest = write_world(world, Path(out_dir), defects)
    return Summary(
        out_dir=Path(out_dir),
        scale=scale,
        seed=seed,
        start=world.start,
        days=world.days,
        sessions=len(world.sessions["session_id"]),
        orders=len(world.orders["status"]),
        order_lines=len(world.lines["order"]),
        defects=int(manifest["defects"]),  # type: ignore[call-overload]
        files=manifest["files"],  # type: ignore[arg-type]
        seconds=time.perf_counter() - t0,
    )
