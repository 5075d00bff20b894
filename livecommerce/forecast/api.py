"""The public orchestrators: ``forecast``, ``forecast_total``, ``forecast_with_totals``, ``backtest`` and
``classify_demand``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from livecommerce.forecast._calibrate import apply_quantiles, residual_quantiles
from livecommerce.forecast._frames import DS, UID, Missing, Panel, Y, prepare, prepare_sessions
from livecommerce.forecast._series import Settings, run_one
from livecommerce.forecast.engine import Engine, process_map, serial_map
from livecommerce.forecast.errors import ForecastInputError, Problem
from livecommerce.forecast.intermittency import adi_cv2, demand_class
from livecommerce.forecast.models import Model, model_from_alias

__all__ = ["backtest", "classify_demand", "forecast", "forecast_total", "forecast_with_totals", "quantile_name"]

Frame = Any  # a polars or pandas DataFrame


def quantile_name(tau: float) -> str:
    """Column name of the ``tau`` quantile: ``q0.1``, ``q0.5``, ``q0.975``."""
    return f"q{tau:g}"


def _taus(quantiles: Sequence[float]) -> list[float]:
    taus = sorted({float(q) for q in quantiles})
    bad = [q for q in taus if not 0 < q < 1]
    if bad:
        raise ForecastInputError(
            [Problem(None, f"quantiles must lie strictly between 0 and 1: {bad}", f"分位数必须在 0 和 1 之间：{bad}")]
        )
    return taus


def _models(models: Sequence[str | Model] | None) -> tuple[Model, ...] | None:
    if models is None:
        return None
    out = tuple(model_from_alias(m) if isinstance(m, str) else m for m in models)
    aliases = [m.alias for m in out]
    if len(set(aliases)) != len(aliases) or not out:
        raise ValueError(f"models must be a non-empty list of distinct models, got {aliases}")
    return out


def _engine(engine: Engine | None, n_jobs: int) -> Engine:
    if engine is not None:
        return engine
    return serial_map if n_jobs == 1 else process_map(n_jobs)


def _points(
    panel: Panel, settings: Settings, engine: Engine | None, n_jobs: int, sessions: pl.DataFrame | None = None
) -> pl.DataFrame:
    by_uid = {k[0]: g for k, g in sessions.group_by(UID)} if sessions is not None else {}
    items = [(g, settings, by_uid.get(k[0])) for k, g in panel.frame.group_by(UID, maintain_order=True)]
    parts = _engine(engine, n_jobs)(run_one, items)
    # one chunk per column whatever the engine: polars' parallel aggregations add floats in an order that
    # follows the memory layout, and frames that crossed a process boundary come back laid out differently
    return pl.concat(parts, how="vertical_relaxed").rechunk()


def _with_notes(frame: pl.DataFrame, panel: Panel) -> pl.DataFrame:
    """Add ``note``: the input notes of the series then its model notes (null when there is nothing to say)."""
    prep = pl.DataFrame(
        {UID: list(panel.notes), "_prep": ["; ".join(v) for v in panel.notes.values()]},
        schema={UID: panel.frame.schema[UID], "_prep": pl.String},
    )
    frame = frame.join(prep, on=UID, how="left")
    note = pl.concat_str([pl.col("_prep"), pl.col("series_note")], separator="; ", ignore_nulls=True)
    return frame.with_columns(pl.when(note == "").then(None).otherwise(note).alias("note")).drop("_prep")


def _out(frame: pl.DataFrame, panel: Panel) -> pl.DataFrame:
    rename = {UID: panel.id_col, DS: panel.time_col}
    return frame.rename({k: v for k, v in rename.items() if k in frame.columns and k != v})


def _settings(panel: Panel, h: int, models: Any, n_windows: int, step: int | None, **kw: Any) -> Settings:
    if n_windows < 0 or (step is not None and step < 1):
        raise ValueError("n_windows must be >= 0 and step >= 1")
    return Settings(
        h=h,
        season_length=panel.season_length,
        exog=panel.exog,
        models=_models(models),
        n_windows=n_windows,
        step=step,
        **kw,
    )


#: backtest points a series needs for its own error level to set the width of its intervals
MIN_POINTS_OWN_SCALE = 10


def _calibration_scale(rows: pl.DataFrame, fitted: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Add ``cal``: the mean absolute backtest error of ``fitted`` per ``keys`` when it has enough points,
    else the row's naive scale. Residuals divided by it are comparable across series (normalised conformal).
    """
    own = fitted.group_by(keys).agg((pl.col(Y) - pl.col("mean")).abs().mean().alias("_mae"), pl.len().alias("_n"))
    rows = rows.join(own, on=keys, how="left")
    cal = pl.when(pl.col("_n").fill_null(0) >= MIN_POINTS_OWN_SCALE).then(pl.col("_mae")).otherwise(pl.col("scale"))
    return rows.with_columns(cal.alias("cal")).drop("_mae", "_n")


def _scaled(err: pl.Expr) -> pl.Expr:
    return pl.when(pl.col("cal") > 0).then(err / pl.col("cal")).otherwise(0.0).alias("r")


def _prep(
    id_col: str, time_col: str, target_col: str, freq: str | None, season_length: int | None, missing: Missing
) -> dict[str, Any]:
    """The frame settings :func:`prepare` takes, as passed to the public functions."""
    return dict(
        id_col=id_col, time_col=time_col, target_col=target_col, freq=freq, season_length=season_length, missing=missing
    )


def _forecast_points(
    history: Frame,
    h: int,
    future: Frame | None,
    models: Any,
    n_windows: int,
    step: int | None,
    engine: Engine | None,
    n_jobs: int,
    prep: dict[str, Any],
    sessions: Frame | None = None,
    planned: Frame | None = None,
) -> tuple[Panel, pl.DataFrame]:
    panel = prepare(history, h, future, exog=None if future is not None else (), **prep)
    frame, extra = _sessions(panel, sessions, planned, prep)
    settings = _settings(
        panel,
        h,
        models,
        n_windows,
        step,
        keep="selected",
        final=True,
        session_extra=extra,
        has_plan=planned is not None,
    )
    return panel, _points(panel, settings, engine, n_jobs, frame)


def _sessions(
    panel: Panel, sessions: Frame | None, planned: Frame | None, prep: dict[str, Any]
) -> tuple[pl.DataFrame | None, tuple[str, ...]]:
    if sessions is None:
        if planned is not None:
            raise ForecastInputError(
                [Problem(None, "planned sessions need the session history (sessions=)", "计划场次需要历史场次数据")]
            )
        return None, ()
    keys = {k: prep[k] for k in ("id_col", "time_col", "target_col")}
    frame, extra = prepare_sessions(sessions, planned, panel, **keys)
    if panel.freq != "1d":
        for uid in panel.frame[UID].unique().to_list():
            panel.notes.setdefault(uid, []).append(f"session_glm not run: needs daily data, not {panel.freq}")
        return None, ()
    return frame, extra


def _daily(points: pl.DataFrame, panel: Panel, taus: list[float]) -> pl.DataFrame:
    """The per-period forecast with calibrated quantiles, from the fitted ``points``."""
    bt = points.filter(pl.col("window").is_not_null() & pl.col("selected") & pl.col("mean").is_not_nan())
    fin = points.filter(pl.col("window").is_null()).select(UID, DS, "step", "model", "mean", "scale", "series_note")
    fin = _calibration_scale(fin, bt, [UID])
    bt = _calibration_scale(bt, bt, [UID]).select(UID, "step", _scaled(pl.col(Y) - pl.col("mean")))
    fin = apply_quantiles(residual_quantiles(bt, fin, taus), [quantile_name(t) for t in taus], total_scale="cal")
    fin = _with_notes(fin, panel)
    cols = [UID, DS, "model", "mean", *[quantile_name(t) for t in taus], "note"]
    return _out(fin.select(cols).sort(UID, DS), panel)


def _total(points: pl.DataFrame, panel: Panel, taus: list[float], k: int) -> pl.DataFrame:
    """The sum over the first ``k`` periods with quantiles from the backtest errors of the same
    ``k``-period sums (the first ``k`` steps of each backtest window), from the fitted ``points``."""
    points = points.filter(pl.col("step") <= k)
    sel = points.filter(pl.col("window").is_not_null() & pl.col("selected") & pl.col("mean").is_not_nan())
    bt = (
        _calibration_scale(sel, sel, [UID])
        .group_by(UID, "window")
        .agg((pl.col(Y) - pl.col("mean")).sum().alias("e"), pl.col("cal").first(), pl.len().alias("n"))
        .filter(pl.col("n") == k)
        .select(UID, pl.lit(0).alias("_k"), _scaled(pl.col("e")))
    )
    fin = (
        points.filter(pl.col("window").is_null())
        .group_by(UID, maintain_order=True)
        .agg(
            pl.col(DS).min().alias("start"),
            pl.col(DS).max().alias("end"),
            pl.col("model").first(),
            pl.col("mean").sum(),
            pl.col("scale").first(),
            pl.col("series_note").first(),
        )
        .with_columns(pl.lit(0).alias("_k"))
    )
    fin = _calibration_scale(fin, sel, [UID])
    rw_sd = 1.25 * math.sqrt(k * (k + 1) * (2 * k + 1) / 6)  # sum of random-walk errors, no backtest
    fin = residual_quantiles(bt, fin, taus, key="_k", fallback_sd=rw_sd)
    fin = _with_notes(apply_quantiles(fin, [quantile_name(t) for t in taus], total_scale="cal"), panel)
    cols = [UID, "start", "end", "model", "mean", *[quantile_name(t) for t in taus], "note"]
    return _out(fin.select(cols).sort(UID), panel)


def forecast(
    history: Frame,
    h: int,
    future: Frame | None = None,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    models: Sequence[str | Model] | None = None,
    *,
    n_windows: int = 3,
    step: int | None = None,
    freq: str | None = None,
    season_length: int | None = None,
    missing: Missing = "zero",
    id_col: str = UID,
    time_col: str = DS,
    target_col: str = Y,
    n_jobs: int = -1,
    engine: Engine | None = None,
    sessions: Frame | None = None,
    planned: Frame | None = None,
) -> pl.DataFrame:
    """Forecast every series ``h`` periods ahead with the model its backtest selects.

    Returns a polars frame with one row per series and horizon date: ``id_col``, ``time_col``,
    ``model`` (the selected rung's alias), ``mean``, one column per quantile named ``q{tau}``
    (``q0.1``, ``q0.5``, ``q0.9``; calibrated on the backtest errors, never negative, monotone) and
    ``note`` (what was filled, skipped or fell back, and why; null when nothing). ``future`` holds the
    planned regressors for the horizon; every numeric column it shares with ``history`` is used by the
    models that take regressors. ``sessions`` (one row per session and product: ``session_id``, ``ds``
    start in local time, ``y`` units, ``price``, ``explain_minutes``, ``live_minutes``, ``host_id``,
    ``sold_out``, extra numeric columns such as festival flags) adds the session demand model
    (``session_glm``) for daily series; ``planned`` holds the planned sessions of the horizon (the same
    columns without ``y`` and ``sold_out``). See ``docs/forecasting.md``.
    """
    taus = _taus(quantiles)
    prep = _prep(id_col, time_col, target_col, freq, season_length, missing)
    panel, points = _forecast_points(
        history, h, future, models, n_windows, step, engine, n_jobs, prep, sessions, planned
    )
    return _daily(points, panel, taus)


def forecast_with_totals(
    history: Frame,
    h: int,
    future: Frame | None = None,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    spans: Sequence[int] = (),
    models: Sequence[str | Model] | None = None,
    *,
    n_windows: int = 3,
    step: int | None = None,
    freq: str | None = None,
    season_length: int | None = None,
    missing: Missing = "zero",
    id_col: str = UID,
    time_col: str = DS,
    target_col: str = Y,
    n_jobs: int = -1,
    engine: Engine | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Forecast as :func:`forecast` and, from the same fits, the sums over the first ``k`` periods
    for each ``k`` in ``spans`` (and ``h``) as :func:`forecast_total` does.

    Returns ``(forecast, totals)``; ``totals`` has the columns of :func:`forecast_total` plus ``days``
    (the ``k`` of the row). One fit serves both, so a stored run can answer the stock question for
    7, 14 or 28 days without fitting again; a ``k``-period sum is calibrated on the first ``k``
    steps of the same backtest windows.
    """
    taus = _taus(quantiles)
    prep = _prep(id_col, time_col, target_col, freq, season_length, missing)
    panel, points = _forecast_points(history, h, future, models, n_windows, step, engine, n_jobs, prep)
    daily = _daily(points, panel, taus)
    days = sorted({int(k) for k in (*spans, h) if 0 < int(k) <= h})
    totals = [_total(points, panel, taus, k).with_columns(pl.lit(k).alias("days")) for k in days]
    return daily, pl.concat(totals, how="vertical_relaxed") if totals else pl.DataFrame()


def forecast_total(
    history: Frame,
    h: int,
    future: Frame | None = None,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    models: Sequence[str | Model] | None = None,
    *,
    n_windows: int = 3,
    step: int | None = None,
    freq: str | None = None,
    season_length: int | None = None,
    missing: Missing = "zero",
    id_col: str = UID,
    time_col: str = DS,
    target_col: str = Y,
    n_jobs: int = -1,
    engine: Engine | None = None,
    sessions: Frame | None = None,
    planned: Frame | None = None,
) -> pl.DataFrame:
    """Forecast the sum over the next ``h`` periods of every series, with quantiles of that sum.

    Returns one row per series: ``id_col``, ``start`` and ``end`` (first and last horizon date),
    ``model``, ``mean`` (sum of the period means) and ``q{tau}`` columns taken from the backtest errors
    of the cumulative ``h``-period forecast (pooled across series in naive-MAE units), not from adding
    daily quantiles; and ``note``.
    """
    taus = _taus(quantiles)
    prep = _prep(id_col, time_col, target_col, freq, season_length, missing)
    panel, points = _forecast_points(
        history, h, future, models, n_windows, step, engine, n_jobs, prep, sessions, planned
    )
    return _total(points, panel, taus, h)


def backtest(
    history: Frame,
    h: int,
    n_windows: int = 3,
    step: int | None = None,
    models: Sequence[str | Model] | None = None,
    *,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    exog: Sequence[str] | None = None,
    freq: str | None = None,
    season_length: int | None = None,
    missing: Missing = "zero",
    id_col: str = UID,
    time_col: str = DS,
    target_col: str = Y,
    n_jobs: int = -1,
    engine: Engine | None = None,
    sessions: Frame | None = None,
) -> pl.DataFrame:
    """Rolling-origin backtest: errors per series, model and cutoff.

    The windows end ``step`` periods apart (default ``h``), the last one at the end of each series;
    every model is fitted only on the data up to the cutoff, and models that take regressors get the
    realised values of ``exog`` (default: every numeric column besides id, date and target — leave out
    what is not known ahead, such as realised viewers). Returns a polars frame with ``id_col``,
    ``model``, ``cutoff`` (last date of the training part), ``demand_class``, ``mase``, ``rmsse``,
    ``wape``, ``smape`` (null when an actual is zero), ``pinball_q{tau}`` per quantile, ``coverage_80``
    and ``note`` (why a model failed). Quantiles of window ``j`` are calibrated on the other windows'
    errors (cross-conformal), so the coverage is an honest estimate of the calibrated intervals'.
    ``sessions`` (see :func:`forecast`) adds ``session_glm``; each window's sessions are its plan.
    """
    taus = _taus(quantiles)
    all_taus = sorted({*taus, 0.1, 0.9})
    panel = prepare(
        history,
        h,
        None,
        id_col=id_col,
        time_col=time_col,
        target_col=target_col,
        freq=freq,
        season_length=season_length,
        missing=missing,
        exog=tuple(exog) if exog is not None else None,
    )
    prep = {"id_col": id_col, "time_col": time_col, "target_col": target_col}
    frame, extra = _sessions(panel, sessions, None, prep)
    settings = _settings(panel, h, models, n_windows, step, keep="all", final=False, session_extra=extra)
    points = _points(panel, settings, engine, n_jobs, frame)
    ok = points.filter(pl.col("mean").is_not_nan())
    parts = []
    for j in ok["window"].unique().sort().to_list():
        other = ok.filter(pl.col("window") != j)
        res = _calibration_scale(other, other, [UID, "model"])
        res = res.select("model", UID, "step", _scaled(pl.col(Y) - pl.col("mean")))
        target = _calibration_scale(ok.filter(pl.col("window") == j), other, [UID, "model"])
        parts.append(residual_quantiles(res, target, all_taus, by=["model"]))
    names = [quantile_name(t) for t in all_taus]
    if parts:
        cal = apply_quantiles(pl.concat(parts), names, total_scale="cal")
    else:
        cal = ok.with_columns([pl.lit(None, dtype=pl.Float64).alias(n) for n in names])
    err = pl.col(Y) - pl.col("mean")
    metrics = [
        (err.abs().mean() / pl.col("scale").first()).alias("mase"),
        ((err**2).mean() / pl.col("scale2").first()).sqrt().alias("rmsse"),
        pl.when(pl.col(Y).sum() > 0).then(err.abs().sum() / pl.col(Y).sum()).alias("wape"),
        pl.when((pl.col(Y) == 0).any().not_())
        .then((2 * err.abs() / (pl.col(Y).abs() + pl.col("mean").abs())).mean())
        .alias("smape"),
        *[
            pl.max_horizontal(
                t * (pl.col(Y) - pl.col(quantile_name(t))), (t - 1) * (pl.col(Y) - pl.col(quantile_name(t)))
            )
            .mean()
            .alias(f"pinball_{quantile_name(t)}")
            for t in taus
        ],
        ((pl.col(Y) >= pl.col("q0.1")) & (pl.col(Y) <= pl.col("q0.9"))).mean().alias("coverage_80"),
        pl.col("demand_class").first(),
    ]
    good = (
        cal.group_by(UID, "model", "window", "cutoff")
        .agg(metrics)
        .with_columns(pl.lit(None, dtype=pl.String).alias("note"))
    )
    bad = (
        points.filter(pl.col("mean").is_nan())
        .group_by(UID, "model", "window", "cutoff")
        .agg(pl.col("demand_class").first(), pl.col("note").first())
    )
    out = pl.concat([good, bad], how="diagonal_relaxed")
    order = [m.alias for m in settings.models] if settings.models else None
    cols = [
        UID,
        "model",
        "cutoff",
        "demand_class",
        "mase",
        "rmsse",
        "wape",
        "smape",
        *[f"pinball_{quantile_name(t)}" for t in taus],
        "coverage_80",
        "note",
    ]
    out = out.sort(
        UID,
        "window",
        "model"
        if order is None
        else pl.col("model").replace_strict({a: i for i, a in enumerate(order)}, default=len(order)),
    )
    return _out(out.select(cols), panel)


def classify_demand(
    history: Frame,
    *,
    freq: str | None = None,
    missing: Missing = "zero",
    id_col: str = UID,
    time_col: str = DS,
    target_col: str = Y,
) -> pl.DataFrame:
    """Syntetos–Boylan class per series: ``id_col``, ``adi``, ``cv2``, ``demand_class``.

    Classes: ``smooth`` (ADI < 1.32, CV² < 0.49), ``erratic`` (CV² >= 0.49), ``intermittent``
    (ADI >= 1.32), ``lumpy`` (both), ``zero`` (no demand). Missing periods count as zero by default.
    """
    panel = prepare(
        history, 1, None, id_col=id_col, time_col=time_col, target_col=target_col, freq=freq, missing=missing, exog=()
    )
    rows = []
    for (uid,), g in panel.frame.filter(pl.col(Y).is_not_null()).group_by(UID, maintain_order=True):
        y = g[Y].to_numpy()
        adi, cv2 = adi_cv2(y)
        rows.append((uid, adi, cv2, demand_class(y)))
    out = pl.DataFrame(
        rows,
        schema={UID: panel.frame.schema[UID], "adi": pl.Float64, "cv2": pl.Float64, "demand_class": pl.String},
        orient="row",
    )
    return _out(out.sort(UID), panel)
