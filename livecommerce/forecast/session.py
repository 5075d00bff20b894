"""The session demand model: units of a product per live session, summed over the planned sessions of a day.

In live commerce demand happens in sessions: a day without a session is "no shop open", not "no
demand". :class:`SessionGLM` is a rung of the ladder (alias ``session_glm``) with two parts:

* **per session** — a Poisson GLM (log link, pseudo-maximum likelihood) of the units sold in each
  (session, product) on ``log(price)`` (its coefficient is the price elasticity), ``log(explain
  minutes)``, host intercepts and host trends (audiences grow), slot of the start hour × weekend,
  weekday, and every extra numeric column of the session frame (festival flags). Sold-out sessions
  are censored demand: they are left out of the fit, never taken as demand;
* **off session** — the day's units outside sessions (shelf, affiliates; ``y`` minus the session
  units of the day) by the daily :class:`~livecommerce.forecast.models.GLM` on weekday, the daily
  calendar columns and ``listed`` (the product had a session within two weeks), which carries the
  product's season.

A day's forecast is the sum of the predicted units of that day's planned sessions plus the off-session
part. Models never see dates: sessions carry ``t``, their day's index on the series' daily grid.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from livecommerce.forecast.models import GLM, Exog, Fitted, Model, ModelFitError

__all__ = ["SESSION_EXOG", "SLOTS", "SessionArrays", "SessionFit", "SessionGLM", "session_elasticity", "slot_of_hour"]

#: daily regressors that describe sessions; the off-session part does not use them
SESSION_EXOG = ("price", "sessions", "live_minutes", "explain_minutes", "viewers")
#: slots by local start hour: morning 5-11, afternoon 12-17, prime 18-21, late 22-4
SLOTS = ("morning", "afternoon", "prime", "late")
#: days either side of a session in which a product counts as listed (in season)
LISTED_DAYS = 14
_LISTED_FIT_MIN = 7


def slot_of_hour(hour: np.ndarray) -> np.ndarray:
    """Return the slot index (see :data:`SLOTS`) of local start hours."""
    if np.ndim(hour) == 0:  # one hour (the planner asks per session): plain comparisons
        h = int(hour)
        return np.asarray(0 if 5 <= h < 12 else 1 if 12 <= h < 18 else 2 if 18 <= h < 22 else 3)
    hour = np.asarray(hour)
    return np.select([(hour >= 5) & (hour < 12), (hour >= 12) & (hour < 18), (hour >= 18) & (hour < 22)], [0, 1, 2], 3)


@dataclass(frozen=True)
class SessionArrays:
    """The sessions of one product as aligned arrays (``y`` NaN for planned sessions).

    ``t``: index of the session's local day on the series' daily grid; ``explain`` NaN when unknown;
    ``extra``: further numeric regressors by name (festival flags of the session's day).
    """

    t: np.ndarray
    y: np.ndarray
    price: np.ndarray
    explain: np.ndarray
    live_minutes: np.ndarray
    n_products: np.ndarray
    host: np.ndarray
    hour: np.ndarray
    weekday: np.ndarray
    sold_out: np.ndarray
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.t)

    def take(self, mask: np.ndarray) -> SessionArrays:
        """Return the sessions where ``mask`` is true."""
        return SessionArrays(
            self.t[mask],
            self.y[mask],
            self.price[mask],
            self.explain[mask],
            self.live_minutes[mask],
            self.n_products[mask],
            self.host[mask],
            self.hour[mask],
            self.weekday[mask],
            self.sold_out[mask],
            {k: v[mask] for k, v in self.extra.items()},
        )

    def hidden(self) -> SessionArrays:
        """Return the same sessions with ``y`` and ``sold_out`` unknown (the plan of a backtest window)."""
        return SessionArrays(
            self.t,
            np.full(len(self.t), np.nan),
            self.price,
            self.explain,
            self.live_minutes,
            self.n_products,
            self.host,
            self.hour,
            self.weekday,
            np.zeros(len(self.t), dtype=bool),
            self.extra,
        )

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, extra: tuple[str, ...]) -> SessionArrays:
        """Build from a frame with ``_t, y, price, explain_minutes, live_minutes, _n_products, host_id, hour, weekday,
        sold_out`` and the ``extra`` columns."""

        def f(c: str) -> np.ndarray:
            return frame[c].cast(pl.Float64).fill_null(float("nan")).to_numpy()

        return cls(
            t=frame["_t"].to_numpy().astype(np.int64),
            y=f("y"),
            price=f("price"),
            explain=f("explain_minutes"),
            live_minutes=f("live_minutes"),
            n_products=f("_n_products"),
            host=frame["host_id"].cast(pl.String).fill_null("").to_numpy().astype(str),
            hour=frame["hour"].to_numpy().astype(np.int64),
            weekday=frame["weekday"].to_numpy().astype(np.int64),
            sold_out=frame["sold_out"].fill_null(False).to_numpy().astype(bool),
            extra={c: f(c) for c in extra},
        )


def _listed(days: np.ndarray, session_days: np.ndarray) -> np.ndarray:
    """1.0 for each of ``days`` with a session within :data:`LISTED_DAYS` days, else 0.0."""
    if len(session_days) == 0:
        return np.zeros(len(days))
    s = np.unique(session_days)
    pos = np.searchsorted(s, days)
    after = np.abs(s[np.minimum(pos, len(s) - 1)] - days)
    before = np.abs(s[np.maximum(pos - 1, 0)] - days)
    return (np.minimum(after, before) <= LISTED_DAYS).astype(float)


@dataclass(frozen=True)
class _SessionTerms:
    """How a session design matrix is built: hosts, extra columns, which terms are in."""

    hosts: tuple[str, ...]
    extra: tuple[str, ...]
    proxy_ratio: float  # where explain minutes are unknown: this many times live minutes / products in the session
    has_estimated: bool
    t0: float

    def design(self, s: SessionArrays, host_weights: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
        n = len(s)
        explain = np.where(np.isfinite(s.explain) & (s.explain > 0), s.explain, np.nan)
        estimated = ~np.isfinite(explain)
        share = s.live_minutes / np.maximum(s.n_products, 1.0)
        explain = np.where(estimated, np.maximum(share * self.proxy_ratio, 1.0), explain)
        cols: dict[str, np.ndarray] = {
            "log_price": np.log(s.price),
            "log_explain_minutes": np.log(explain),
        }
        if self.has_estimated:
            cols["explain_estimated"] = estimated.astype(float)
        idx = {h: i for i, h in enumerate(self.hosts)}
        known = np.array([h in idx for h in s.host], dtype=bool)
        onehot = np.zeros((n, len(self.hosts)))
        rows = np.flatnonzero(known)
        onehot[rows, [idx[h] for h in s.host[known]]] = 1.0
        if (~known).any():  # a host never seen: the average host (by the training weights)
            w = host_weights if host_weights is not None else np.full(len(self.hosts), 1 / len(self.hosts))
            onehot[~known] = w
        years = (s.t - self.t0) / 365.0
        for i, h in enumerate(self.hosts):
            cols[f"host[{h}]"] = onehot[:, i]
            cols[f"trend[{h}]"] = onehot[:, i] * years
        slot = slot_of_hour(s.hour)
        weekend = (s.weekday >= 5).astype(float)
        for k in range(1, len(SLOTS)):
            cols[f"slot[{SLOTS[k]}]"] = (slot == k).astype(float)
        for k in range(1, len(SLOTS)):  # the weekend itself is in the weekday terms
            cols[f"slot[{SLOTS[k]}]:weekend"] = (slot == k) * weekend
        for d in range(6):  # Saturday is the reference inside the weekend terms
            if d != 5:
                cols[f"weekday[{d}]"] = (s.weekday == d).astype(float)
        for c in self.extra:
            cols[c] = np.nan_to_num(np.asarray(s.extra[c], dtype=float))
        names = list(cols)
        return np.column_stack([cols[c] for c in names]), names


@dataclass(frozen=True)
class SessionFit:
    """A fitted session model: per-session coefficients and the off-session daily part."""

    terms: _SessionTerms
    columns: tuple[str, ...]
    params: np.ndarray = field(repr=False)
    bse: np.ndarray = field(repr=False)
    host_weights: np.ndarray = field(repr=False)
    n_sessions: int
    n_sold_out: int
    offsession: Fitted | None
    offsession_level: float
    offsession_columns: tuple[str, ...]
    session_days: np.ndarray = field(repr=False)
    cap: float
    n_train: int

    @property
    def coefficients(self) -> dict[str, float]:
        """Per-session coefficients by term (``log_price`` is the price elasticity)."""
        return {c: float(b) for c, b in zip(self.columns, self.params, strict=True)}

    @property
    def elasticity(self) -> tuple[float, float, float]:
        """Return the price elasticity and its 95% interval (heteroskedasticity-robust standard error)."""
        i = self.columns.index("log_price") if "log_price" in self.columns else -1
        if i < 0:
            return (math.nan, math.nan, math.nan)
        b, se = float(self.params[i]), float(self.bse[i])
        return b, b - 1.96 * se, b + 1.96 * se

    def session_units(self, sessions: SessionArrays) -> np.ndarray:
        """Return the expected units of each session (demand, not capped by stock)."""
        if len(sessions) == 0:
            return np.zeros(0)
        design, names = self.terms.design(sessions, self.host_weights)
        pos = {c: i for i, c in enumerate(names)}
        x = design[:, [pos[c] for c in self.columns]]
        if not np.all(np.isfinite(x)):
            raise ModelFitError("session_glm: planned sessions lack a positive price or minutes")
        return np.exp(np.clip(x @ self.params, -50, 50))

    def predict(self, h: int, X: Exog | None = None, sessions: SessionArrays | None = None) -> np.ndarray:
        """Return the daily mean for the next ``h`` days: planned sessions' units plus the off-session part.

        ``sessions`` are the planned sessions, ``t`` counted on the same grid as in ``fit`` (so the
        horizon is ``t = n .. n + h - 1``); ``X`` the daily regressors of the horizon.
        """
        n = self.n_train
        out = np.zeros(h)
        if sessions is not None and len(sessions):
            units = self.session_units(sessions)
            k = sessions.t - n
            ok = (k >= 0) & (k < h)
            np.add.at(out, k[ok], units[ok])
        days = np.arange(n, n + h)
        known = self.session_days if sessions is None else np.concatenate([self.session_days, sessions.t])
        listed = _listed(days, known)
        if self.offsession is not None:
            xo = {c: np.asarray(X[c], dtype=float) for c in self.offsession_columns if X is not None and c in X}
            xo["listed"] = listed
            xo = {c: v for c, v in xo.items() if c in self.offsession_columns or c == "listed"}
            out += np.asarray(self.offsession.predict(h, xo), dtype=float)
        else:
            out += self.offsession_level * listed
        if not np.all(np.isfinite(out)) or out.max(initial=0) > self.cap:
            raise ModelFitError("session_glm forecast explodes beyond ten times the largest observed day")
        return out


class SessionGLM(Model):
    """Session demand model (see the module docstring); needs ``min_sessions`` unsold-out sessions to fit."""

    alias = "session_glm"
    uses_exog = True
    uses_sessions = True

    def __init__(self, min_sessions: int = 20) -> None:
        self.min_sessions = min_sessions

    def min_length(self, season_length: int) -> int:
        return 14

    def fit(
        self,
        y: np.ndarray,
        X: Exog | None = None,
        *,
        season_length: int = 1,
        sessions: SessionArrays | None = None,
    ) -> SessionFit:
        """Fit both parts on the daily history ``y`` (with regressors ``X``) and its ``sessions``; return the fit."""
        y = np.asarray(y, dtype=float)
        n = len(y)
        if n < self.min_length(season_length):
            raise ModelFitError(f"session_glm needs at least 14 days, got {n}")
        if sessions is None:
            raise ModelFitError("session_glm needs the session history (sessions=)")
        past = sessions.take((sessions.t < n) & (sessions.t >= 0) & np.isfinite(sessions.y))
        use = past.take(~past.sold_out & (past.price > 0) & (past.live_minutes > 0))
        if len(use) < self.min_sessions:
            raise ModelFitError(f"session_glm: {len(use)} sessions without a sell-out, needs {self.min_sessions}")
        terms, names, params, bse, counts = _fit_sessions(use)

        # off-session part: the day's units outside sessions
        in_sessions = np.bincount(past.t, weights=np.nan_to_num(past.y), minlength=n)[:n]
        rest = np.maximum(y - in_sessions, 0.0)
        off_cols = tuple(c for c in (X or {}) if c not in SESSION_EXOG)
        xo: dict[str, np.ndarray] = {c: np.asarray(X[c], dtype=float)[:n] for c in off_cols} if X else {}
        xo["listed"] = _listed(np.arange(n), past.t)
        offsession: Fitted | None = None
        level = float(rest[xo["listed"] > 0].mean()) if (xo["listed"] > 0).any() else float(rest.mean())
        if rest.sum() > 0 and (xo["listed"] > 0).sum() >= _LISTED_FIT_MIN:
            try:
                offsession = GLM(log_columns=(), trend=True, season=True).fit(rest, xo, season_length=season_length)
            except ModelFitError:
                offsession = None
        hosts_w = counts / counts.sum()
        fit = SessionFit(
            terms=terms,
            columns=tuple(names),
            params=params,
            bse=bse,
            host_weights=hosts_w,
            n_sessions=len(use),
            n_sold_out=int(past.sold_out.sum()),
            offsession=offsession,
            offsession_level=level,
            offsession_columns=(*off_cols, "listed"),
            session_days=np.unique(past.t),
            cap=10 * float(y.max(initial=0)) + 10,
            n_train=n,
        )
        return fit


def _fit_sessions(use: SessionArrays) -> tuple[_SessionTerms, list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Fit the per-session Poisson GLM; return its terms, column names, coefficients, robust SEs, host counts."""
    import statsmodels.api as sm

    known = np.isfinite(use.explain) & (use.explain > 0)
    n_per = use.live_minutes / np.maximum(use.n_products, 1.0)
    ratio = float(np.median(use.explain[known] / n_per[known])) if known.sum() >= 5 else 0.5
    hosts, counts = np.unique(use.host, return_counts=True)
    extra = tuple(c for c in use.extra if np.ptp(np.nan_to_num(use.extra[c])) > 0)
    terms = _SessionTerms(
        hosts=tuple(str(h) for h in hosts),
        extra=extra,
        proxy_ratio=ratio,
        has_estimated=bool(known.any() and (~known).any()),
        t0=float(use.t.min()),
    )
    design, names = terms.design(use)
    keep = [i for i, c in enumerate(names) if c.startswith("host[") or np.ptp(design[:, i]) > 0]
    design = design[:, keep]
    names = [names[i] for i in keep]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sm.GLM(use.y, design, family=sm.families.Poisson()).fit(maxiter=100, cov_type="HC0")
    except Exception as exc:  # statsmodels raises many kinds on degenerate data
        raise ModelFitError(f"session_glm failed: {exc}") from exc
    params = np.asarray(res.params, dtype=float)
    if not np.all(np.isfinite(params)):
        raise ModelFitError("session_glm did not converge")
    return terms, names, params, np.asarray(res.bse, dtype=float), counts


def session_arrays_frame(sessions: pl.DataFrame, extra: tuple[str, ...]) -> dict[Any, SessionArrays]:
    """Split a checked session frame (with ``_t``) into :class:`SessionArrays` per ``unique_id``."""
    out: dict[Any, SessionArrays] = {}
    for (uid,), g in sessions.group_by("unique_id", maintain_order=True):
        out[uid] = SessionArrays.from_frame(g.sort("_t"), extra)
    return out


def session_elasticity(sessions: Any, *, min_sessions: int = 20) -> pl.DataFrame:
    """Price elasticity per product from the session model (sold-out sessions left out).

    ``sessions`` is a session frame (see :func:`livecommerce.forecast.forecast`). Returns one row per
    ``unique_id``: ``elasticity`` (the ``log_price`` coefficient), ``ci_low``, ``ci_high`` (95%,
    heteroskedasticity-robust), ``n_sessions`` (used in the fit), ``n_sold_out`` (left out), and ``note``
    (why there is no estimate: too few sessions, no price variation).
    """
    from livecommerce.forecast._frames import Panel, prepare_sessions, to_polars

    df = to_polars(sessions, "sessions")
    firsts = df.group_by("unique_id").agg(pl.col("ds").min().cast(pl.Date).alias("ds"))
    panel = Panel(firsts.select("unique_id", "ds"), (), "1d", 7)
    frame, extra = prepare_sessions(df, None, panel)
    rows = []
    for uid, arr in session_arrays_frame(frame, extra).items():
        past = arr.take(np.isfinite(arr.y))
        use = past.take(~past.sold_out)
        est, note = (math.nan, math.nan, math.nan), None
        if len(use) < min_sessions:
            note = f"{len(use)} sessions without a sell-out, needs {min_sessions}"
        elif np.ptp(np.log(use.price)) == 0:
            note = "the price never changed: no elasticity can be estimated"
        else:
            try:
                _, names, params, bse, _ = _fit_sessions(use)
                i = names.index("log_price")
                b, se = float(params[i]), float(bse[i])
                est = (b, b - 1.96 * se, b + 1.96 * se)
            except ModelFitError as exc:
                note = str(exc)
        rows.append((uid, *est, len(use), int(past.sold_out.sum()), note))
    schema = {
        "unique_id": df.schema["unique_id"],
        "elasticity": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "n_sessions": pl.Int64,
        "n_sold_out": pl.Int64,
        "note": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row").sort("unique_id").fill_nan(None)
