"""``livecommerce init`` and ``livecommerce info``."""

from __future__ import annotations

import click
from rich.table import Table

from livecommerce.cli._base import AppContext, console, emit_json, friendly_errors, main, pass_app


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
@friendly_errors
def init(app: AppContext, as_json: bool) -> None:
    """Create the warehouse, or upgrade it in place keeping its data. / 创建或升级数据仓库。"""
    from livecommerce.warehouse import info as warehouse_info
    from livecommerce.warehouse import init as warehouse_init

    revision = warehouse_init(app.engine)
    doc = warehouse_info(app.engine)
    if as_json:
        emit_json(doc)
    else:
        click.echo(f"warehouse ready / 数据仓库已就绪: {doc['url']} (schema {revision})")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
@friendly_errors
def info(app: AppContext, as_json: bool) -> None:
    """Show the database URL (password masked), schema version and row counts. / 数据仓库概况。"""
    from livecommerce.warehouse import info as warehouse_info

    doc = warehouse_info(app.engine)
    if as_json:
        emit_json(doc)
        return
    click.echo(f"database / 数据库: {doc['url']}")
    state = "up to date / 最新" if doc["up_to_date"] else "run `livecommerce init` / 请运行 livecommerce init"
    click.echo(f"schema / 模式版本: {doc['schema_version'] or '—'} (head {doc['schema_head']}, {state})")
    if doc["tables"]:
        table = Table("table / 表", "rows / 行数")
        for name, count in doc["tables"].items():
            table.add_row(name, f"{count:,}")
        console.print(table)
