"""The per-series work: classify, backtest the ladder, select, forecast. A pure function of a frame.

:func:`forecast_series` takes one series' frame (history rows with ``y``, then horizon rows with
``y`` null) and the settings, and returns a frame of *forecast points*: backtest forecasts of each
period with the actual ``y`` (``window`` 0, 1, ...) — of every model (``keep="all"``), or of the
model the selection would have picked without that window (``keep="selected"``, the calibration
rows) — and the selected model's forecast from the whole history (``window`` null). Calibration and metrics are
computed afterwards from these points, across series, by the caller. A distributed engine can map
this function over series unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from livecommerce.forecast._frames import DS, UID, Y
from livecommerce.forecast.intermittency import demand_class
from livecommerce.forecast.metrics import naive_scale
from livecommerce.forecast.models import Model, ModelFitError, model_from_alias
from livecommerce.forecast.session import SessionArrays

BASELINE = "seasonal_naive"
_INTERMITTENT = ("intermittent", "lumpy")


@dataclass(frozen=True)
class Settings:
    """What every series is forecast with (the data-independent part of a call)."""

    h: int
    season_length: int
    exog: tuple[str, ...]
    models: tuple[Model, ...] | None = None  # None: the default ladder, gated by demand class
    n_windows: int = 3
    step: int | None = None  # periods between cutoffs; None: h
    min_train: int | None = None  # shortest training part of a backtest window; None: max(8, season + 1)
    keep: str = "selected"  # "selected": only the selected model's points; "all": every model's backtest
    final: bool = True  # also forecast the horizon from the whole history
    session_extra: tuple[str, ...] = ()  # extra numeric columns of the session frame (festival flags)
    has_plan: bool = False  # planned sessions were given for the horizon


def _ladder(settings: Settings, klass: str, sessions: SessionArrays | None) -> list[Model]:
    if settings.models is not None:
        return list(settings.models)
    names = ["seasonal_naive", "moving_average"]
    names += ["croston_sba", "tsb"] if klass in _INTERMITTENT else ["ets"]
    names.append("glm")
    if sessions is not None and len(sessions):
        names.append("session_glm")
    return [model_from_alias(n) for n in names]


def _predict(
    model: Model, y: np.ndarray, X: dict[str, np.ndarray], c: int, h: int, m: int, S: SessionArrays | None = None
) -> np.ndarray:
    train_x = {k: v[:c] for k, v in X.items()} if model.uses_exog else None
    fut_x = {k: v[c : c + h] for k, v in X.items()} if model.uses_exog else None
    if getattr(model, "uses_sessions", False):
        # fit on the sessions before the cutoff; the window's sessions are its plan (units hidden)
        train_s = S.take(S.t < c) if S is not None else None
        plan = S.take((S.t >= c) & (S.t < c + h)).hidden() if S is not None else None
        fitted = model.fit(y[:c], train_x, season_length=m, sessions=train_s)  # type: ignore[call-arg]
        out = np.asarray(fitted.predict(h, fut_x, sessions=plan), dtype=float)  # type: ignore[call-arg]
    else:
        fitted = model.fit(y[:c], train_x, season_length=m)
        out = np.asarray(fitted.predict(h, fut_x), dtype=float)
    if out.shape != (h,) or not np.all(np.isfinite(out)):
        raise ModelFitError(f"{model.alias} returned no finite forecast")
    return np.maximum(out, 0.0)


def _select(scores: dict[str, list[float]], aliases: list[str], windows: Any) -> str:
    """The alias with the lowest mean MASE over ``windows``, unless it does not beat the baseline."""
    means = {a: float(np.mean([v[i] for i in windows])) for a, v in scores.items()}
    best = min(means, key=lambda a: (means[a], aliases.index(a)))
    if BASELINE in means and means[best] >= means[BASELINE]:
        return BASELINE
    return best


def cutoffs(n: int, h: int, n_windows: int, step: int, min_train: int) -> list[int]:
    """Training lengths of the backtest windows (oldest first) that leave ``min_train`` periods to fit on."""
    cs = [n - h - (n_windows - 1 - j) * step for j in range(n_windows)]
    return [c for c in cs if c >= min_train]


def forecast_series(frame: pl.DataFrame, settings: Settings, sessions: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return the forecast points of one series (see the module docstring for the columns).

    ``sessions``: the series' session rows (history, then planned) from ``prepare_sessions``, for the
    session demand model.
    """
    hist = frame.filter(pl.col(Y).is_not_null())
    horizon = frame.filter(pl.col(Y).is_null())
    uid = frame[UID][0]
    y = hist[Y].to_numpy().astype(float)
    n, h, m = len(y), settings.h, settings.season_length
    X = {c: np.concatenate([hist[c].to_numpy(), horizon[c].to_numpy()]).astype(float) for c in settings.exog}
    ds_all = pl.concat([hist[DS], horizon[DS]])
    klass = demand_class(y)
    notes: list[str] = []
    step = settings.step or h
    min_train = settings.min_train or max(8, m + 1)
    cuts = cutoffs(n, h, settings.n_windows, step, min_train)
    S = SessionArrays.from_frame(sessions, settings.session_extra) if sessions is not None and sessions.height else None
    ladder = _ladder(settings, klass, S)
    future_x_ok = all(np.all(np.isfinite(X[c][n : n + h])) for c in settings.exog) and len(horizon) == h
    if settings.final and not future_x_ok:
        blocked = [mdl.alias for mdl in ladder if mdl.uses_exog]
        ladder = [mdl for mdl in ladder if not mdl.uses_exog]
        if blocked:
            notes.append(f"{', '.join(blocked)} not run: future regressors incomplete")
    if settings.final and not settings.has_plan and any(getattr(mdl, "uses_sessions", False) for mdl in ladder):
        ladder = [mdl for mdl in ladder if not getattr(mdl, "uses_sessions", False)]
        notes.append("session_glm not run: no planned sessions for the horizon (planned=)")
    if klass == "zero":
        notes.append("all-zero history: forecast is zero")
        ladder = [mdl for mdl in ladder if mdl.alias == BASELINE] or ladder[:1]
    if len(cuts) < settings.n_windows:
        need = min_train + h + (settings.n_windows - 1) * step
        notes.append(f"short history ({n} periods, {need} for {settings.n_windows} backtest windows): {len(cuts)} used")

    rows: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    mase_by_model: dict[str, list[float]] = {}
    for j, c in enumerate(cuts):
        actual = y[c : c + h]
        scale = naive_scale(y[:c])
        scale2 = naive_scale(y[:c], power=2)
        for mdl in ladder:
            note = None
            try:
                pred = _predict(mdl, y, X, c, h, m, S)
                mase_by_model.setdefault(mdl.alias, []).append(float(np.mean(np.abs(actual - pred)) / scale))
            except ModelFitError as exc:
                pred = np.full(h, np.nan)
                note = str(exc)
                failed.setdefault(mdl.alias, note)
            rows.extend(
                {
                    "model": mdl.alias,
                    "window": j,
                    "cutoff": ds_all[c - 1],
                    DS: ds_all[c + k],
                    "step": k + 1,
                    Y: float(actual[k]),
                    "mean": float(pred[k]),
                    "scale": scale,
                    "scale2": scale2,
                    "note": note,
                }
                for k in range(h)
            )

    complete = {a: v for a, v in mase_by_model.items() if len(v) == len(cuts) and a not in failed}
    aliases = [mdl.alias for mdl in ladder]
    if complete:
        best = _select(complete, aliases, range(len(cuts)))
    else:
        best = BASELINE if BASELINE in aliases else aliases[0]
        if cuts:
            notes.append("no model completed the backtest; using " + best)
        else:
            notes.append(f"no backtest possible; using {best} without selection")
    for alias, why in failed.items():
        notes.append(f"{alias} failed: {why}")

    final_rows: list[dict[str, Any]] = []
    if settings.final:
        chosen = next(mdl for mdl in ladder if mdl.alias == best) if best in aliases else model_from_alias(best)
        try:
            pred = _predict(chosen, y, X, n, h, m, S)
        except ModelFitError as exc:
            notes.append(f"{best} failed on the full history ({exc}); using {BASELINE}")
            best = BASELINE
            pred = _predict(model_from_alias(BASELINE), y, X, n, h, m)
        scale, scale2 = naive_scale(y), naive_scale(y, power=2)
        final_rows = [
            {
                "model": best,
                "window": None,
                "cutoff": None,
                DS: ds_all[n + k],
                "step": k + 1,
                Y: None,
                "mean": float(pred[k]),
                "scale": scale,
                "scale2": scale2,
                "note": None,
            }
            for k in range(h)
        ]
    if settings.keep == "selected":
        # calibration rows: window j forecast by the model selected on the other windows, so the
        # errors include the selection step (errors of the model selected on all windows are optimistic)
        if complete and len(cuts) > 1:
            pick = {j: _select(complete, aliases, [i for i in range(len(cuts)) if i != j]) for j in range(len(cuts))}
        else:
            pick = {j: best for j in range(len(cuts))}
        rows = [r for r in rows if r["model"] == pick[r["window"]]]
    schema = {
        "model": pl.String,
        "window": pl.Int32,
        "cutoff": ds_all.dtype,
        DS: ds_all.dtype,
        "step": pl.Int32,
        Y: pl.Float64,
        "mean": pl.Float64,
        "scale": pl.Float64,
        "scale2": pl.Float64,
        "note": pl.String,
    }
    flag = pl.lit(True) if settings.keep == "selected" else pl.col("model") == best
    out = (
        pl.DataFrame(rows + final_rows, schema=schema, orient="row")
        if rows or final_rows
        else pl.DataFrame(schema=schema)
    )
    return out.with_columns(
        pl.lit(uid, dtype=frame.schema[UID]).alias(UID),
        flag.alias("selected"),
        pl.lit(klass).alias("demand_class"),
        pl.lit("; ".join(notes) if notes else None, dtype=pl.String).alias("series_note"),
    )


def run_one(item: tuple[Any, ...]) -> pl.DataFrame:
    """``forecast_series`` on a ``(frame, settings)`` or ``(frame, settings, sessions)`` tuple: the unit a map
    engine applies.

    BLAS runs single-threaded inside: the fits are small, and threads fighting over the cores made
    them three to eight times slower; parallelism comes from mapping over series instead.
    """
    from threadpoolctl import threadpool_limits

    frame, settings, *rest = item
    with threadpool_limits(1):
        return forecast_series(frame, settings, rest[0] if rest else None)
