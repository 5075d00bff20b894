"""Price elasticity and price recommendations on frames: no database, values and frames out.

``estimate_elasticity`` fits log-log OLS (or Poisson PPML when some sales are zero) with fixed
effects and controls on any long frame, polars or pandas, and returns an immutable
:class:`ElasticityEstimate` with a plain-words verdict, or a polars frame of them per ``by`` group
with empirical-Bayes shrinkage toward the pooled estimate. ``recommend_price`` turns an estimate
and the costs into a bounded price, the expected units and profit with their range, the profit
curve, and a price test when the estimate cannot carry a decision. Prices at this boundary are
floats in yuan (money inside the warehouse is integer fen; convert with ``livecommerce.money``).
See ``docs/pricing.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import polars as pl
import scipy.linalg
import statsmodels.api as sm
from scipy import stats

__all__ = [
    "ElasticityEstimate",
    "PriceRecommendation",
    "PriceTestStep",
    "estimate_elasticity",
    "optimal_price",
    "recommend_price",
]

Method = Literal["auto", "ols", "ppml"]

_MIN_CLUSTERS = 10  # fewer clusters than this: heteroskedasticity-robust errors instead
_NO_VARIATION_CV = 0.005  # price CV below this: the slope is not identified
_DEFAULT_PRIOR_SD = 0.5  # prior sd of product elasticities around the target when too few groups to estimate it


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElasticityEstimate:
    """A price elasticity with its interval and a verdict a seller can read.

    ``status`` is ``ok``, ``inelastic`` (estimate above −1), ``positive`` (sales rose with price),
    ``wide`` (interval wider than ``max_ci_width``), ``low_variation`` (price CV under
    ``min_price_cv``), ``no_variation`` or ``too_few`` (no estimate of its own: NaN unless shrunk).
    ``reliable`` is true for ``ok`` and ``inelastic``. ``own_weight`` is the weight of the group's
    own estimate after shrinkage (1.0 without shrinkage).
    """

    elasticity: float
    ci_low: float
    ci_high: float
    n: int
    verdict: str
    status: str = "ok"
    method: str = "ols"
    se: float = math.nan
    price_cv: float = math.nan
    n_censored: int = 0
    level: float = 0.95
    own_elasticity: float = math.nan
    own_weight: float = 1.0
    target: float = math.nan

    @property
    def reliable(self) -> bool:
        """True when the estimate can carry a price decision (status ``ok`` or ``inelastic``)."""
        return self.status in ("ok", "inelastic") and math.isfinite(self.elasticity)

    def as_dict(self) -> dict[str, Any]:
        """Return the estimate as a JSON-ready dict (NaN becomes None)."""
        out = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}
        out["reliable"] = self.reliable
        return out


@dataclass(frozen=True)
class PriceTestStep:
    """One session of a proposed price test: which upcoming session, at what price (yuan)."""

    session: str
    price: float


@dataclass(frozen=True)
class PriceRecommendation:
    """A recommended price (yuan) with expected units and profit per session, their range and the reasons.

    ``status``: ``optimal`` (interior optimum inside the guardrails), ``bound`` (the optimum is
    beyond a guardrail: moved as far as allowed), ``stock`` (price raised to sell the limited
    stock), ``test`` (estimate unreliable or inelastic: keep the price and run ``price_test``),
    ``missing_cost`` (no unit cost: keep the price). Ranges come from the elasticity interval.
    ``curve`` is a polars frame ``price, expected_units, expected_profit, profit_low, profit_high``.
    """

    price: float
    current_price: float
    expected_units: float
    units_low: float
    units_high: float
    expected_profit: float
    profit_low: float
    profit_high: float
    status: str
    reasons: tuple[str, ...]
    elasticity: float
    ci_low: float
    ci_high: float
    unconstrained_price: float = math.nan
    price_test: tuple[PriceTestStep, ...] = ()
    curve: pl.DataFrame = field(default_factory=pl.DataFrame, compare=False, repr=False)

    @property
    def change(self) -> float:
        """Relative change from the current price (0.05 = +5%)."""
        return self.price / self.current_price - 1.0

    def as_dict(self) -> dict[str, Any]:
        """Return the recommendation as a JSON-ready dict, the curve as a list of rows."""
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if k in ("curve", "price_test"):
                continue
            out[k] = None if isinstance(v, float) and not math.isfinite(v) else v
        out["reasons"] = list(self.reasons)
        out["change"] = round(self.change, 4)
        out["price_test"] = [{"session": s.session, "price": s.price} for s in self.price_test]
        out["curve"] = self.curve.to_dicts()
        return out


# --- frames -----------------------------------------------------------------------------------


def _to_pandas(frame: Any) -> pd.DataFrame:
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    if isinstance(frame, pl.DataFrame):
        return frame.to_pandas()
    if isinstance(frame, pd.DataFrame):
        return frame.reset_index(drop=True)
    raise TypeError(f"frame must be a polars or pandas DataFrame, got {type(frame).__name__}")


def _as_tuple(cols: str | Iterable[Any] | None) -> tuple[Any, ...]:
    if cols is None:
        return ()
    if isinstance(cols, str):
        return (cols,)
    return tuple(cols)


def _fe_names(fe: Any) -> tuple[str, ...]:
    return (fe,) if isinstance(fe, str) else tuple(fe)


def _check_columns(df: pd.DataFrame, needed: Iterable[str]) -> None:
    missing = [c for c in needed if c not in df.columns]
    if missing:
        names = ", ".join(missing)
        raise ValueError(
            f"columns not in the frame: {names}; the frame has {', '.join(map(str, df.columns))}"
            f" / 表中没有这些列：{names}"
        )


def _fe_codes(df: pd.DataFrame, fe: Any) -> np.ndarray:
    """Integer codes of one fixed effect; a tuple of columns is their interaction."""
    cols = _fe_names(fe)
    key = df[cols[0]].astype(str)
    for c in cols[1:]:
        key = key + "\x1f" + df[c].astype(str)
    return pd.factorize(key)[0]


def _dummies(codes: np.ndarray) -> np.ndarray:
    k = int(codes.max()) + 1 if len(codes) else 0
    if k <= 1:
        return np.zeros((len(codes), 0))
    return (codes[:, None] == np.arange(1, k)[None, :]).astype(float)


def _independent_columns(x: np.ndarray) -> np.ndarray:
    """Return ``x`` without linearly dependent columns (rank-revealing QR)."""
    if x.shape[1] == 0:
        return x
    _, r, piv = scipy.linalg.qr(x, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    tol = diag.max() * max(x.shape) * np.finfo(float).eps * 1e3 if diag.size else 0.0
    rank = int((diag > tol).sum())
    return x[:, np.sort(piv[:rank])]


# --- one fit ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    coef: float
    se: float
    n: int
    k: int
    method: str
    price_cv: float
    within_sd: float
    robust: str
    reason: str | None = None  # set when there is no estimate


def _fit_one(
    df: pd.DataFrame,
    qty: str,
    price: str,
    controls: tuple[str, ...],
    fixed_effects: tuple[Any, ...],
    cluster: str | None,
    exposure: str | None,
    method: Method,
    min_obs: int,
) -> _Fit:
    n = len(df)
    p = df[price].to_numpy(float)
    price_cv = float(np.std(p) / np.mean(p)) if n > 1 and np.mean(p) > 0 else 0.0
    if n < min_obs:
        return _Fit(math.nan, math.nan, n, 0, "none", price_cv, 0.0, "", reason="too_few")
    if price_cv < _NO_VARIATION_CV:
        return _Fit(math.nan, math.nan, n, 0, "none", price_cv, 0.0, "", reason="no_variation")
    q = df[qty].to_numpy(float)
    lp = np.log(p)
    parts = [np.ones((n, 1))]
    if controls:
        parts.append(df[list(controls)].to_numpy(float))
    for fe in fixed_effects:
        parts.append(_dummies(_fe_codes(df, fe)))
    other = _independent_columns(np.column_stack(parts))
    # variation of log price left after the fixed effects and controls
    resid = lp - other @ np.linalg.lstsq(other, lp, rcond=None)[0]
    within_sd = float(np.std(resid))
    k = other.shape[1] + 1
    if within_sd < _NO_VARIATION_CV:
        return _Fit(math.nan, math.nan, n, k, "none", price_cv, within_sd, "", reason="no_variation")
    if n - k < 5:
        return _Fit(math.nan, math.nan, n, k, "none", price_cv, within_sd, "", reason="too_few")
    x = np.column_stack([lp, other])
    offset = np.log(df[exposure].to_numpy(float)) if exposure else np.zeros(n)
    use_ppml = method == "ppml" or (method == "auto" and bool((q <= 0).any()))
    groups = None
    robust = "HC1"
    if cluster is not None:
        groups = pd.factorize(df[cluster].astype(str))[0]
        if groups.max() + 1 >= _MIN_CLUSTERS:
            robust = f"cluster({cluster})"
        else:
            groups = None
            robust = f"HC1 (only {int(pd.Series(df[cluster]).nunique())} clusters of {cluster})"
    cov = {"cov_type": "cluster", "cov_kwds": {"groups": groups}} if groups is not None else {"cov_type": "HC1"}
    if use_ppml:
        res = sm.GLM(q, x, family=sm.families.Poisson(), offset=offset).fit(**cov)
        name = "ppml"
    else:
        res = sm.OLS(np.log(q) - offset, x).fit(**cov)
        name = "ols"
    coef, se = float(res.params[0]), float(res.bse[0])
    if not (math.isfinite(coef) and math.isfinite(se)):
        return _Fit(math.nan, math.nan, n, k, name, price_cv, within_sd, robust, reason="too_few")
    return _Fit(coef, se, n, k, name, price_cv, within_sd, robust)


# --- verdicts ---------------------------------------------------------------------------------


def _fmt(e: float) -> str:
    return f"{e:+.2f}".replace("-", "−")


def _status(fit: _Fit, ci_low: float, ci_high: float, min_price_cv: float, max_ci_width: float) -> str:
    if fit.reason:
        return fit.reason
    if fit.price_cv < min_price_cv:
        return "low_variation"
    if ci_high - ci_low > max_ci_width:
        return "wide"
    if fit.coef > 0:
        return "positive"
    if fit.coef > -1:
        return "inelastic"
    return "ok"


def _own_verdict(status: str, fit: _Fit, e: float, lo: float, hi: float, n_cens: int) -> tuple[str, str]:
    cv = f"{fit.price_cv:.0%}"
    ci = f"[{_fmt(lo)}, {_fmt(hi)}]"
    cens_en = f"; {n_cens} sold-out sessions left out" if n_cens else ""
    cens_zh = f"；已剔除 {n_cens} 场售罄" if n_cens else ""
    if status == "too_few":
        return (
            f"too few observations ({fit.n}) for an estimate: run a price test",
            f"观测太少（{fit.n} 条），无法估计：请做价格测试",
        )
    if status == "no_variation":
        return (
            f"price never varied (CV {cv}): no estimate; run a price test",
            f"价格几乎没变（变异系数 {cv}），无法估计：请做价格测试",
        )
    if status == "low_variation":
        return (
            f"price barely varied (CV {cv}): {_fmt(e)} {ci} is not reliable",
            f"价格变化太小（变异系数 {cv}）：{_fmt(e)} {ci} 不可靠",
        )
    if status == "wide":
        return (
            f"elasticity {_fmt(e)} but the interval {ci} is too wide to act on (n={fit.n}){cens_en}",
            f"弹性 {_fmt(e)}，但区间 {ci} 太宽，不能据此定价（{fit.n} 条）{cens_zh}",
        )
    if status == "positive":
        return (
            f"sales rose with price ({_fmt(e)} {ci}): prices moved with something else; check the controls",
            f"价格越高卖得越多（{_fmt(e)} {ci}）：价格与其他因素同变，请检查控制变量",
        )
    if status == "inelastic":
        return (
            f"demand is inelastic ({_fmt(e)} {ci}): no best price inside the data; test a higher price{cens_en}",
            f"需求缺乏弹性（{_fmt(e)} {ci}）：数据内没有最优价，可测试提价{cens_zh}",
        )
    return (
        f"elasticity {_fmt(e)} {ci}, n={fit.n}, price CV {cv}{cens_en}",
        f"价格弹性 {_fmt(e)} {ci}，{fit.n} 条，价格变异系数 {cv}{cens_zh}",
    )


def _join(en: str, zh: str) -> str:
    return f"{en} / {zh}"


# --- public: estimate -------------------------------------------------------------------------


def estimate_elasticity(
    frame: Any,
    qty: str,
    price: str,
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str | tuple[str, ...]] = (),
    by: str | Sequence[str] | None = None,
    cluster: str | None = None,
    *,
    censored: str | None = None,
    exposure: str | None = None,
    method: Method = "auto",
    shrink_to: str | None = None,
    level: float = 0.95,
    min_obs: int = 12,
    min_price_cv: float = 0.03,
    max_ci_width: float = 1.0,
) -> ElasticityEstimate | pl.DataFrame:
    """Return the price elasticity of ``qty`` (an :class:`ElasticityEstimate`), or a polars frame per ``by`` group.

    The model is ``log E[qty] = e·log(price) + controls + fixed effects (+ log exposure)``:

    - ``method="auto"``: log-log OLS when every kept ``qty`` is positive, Poisson pseudo-maximum
      likelihood (GLM, log link) when some are zero; ``"ols"``/``"ppml"`` force one.
    - ``controls`` are numeric columns entered as they are (log them first when they act in logs);
      ``fixed_effects`` are columns (or tuples of columns: their interaction, e.g. ``("slot", "weekday")``)
      entered as dummies; ``exposure`` is a column whose log is an offset (explain minutes).
    - ``censored`` names a boolean column of sold-out observations: they are left out (their
      sales are not their demand).
    - errors are cluster-robust by ``cluster`` (≥ 10 clusters), else heteroskedasticity-robust;
      the interval is at ``level``.

    With ``by``, each group is fitted on its own rows and the estimates are shrunk toward the
    pooled estimate (all groups, with a fixed effect per group; within each ``shrink_to`` level
    when given, e.g. county or category) by empirical Bayes: the group keeps the weight
    ``τ² / (τ² + se²)``, with ``τ²`` the between-group variance (DerSimonian–Laird). A group
    whose price never varied gets the target with a wide interval. The frame has the ``by``
    columns then ``elasticity, ci_low, ci_high, n, verdict, status, method, se, price_cv,
    n_censored, own_elasticity, own_weight, target``.
    """
    df = _to_pandas(frame)
    controls, fixed_effects = tuple(controls), tuple(fixed_effects)
    by_cols = _as_tuple(by)
    needed = [qty, price, *controls, *(c for fe in fixed_effects for c in _fe_names(fe)), *by_cols]
    needed += [c for c in (cluster, censored, exposure, shrink_to) if c]
    _check_columns(df, needed)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    df = df.dropna(subset=[c for c in needed if c != censored])
    bad = (df[price] <= 0) | (df[qty] < 0)
    if exposure:
        bad |= df[exposure] <= 0
    df = df[~bad]
    n_cens_all = np.zeros(len(df), dtype=bool)
    if censored:
        n_cens_all = df[censored].fillna(False).astype(bool).to_numpy()
    z = float(stats.norm.ppf(0.5 + level / 2))
    args = (qty, price, controls, fixed_effects, cluster, exposure, method, min_obs)
    kept = df[~n_cens_all]
    if not by_cols:
        fit = _fit_one(kept, *args)
        return _estimate(fit, z, int(n_cens_all.sum()), level, min_price_cv, max_ci_width)
    return _estimate_by(
        kept, df, n_cens_all, by_cols, args, shrink_to, z, level, min_price_cv, max_ci_width, fixed_effects
    )


def _estimate(fit: _Fit, z: float, n_cens: int, level: float, min_price_cv: float, max_ci: float) -> ElasticityEstimate:
    lo, hi = fit.coef - z * fit.se, fit.coef + z * fit.se
    status = _status(fit, lo, hi, min_price_cv, max_ci)
    en, zh = _own_verdict(status, fit, fit.coef, lo, hi, n_cens)
    return ElasticityEstimate(
        elasticity=fit.coef,
        ci_low=lo,
        ci_high=hi,
        n=fit.n,
        verdict=_join(en, zh),
        status=status,
        method=fit.method,
        se=fit.se,
        price_cv=fit.price_cv,
        n_censored=n_cens,
        level=level,
        own_elasticity=fit.coef,
    )


def _between_variance(b: np.ndarray, se: np.ndarray, m: np.ndarray) -> float:
    """Between-group variance of the estimates ``b`` around their targets ``m`` (method of moments).

    ``τ² = Σ(b − m)² / (k − t) − mean(se²)`` with ``t`` the number of distinct targets (each
    target is fitted on its groups, so it uses up a degree of freedom); at least 0. With fewer
    than three estimates beyond the targets the prior sd is 0.5.
    """
    t = len(np.unique(np.round(m, 12)))
    if len(b) - t < 3:
        return _DEFAULT_PRIOR_SD**2
    return max(0.0, float(((b - m) ** 2).sum() / (len(b) - t) - (se**2).mean()))


def _estimate_by(
    kept: pd.DataFrame,
    full: pd.DataFrame,
    cens: np.ndarray,
    by_cols: tuple[str, ...],
    args: tuple[Any, ...],
    shrink_to: str | None,
    z: float,
    level: float,
    min_price_cv: float,
    max_ci: float,
    fixed_effects: tuple[Any, ...],
) -> pl.DataFrame:
    qty, price, controls, _, cluster, exposure, method, min_obs = args
    by_fe = by_cols if len(by_cols) > 1 else by_cols[0]
    pooled_args = (qty, price, controls, (*fixed_effects, by_fe), cluster, exposure, method, min_obs)
    # targets: the pooled fit overall, and within each shrink_to level that has at least two groups
    overall = _fit_one(kept, *pooled_args)
    targets: dict[Any, _Fit] = {}
    if shrink_to:
        for lvl, rows in kept.groupby(shrink_to, sort=True):
            if rows.groupby(list(by_cols)).ngroups >= 2:
                targets[lvl] = _fit_one(rows, *pooled_args)
    cens_count = pd.Series(cens, index=full.index).groupby([full[c] for c in by_cols]).sum()
    groups = []
    for key, rows in full.groupby(list(by_cols), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        own_rows = kept.loc[kept.index.intersection(rows.index)]
        fit = _fit_one(own_rows, *args)
        tgt = overall
        scope = "all products"
        scope_zh = "全部商品"
        if shrink_to:
            lvl = rows[shrink_to].iloc[0]
            t = targets.get(lvl)
            if t is not None and t.reason is None:
                tgt, scope, scope_zh = t, f"{shrink_to} {lvl}", f" {shrink_to} {lvl} "
        ckey = key if len(key) > 1 else key[0]
        groups.append((key, fit, tgt, scope, scope_zh, int(cens_count.get(ckey, 0))))
    ok = [(f, t) for _, f, t, *_ in groups if f.reason is None and t.reason is None]
    tau2 = _between_variance(
        np.array([f.coef for f, _ in ok]), np.array([f.se for f, _ in ok]), np.array([t.coef for _, t in ok])
    )
    rows_out = []
    for key, fit, tgt, scope, scope_zh, n_cens in groups:
        own = _estimate(fit, z, n_cens, level, min_price_cv, max_ci)
        row: dict[str, Any] = dict(zip(by_cols, key, strict=True))
        if tgt.reason is not None:  # nothing to shrink toward
            est = own
            weight, target = 1.0, math.nan
        elif fit.reason is not None:  # no own estimate: the target, with the spread between groups
            se = math.sqrt(tau2 + tgt.se**2)
            e = tgt.coef
            lo, hi = e - z * se, e + z * se
            en, zh = _own_verdict(fit.reason, fit, e, lo, hi, n_cens)
            en += f"; using the estimate for {scope}: {_fmt(e)} [{_fmt(lo)}, {_fmt(hi)}]"
            zh += f"；采用{scope_zh}的估计 {_fmt(e)} [{_fmt(lo)}, {_fmt(hi)}]"
            status = "wide" if hi - lo > max_ci else ("inelastic" if e > -1 else "ok")
            est = _shrunk(own, e, lo, hi, se, _join(en, zh), status, f"pooled-{tgt.method}", 0.0, tgt.coef)
            weight, target = 0.0, tgt.coef
        else:
            weight = tau2 / (tau2 + fit.se**2)
            e = weight * fit.coef + (1 - weight) * tgt.coef
            se = math.sqrt(weight * fit.se**2 + (1 - weight) ** 2 * tgt.se**2)
            lo, hi = e - z * se, e + z * se
            status = own.status
            verdict = own.verdict
            if weight < 0.9:
                sfit = _Fit(e, se, fit.n, fit.k, fit.method, fit.price_cv, fit.within_sd, fit.robust)
                status = _status(sfit, lo, hi, 0.0, max_ci)
                lead_en = (
                    f"price barely varied (CV {fit.price_cv:.0%})"
                    if fit.price_cv < min_price_cv
                    else f"own estimate {_fmt(fit.coef)} is uncertain (±{z * fit.se:.2f})"
                )
                lead_zh = (
                    f"价格变化很小（变异系数 {fit.price_cv:.0%}）"
                    if fit.price_cv < min_price_cv
                    else f"自身估计 {_fmt(fit.coef)} 不确定（±{z * fit.se:.2f}）"
                )
                verdict = _join(
                    f"{lead_en}: estimate shrunk toward {scope}'s {_fmt(tgt.coef)} → {_fmt(e)} [{_fmt(lo)}, {_fmt(hi)}]"
                    f" (own weight {weight:.0%})",
                    f"{lead_zh}：估计值向{scope_zh}的 {_fmt(tgt.coef)} 收缩 → {_fmt(e)} [{_fmt(lo)}, {_fmt(hi)}]"
                    f"（自身权重 {weight:.0%}）",
                )
            est = _shrunk(own, e, lo, hi, se, verdict, status, f"{fit.method}+eb", weight, tgt.coef)
            target = tgt.coef
        row.update(
            elasticity=est.elasticity,
            ci_low=est.ci_low,
            ci_high=est.ci_high,
            n=est.n,
            verdict=est.verdict,
            status=est.status,
            method=est.method,
            se=est.se,
            price_cv=est.price_cv,
            n_censored=est.n_censored,
            own_elasticity=fit.coef,
            own_weight=weight,
            target=target,
        )
        rows_out.append(row)
    schema_floats = ["elasticity", "ci_low", "ci_high", "se", "price_cv", "own_elasticity", "own_weight", "target"]
    out = pl.from_dicts(rows_out, infer_schema_length=None)
    return out.with_columns(pl.col(c).cast(pl.Float64).fill_nan(None) for c in schema_floats)


def _shrunk(
    own: ElasticityEstimate,
    e: float,
    lo: float,
    hi: float,
    se: float,
    verdict: str,
    status: str,
    method: str,
    weight: float,
    target: float,
) -> ElasticityEstimate:
    return ElasticityEstimate(
        elasticity=e,
        ci_low=lo,
        ci_high=hi,
        n=own.n,
        verdict=verdict,
        status=status,
        method=method,
        se=se,
        price_cv=own.price_cv,
        n_censored=own.n_censored,
        level=own.level,
        own_elasticity=own.own_elasticity,
        own_weight=weight,
        target=target,
    )


# --- public: price ----------------------------------------------------------------------------


def optimal_price(unit_cost: float, elasticity: float, *, refund_rate: float = 0.0, extra_cost: float = 0.0) -> float:
    """Return the profit-maximising price under constant elasticity, or NaN when there is none (e ≥ −1).

    Profit per unit is ``p·(1 − refund_rate) − unit_cost − extra_cost`` (a refunded unit returns
    its price; the goods and shipping are lost), so ``p* = (c + s) / (1 − r) · e / (1 + e)``.
    """
    if not math.isfinite(elasticity) or elasticity >= -1 or refund_rate >= 1:
        return math.nan
    return (unit_cost + extra_cost) / (1 - refund_rate) * elasticity / (1 + elasticity)


def _price_grid(lo: float, hi: float, ending: float | None) -> np.ndarray:
    """Prices between ``lo`` and ``hi`` that end in ``ending`` yuan (¥x.9), or on a ¥0.10 grid."""
    if ending is None or (hi - lo < 1.0 and math.floor(hi - ending) < math.ceil(lo - ending)):
        grid = np.round(np.arange(math.ceil(lo * 10 - 1e-9), math.floor(hi * 10 + 1e-9) + 1) / 10, 2)
    else:
        grid = np.arange(math.ceil(lo - ending - 1e-9), math.floor(hi - ending + 1e-9) + 1) + ending
    return np.round(grid[(grid > 0) & (grid >= lo - 1e-9) & (grid <= hi + 1e-9)], 2)


def _round_ending(p: float, ending: float | None) -> float:
    if ending is None:
        return round(p, 1)
    return round(max(math.floor(p - ending + 0.5) + ending, ending), 2)


def _units(prices: np.ndarray, e: float, p0: float, u0: float, stock: float | None) -> np.ndarray:
    units = u0 * (prices / p0) ** e
    return np.minimum(units, stock) if stock is not None else units


def _test_plan(
    current: float, up: Sequence[float], down: Sequence[float], n: int, sessions: Sequence[str] | None, ending: Any
) -> tuple[PriceTestStep, ...]:
    """Alternate the current price with the test prices over the next ``n`` sessions."""
    moves = [m for pair in zip(up, down, strict=False) for m in pair if m is not None] or list(up)
    labels = list(sessions) if sessions else [f"next+{i + 1}" for i in range(n)]
    steps = []
    j = 0
    for i, label in enumerate(labels[:n]):
        if i % 2 == 0:
            p = current
        else:
            p = _round_ending(current * (1 + moves[j % len(moves)]), ending)
            j += 1
        steps.append(PriceTestStep(str(label), float(p)))
    return tuple(steps)


def recommend_price(
    elasticity: ElasticityEstimate | float,
    *,
    current_price: float,
    unit_cost: float | None,
    reference_units: float = 1.0,
    ci: tuple[float, float] | None = None,
    shipping_cost: float = 0.0,
    refund_rate: float = 0.0,
    observed_range: tuple[float, float] | None = None,
    range_margin: float = 0.10,
    max_step: float = 0.10,
    ending: float | None = 0.9,
    stock: float | None = None,
    test_sessions: int = 6,
    test_steps: tuple[float, float] = (0.05, 0.08),
    sessions: Sequence[str] | None = None,
) -> PriceRecommendation:
    """Return the price (yuan) that maximises expected profit per session, within guardrails.

    Expected profit at price ``p`` is ``(p·(1 − refund_rate) − unit_cost − shipping_cost) · units(p)``
    with ``units(p) = reference_units · (p / current_price)^e`` (constant elasticity around the
    current price and its expected units), capped at ``stock`` when given. The price is searched
    on prices ending in ``ending`` (¥x.9; ``None``: every ¥0.10) inside the observed range widened
    by ``range_margin`` and within ``max_step`` of the current price.

    An estimate that is not reliable, or inelastic (e ≥ −1: no interior optimum), or a missing
    cost never moves the price: the current price is kept and ``price_test`` proposes test prices
    (±5–8%, alternating with the current price, over the next ``test_sessions`` sessions, labelled
    by ``sessions`` when given). ``elasticity`` is an :class:`ElasticityEstimate` or a number
    (then ``ci`` gives its interval, default the number itself).
    """
    if isinstance(elasticity, ElasticityEstimate):
        e, lo_e, hi_e = elasticity.elasticity, elasticity.ci_low, elasticity.ci_high
        reliable, est_verdict = elasticity.reliable, elasticity.verdict
    else:
        e = float(elasticity)
        lo_e, hi_e = ci if ci is not None else (e, e)
        reliable, est_verdict = math.isfinite(e), ""
    if not (current_price and current_price > 0 and math.isfinite(current_price)):
        raise ValueError(f"current_price must be a positive number of yuan, not {current_price!r}")
    if not 0 <= refund_rate < 1:
        raise ValueError(f"refund_rate must be in [0, 1), not {refund_rate}")
    p0, u0 = float(current_price), float(reference_units)
    bounds_lo, bounds_hi = p0 * (1 - max_step), p0 * (1 + max_step)
    range_lo, range_hi = observed_range if observed_range is not None else (p0, p0)
    range_lo, range_hi = min(range_lo, p0), max(range_hi, p0)
    lo = max(bounds_lo, range_lo * (1 - range_margin))
    hi = min(bounds_hi, range_hi * (1 + range_margin))
    cost_known = unit_cost is not None and math.isfinite(float(unit_cost)) and float(unit_cost) > 0
    c = float(unit_cost) + float(shipping_cost) if cost_known else math.nan  # type: ignore[arg-type]
    curve_prices = _price_grid(range_lo * (1 - range_margin), range_hi * (1 + range_margin), ending)
    if len(curve_prices) > 200:
        curve_prices = np.unique(np.round(np.linspace(curve_prices[0], curve_prices[-1], 121), 1))
    curve_prices = np.union1d(curve_prices, [round(p0, 2)])
    es = [x for x in (e, lo_e, hi_e) if math.isfinite(x)]

    def margin(p: np.ndarray | float) -> Any:
        return np.asarray(p) * (1 - refund_rate) - c

    def profit(p: np.ndarray, ee: float) -> np.ndarray:
        return margin(p) * _units(p, ee, p0, u0, stock)

    if es and cost_known:
        curve = pl.DataFrame(
            {
                "price": curve_prices,
                "expected_units": _units(curve_prices, es[0], p0, u0, stock),
                "expected_profit": profit(curve_prices, es[0]),
                "profit_low": np.min([profit(curve_prices, x) for x in es], axis=0),
                "profit_high": np.max([profit(curve_prices, x) for x in es], axis=0),
            }
        )
    else:
        curve = pl.DataFrame(
            {"price": curve_prices},
            schema={"price": pl.Float64},
        ).with_columns(
            pl.lit(None, pl.Float64).alias(n)
            for n in ("expected_units", "expected_profit", "profit_low", "profit_high")
        )

    def result(price: float, status: str, reasons: list[str], test: tuple[PriceTestStep, ...] = ()) -> Any:
        pa = np.array([price])
        if es:
            units = [float(_units(pa, x, p0, u0, stock)[0]) for x in es]
        else:
            units = [math.nan]
        profits = [float(profit(pa, x)[0]) for x in es] if cost_known and es else [math.nan]
        return PriceRecommendation(
            price=float(price),
            current_price=p0,
            expected_units=units[0],
            units_low=min(units),
            units_high=max(units),
            expected_profit=profits[0],
            profit_low=min(profits),
            profit_high=max(profits),
            status=status,
            reasons=tuple(reasons),
            elasticity=e,
            ci_low=lo_e,
            ci_high=hi_e,
            unconstrained_price=optimal_price(c, e, refund_rate=refund_rate) if cost_known else math.nan,
            price_test=test,
            curve=curve,
        )

    both = _test_plan(
        p0, [test_steps[0], test_steps[1]], [-test_steps[0], -test_steps[1]], test_sessions, sessions, ending
    )
    higher = _test_plan(p0, [test_steps[0], test_steps[1]], [], test_sessions, sessions, ending)
    if not cost_known:
        return result(
            p0,
            "missing_cost",
            [
                _join(
                    "unit cost missing: profit cannot be computed, price kept; enter the cost per unit",
                    "缺少单位成本：无法计算利润，维持原价；请录入单位成本",
                )
            ],
            both if not reliable else (),
        )
    if not reliable:
        reasons = [
            est_verdict or _join("elasticity unknown", "价格弹性未知"),
            _join(
                f"price kept at ¥{p0:.2f}; test prices on the next {test_sessions} sessions to learn the elasticity",
                f"维持 ¥{p0:.2f}；在接下来 {test_sessions} 场直播做价格测试以估计弹性",
            ),
        ]
        return result(p0, "test", reasons, both)
    if e >= -1:
        reasons = [
            est_verdict or _join(f"demand is inelastic ({_fmt(e)})", f"需求缺乏弹性（{_fmt(e)}）"),
            _join(
                f"no best price inside the data: price kept at ¥{p0:.2f}; test higher prices before raising",
                f"数据内没有最优价：维持 ¥{p0:.2f}，先测试提价再调整",
            ),
        ]
        return result(p0, "test", reasons, higher)
    grid = _price_grid(lo, hi, ending)
    if len(grid) == 0:
        grid = np.array([round(p0, 2)])
    prof = profit(grid, e)
    best = float(grid[int(np.argmax(prof))])
    p_star = optimal_price(c, e, refund_rate=refund_rate)
    reasons = [
        est_verdict or _join(f"elasticity {_fmt(e)}", f"价格弹性 {_fmt(e)}"),
        _join(
            f"best price without limits ¥{p_star:.2f} (cost ¥{c:.2f}, refunds {refund_rate:.0%})",
            f"不设限时的最优价 ¥{p_star:.2f}（成本 ¥{c:.2f}，退款率 {refund_rate:.0%}）",
        ),
    ]
    status = "optimal"
    best_free = float(grid[int(np.argmax(margin(grid) * _units(grid, e, p0, u0, None)))])
    if stock is not None and float(_units(np.array([best_free]), e, p0, u0, None)[0]) > stock:
        clear = p0 * (stock / u0) ** (1 / e) if stock and stock > 0 else math.inf
        status = "stock"
        reasons.append(
            _join(
                f"stock of {stock:g} limits sales: the price that sells it is ¥{clear:.2f}",
                f"库存 {stock:g} 件有限：卖完库存的价格约 ¥{clear:.2f}",
            )
        )
    if (abs(best - grid.max()) < 1e-9 and p_star > hi) or (abs(best - grid.min()) < 1e-9 and p_star < lo):
        status = "bound" if status == "optimal" else status
        reasons.append(
            _join(
                f"moved as far as the guardrails allow (±{max_step:.0%} per step, observed ¥{range_lo:.2f}–"
                f"¥{range_hi:.2f} ± {range_margin:.0%}); review after the next sessions",
                f"按护栏最多调整到此（每次 ±{max_step:.0%}，"
                f"观测价 ¥{range_lo:.2f}–¥{range_hi:.2f} ± {range_margin:.0%}）；"
                "下几场后再评估",
            )
        )
    if math.isfinite(hi_e) and hi_e > -1:
        reasons.append(
            _join(
                f"the interval reaches {_fmt(hi_e)} (inelastic): a price test would firm this up",
                f"区间上限 {_fmt(hi_e)}（缺乏弹性）：建议做价格测试确认",
            )
        )
        return result(best, status, reasons, higher)
    return result(best, status, reasons)
