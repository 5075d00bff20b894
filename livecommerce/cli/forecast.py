"""``livecommerce forecast run | show | accuracy``: a thin skin over :mod:`livecommerce.forecast`.

``run`` reads daily demand from the warehouse (``livecommerce.queries.demand_history``), adds the
festival calendar, forecasts and backtests every product series and stores the run; ``show`` prints
the latest stored forecast of a product as of a date; ``accuracy`` the backtest of the latest run.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from livecommerce.cli._base import AppContext, console, emit_json, friendly_errors, main, pass_app

_ENGINES = ("local", "process", "dask")  # livecommerce.forecast.engine.ENGINES (not imported: startup time)
_STEPS = ("history / 读取历史", "forecast / 预测", "backtest / 回测", "save / 保存", "planner / 排期模型")


@main.group()
def forecast() -> None:
    """Forecast daily demand per product, with calibrated quantiles. / 按商品预测每日需求。"""


def _input_error(exc: Exception) -> click.ClickException:
    return click.ClickException(f"{exc}")


@forecast.command("run")
@click.option("--horizon", default=28, show_default=True, type=click.IntRange(1, 366), help="Days ahead.")
@click.option("--sku", "skus", multiple=True, metavar="ID", help="Only these products (repeatable).")
@click.option("--county", "counties", multiple=True, metavar="ID", help="Only the products of these counties.")
@click.option("--windows", default=3, show_default=True, type=click.IntRange(0, 20), help="Backtest windows.")
@click.option(
    "--jobs",
    default=-1,
    show_default=True,
    help="Worker processes (-1: one per CPU, 1: none); with --engine dask and no scheduler: local workers (2).",
)
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(_ENGINES),
    default="process",
    show_default=True,
    help="Where the series are fitted: this process, a process pool, or a Dask cluster (same results).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler to use with --engine dask (tcp://host:8786); without it a local cluster is started.",
)
@click.option(
    "--lake",
    type=click.Path(file_okay=False, exists=True),
    help="Read the daily series from this Parquet lake (livecommerce export lake) instead of the warehouse.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
@friendly_errors
def run(
    app: AppContext,
    horizon: int,
    skus: tuple[str, ...],
    counties: tuple[str, ...],
    windows: int,
    jobs: int,
    engine_name: str,
    scheduler: str | None,
    lake: str | None,
    as_json: bool,
) -> None:
    """Forecast every product series and store the run. / 预测并保存结果。

    History is the warehouse's daily units per product (local days), or the lake's with --lake;
    regressors are the festival calendar (presale, peak and after days of 双11 / 618 / 双12, 年货节,
    the Spring Festival slowdown, Mid-Autumn gifting, National Day). --engine dask fits the series on a
    Dask cluster (pip install 'livecommerce[distributed]'); see docs/scaling.md.
    """
    import polars as pl

    from livecommerce import planner
    from livecommerce.forecast import ForecastInputError, store
    from livecommerce.forecast.engine import named_engine
    from livecommerce.lake import LakeError
    from livecommerce.warehouse import init

    if scheduler and engine_name != "dask":
        raise click.UsageError("--scheduler needs --engine dask / --scheduler 需要 --engine dask")

    init(app.engine)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        disable=not sys.stderr.isatty(),
        transient=True,
    ) as bar:
        task = bar.add_task(_STEPS[0], total=len(_STEPS))

        def step(name: str) -> None:
            bar.update(task, completed=_STEPS.index(name), description=name)

        try:
            history = None
            if lake:
                from livecommerce.lake import demand_history

                history = demand_history(lake, product_ids=skus or None, county_ids=counties or None)
            with named_engine(engine_name, n_jobs=jobs, scheduler=scheduler) as engine_map:
                run_id, fc = store.run_from_warehouse(
                    app.engine,
                    horizon,
                    product_ids=skus,
                    county_ids=counties,
                    windows=windows,
                    n_jobs=jobs,
                    step=step,
                    engine_map=engine_map,
                    history=history,
                    source="lake" if lake else "warehouse",
                )
        except (ForecastInputError, store.NoHistory, LakeError) as exc:
            raise _input_error(exc) from exc
        except ImportError as exc:
            raise click.ClickException(str(exc)) from exc
        step(_STEPS[-1])
        planner_model = planner.store_demand_model(app.engine)
        bar.update(task, completed=len(_STEPS))
    acc = store.accuracy(app.engine, run_id)
    doc = {
        "run_id": run_id,
        "horizon": horizon,
        "engine": engine_name,
        "source": "lake" if lake else "warehouse",
        "series": fc["unique_id"].n_unique(),
        "start": fc["ds"].min(),
        "end": fc["ds"].max(),
        "models": dict(fc.group_by("model").agg(pl.col("unique_id").n_unique()).sort("model").iter_rows()),
        "accuracy": acc.to_dicts(),
        "planner_model": planner_model,
    }
    if as_json:
        emit_json(doc)
        return
    click.echo(
        f"run {run_id}: {doc['series']} series, {doc['start']} – {doc['end']} "
        f"/ 已保存预测：{doc['series']} 个商品，{horizon} 天"
    )
    _accuracy_table(acc)


def _accuracy_table(acc: Any) -> None:
    if acc.is_empty():
        click.echo("no backtest stored / 没有回测结果")
        return
    table = Table("model / 模型", "series", "windows", "MASE", "RMSSE", "WAPE", "pinball", "80% cover", "MASE / naive")
    for r in acc.iter_rows(named=True):
        table.add_row(
            r["model"],
            str(r["series"]),
            str(r["windows"]),
            *[_num(r[c]) for c in ("mase", "rmsse", "wape", "pinball", "coverage", "mase_vs_naive")],
        )
    console.print(table)


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


@forecast.command("show")
@click.option("--sku", required=True, metavar="ID", help="The product.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Latest run made up to this local date.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@pass_app
@friendly_errors
def show(app: AppContext, sku: str, as_of: dt.datetime | None, fmt: str, as_json: bool) -> None:
    """Show the latest stored forecast of a product (units per day). / 查看商品的最新预测。"""
    from livecommerce.forecast import store

    out = store.latest_forecast(app.engine, [sku], as_of.date() if as_of else None)
    if out.is_empty():
        when = f" made by {as_of:%Y-%m-%d}" if as_of else ""
        raise click.ClickException(
            f"no forecast of {sku}{when}: run `livecommerce forecast run --sku {sku}` first. "
            f"/ 没有 {sku} 的预测，请先运行 livecommerce forecast run。"
        )
    if as_json or fmt == "json":
        rows = out.drop("run_id", "created_at_utc").to_dicts()
        emit_json(
            {
                "sku": sku,
                "run_id": out["run_id"][0],
                "created_at_utc": out["created_at_utc"][0],
                "cutoff": out["cutoff"][0],
                "units": "units per day / 每日件数",
                "forecast": rows,
            }
        )
    elif fmt == "csv":
        click.echo(out.drop("created_at_utc").write_csv(), nl=False)
    else:
        table = Table(
            "date / 日期", "model / 模型", "mean / 均值", "q10", "q50", "q90", title=f"{sku} (run {out['run_id'][0]})"
        )
        for r in out.iter_rows(named=True):
            table.add_row(str(r["ds"]), r["model"], *[_num(r[c]) for c in ("mean", "q10", "q50", "q90")])
        console.print(table)


@forecast.command("accuracy")
@click.option("--run", "run_id", metavar="ID", help="This run instead of the latest one with a backtest.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
@friendly_errors
def accuracy(app: AppContext, run_id: str | None, as_json: bool) -> None:
    """Backtest accuracy per model of the latest run (MASE, RMSSE, WAPE, pinball, coverage). / 回测精度。"""
    from livecommerce.forecast import store

    acc = store.accuracy(app.engine, run_id)
    if as_json:
        emit_json({"run_id": run_id or _latest(store, app), "models": acc.to_dicts()})
    else:
        _accuracy_table(acc)


def _latest(store: Any, app: AppContext) -> str | None:
    rows = store.backtest_metrics(app.engine)
    return rows["run_id"][0] if rows.height else None
