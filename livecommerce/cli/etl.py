"""``livecommerce etl load | runs | rejects``: a thin skin over :mod:`etl`.

The ``etl`` package is imported inside each command (nothing in ``livecommerce`` imports it at
module level). Exit codes of ``load``: 0 every file loaded (rejected rows allowed), 2 a file was
refused whole, 1 any other error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from livecommerce.cli._base import AppContext, console, emit_json, friendly_errors, main, pass_app


@main.group()
def etl() -> None:
    """Load platform exports into the warehouse and see what happened. / 导入平台导出数据。"""


@etl.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", metavar="NAME", help="Read every file with this reader (see `etl load --help`).")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML/JSON/TOML: canonical field -> your header.",
)
@click.option(
    "--county", "county_id", metavar="ID", help="Assign products and hosts first seen in these files to county ID."
)
@click.option("--host", "host_id", metavar="ID", help="Credit every order line of these files to host ID.")
@click.option(
    "--registry",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The envoy's registry file mapping platform ids to products, hosts and counties.",
)
@click.option("--dry-run", is_flag=True, help="Check and count everything, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
@friendly_errors
def load(
    app: AppContext,
    paths: tuple[Path, ...],
    fmt: str | None,
    mapping: Path | None,
    county_id: str | None,
    host_id: str | None,
    registry: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Load exports (files or folders) idempotently; report every refused row. / 导入订单导出文件。

    Folders load every supported file inside: dimensions, then orders, then after-sales.
    """
    import etl as etl_lib
    from livecommerce.warehouse import init

    try:
        assign = etl_lib.assignments_from(registry, county_id=county_id, host_id=host_id)
    except etl_lib.MappingError as exc:
        raise click.ClickException(str(exc)) from exc
    init(app.engine)
    show_progress = sys.stderr.isatty()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(path: str, done: int, total: int | None) -> None:
            if path not in tasks:
                tasks[path] = bar.add_task(Path(path).name, total=total)
            bar.update(tasks[path], completed=done)

        try:
            reports = etl_lib.load_paths(
                app.engine, paths, fmt=fmt, mapping=mapping, assign=assign, dry_run=dry_run, progress=progress
            )
        except etl_lib.MappingError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json({"files": [r.as_json() for r in reports]})
    else:
        _summary(reports)
    statuses = {r.status for r in reports}
    if "refused" in statuses:
        sys.exit(2)
    if "failed" in statuses:
        sys.exit(1)


def _summary(reports: list[Any]) -> None:
    table = Table(
        "file / 文件",
        "format / 格式",
        "encoding",
        "status / 状态",
        "read",
        "inserted",
        "updated",
        "unchanged",
        "rejected (by reason)",
    )
    for r in reports:
        reasons = ", ".join(f"{code} {n}" for code, n in r.rejected_by_reason().items())
        table.add_row(
            Path(r.path).name,
            r.format or "—",
            r.encoding or "—",
            r.status,
            f"{r.rows_read:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.unchanged:,}",
            f"{r.rejected:,}" + (f" ({reasons})" if reasons else ""),
        )
    console.print(table)
    for r in reports:
        if r.message:
            console.print(f"[bold]{Path(r.path).name}[/bold]: {r.message}")
        for note in r.notes:
            console.print(f"[dim]{Path(r.path).name}: {note}[/dim]")
        for reject in r.rejects[:20]:
            console.print(f"  {Path(reject.path).name}:{reject.line} [{reject.code}] {reject.message}")
        if len(r.rejects) > 20:
            console.print(f"  … {len(r.rejects) - 20} more: `livecommerce etl rejects --run {r.run_id}`")


@etl.command("runs")
@click.option("--limit", default=50, show_default=True, help="How many runs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
@friendly_errors
def runs(app: AppContext, limit: int, as_json: bool) -> None:
    """List the files loaded (or refused) with their counts. / 导入记录。"""
    import etl as etl_lib

    found = etl_lib.runs(app.engine, limit=limit)
    if as_json:
        emit_json({"runs": found})
        return
    table = Table("run", "file / 文件", "format", "status", "read", "inserted", "updated", "unchanged", "rejected")
    for r in found:
        table.add_row(
            str(r["run_id"]),
            Path(r["path"]).name,
            r["format"] or "—",
            r["status"],
            *(f"{r[k]:,}" for k in ("rows_read", "inserted", "updated", "unchanged", "rejected")),
        )
    console.print(table)


@etl.command("rejects")
@click.option("--run", "run_id", type=int, metavar="ID", help="Only the rows refused by run ID.")
@click.option("--limit", default=1000, show_default=True, help="At most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
@friendly_errors
def rejects(app: AppContext, run_id: int | None, limit: int, as_json: bool) -> None:
    """List refused rows: file, line, column, reason. / 被拒绝的行及原因。"""
    import etl as etl_lib

    found = etl_lib.rejects(app.engine, run_id=run_id, limit=limit)
    if as_json:
        emit_json({"rejects": found})
        return
    table = Table("run", "file / 文件", "line / 行", "column / 列", "code", "reason / 原因")
    for r in found:
        table.add_row(
            str(r["run_id"]), Path(r["path"]).name, str(r["line"] or ""), r["column"] or "", r["code"], r["message"]
        )
    console.print(table)
