"""Point and quantile accuracy measures on arrays (one forecast window of one series).

The scaled errors divide by the in-sample one-step naive error of the training part (the M5
convention): ``scale = mean |y_t - y_{t-1}|`` for MASE and ``mean (y_t - y_{t-1})²`` for RMSSE.
When that is 0 (a constant training series) the mean absolute (squared) level is used, and 1 when
the training series is all zeros, so the measure stays finite: then it is the plain error.
"""

from __future__ import annotations

import numpy as np

__all__ = ["coverage", "mase", "naive_scale", "pinball", "rmsse", "smape", "wape"]


def naive_scale(y_train: np.ndarray, power: int = 1) -> float:
    """Mean |one-step naive error|**power of the training series (the MASE/RMSSE denominator)."""
    y = np.asarray(y_train, dtype=float)
    if len(y) >= 2:
        s = float(np.mean(np.abs(np.diff(y)) ** power))
        if s > 0:
            return s
    s = float(np.mean(np.abs(y) ** power)) if len(y) else 0.0
    return s if s > 0 else 1.0


def mase(y: np.ndarray, yhat: np.ndarray, scale: float) -> float:
    """Mean absolute error divided by ``scale`` (see :func:`naive_scale`)."""
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(yhat))) / scale)


def rmsse(y: np.ndarray, yhat: np.ndarray, scale2: float) -> float:
    """Root of the mean squared error divided by ``scale2`` (the squared naive scale, ``power=2``)."""
    return float(np.sqrt(np.mean((np.asarray(y) - np.asarray(yhat)) ** 2) / scale2))


def wape(y: np.ndarray, yhat: np.ndarray) -> float:
    """Sum of absolute errors over the sum of actuals (NaN when nothing was sold)."""
    total = float(np.sum(np.abs(y)))
    return float(np.sum(np.abs(np.asarray(y) - np.asarray(yhat))) / total) if total > 0 else float("nan")


def smape(y: np.ndarray, yhat: np.ndarray) -> float:
    """Symmetric MAPE in [0, 2]: mean of 2|y - f| / (|y| + |f|); NaN when any actual is zero."""
    y = np.asarray(y, dtype=float)
    f = np.asarray(yhat, dtype=float)
    if np.any(y == 0):
        return float("nan")
    return float(np.mean(2 * np.abs(y - f) / (np.abs(y) + np.abs(f))))


def pinball(y: np.ndarray, q: np.ndarray, tau: float) -> float:
    """Mean pinball (quantile) loss of quantile forecasts ``q`` at level ``tau``."""
    d = np.asarray(y, dtype=float) - np.asarray(q, dtype=float)
    return float(np.mean(np.maximum(tau * d, (tau - 1) * d)))


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of actuals inside the closed interval ``[lo, hi]``."""
    y = np.asarray(y, dtype=float)
    return float(np.mean((y >= np.asarray(lo)) & (y <= np.asarray(hi))))
