"""``livecommerce plan``: propose a host's or a county's next sessions; ``plan actual``: plan vs what sold.

A thin skin over :mod:`livecommerce.planner`: parse, call ``plan_from_warehouse`` / ``save_plan`` /
``plan_vs_actual``, render. Money is shown in yuan, times in local (Asia/Shanghai) time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from livecommerce.cli._base import AppContext, emit_json, friendly_errors, main, out_console, pass_app


def _stock(pairs: tuple[str, ...]) -> dict[str, int] | None:
    if not pairs:
        return None
    out: dict[str, int] = {}
    for pair in pairs:
        sku, sep, units = pair.partition("=")
        if not sep or not units.strip().lstrip("-").isdigit():
            raise click.BadParameter(f"{pair!r}: write SKU=UNITS, e.g. lixian-fuji-10jin=300 / 格式：商品ID=件数")
        out[sku.strip()] = int(units)
    return out


@main.group(invoke_without_command=True)
@click.option("--host", "host_id", metavar="ID", help="Plan one host.")
@click.option("--county", "county_id", metavar="ID", help="Plan every host of a county (no two live at once).")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First local day (default: tomorrow).")
@click.option("--days", type=click.IntRange(1, 92), default=14, show_default=True, help="Days to plan.")
@click.option("--per-week", type=click.FloatRange(0.5, 14), help="Sessions per host and week (default: usual pace).")
@click.option("--stock", "stock_pairs", multiple=True, metavar="SKU=UNITS", help="Units on hand (repeatable).")
@click.option("--save", is_flag=True, help="Store the proposed sessions (status planned).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the plan as CSV.")
@click.option("--ics", "ics_path", type=click.Path(dir_okay=False, path_type=Path), help="Write an iCalendar file.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of reasons.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
@friendly_errors
def plan(
    ctx: click.Context,
    host_id: str | None,
    county_id: str | None,
    start: Any,
    days: int,
    per_week: float | None,
    stock_pairs: tuple[str, ...],
    save: bool,
    csv_path: Path | None,
    ics_path: Path | None,
    lang: str,
    as_json: bool,
) -> None:
    """Plan the next sessions: slot, line-up, price, stock to prepare, with reasons. / 直播排期建议。

    Slots come from slot x weekday effects per host, shrunk toward its county and platform (a new host
    gets its county's, and the plan says so); sessions of one county never overlap; festivals and presale
    windows count. Export with --csv (one row per session and product) and --ics (add to a phone calendar).
    """
    if ctx.invoked_subcommand is not None:
        return
    from livecommerce.planner import PlanError, plan_from_warehouse, save_plan, to_csv, to_ics

    app: AppContext = ctx.obj
    if (host_id is None) == (county_id is None):
        raise click.UsageError("give --host ID or --county ID / 请指定 --host 或 --county")
    first = start.date() if start else dt.date.today() + dt.timedelta(days=1)
    try:
        proposal = plan_from_warehouse(
            app.engine,
            host_id=host_id,
            county_id=county_id,
            start=first,
            days=days,
            stock=_stock(stock_pairs),
            sessions_per_week=per_week,
        )
        saved = save_plan(app.engine, proposal) if save else []
    except PlanError as exc:
        raise click.ClickException(str(exc)) from exc
    if csv_path:
        csv_path.write_text(to_csv(proposal), encoding="utf-8-sig", newline="")
    if ics_path:
        ics_path.write_bytes(to_ics(proposal, lang).encode("utf-8"))
    if as_json:
        doc = proposal.as_dict() | {"saved": saved}
        emit_json(doc)
        return
    for s in proposal.sessions:
        out_console.print(
            f"[bold]{s.start_local:%Y-%m-%d %a %H:%M}–{s.end_local:%H:%M}[/bold]  {s.host_name} ({s.host_id})  "
            f"GMV ¥{s.expected_gmv_fen / 100:,.0f} (¥{s.gmv_low_fen / 100:,.0f}–¥{s.gmv_high_fen / 100:,.0f})  "
            f"[dim]{s.plan_id}[/dim]"
        )
        for r in s.reasons:
            out_console.print(f"    {r.text(lang)}")
        for i in s.items:
            test = " (test)" if i.price_test else ""
            out_console.print(
                f"  - {i.title} \\[{i.role}] ¥{i.price_fen / 100:.2f}{test}  prepare {i.units_to_prepare} "
                f"(P50 {i.units_p50}, P90 {i.units_p90})"
            )
    if saved:
        out_console.print(f"saved {len(saved)} session(s) / 已保存 {len(saved)} 场")


@plan.command("actual")
@click.option("--plan", "plan_id", required=True, metavar="ID", help="A saved plan id.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
@friendly_errors
def actual(app: AppContext, plan_id: str, as_json: bool) -> None:
    """Plan vs actual per product: units, GMV, stock left or sold out. / 计划与实际对比。"""
    from livecommerce.planner import PlanError, load_plan, plan_vs_actual

    try:
        session = load_plan(app.engine, plan_id)
        rows = plan_vs_actual(app.engine, plan_id)
    except PlanError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json({"plan": session.as_dict(), "products": rows.to_dicts()})
        return
    matched = rows["session_id"][0] if rows.height else None
    out_console.print(
        f"[bold]{plan_id}[/bold] {session.host_name} {session.start_local:%Y-%m-%d %H:%M}: "
        + (f"actual session {matched}" if matched else "no actual session yet / 尚无实际场次")
    )
    for r in rows.iter_rows(named=True):
        sold = "—" if r["actual_units"] is None else f"{r['actual_units']}"
        gmv = "—" if r["actual_gmv_fen"] is None else f"¥{r['actual_gmv_fen'] / 100:,.0f}"
        left = f"left {r['stock_left']}" if r["stock_left"] is not None else ""
        left = "sold out / 售罄" if r["sold_out"] else left
        out_console.print(
            f"  {r['product_id']}: planned {r['units_p50'] or 0}–{r['units_p90'] or 0} "
            f"(prepare {r['units_to_prepare'] or 0}), sold {sold}, GMV {gmv} {left}"
        )
