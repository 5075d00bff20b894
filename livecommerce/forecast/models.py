"""The model ladder: settings in the constructor, data in ``fit``, horizon in ``predict``.

Every model works on one regular series held as a numpy array ``y`` (oldest first, no gaps, no
NaN, counts >= 0). ``fit`` returns a frozen *fitted* object whose ``predict(h, X)`` returns the
mean forecast for the next ``h`` periods as a float array. Models that take regressors
(``uses_exog``) get ``X`` as a mapping ``column -> array`` aligned with ``y`` in ``fit`` and with
the horizon in ``predict``. Models never see dates: the position in the season is the index
modulo ``season_length``, which the caller keeps consistent between fit and predict.

A model that cannot fit the data it was given raises :class:`ModelFitError`; the caller records
the reason and moves down the ladder.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import numpy as np

__all__ = [
    "ETS",
    "GLM",
    "MODELS",
    "TSB",
    "CrostonSBA",
    "Fitted",
    "Model",
    "ModelFitError",
    "MovingAverage",
    "SeasonalNaive",
    "model_from_alias",
]

Exog = Mapping[str, np.ndarray]


class ModelFitError(RuntimeError):
    """The model cannot be fitted to (or cannot forecast from) the data it was given."""


class Fitted(Protocol):
    """A fitted model: an immutable value that forecasts."""

    def predict(self, h: int, X: Exog | None = None) -> np.ndarray:
        """Return the mean forecast for the next ``h`` periods."""
        ...


class Model:
    """Base of the ladder: ``alias`` names the rung in outputs; ``uses_exog`` if it takes regressors."""

    alias: ClassVar[str] = "model"
    uses_exog: ClassVar[bool] = False

    def min_length(self, season_length: int) -> int:
        """Shortest history (in periods) this model accepts."""
        return 1

    def fit(self, y: np.ndarray, X: Exog | None = None, *, season_length: int = 1) -> Fitted:
        """Fit to ``y`` (and ``X``) and return the fitted value."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.alias!r})"


def _check_length(model: Model, y: np.ndarray, season_length: int) -> None:
    need = model.min_length(season_length)
    if len(y) < need:
        raise ModelFitError(f"{model.alias} needs at least {need} periods, got {len(y)}")


# --- baselines ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _RepeatFit:
    """Forecast by repeating a fixed pattern (a season, or one value)."""

    pattern: np.ndarray

    def predict(self, h: int, X: Exog | None = None) -> np.ndarray:
        reps = math.ceil(h / len(self.pattern))
        return np.tile(self.pattern, reps)[:h].astype(float)


class SeasonalNaive(Model):
    """Repeat the last season; the last value (naive) when the history is shorter than a season."""

    alias = "seasonal_naive"

    def __init__(self, season_length: int | None = None) -> None:
        self.season_length = season_length

    def fit(self, y: np.ndarray, X: Exog | None = None, *, season_length: int = 1) -> Fitted:
        _check_length(self, y, season_length)
        m = self.season_length or season_length
        pattern = y[-m:] if m > 1 and len(y) >= m else y[-1:]
        return _RepeatFit(np.asarray(pattern, dtype=float).copy())


class MovingAverage(Model):
    """Mean of the last ``window`` periods; by default one season when it is at most 12 periods, else 4."""

    alias = "moving_average"

    def __init__(self, window: int | None = None) -> None:
        self.window = window

    def fit(self, y: np.ndarray, X: Exog | None = None, *, season_length: int = 1) -> Fitted:
        _check_length(self, y, season_length)
        w = self.window or (season_length if 1 < season_length <= 12 else 4)
        return _RepeatFit(np.array([float(np.mean(y[-w:]))]))


# --- exponential smoothing ---------------------------------------------------------------


@dataclass(frozen=True)
class _ETSFit:
    results: Any = field(repr=False)
    spec: str

    def predict(self, h: int, X: Exog | None = None) -> np.ndarray:
        out = np.asarray(self.results.forecast(h), dtype=float)
        if not np.all(np.isfinite(out)):
            raise ModelFitError("ets produced a non-finite forecast")
        return out


class ETS(Model):
    """Additive exponential smoothing (statsmodels Holt-Winters), additive season when data allow.

    ``trend``: ``None`` (level only, the default) or ``"damped"`` (damped additive trend).
    The weekly/yearly season is used when the history holds at least two full seasons.
    """

    alias = "ets"

    def __init__(self, trend: Literal["damped"] | None = None, seasonal: bool = True) -> None:
        self.trend = trend
        self.seasonal = seasonal
        if trend == "damped":
            self.alias = "ets_damped"

    def min_length(self, season_length: int) -> int:
        return 6

    def fit(self, y: np.ndarray, X: Exog | None = None, *, season_length: int = 1) -> Fitted:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        _check_length(self, y, season_length)
        seasonal = self.seasonal and season_length > 1 and len(y) >= 2 * season_length + 2
        kwargs: dict[str, Any] = {"initialization_method": "estimated"}
        if seasonal:
            kwargs.update(seasonal="add", seasonal_periods=season_length)
        if self.trend == "damped":
            kwargs.update(trend="add", damped_trend=True)
        y = np.asarray(y, dtype=float)
        if np.ptp(y) == 0:  # a constant series: the optimiser has nothing to do
            return _RepeatFit(y[-1:].copy())
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results = ExponentialSmoothing(y, **kwargs).fit()
        except Exception as exc:  # statsmodels raises many kinds on degenerate data
            raise ModelFitError(f"ets failed: {exc}") from exc
        spec = f"A,{'Ad' if self.trend else 'N'},{'A' if seasonal else 'N'}"
        return _ETSFit(results, spec)


# --- intermittent demand ------------------------------------------------------------------


def _ses_last(x: np.ndarray, alpha: float) -> float:
    """Simple exponential smoothing started at the first value; return the last level."""
    level = float(x[0])
    for v in x[1:]:
        level += alpha * (float(v) - level)
    return level


class CrostonSBA(Model):
    """Croston's method with the Syntetos–Boylan bias correction.

    Sizes ``z`` of the non-zero demands and the intervals ``p`` between them (the first interval
    counted from the start of the history) are smoothed separately with SES started at their
    first value; the forecast is ``(1 - alpha / 2) * z / p`` for every future period.
    """

    alias = "croston_sba"

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = alpha

    def fit(self, y: np.ndarray, X: Exog | None = None, *, season_length: int = 1) -> Fitted:
        _check_length(self, y, season_length)
        idx = np.flatnonzero(np.asarray(y) > 0)
        if len(idx) == 0:
            return _RepeatFit(np.array([0.0]))
        sizes = np.asarray(y, dtype=float)[idx]
        intervals = np.diff(np.concatenate([[-1], idx])).astype(float)
        z = _ses_last(sizes, self.alpha)
        p = _ses_last(intervals, self.alpha)
        return _RepeatFit(np.array([(1 - self.alpha / 2) * z / p]))


class TSB(Model):
    """Teunter–Syntetos–Babai: the demand probability is updated every period, so it decays when demand stops.

    ``prob`` starts at the share of non-zero periods in the first season-or-10 periods, ``size`` at the first
    non-zero demand; ``prob += alpha_p * (1[y > 0] - prob)`` every period, ``size += alpha_d * (y - size)``
    on non-zero periods; the forecast is ``prob * size``.
    """

    alias = "tsb"

    def __init__(self, alpha_d: float = 0.1, alpha_p: float = 0.1) -> None:
        self.alpha_d = alpha_d
        self.alpha_p = alpha_p

    def fit(self, y: np.ndarray, X: Exog | None = None, *, season_length: int = 1) -> Fitted:
        _check_length(self, y, season_length)
        y = np.asarray(y, dtype=float)
        nz = y > 0
        if not nz.any():
            return _RepeatFit(np.array([0.0]))
        prob = float(np.mean(nz[: max(season_length, 10)]))
        size = float(y[nz][0])
        for v, d in zip(y, nz, strict=True):
            prob += self.alpha_p * (float(d) - prob)
            if d:
                size += self.alpha_d * (v - size)
        return _RepeatFit(np.array([prob * size]))


# --- regression ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _GLMFit:
    params: np.ndarray = field(repr=False)
    columns: tuple[str, ...]
    n_train: int
    season_length: int
    log_columns: tuple[str, ...]
    centers: tuple[float, ...]
    scales: tuple[float, ...]
    trend: bool
    season: bool
    cap: float

    @property
    def coefficients(self) -> dict[str, float]:
        """Coefficients by term on the original scale of each regressor (``log_price`` is the elasticity)."""
        out: dict[str, float] = {}
        for name, b, s in zip(self.columns, self.params, self.scales, strict=True):
            out[name] = float(b / s)
        return out

    def predict(self, h: int, X: Exog | None = None) -> np.ndarray:
        t = np.arange(self.n_train, self.n_train + h)
        design = _glm_design(t, X, self, h)
        mu = np.exp(np.clip(design @ self.params, -50, 50))
        if not np.all(np.isfinite(mu)) or mu.max(initial=0) > self.cap:
            raise ModelFitError("glm forecast explodes beyond ten times the largest observed value")
        return mu


def _glm_terms(
    t: np.ndarray, X: Exog | None, n_train: int, m: int, log_columns: tuple[str, ...], trend: bool, season: bool
) -> dict[str, np.ndarray]:
    terms: dict[str, np.ndarray] = {"const": np.ones(len(t))}
    for name, values in (X or {}).items():
        v = np.asarray(values, dtype=float)
        if name in log_columns:
            terms[f"log_{name}"] = np.log(v)
        else:
            terms[name] = v
    if trend:
        terms["trend"] = t / max(n_train, 1)
    if season and m > 1:
        if m <= 12:
            for k in range(1, m):
                terms[f"season_{k}"] = (t % m == k).astype(float)
        else:
            for k in (1, 2, 3):
                terms[f"sin_{k}"] = np.sin(2 * np.pi * k * t / m)
                terms[f"cos_{k}"] = np.cos(2 * np.pi * k * t / m)
    return terms


def _glm_design(t: np.ndarray, X: Exog | None, fit: _GLMFit, h: int) -> np.ndarray:
    terms = _glm_terms(t, X, fit.n_train, fit.season_length, fit.log_columns, fit.trend, fit.season)
    missing = [c for c in fit.columns if c not in terms]
    if missing:
        raise ModelFitError(f"glm needs future values of {', '.join(missing)}")
    design = np.column_stack(
        [(terms[c] - mu) / s for c, mu, s in zip(fit.columns, fit.centers, fit.scales, strict=True)]
    )
    if not np.all(np.isfinite(design)):
        raise ModelFitError("glm: future regressors contain missing or non-positive (logged) values")
    return design


class GLM(Model):
    """Poisson GLM (log link) of demand on regressors, season and trend: where price and sessions act.

    Terms: every exogenous column given (``log(x)`` for the ``log_columns``, by default ``price``, so its
    coefficient is the price elasticity), a linear trend, and season dummies (``t mod m``; three Fourier
    pairs when the season is longer than 12 periods). Regressors are centred and scaled for the fit;
    ``coefficients`` reports them on the original scale. Rows with a missing regressor are left out of
    the fit; constant columns are dropped. Poisson pseudo-maximum likelihood is consistent for the
    log-linear mean under over-dispersion; intervals come from calibration, not from the model.
    """

    alias = "glm"
    uses_exog = True

    def __init__(self, log_columns: tuple[str, ...] = ("price",), trend: bool = True, season: bool = True) -> None:
        self.log_columns = tuple(log_columns)
        self.trend = trend
        self.season = season

    def min_length(self, season_length: int) -> int:
        return max(14, min(season_length, 12) + 8)

    def fit(self, y: np.ndarray, X: Exog | None = None, *, season_length: int = 1) -> Fitted:
        import statsmodels.api as sm

        _check_length(self, y, season_length)
        y = np.asarray(y, dtype=float)
        n = len(y)
        t = np.arange(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = _glm_terms(t, X, n, season_length, self.log_columns, self.trend, self.season)
        ok = np.ones(n, dtype=bool)
        for v in terms.values():
            ok &= np.isfinite(v)
        if ok.sum() < self.min_length(season_length):
            raise ModelFitError(f"glm: only {int(ok.sum())} rows with all regressors present")
        columns, centers, scales = [], [], []
        for name, v in terms.items():
            vv = v[ok]
            if name == "const":
                columns.append(name)
                centers.append(0.0)
                scales.append(1.0)
                continue
            sd = float(np.std(vv))
            if sd == 0:
                continue
            columns.append(name)
            centers.append(float(np.mean(vv)))
            scales.append(1.0 if name.startswith("log_") or name == "trend" else sd)
        design = np.column_stack([(terms[c][ok] - mu) / s for c, mu, s in zip(columns, centers, scales, strict=True)])
        if y[ok].sum() == 0:
            raise ModelFitError("glm: no demand in the rows it can use")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = sm.GLM(y[ok], design, family=sm.families.Poisson()).fit(maxiter=100)
        except Exception as exc:
            raise ModelFitError(f"glm failed: {exc}") from exc
        params = np.asarray(res.params, dtype=float)
        if not np.all(np.isfinite(params)):
            raise ModelFitError("glm did not converge")
        return _GLMFit(
            params=params,
            columns=tuple(columns),
            n_train=n,
            season_length=season_length,
            log_columns=self.log_columns,
            centers=tuple(centers),
            scales=tuple(scales),
            trend=self.trend,
            season=self.season,
            cap=10 * float(y.max()) + 10,
        )


#: alias -> model factory with default settings; the default ladder in the order it is tried
MODELS: dict[str, type[Model]] = {
    "seasonal_naive": SeasonalNaive,
    "moving_average": MovingAverage,
    "ets": ETS,
    "croston_sba": CrostonSBA,
    "tsb": TSB,
    "glm": GLM,
}


def model_from_alias(alias: str) -> Model:
    """Return a model with default settings for ``alias`` (``ets_damped`` is ETS with a damped trend)."""
    if alias == "ets_damped":
        return ETS(trend="damped")
    if alias == "session_glm":
        from livecommerce.forecast.session import SessionGLM

        return SessionGLM()
    try:
        return MODELS[alias]()
    except KeyError:
        known = ", ".join([*MODELS, "ets_damped", "session_glm"])
        raise ValueError(f"unknown model {alias!r}; known: {known} / 未知模型 {alias!r}") from None
