"""``livecommerce report …``: KPIs per overview, host, county, product or session; the daily text."""

from __future__ import annotations

import click
from rich.table import Table

from livecommerce.cli._base import AppContext, emit_json, friendly_errors, main, out_console, pass_app
from livecommerce.sheets import csv_text

_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
_DATE = click.DateTime(["%Y-%m-%d"])


@main.group()
def report() -> None:
    """KPI reports, defined as in docs/metrics.md (money in yuan). / 指标报表。"""


def _render(doc: dict | None, fmt: str) -> None:  # type: ignore[type-arg]
    from livecommerce.reports import format_kpi

    if doc is None:
        raise click.ClickException(
            "nothing to report: unknown id or no data in range / 没有可报告的数据：编号不存在或区间内无数据"
        )
    if fmt == "json":
        emit_json(doc)
        return
    rows = [
        (
            name,
            doc["labels"][name]["zh"],
            doc["labels"][name]["en"],
            value,
            doc["previous"].get(name),
            doc["change"].get(name),
        )
        for name, value in doc["kpis"].items()
    ]
    if fmt == "csv":
        click.echo(csv_text([["kpi", "label_zh", "label_en", "value", "previous", "change"], *rows]), nl=False)
        return
    period = f"{doc['from'] or '…'} – {doc['to'] or '…'}"
    table = Table(
        "KPI",
        "指标",
        "value / 数值",
        "previous / 上期",
        "change / 变化",
        title=f"{doc['level']} {doc['key'] or ''} {period}",
    )
    for name, zh, _en, value, prev, change in rows:
        table.add_row(
            name,
            zh,
            format_kpi(name, value),
            format_kpi(name, prev) if doc["previous"] else "",
            f"{change:+.1%}" if change is not None else "",
        )
    out_console.print(table)


def _make(level: str, needs_id: bool):  # type: ignore[no-untyped-def]
    @click.option("--from", "start", type=_DATE, default=None, help="First local day (YYYY-MM-DD).")
    @click.option("--to", "end", type=_DATE, default=None, help="Last local day (YYYY-MM-DD), inclusive.")
    @click.option("--platform", default=None, help="taobao, douyin, kuaishou or pinduoduo.")
    @_FORMAT
    @_JSON
    @pass_app
    @friendly_errors
    def command(app: AppContext, start, end, platform, fmt, as_json, key=None) -> None:  # type: ignore[no-untyped-def]
        from livecommerce.queries import Filters
        from livecommerce.reports import kpi_document
        from livecommerce.scope import Scope

        filters = Filters(start.date() if start else None, end.date() if end else None, platform)
        doc = kpi_document(app.engine, Scope.everything(), level, key, filters)  # type: ignore[arg-type]
        _render(doc, "json" if as_json else fmt)

    if needs_id:
        command = click.argument("key", metavar="ID")(command)
    return command


_HELP = {
    "overview": "Everything you may see. / 总览。",
    "host": "One host (streamer account). / 主播。",
    "county": "A county: the sales of its products. / 县域。",
    "product": "One product. / 商品。",
    "session": "One live session, ID as platform:session_id. / 单场直播。",
}
for _level, _help in _HELP.items():
    report.command(name=_level, help=_help)(_make(_level, _level != "overview"))


@report.command()
@click.option("--host", "host_id", required=True, help="Host id.")
@click.option("--date", "day", type=_DATE, required=True, help="Local day (YYYY-MM-DD).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@_JSON
@pass_app
@friendly_errors
def daily(app: AppContext, host_id: str, day, lang: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """A host's daily report as chat-group text (Chinese by default). / 主播日报（群发文本）。"""
    from livecommerce.reports import daily_text
    from livecommerce.scope import Scope

    text = daily_text(app.engine, Scope.everything(), host_id, day.date(), lang)
    if text is None:
        raise click.ClickException(f"unknown host {host_id!r} / 找不到主播 {host_id!r}")
    if as_json:
        emit_json({"host_id": host_id, "date": day.date(), "lang": lang, "text": text})
    else:
        click.echo(text)


__all__ = ["report"]
