"""``livecommerce sample generate``: write the simulated world with its ground truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from livecommerce.cli._base import emit_json, main


@main.group()
def sample() -> None:
    """Simulated sample data with ground truth. / 模拟数据（含真实参数）。"""


@sample.command()
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output directory."
)
@click.option("--scale", type=click.Choice(["small", "medium", "large"]), default="small", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same bytes.")
@click.option("--defects", type=float, default=0.0, show_default=True, help="Per-row rate of injected faults (0..0.5).")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (YYYY-MM-DD).")
@click.option("--days", type=int, default=None, help="Number of days.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def generate(
    out_dir: Path, scale: str, seed: int, defects: float, start: object, days: int | None, as_json: bool
) -> None:
    """Generate a simulated world: canonical files, platform exports, session log, ground truth.

    生成模拟数据：标准文件、平台导出表、直播分钟日志和真实参数。
    """
    from livecommerce.simulate import generate as simulate_generate

    first: date | None = start.date() if start is not None else None  # type: ignore[attr-defined]
    try:
        summary = simulate_generate(out_dir, scale=scale, seed=seed, defects=defects, start=first, days=days)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    doc = summary.as_dict()
    if as_json:
        emit_json(doc)
        return
    click.echo(
        f"wrote {doc['order_lines']:,} order lines, {doc['sessions']:,} sessions, {doc['defects']} defects "
        f"({int(doc['bytes']) / 1e6:.1f} MB) to {out_dir} in {doc['seconds']:.1f}s / 已生成模拟数据"  # type: ignore[call-overload]
    )
