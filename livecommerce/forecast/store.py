"""Forecasts in the warehouse: save a run, read the latest forecast as of a date, backtest accuracy.

The only module of ``livecommerce.forecast`` that touches the database (the models stay pure).
Writes go through :func:`livecommerce.warehouse.upsert.upsert` inside one transaction per run;
reads are ``select()`` objects handed to polars. Units: ``mean``/``q10``/``q50``/``q90`` are units
of the product per local day; ``pinball`` is in units; ``mase``/``rmsse`` are scaled; ``wape`` and
``coverage`` are shares.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from livecommerce.forecast.engine import Engine as MapEngine
from livecommerce.warehouse.tables import BacktestMetric, Forecast, ForecastRun, ForecastTotal
from livecommerce.warehouse.upsert import upsert

__all__ = [
    "NoHistory",
    "accuracy",
    "backtest_metrics",
    "latest_forecast",
    "latest_total",
    "run_from_warehouse",
    "runs",
    "save_run",
]

_LOCAL = ZoneInfo("Asia/Shanghai")
_RUN = ForecastRun.__table__
_FC = Forecast.__table__
_BM = BacktestMetric.__table__
_FT = ForecastTotal.__table__
_QUANTILES = {"q0.1": "q10", "q0.5": "q50", "q0.9": "q90"}
#: the spans (days) whose summed demand a run stores besides its horizon: the product page's choices
TOTAL_SPANS = (7, 14, 28)


def _floats(frame: pl.DataFrame, cols: Sequence[str]) -> pl.DataFrame:
    return frame.with_columns([pl.col(c).cast(pl.Float64).fill_nan(None) for c in cols if c in frame.columns])


def _stored_quantiles(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with ``q0.1/q0.5/q0.9`` named as stored (``q10/q50/q90``), absent quantiles
    and ``note`` as nulls, and ``mean`` and the quantiles as floats (NaN as null)."""
    out = frame.rename({k: v for k, v in _QUANTILES.items() if k in frame.columns})
    out = out.with_columns([pl.lit(None).alias(c) for c in ("q10", "q50", "q90", "note") if c not in out.columns])
    return _floats(out, ["mean", "q10", "q50", "q90"])


def save_run(
    engine: Engine,
    forecasts: pl.DataFrame,
    metrics: pl.DataFrame | None = None,
    *,
    horizon: int,
    source: str,
    parameters: dict[str, Any] | None = None,
    cutoffs: pl.DataFrame | None = None,
    created_at: dt.datetime | None = None,
    run_id: str | None = None,
    totals: pl.DataFrame | None = None,
) -> str:
    """Store one run: ``forecasts`` (from :func:`~livecommerce.forecast.forecast`) and backtest ``metrics``.

    ``forecasts`` has ``unique_id, ds, model, mean`` and ``q0.1/q0.5/q0.9`` (stored as ``q10/q50/q90``)
    and ``note``; ``metrics`` is the output of :func:`~livecommerce.forecast.backtest`. ``cutoffs``
    (``unique_id, cutoff``) gives each series' last history day; by default the day before its first
    forecast day. ``totals`` (the second frame of :func:`~livecommerce.forecast.forecast_with_totals`:
    ``unique_id, days, start, end, model, mean, q0.1/q0.5/q0.9, note``) are the sums over the first
    ``days`` days, for the stock to prepare. Returns the run id. Everything is written in one transaction.
    """
    run_id = run_id or uuid.uuid4().hex
    created = created_at or dt.datetime.now(dt.UTC)
    fc = _stored_quantiles(forecasts)
    if cutoffs is None:
        cutoffs = fc.group_by("unique_id").agg((pl.col("ds").min() - dt.timedelta(days=1)).alias("cutoff"))
    fc = fc.join(cutoffs.select("unique_id", "cutoff"), on="unique_id", how="left").select(
        pl.lit(run_id).alias("run_id"),
        pl.col("unique_id").cast(pl.String),
        pl.col("ds").cast(pl.Date),
        "model",
        pl.col("cutoff").cast(pl.Date),
        "mean",
        "q10",
        "q50",
        "q90",
        pl.col("note").cast(pl.String),
    )
    with engine.begin() as conn:
        upsert(
            conn,
            _RUN,
            [
                {
                    "run_id": run_id,
                    "created_at_utc": created,
                    "horizon": int(horizon),
                    "parameters": json.dumps(parameters or {}, ensure_ascii=False, sort_keys=True, default=str),
                    "source": source,
                }
            ],
        )
        if fc.height:
            upsert(conn, _FC, fc)
        if metrics is not None and metrics.height:
            pins = [c for c in metrics.columns if c.startswith("pinball_")]
            bm = _floats(metrics, ["mase", "rmsse", "wape", "coverage_80", *pins]).select(
                pl.lit(run_id).alias("run_id"),
                pl.col("unique_id").cast(pl.String),
                "model",
                pl.col("cutoff").cast(pl.Date),
                "mase",
                "rmsse",
                "wape",
                (pl.mean_horizontal(pins) if pins else pl.lit(None, dtype=pl.Float64)).alias("pinball"),
                pl.col("coverage_80").alias("coverage"),
                pl.col("note").cast(pl.String),
            )
            upsert(conn, _BM, bm)
        if totals is not None and totals.height:
            tt = _stored_quantiles(totals).select(
                pl.lit(run_id).alias("run_id"),
                pl.col("unique_id").cast(pl.String),
                pl.col("days").cast(pl.Int64),
                pl.col("start").cast(pl.Date),
                pl.col("end").cast(pl.Date),
                "model",
                "mean",
                "q10",
                "q50",
                "q90",
                pl.col("note").cast(pl.String),
            )
            upsert(conn, _FT, tt)
    return run_id


def _frame(engine: Engine, stmt: Any) -> pl.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(stmt)
        rows = result.fetchall()
        return pl.DataFrame(
            [tuple(r) for r in rows], schema=list(result.keys()), orient="row", infer_schema_length=None
        )


def runs(engine: Engine, limit: int | None = 20) -> pl.DataFrame:
    """Return the latest runs first: ``run_id, created_at_utc, horizon, source, parameters`` and ``series``."""
    n = select(_FC.c.run_id, func.count(func.distinct(_FC.c.unique_id)).label("series")).group_by(_FC.c.run_id)
    n = n.subquery()
    stmt = (
        select(_RUN.c.run_id, _RUN.c.created_at_utc, _RUN.c.horizon, _RUN.c.source, _RUN.c.parameters, n.c.series)
        .outerjoin(n, n.c.run_id == _RUN.c.run_id)
        .order_by(_RUN.c.created_at_utc.desc(), _RUN.c.run_id.desc())
        .limit(limit)
    )
    return _frame(engine, stmt)


def _end_of_local_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=_LOCAL).astimezone(dt.UTC)


def latest_forecast(
    engine: Engine, unique_ids: Sequence[str] | None = None, as_of: dt.date | dt.datetime | None = None
) -> pl.DataFrame:
    """Return, per series, the forecast of the latest run made up to ``as_of`` that covers the series.

    ``as_of``: a local date (runs created up to the end of that day, Asia/Shanghai) or an aware datetime;
    ``None`` means now. Columns: ``unique_id, ds, model, mean, q10, q50, q90, cutoff, note, run_id,
    created_at_utc``; empty when there is no such run.
    """
    limit = None
    if isinstance(as_of, dt.datetime):
        limit = as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
    elif isinstance(as_of, dt.date):
        limit = _end_of_local_day(as_of)
    cond = []
    if limit is not None:
        cond.append(_RUN.c.created_at_utc < limit)
    if unique_ids:
        cond.append(_FC.c.unique_id.in_(list(unique_ids)))
    per_series = (
        select(_FC.c.unique_id, _RUN.c.run_id, _RUN.c.created_at_utc)
        .join(_RUN, _RUN.c.run_id == _FC.c.run_id)
        .where(*cond)
        .distinct()
    )
    found = _frame(engine, per_series)
    if found.is_empty():
        return pl.DataFrame(
            schema={
                "unique_id": pl.String,
                "ds": pl.Date,
                "model": pl.String,
                "mean": pl.Float64,
                "q10": pl.Float64,
                "q50": pl.Float64,
                "q90": pl.Float64,
                "cutoff": pl.Date,
                "note": pl.String,
                "run_id": pl.String,
                "created_at_utc": pl.Datetime("us", "UTC"),
            }
        )
    pick = found.sort("created_at_utc", "run_id").group_by("unique_id").agg(pl.col("run_id").last())
    parts = []
    for run_id, ids in pick.group_by("run_id").agg(pl.col("unique_id")).iter_rows():
        stmt = (
            select(
                _FC.c.unique_id,
                _FC.c.ds,
                _FC.c.model,
                _FC.c.mean,
                _FC.c.q10,
                _FC.c.q50,
                _FC.c.q90,
                _FC.c.cutoff,
                _FC.c.note,
                _FC.c.run_id,
                _RUN.c.created_at_utc,
            )
            .join(_RUN, _RUN.c.run_id == _FC.c.run_id)
            .where(_FC.c.run_id == run_id, _FC.c.unique_id.in_(ids))
        )
        parts.append(_frame(engine, stmt))
    out = pl.concat(parts, how="vertical_relaxed")
    return out.with_columns(pl.col("ds").cast(pl.Date), pl.col("cutoff").cast(pl.Date)).sort("unique_id", "ds")


def latest_total(engine: Engine, unique_id: str, days: int, run_id: str | None = None) -> dict[str, Any] | None:
    """Return the stored sum of ``unique_id``'s units over ``days`` days from run ``run_id`` (default:
    the latest run that stored one): ``start, end, model, mean, q10, q50, q90, note, run_id``; ``None``
    when no run stored that span for the series."""
    stmt = (
        select(
            _FT.c.start, _FT.c.end, _FT.c.model, _FT.c.mean, _FT.c.q10, _FT.c.q50, _FT.c.q90, _FT.c.note, _FT.c.run_id
        )
        .join(_RUN, _RUN.c.run_id == _FT.c.run_id)
        .where(_FT.c.unique_id == unique_id, _FT.c.days == int(days))
        .order_by(_RUN.c.created_at_utc.desc(), _RUN.c.run_id.desc())
        .limit(1)
    )
    if run_id is not None:
        stmt = stmt.where(_FT.c.run_id == run_id)
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return dict(row._mapping) if row is not None else None


def _run_or_latest(engine: Engine, run_id: str | None) -> str | None:
    if run_id is not None:
        return run_id
    stmt = (
        select(_RUN.c.run_id)
        .where(_RUN.c.run_id.in_(select(_BM.c.run_id)))
        .order_by(_RUN.c.created_at_utc.desc(), _RUN.c.run_id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(stmt).scalar()


def backtest_metrics(engine: Engine, run_id: str | None = None) -> pl.DataFrame:
    """Return the stored backtest rows of ``run_id`` (default: the latest run with a backtest).

    Columns: ``run_id, unique_id, model, cutoff, mase, rmsse, wape, pinball, coverage, note``.
    """
    rid = _run_or_latest(engine, run_id)
    cols = [_BM.c[c] for c in ("run_id", "unique_id", "model", "cutoff", "mase", "rmsse", "wape", "pinball")]
    stmt = select(*cols, _BM.c.coverage, _BM.c.note).where(_BM.c.run_id == (rid or ""))
    out = _frame(engine, stmt.order_by(_BM.c.unique_id, _BM.c.model, _BM.c.cutoff))
    if out.is_empty():
        return pl.DataFrame(
            schema={
                "run_id": pl.String,
                "unique_id": pl.String,
                "model": pl.String,
                "cutoff": pl.Date,
                **{c: pl.Float64 for c in ("mase", "rmsse", "wape", "pinball", "coverage")},
                "note": pl.String,
            }
        )
    return out.with_columns(pl.col("cutoff").cast(pl.Date))


def accuracy(engine: Engine, run_id: str | None = None) -> pl.DataFrame:
    """Return the backtest accuracy of a run per model (default: the latest run with a backtest).

    One row per model: ``model``, ``series``, ``windows``, mean ``mase``, ``rmsse``, ``wape``, ``pinball``,
    ``coverage`` over its windows, and ``mase_vs_naive`` (its mean MASE over seasonal naive's on the
    same series and windows; null without the baseline). Ordered by ``mase``.
    """
    bm = backtest_metrics(engine, run_id)
    if bm.is_empty():
        return pl.DataFrame(
            schema={
                "model": pl.String,
                "series": pl.UInt32,
                "windows": pl.UInt32,
                **{c: pl.Float64 for c in ("mase", "rmsse", "wape", "pinball", "coverage", "mase_vs_naive")},
            }
        )
    ok = bm.filter(pl.col("mase").is_not_null())
    base = ok.filter(pl.col("model") == "seasonal_naive").select("unique_id", "cutoff", pl.col("mase").alias("_b"))
    j = ok.join(base, on=["unique_id", "cutoff"], how="left")
    out = j.group_by("model").agg(
        pl.col("unique_id").n_unique().alias("series"),
        pl.len().alias("windows"),
        *[pl.col(c).mean() for c in ("mase", "rmsse", "wape", "pinball", "coverage")],
        (pl.col("mase").filter(pl.col("_b").is_not_null()).mean() / pl.col("_b").mean()).alias("mase_vs_naive"),
    )
    return out.sort("mase")


class NoHistory(ValueError):
    """The warehouse has no sales for the requested products: nothing to forecast from."""


def run_from_warehouse(
    engine: Engine,
    horizon: int = 28,
    *,
    product_ids: Sequence[str] = (),
    county_ids: Sequence[str] = (),
    windows: int = 3,
    n_jobs: int = -1,
    step: Any = None,
    engine_map: MapEngine | None = None,
    history: pl.DataFrame | None = None,
    source: str = "warehouse",
) -> tuple[str, pl.DataFrame]:
    """Forecast every product series in the warehouse, store the run; return its id and the forecast.

    History is the daily units per product (local days, ``queries.demand_history``), or ``history`` when
    given (``unique_id, ds, y``, e.g. :func:`livecommerce.lake.demand_history` of a Parquet lake, same
    definition; ``source`` names it in the run, e.g. ``"lake"``); regressors are the festival calendar
    flags. ``windows`` backtest windows calibrate and score the run (0: none). ``engine_map`` maps the
    per-series work (see :mod:`livecommerce.forecast.engine`: ``serial_map``, ``process_map``,
    ``dask_map``; default: a process pool of ``n_jobs``); the results do not depend on it.
    ``step(description)`` is called before each stage (for progress bars). Raises :class:`NoHistory`
    when there are no sales, ``ForecastInputError`` for unusable series.
    """
    import livecommerce.calendar as calendar
    from livecommerce.forecast import backtest, forecast_with_totals
    from livecommerce.forecast.evaluate import daily_future
    from livecommerce.queries import demand_history

    def _step(name: str) -> None:
        if step is not None:
            step(name)

    _step("history / 读取历史")
    if history is None:
        history = demand_history(engine, product_ids=list(product_ids) or None, county_ids=list(county_ids) or None)
    if history.is_empty():
        raise NoHistory(
            "no sales to forecast from: load exports first (`livecommerce etl load PATH`) or check --sku/--county. "
            "/ 没有可用于预测的销售数据：请先导入数据（livecommerce etl load），或检查 --sku/--county。"
        )
    history = calendar.with_festival_flags(history.select("unique_id", "ds", pl.col("y").cast(pl.Float64)))
    future = daily_future(history, horizon)
    params: dict[str, Any] = {
        "horizon": horizon,
        "windows": windows,
        "skus": list(product_ids),
        "counties": list(county_ids),
        "regressors": list(calendar.FLAGS),
        "calendar_version": calendar.CALENDAR_VERSION,
    }
    _step("forecast / 预测")
    spans = tuple(d for d in TOTAL_SPANS if d < horizon)
    fc, totals = forecast_with_totals(
        history, horizon, future, spans=spans, n_windows=windows, n_jobs=n_jobs, engine=engine_map
    )
    _step("backtest / 回测")
    bt = (
        backtest(history, horizon, n_windows=windows, exog=calendar.FLAGS, n_jobs=n_jobs, engine=engine_map)
        if windows
        else None
    )
    _step("save / 保存")
    return save_run(engine, fc, bt, horizon=horizon, source=source, parameters=params, totals=totals), fc
