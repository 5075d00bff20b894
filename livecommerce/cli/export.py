"""``livecommerce export lake``: the warehouse's facts as a hive-partitioned Parquet lake (docs/scaling.md)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from livecommerce.cli._base import AppContext, console, emit_json, friendly_errors, main, pass_app


@main.group()
def export() -> None:
    """Export the warehouse for other engines. / 导出数据。"""


@export.command("lake")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Lake directory."
)
@click.option("--full", is_flag=True, help="Write a complete new generation of files instead of appending.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
@friendly_errors
def lake(app: AppContext, out_dir: Path, full: bool, as_json: bool) -> None:
    """Write order lines and live sessions as Parquet partitioned by local day and platform, plus the
    dimensions and a manifest; later runs append the new days. / 导出为按日期和平台分区的 Parquet 数据湖。

    Readable by polars, Dask, Spark and Trino as it is. Rows changed on days already exported are
    listed as stale; --full rewrites everything as new files.
    """
    from livecommerce.lake import LakeError, export_lake
    from livecommerce.warehouse import init

    init(app.engine)
    try:
        summary = export_lake(app.engine, out_dir, full=full)
    except LakeError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json(summary)
        return
    table = Table("table / 表", "new files", "new rows", "already in lake", "through / 截至", "stale partitions")
    for name, t in summary["tables"].items():
        table.add_row(
            name,
            str(t["files"]),
            f"{t['rows']:,}",
            f"{t['already_in_lake']:,}",
            t["watermark"] or "—",
            str(len(t["stale_partitions"])),
        )
    console.print(table)
    stale = sum(len(t["stale_partitions"]) for t in summary["tables"].values())
    hint = f"; {stale} stale partitions: run with --full to rewrite / 有旧分区已变化，请用 --full 重写" if stale else ""
    click.echo(f"{summary['mode']} export {summary['export_id']} -> {summary['lake']}{hint} / 已导出")
