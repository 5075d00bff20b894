"""Syntetos–Boylan demand classification by ADI and CV²."""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["ADI_CUTOFF", "CV2_CUTOFF", "DemandClass", "adi_cv2", "demand_class"]

DemandClass = Literal["smooth", "erratic", "intermittent", "lumpy", "zero"]

#: Syntetos–Boylan cut-offs: intermittent when ADI >= 1.32, erratic when CV² >= 0.49
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49


def adi_cv2(y: np.ndarray) -> tuple[float, float]:
    """Return ``(adi, cv2)`` of a series.

    ADI is the average inter-demand interval, ``periods / non-zero periods`` (``inf`` when there is no
    demand); CV² is the squared coefficient of variation (sample standard deviation, ``ddof=1``) of the
    non-zero demand sizes, 0 with fewer than two of them.
    """
    y = np.asarray(y, dtype=float)
    nz = y[y > 0]
    if len(nz) == 0:
        return float("inf"), 0.0
    adi = len(y) / len(nz)
    cv2 = float((np.std(nz, ddof=1) / np.mean(nz)) ** 2) if len(nz) > 1 else 0.0
    return float(adi), cv2


def demand_class(y: np.ndarray) -> DemandClass:
    """Return the demand class: smooth, erratic (CV² high), intermittent (ADI high), lumpy (both) or zero."""
    adi, cv2 = adi_cv2(y)
    if not np.isfinite(adi):
        return "zero"
    sparse = adi >= ADI_CUTOFF
    variable = cv2 >= CV2_CUTOFF
    if sparse and variable:
        return "lumpy"
    if sparse:
        return "intermittent"
    if variable:
        return "erratic"
    return "smooth"
