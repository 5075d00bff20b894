"""Conformal calibration: quantiles from backtest errors, scaled per series, pooled where few.

Residuals ``r = (y - mean) / scale`` of the backtest windows (``scale`` = the in-sample naive MAE of
the window's training part) are turned into quantiles of ``r`` (the split-conformal order statistic:
the ``ceil((n+1) tau)``-th smallest for ``tau > 0.5``, ``floor`` below, the median at 0.5) by the first
source with enough values, in this order:

1. ``series-step``: the series' own residuals at that horizon step (at least ``min_own``);
2. ``pooled-step``: all series' residuals at that step (at least ``min_pool``);
3. ``series``: the series' own residuals over all steps (at least ``min_pool``);
4. ``pooled``: all residuals;
5. ``normal``: no backtest at all: a normal law with sd = 1.25 naive MAE x sqrt(step).

The forecast quantile is ``max(0, mean + q_r * scale)`` with the whole history's scale.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy.stats import norm

from livecommerce.forecast._frames import UID

MIN_OWN = 20
MIN_POOL = 10


def _conformal(tau: float) -> pl.Expr:
    """The split-conformal order statistic: the ceil((n+1)tau)-th smallest above the median, floor below."""
    if tau == 0.5:
        return pl.col("r").median()
    pos = (pl.len() + 1) * tau
    rank = pos.ceil() if tau > 0.5 else pos.floor()
    idx = (rank.cast(pl.Int64) - 1).clip(0, pl.len().cast(pl.Int64) - 1)
    return pl.col("r").sort().get(idx)


def _q(taus: Sequence[float], prefix: str) -> list[pl.Expr]:
    return [_conformal(t).alias(f"{prefix}{i}") for i, t in enumerate(taus)]


def residual_quantiles(
    res: pl.DataFrame,
    targets: pl.DataFrame,
    taus: Sequence[float],
    by: Sequence[str] = (),
    key: str = "step",
    min_own: int = MIN_OWN,
    min_pool: int = MIN_POOL,
    fallback_sd: float | None = None,
) -> pl.DataFrame:
    """Add columns ``_r0.._rk`` (scaled residual quantiles) and ``calibration`` (the source used) to ``targets``.

    ``res`` has ``by + [UID, key, "r"]``; ``targets`` has ``by + [UID, key]``. ``fallback_sd`` replaces the
    normal fallback's ``1.25 sqrt(step)`` (in naive-MAE units).
    """
    by = list(by)
    k = len(taus)
    out = targets
    sources = [
        ("series-step", [*by, UID, key], min_own),
        ("pooled-step", [*by, key], min_pool),
        ("series", [*by, UID], min_pool),
        ("pooled", by, 1),
    ]
    for name, keys, _ in sources:
        if keys:
            agg = res.group_by(keys).agg(pl.len().alias(f"n_{name}"), *_q(taus, f"{name}_"))
            out = out.join(agg, on=keys, how="left")
        else:
            agg = res.select(pl.len().alias(f"n_{name}"), *_q(taus, f"{name}_"))
            out = out.join(agg, how="cross")
    chosen = pl.lit("normal")
    for name, _, need in reversed(sources):
        chosen = pl.when(pl.col(f"n_{name}").fill_null(0) >= need).then(pl.lit(name)).otherwise(chosen)
    out = out.with_columns(chosen.alias("calibration"))
    cols = []
    for i, t in enumerate(taus):
        z = float(norm.ppf(t))
        if fallback_sd is not None:
            expr = pl.lit(z * fallback_sd)
        else:
            expr = pl.lit(z * 1.25) * pl.col(key).cast(pl.Float64).sqrt()
        for name, _, _ in reversed(sources):
            expr = pl.when(pl.col("calibration") == name).then(pl.col(f"{name}_{i}")).otherwise(expr)
        cols.append(expr.alias(f"_r{i}"))
    out = out.with_columns(cols)
    return out.select(*targets.columns, *[f"_r{i}" for i in range(k)], "calibration")


def apply_quantiles(frame: pl.DataFrame, names: Sequence[str], total_scale: str = "scale") -> pl.DataFrame:
    """Turn ``_r{i}`` into quantile columns ``names``: ``max(0, mean + r * scale)``, made monotone."""
    q = [
        pl.max_horizontal(pl.lit(0.0), pl.col("mean") + pl.col(f"_r{i}") * pl.col(total_scale)).alias(n)
        for i, n in enumerate(names)
    ]
    out = frame.with_columns(q).drop([f"_r{i}" for i in range(len(names))])
    if len(names) > 1:  # quantiles of one sample are monotone already; guard against float ties
        arr = np.maximum.accumulate(out.select(names).to_numpy(), axis=1)
        out = out.with_columns([pl.Series(n, arr[:, i]) for i, n in enumerate(names)])
    return out
