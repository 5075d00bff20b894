"""Session planning for field envoys: slot, product line-up, price and stock for a host's next sessions.

Layer 3: the numbers come from the layers below, the planning is pure functions on frames, and one
thin part reads and writes the warehouse.

* :func:`fit_demand` fits the planner's demand model on past sessions (``queries.session_sales``
  rows joined with the host and product dimensions): a Poisson GLM of the units of each (session,
  product) with product and host effects, host trends, slot × weekday cells and festival flags
  (``livecommerce.calendar``); the price effect is an offset from the per-product elasticities of
  ``pricing.estimate_elasticity`` and explain minutes enter as exposure. Slot × weekday effects are
  then refined per live platform, county and host, and the start hour within its slot, each level by
  empirical Bayes (partial pooling): a level keeps ``τ² / (τ² + v)`` of its own deviation, so a host
  with few sessions gets its county's slots and a new host exactly the county's ("based on county
  data"). The units of a session follow a negative binomial law whose variance ``a·μ + b·μ²`` is
  fitted on the residuals.
* :func:`plan_sessions` proposes sessions for hosts over a date range: every start option of every day
  is scored by its expected GMV (or profit) with its line-up, then sessions are picked greedily, best
  first, at most one per host and day, up to each host's usual number of sessions, never overlapping
  another session of the same county. Each session carries its line-up (traffic, profit and
  in-season items, in supply season and with stock on hand), the price of each product
  (``pricing.recommend_price``; a proposed price test puts its test price on that session), the units
  to prepare (P50 / P90 and the newsvendor quantity of ``inventory.recommend_stock``), the expected
  GMV with its 80% interval, and the reasons in Chinese and English. ``detail=False`` gives an outline
  (the same sessions and money without the item laws: what a screen listing a county's plan needs);
  :func:`detail_sessions` completes the sessions a user opens or saves.
* :func:`adjust_session` recomputes a session after a change of slot, products or prices from the
  fitted model (no refit); :func:`to_csv` and :func:`to_ics` export a plan (the iCalendar file goes
  into a phone calendar).
* Warehouse: :func:`plan_from_warehouse`, :func:`save_plan`, :func:`load_plan`, :func:`plans` and
  :func:`plan_vs_actual` (what sold in the actual session of that host overlapping the planned time).

Money is integer fen in plans and tables, yuan at the pricing boundary. See ``docs/planner.md``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import io
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import polars as pl
from scipy import optimize, stats

from livecommerce.calendar import FLAGS, festival_flags
from livecommerce.config import LOCAL_TZ
from livecommerce.forecast.session import SLOTS, slot_of_hour
from livecommerce.inventory import DemandDistribution, _normal_scores, stock_quantity
from livecommerce.pricing import ElasticityEstimate, estimate_elasticity, recommend_price
from livecommerce.sheets import csv_text, neutralised

__all__ = [
    "CSV_COLUMNS",
    "HISTORY_COLUMNS",
    "DemandModel",
    "Plan",
    "PlanError",
    "PlannedItem",
    "PlannedSession",
    "Reason",
    "adjust_session",
    "candidates",
    "demand_model",
    "detail_sessions",
    "fit_demand",
    "load_plan",
    "plan_from_warehouse",
    "plan_sessions",
    "plan_vs_actual",
    "plans",
    "save_plan",
    "schedule",
    "to_csv",
    "to_ics",
]

_TZ = ZoneInfo(LOCAL_TZ)
#: columns of the session history (``queries.session_sales``); ``platform_id`` is optional
HISTORY_COLUMNS = ("session_id", "host_id", "started_at_utc", "live_minutes", "product_id", "units", "price")
#: explain minutes the demand model counts in (the simulated world's exposure unit; any unit works)
EXPOSURE_MINUTES = 20.0
#: a host with fewer sessions than this is planned on its county's slots (and the plan says so)
MIN_OWN_SESSIONS = 8
#: a start option (slot and half hour) needs this many past sessions in the county, or overall
MIN_START_SESSIONS = 3
#: a festival flag enters the model when this many (session, product) rows carry it
MIN_FLAG_ROWS = 20
#: weeks of a host's recent history that set its usual number of sessions per week
RATE_WEEKS = 12
_Z80 = float(stats.norm.ppf(0.9))
# the negative binomial CDF (Boost's, as nbinom.cdf) without nbinom.cdf's argument checks, where scipy has it
_NB_CDF = getattr(stats.nbinom, "_cdf", None) or stats.nbinom.cdf
_EPOCH = dt.datetime(1970, 1, 1)  # naive local times as whole microseconds since then (as polars' ``dt.epoch``)
_SLOT_OF_HOUR = np.array([int(slot_of_hour(hr)) for hr in range(24)])  # the slot of each local start hour
_SLOT_OF_HOUR_LIST = tuple(_SLOT_OF_HOUR.tolist())  # the same, for one hour at a time
_LEVELS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
_WEEKDAY_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_SLOT_ZH = {"morning": "上午场", "afternoon": "下午场", "prime": "晚间黄金场", "late": "深夜场"}
_FLAG_WORDS = {
    "d11_presale": ("Double 11 presale window", "双11预售期"),
    "d11_peak": ("Double 11 peak", "双11当天"),
    "d11_after": ("after Double 11 (usual dip)", "双11后（通常回落）"),
    "d618_presale": ("618 presale window", "618预售期"),
    "d618_peak": ("618 peak", "618当天"),
    "d618_after": ("after 618 (usual dip)", "618后（通常回落）"),
    "d1212_peak": ("Double 12", "双12"),
    "new_year_goods": ("New-Year goods festival", "年货节"),
    "spring_festival_slowdown": ("Spring Festival courier slowdown", "春节物流停运期"),
    "mid_autumn_gifting": ("Mid-Autumn gifting weeks", "中秋送礼季"),
    "national_day": ("National Day holiday", "国庆假期"),
}
_ROLES = ("traffic", "profit", "in_season")


class PlanError(ValueError):
    """A plan cannot be made or changed as asked; ``str()`` says why in English and Chinese."""


@functools.lru_cache(maxsize=8192)
def _active_flags(day: dt.date, flags: tuple[str, ...]) -> frozenset[str]:
    """Return the calendar flags of ``flags`` active on ``day`` (the planner asks for the same days
    thousands of times while it weighs candidate sessions)."""
    row = festival_flags(day, day, flags).row(0, named=True)
    return frozenset(f for f in flags if row.get(f))


@dataclass(frozen=True)
class Reason:
    """One reason in plain words, in English and in Chinese."""

    en: str
    zh: str

    def text(self, lang: str = "zh") -> str:
        """Return the reason in ``lang`` (``zh`` or ``en``)."""
        return self.en if lang == "en" else self.zh

    @classmethod
    def split(cls, joined: str) -> Reason:
        """Return a reason from ``"english / 中文"`` (the form pricing and inventory write)."""
        en, sep, zh = joined.partition(" / ")
        return cls(en, zh if sep else en)


# --- the demand model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandModel:
    """The planner's fitted demand model (see the module docstring); immutable, cheap to evaluate.

    ``coef`` holds the GLM coefficients by term (``product[p]``, ``host[h]``, ``trend[h]``,
    ``cell[slot,weekday]``, flag names); ``deviations`` the shrunk slot × weekday deviations per level
    (``platform``, ``county``, ``host``: ``{(key, slot, weekday): log effect}``) and ``hour`` the shrunk
    start-hour deviations; ``tau2`` the between-group variance of each level. ``var_a``/``var_b`` the
    variance ``a·μ + b·μ²`` of a session's units; ``host_sd`` the spread of host effects (added for a host
    without history). ``hosts`` and ``products`` are the dimension frames; ``starts`` the start options
    (``county_id`` or ``""`` for all, ``slot``, ``start_minute``, ``sessions``); ``durations`` the typical
    minutes per (host or county or ``""``, slot); ``elasticities`` per product.
    """

    coef: Mapping[str, float]
    deviations: Mapping[str, Mapping[tuple[str, int, int], float]]
    hour: Mapping[int, float]
    tau2: Mapping[str, float]
    var_a: float
    var_b: float
    host_sd: float
    explain_share: float
    t0: dt.date
    last_day: dt.date
    hosts: pl.DataFrame = field(repr=False)
    products: pl.DataFrame = field(repr=False)
    host_sessions: Mapping[str, int] = field(repr=False)
    host_rate: Mapping[str, float] = field(repr=False)
    starts: pl.DataFrame = field(repr=False)
    durations: Mapping[tuple[str, int], float] = field(repr=False)
    elasticities: Mapping[str, ElasticityEstimate] = field(repr=False)
    price_range: Mapping[str, tuple[float, float]] = field(repr=False)
    flags: tuple[str, ...] = ()

    # -- lookups -----------------------------------------------------------------------------------

    @functools.cached_property
    def _host_rows(self) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for row in self.hosts.iter_rows(named=True):
            rows.setdefault(row["host_id"], row)  # the first, as a filter would return
        return rows

    @functools.cached_property
    def _product_rows(self) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for row in self.products.iter_rows(named=True):
            rows.setdefault(row["product_id"], row)
        return rows

    @functools.cached_property
    def _county_products(self) -> dict[Any, list[dict[str, Any]]]:
        rows: dict[Any, list[dict[str, Any]]] = {}
        for row in self.products.iter_rows(named=True):
            rows.setdefault(row["county_id"], []).append(row)
        return rows

    def county_products(self, county_id: Any) -> list[dict[str, Any]]:
        """Return the product rows of ``county_id`` (in the dimension frame's order)."""
        if county_id is None:  # as a filter on county_id == None finds nothing
            return []
        return [dict(r) for r in self._county_products.get(county_id, [])]

    def host_row(self, host_id: str) -> dict[str, Any]:
        """Return the host's dimension row (``host_id, county_id, platform_id, name``); PlanError when unknown."""
        row = self._host_rows.get(host_id)
        if row is None:
            raise PlanError(f"unknown host {host_id!r} / 未知主播 {host_id!r}")
        return dict(row)

    def product_row(self, product_id: str) -> dict[str, Any]:
        """Return the product's dimension row; PlanError when unknown."""
        row = self._product_rows.get(product_id)
        if row is None:
            raise PlanError(f"unknown product {product_id!r} / 未知商品 {product_id!r}")
        return dict(row)

    def based_on_county(self, host_id: str) -> bool:
        """True when the host has fewer than :data:`MIN_OWN_SESSIONS` sessions: its plan rests on county data."""
        return self.host_sessions.get(host_id, 0) < MIN_OWN_SESSIONS

    def sellable(self, product_id: str) -> bool:
        """True when the model has seen the product sell (it can predict its demand)."""
        return f"product[{product_id}]" in self.coef

    def host_effect(self, host_id: str, day: dt.date) -> tuple[float, bool]:
        """Return the host's log effect on ``day`` (intercept and trend) and whether it is the host's own.

        A host without history gets the session-weighted mean of its county's hosts (the county level)."""
        own = self._own_terms(host_id)
        if own is not None:
            return own[0] + own[1] * ((day - self.t0).days / 365.0), True
        county = self.host_row(host_id)["county_id"]
        peers = self.hosts.filter((pl.col("county_id") == county) & (pl.col("host_id") != host_id))
        effects, weights = [], []
        years = (day - self.t0).days / 365.0
        for h in peers["host_id"].to_list():
            n = self.host_sessions.get(h, 0)
            if n:
                effects.append(self.coef.get(f"host[{h}]", 0.0) + self.coef.get(f"trend[{h}]", 0.0) * years)
                weights.append(n)
        if not weights:
            return 0.0, False
        return float(np.average(effects, weights=weights)), False

    def _cell(self, slot: int, weekday: int) -> float:
        """The overall log effect of ``slot`` on ``weekday``; a weekday never seen in this slot gets the
        slot's mean over the weekdays seen."""
        cell = f"cell[{slot},{weekday}]"
        if cell in self.coef:
            return self.coef[cell]
        seen = [self.coef[f"cell[{slot},{d}]"] for d in range(7) if f"cell[{slot},{d}]" in self.coef]
        return float(np.mean(seen)) if seen else min(v for k, v in self.coef.items() if k.startswith("cell["))

    def _own_terms(self, host_id: str) -> tuple[float, float] | None:
        """The host's own intercept and yearly trend, or ``None`` for a host without history."""
        if f"host[{host_id}]" in self.coef or self.host_sessions.get(host_id, 0) > 0:
            return self.coef.get(f"host[{host_id}]", 0.0), self.coef.get(f"trend[{host_id}]", 0.0)
        return None

    def host_effects(self, host_ids: Sequence[str], days: Sequence[dt.date]) -> np.ndarray:
        """Return :meth:`host_effect` (the log effect) of each host and day, as a host × day array: the same
        numbers, worked out at once for the hosts with history of their own."""
        years = np.array([(d - self.t0).days for d in days], dtype=float) / 365.0
        own = [self._own_terms(h) for h in host_ids]
        out = np.empty((len(host_ids), len(days)))
        mine = [k for k, terms in enumerate(own) if terms is not None]
        if mine:
            a, b = (np.array([own[k][i] for k in mine]) for i in (0, 1))  # type: ignore[index]
            out[mine] = a[:, None] + b[:, None] * years[None, :]
        for k, terms in enumerate(own):
            if terms is None:
                out[k] = [self.host_effect(host_ids[k], d)[0] for d in days]
        return out

    def slot_effect(self, host_id: str, slot: int, weekday: int, hour: int | None = None) -> float:
        """Return the log effect of a start in ``slot`` on ``weekday`` (0 = Monday) for the host: the overall
        cell plus the shrunk platform, county and host deviations, plus the start hour's deviation."""
        h = self._host_rows.get(host_id)
        if h is None:
            raise PlanError(f"unknown host {host_id!r} / 未知主播 {host_id!r}")
        value = self._cell(slot, weekday)
        for level, key in (("platform", h["platform_id"]), ("county", h["county_id"]), ("host", host_id)):
            value += self.deviations.get(level, {}).get((str(key or ""), slot, weekday), 0.0)
        if hour is not None:
            value += self.hour.get(int(hour), 0.0)
        return value

    def start_terms(self, host_id: str) -> np.ndarray:
        """Return :meth:`slot_effect` of a start at each weekday and local hour for the host, as a 7 × 24
        array (the slot of each hour): the same sums in the same order, worked out table by table."""
        h = self._host_rows.get(host_id)
        if h is None:
            raise PlanError(f"unknown host {host_id!r} / 未知主播 {host_id!r}")
        slots, days = range(len(SLOTS)), range(7)
        value = np.array([[self._cell(s, d) for d in days] for s in slots])
        for level, key in (("platform", h["platform_id"]), ("county", h["county_id"]), ("host", host_id)):
            table, k = self.deviations.get(level, {}), str(key or "")
            value = value + np.array([[table.get((k, s, d), 0.0) for d in days] for s in slots])
        hours = np.array([self.hour.get(hr, 0.0) for hr in range(24)])
        return value[_SLOT_OF_HOUR, :].T + hours[None, :]

    def _flag_sum(self, day: dt.date) -> float:
        """``sum(flag_effect(day).values())``, kept per day (every session and start option of a day adds it)."""
        memo = self._flag_sums
        if day not in memo:
            memo[day] = sum(self.flag_effect(day).values())
        return memo[day]

    @functools.cached_property
    def _flag_sums(self) -> dict[dt.date, float]:
        return {}

    def flag_effect(self, day: dt.date) -> dict[str, float]:
        """Return the log effect of each festival flag active on ``day`` (only flags the model knows)."""
        if not self.flags:
            return {}
        active = _active_flags(day, tuple(self.flags))
        return {f: self.coef.get(f, 0.0) for f in self.flags if f in active}

    def duration(self, host_id: str, slot: int) -> float:
        """Return the typical live minutes of a session in ``slot`` for the host (else county, else overall)."""
        row = self._host_rows.get(host_id)
        if row is None:
            raise PlanError(f"unknown host {host_id!r} / 未知主播 {host_id!r}")
        county = row["county_id"]
        for key in (host_id, county or "", ""):
            if (key, slot) in self.durations:
                return self.durations[(key, slot)]
        return float(np.median(list(self.durations.values()))) if self.durations else 120.0

    def option_terms(self, host_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return the host's start options as arrays — slots, local start minutes, typical live minutes —
        and its :meth:`start_terms`; none of them depends on the dates planned, so they are worked out once
        per host for this model (read-only arrays)."""
        found = self._option_memo.get(host_id)
        if found is None:
            options = self.start_options(host_id)
            slot = np.array([s for s, _ in options], dtype=np.int64)
            minute = np.array([m for _, m in options], dtype=np.int64)
            minutes = np.array([self.duration(host_id, int(s)) for s in slot], dtype=float)
            found = (slot, minute, minutes, self.start_terms(host_id))
            for a in found:
                a.flags.writeable = False
            self._option_memo[host_id] = found
        return found

    @functools.cached_property
    def _option_memo(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        return {}

    def start_options(self, host_id: str) -> list[tuple[int, int]]:
        """Return the (slot, local start minute) options for the host: its county's, else everyone's."""
        county = self.host_row(host_id)["county_id"] or ""
        return list(self._starts.get(county) or self._starts.get("", []))

    @functools.cached_property
    def _starts(self) -> dict[str, list[tuple[int, int]]]:
        out: dict[str, list[tuple[int, int]]] = {}
        for c, s, m in self.starts.select("county_id", "slot", "start_minute").iter_rows():
            out.setdefault(c, []).append((int(s), int(m)))
        return out

    def sessions_per_week(self, host_id: str) -> float:
        """Return the host's usual sessions per week (recent history), or the median of its county's hosts."""
        if self.host_rate.get(host_id):
            return self.host_rate[host_id]
        county = self.host_row(host_id)["county_id"]
        peers = [
            self.host_rate[h]
            for h in self.hosts.filter(pl.col("county_id") == county)["host_id"]
            if h in self.host_rate
        ]
        rates = peers or list(self.host_rate.values())
        return float(np.median(rates)) if rates else 1.0

    # -- demand ------------------------------------------------------------------------------------

    def units(
        self,
        host_id: str,
        start_local: dt.datetime,
        minutes: float,
        product_ids: Sequence[str],
        prices_fen: Sequence[int],
        explain_minutes: Sequence[float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the expected units and their variance for each product of one session.

        ``start_local`` is a naive Asia/Shanghai time; explain minutes default to the usual share of the
        live time split evenly over the products."""
        n = len(product_ids)
        if n == 0:
            return np.zeros(0), np.zeros(0)
        day, hour = start_local.date(), start_local.hour
        slot = _SLOT_OF_HOUR_LIST[hour]
        host, own = self.host_effect(host_id, day)
        base = host + self.slot_effect(host_id, slot, day.weekday(), hour) + self._flag_sum(day)
        if explain_minutes is None:  # the same share for every product: its log term once
            exposure = [math.log(max(self.explain_share * minutes / n, 1.0) / EXPOSURE_MINUTES)] * n
        else:
            explain = np.maximum(np.asarray(explain_minutes, dtype=float), 1.0).tolist()
            exposure = [math.log(x / EXPOSURE_MINUTES) for x in explain]
        values = []
        for p, price, log_exposure in zip(product_ids, prices_fen, exposure, strict=True):
            c = self.coef.get(f"product[{p}]")
            # a product the model has not seen sell (not :meth:`sellable`): no demand predicted
            values.append(0.0 if c is None else math.exp(c + base + self.price_term(p, price) + log_exposure))
        # the variance a + b·mu + (a county-level host's spread), never below the mean: a few products, so
        # in plain floats (the same operations, in the same order, as on arrays)
        spread = None if own else math.exp(self.host_sd**2) - 1.0
        variances = []
        for m in values:
            v = self.var_a * m + self.var_b * (m * m)
            if spread is not None:
                v = v + (m * m) * spread
            variances.append(v if v >= m else m)
        return np.array(values, dtype=float), np.array(variances, dtype=float)

    def price_term(self, product_id: str, price_fen: float) -> float:
        """Return the log effect on the product's demand of selling at ``price_fen`` instead of its list price:
        ``elasticity × log(price / list price)`` (0 without a list price or a finite elasticity)."""
        e = self.elasticities.get(product_id)
        slope = e.elasticity if e is not None and math.isfinite(e.elasticity) else 0.0
        row = self._product_rows.get(product_id) or self.product_row(product_id)  # unknown: PlanError
        listed = row.get("list_price_fen")
        return slope * math.log(price_fen / listed if listed else 1.0)

    def distribution(self, mean: float, var: float) -> DemandDistribution:
        """Return the demand law of one product in one session (negative binomial with this mean and variance)."""
        return _distributions(np.array([mean], dtype=float), np.array([var], dtype=float))[0]

    def distributions(self, means: Sequence[float], variances: Sequence[float]) -> list[DemandDistribution]:
        """Return :meth:`distribution` of each ``(mean, variance)`` pair, worked out in one pass."""
        return _distributions(np.asarray(means, dtype=float), np.asarray(variances, dtype=float))


def _nbinom_ppf(levels: Sequence[float], r: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``scipy.stats.nbinom.ppf(levels, r, p)`` for each law (row) and level (column): the smallest whole
    ``k >= 0`` with ``nbinom.cdf(k) >= level``, found with scipy's own CDF (the same Boost function its quantile
    inverts) from a Cornish-Fisher start (exact three times in four, ~2.7 CDF calls a value instead of the
    quantile's root search: half the time). The start's neighbours are looked at, then steps double until the
    answer is bracketed, then halve."""
    lv = np.asarray(levels, dtype=float)
    n, width = len(r), len(lv)
    q = np.tile(lv, n)
    r1, p1 = np.asarray(r, dtype=float), np.asarray(p, dtype=float)
    rr, pp = np.repeat(r1, width), np.repeat(p1, width)
    z1 = _normal_scores(tuple(lv.tolist()))
    with np.errstate(all="ignore"):  # a law at p = 1 (all mass at zero): no spread; the start is 0
        # the expansion's terms: those of the levels once each, those of the laws once each (then one per value)
        z, z2, z3, z4 = (np.tile(t, n) for t in (z1, z1 * z1 - 1, z1**3 - 3 * z1, 2 * z1**3 - 5 * z1))
        mean1 = r1 * (1 - p1) / p1
        sd1 = np.sqrt(mean1 / p1)
        skew1 = (2 - p1) / np.sqrt(r1 * (1 - p1))
        kurt1 = 6 / r1 + p1 * p1 / (r1 * (1 - p1))
        mean, sd, skew, kurt, skew2 = (np.repeat(t, width) for t in (mean1, sd1, skew1, kurt1, skew1**2))
        x = mean + sd * (z + z2 * skew / 6 + z3 * kurt / 24 - z4 * skew2 / 36)
        start = np.ceil(x - 0.5)
    start = np.where(np.isfinite(start), np.maximum(start, 0.0), 0.0)
    above = _NB_CDF(start, rr, pp) >= q
    lo = np.where(above, -1.0, start)  # cdf(lo) < level (cdf(-1) = 0)
    hi = np.where(above, start, np.inf)  # cdf(hi) >= level
    act, step = np.flatnonzero(~above), np.ones(int((~above).sum()))
    for _ in range(64):  # up from the start
        if not act.size:
            break
        cand = lo[act] + step
        ok = _NB_CDF(cand, rr[act], pp[act]) >= q[act]
        hi[act[ok]], lo[act[~ok]] = cand[ok], cand[~ok]
        act, step = act[~ok], step[~ok] * 2
    act = np.flatnonzero(above & (start > 0))
    step = np.ones(len(act))
    for _ in range(64):  # down from the start
        keep = hi[act] - step >= 0
        act, step = act[keep], step[keep]
        if not act.size:
            break
        cand = hi[act] - step
        ok = _NB_CDF(cand, rr[act], pp[act]) >= q[act]
        hi[act[ok]], lo[act[~ok]] = cand[ok], cand[~ok]
        act, step = act[ok], step[ok] * 2
    act = np.flatnonzero(hi - lo > 1)
    for _ in range(128):  # halve the bracket
        if not act.size:
            break
        mid = np.floor((lo[act] + hi[act]) / 2)
        ok = _NB_CDF(mid, rr[act], pp[act]) >= q[act]
        hi[act[ok]], lo[act[~ok]] = mid[ok], mid[~ok]
        act = act[hi[act] - lo[act] > 1]
    odd = ~np.isfinite(hi) | (hi - lo > 1)  # not settled (a CDF without an answer): scipy's quantile
    if odd.any():
        hi[odd] = stats.nbinom.ppf(q[odd], rr[odd], pp[odd])
    return hi.reshape(n, width)


def _distributions(mean: np.ndarray, var: np.ndarray) -> list[DemandDistribution]:
    """The demand law of each (mean, variance) pair: Poisson when the variance is not above the mean, negative
    binomial otherwise, nothing for a mean at or below zero; known by its quantiles at ``_LEVELS`` (those of all
    Poisson laws in one scipy call, of all negative binomial ones in one :func:`_nbinom_ppf`), the grids in one
    numpy pass (``DemandDistribution.from_quantile_rows``)."""
    if not len(mean):
        return []
    levels = np.asarray(_LEVELS)
    rows = np.zeros((len(mean), len(levels)))
    positive = mean > 0
    poisson = positive & (var <= mean * (1 + 1e-9))
    nbinom = positive & ~poisson
    if poisson.any():
        rows[poisson] = stats.poisson.ppf(levels[None, :], mean[poisson][:, None])
    if nbinom.any():
        m = mean[nbinom]
        r = m**2 / (var[nbinom] - m)
        rows[nbinom] = _nbinom_ppf(_LEVELS, r, r / (r + m))
    return DemandDistribution.from_quantile_rows(_LEVELS, rows, np.where(positive, mean, 0.0).tolist())


def _in_season(month: int, start: Any, end: Any) -> bool:
    if start is None or end is None:
        return True
    start, end = int(start), int(end)
    return start <= month <= end if start <= end else (month >= start or month <= end)


def _local(ts: Any) -> dt.datetime:
    """Naive Asia/Shanghai time of a UTC timestamp (aware or naive UTC)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    return ts.astimezone(_TZ).replace(tzinfo=None)


def _utc(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=_TZ).astimezone(dt.UTC)


def _history(sessions: pl.DataFrame, hosts: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """Join the session history with its dimensions; add local time, slot, weekday and the explain proxy."""
    missing = [c for c in HISTORY_COLUMNS if c not in sessions.columns]
    if missing:
        raise PlanError(f"session history lacks column(s) {', '.join(missing)} / 场次历史缺少列：{', '.join(missing)}")
    df = sessions
    if "explain_minutes" not in df.columns:
        df = df.with_columns(pl.lit(0.0).alias("explain_minutes"))
    start = pl.col("started_at_utc")
    if getattr(df.schema["started_at_utc"], "time_zone", None) is None:
        start = start.dt.replace_time_zone("UTC")
    df = (
        df.with_columns(start.dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None).alias("start_local"))
        .join(hosts.select("host_id", "county_id", "platform_id"), on="host_id", how="inner")
        .join(products.select("product_id", "list_price_fen", pl.col("county_id").alias("_pc")), on="product_id")
        .filter(
            (pl.col("price") > 0)
            & (pl.col("live_minutes") > 0)
            & pl.col("list_price_fen").is_not_null()
            & (pl.col("list_price_fen") > 0)
        )
        .drop("_pc")
    )
    df = df.with_columns(
        pl.col("start_local").dt.date().alias("day"),
        (pl.col("start_local").dt.weekday() - 1).alias("weekday"),
        pl.col("start_local").dt.hour().cast(pl.Int64).alias("hour"),
        (pl.col("start_local").dt.hour().cast(pl.Int64) * 60 + pl.col("start_local").dt.minute().cast(pl.Int64)).alias(
            "start_minute"
        ),
        pl.len().over("session_id").alias("n_products"),
        pl.col("units").cast(pl.Float64),
        pl.col("price").cast(pl.Float64),
        pl.col("explain_minutes").cast(pl.Float64).fill_null(0.0),
        pl.col("live_minutes").cast(pl.Float64),
    )
    return df.with_columns(pl.Series("slot", slot_of_hour(df["hour"].to_numpy()), dtype=pl.Int64))


def _variance_terms(y: np.ndarray, mu: np.ndarray) -> tuple[float, float]:
    """Fit ``(y − μ)² ≈ a·μ + b·μ²`` with a ≥ 1, b ≥ 0 (non-negative least squares on the excess)."""
    sq = (y - mu) ** 2
    x = np.column_stack([mu, mu**2])
    coef, _ = optimize.nnls(x, sq)
    a, b = float(coef[0]), float(coef[1])
    return max(a, 1.0), max(b, 0.0)


def _shrunk(
    y: np.ndarray, mu: np.ndarray, var: np.ndarray, keys: np.ndarray
) -> tuple[dict[Any, float], float, np.ndarray]:
    """Empirical-Bayes deviations of observed from expected units per key.

    Returns ``{key: shrunk log deviation}``, the between-key variance τ² (method of moments) and the
    multiplier of each row's expected units."""
    uniq, inv = np.unique(keys, return_inverse=True)
    obs = np.bincount(inv, weights=y)
    exp_ = np.bincount(inv, weights=mu)
    v_sum = np.bincount(inv, weights=var)
    raw = np.log((obs + 0.5) / (exp_ + 0.5))
    v = v_sum / (exp_ + 0.5) ** 2
    ok = exp_ >= 1.0
    tau2 = float(max(np.mean(raw[ok] ** 2 - v[ok]), 0.0)) if ok.any() else 0.0
    delta = np.where(ok, raw * tau2 / (tau2 + v), 0.0) if tau2 > 0 else np.zeros(len(uniq))
    out = {tuple(k) if isinstance(k, np.ndarray) else k: float(d) for k, d in zip(uniq.tolist(), delta, strict=True)}
    return out, tau2, np.exp(delta[inv])


def fit_demand(
    sessions: pl.DataFrame,
    hosts: pl.DataFrame,
    products: pl.DataFrame,
    *,
    min_rows: int = 12,
) -> DemandModel:
    """Fit the planner's demand model on past sessions; return a :class:`DemandModel`.

    ``sessions``: one row per (session, product) with :data:`HISTORY_COLUMNS` (and ``explain_minutes``,
    0 when unknown), as ``queries.session_sales`` returns; ``hosts``: ``host_id, county_id, platform_id``
    (and ``name``); ``products``: the product dimension with ``list_price_fen``, ``unit_cost_fen``,
    ``season_start_month``, ``season_end_month``. Raises :class:`PlanError` when there is too little
    history (fewer than ``min_rows`` rows)."""
    import statsmodels.api as sm

    df = _history(sessions, hosts, products)
    if df.height < min_rows:
        raise PlanError(
            f"only {df.height} past (session, product) rows: load more sessions before planning"
            f" / 历史场次数据只有 {df.height} 行，请先导入更多场次"
        )
    # explain minutes: known for logged sessions; elsewhere the usual share of live time per product
    per_product = df["live_minutes"].to_numpy() / df["n_products"].to_numpy()
    known = df["explain_minutes"].to_numpy() > 0
    share = float(np.median(df["explain_minutes"].to_numpy()[known] / per_product[known])) if known.sum() >= 5 else 0.5
    df = df.with_columns(
        pl.Series("explain", np.where(known, df["explain_minutes"].to_numpy(), np.maximum(share * per_product, 1.0)))
    )
    first, last = df["day"].min(), df["day"].max()
    flags_frame = festival_flags(first, last, FLAGS).rename({"ds": "day"})
    df = df.join(flags_frame, on="day", how="left")
    flags = tuple(f for f in FLAGS if int(df[f].sum()) >= MIN_FLAG_ROWS and int((df[f] == 0).sum()) >= MIN_FLAG_ROWS)

    # per-product elasticities (pricing), with host, slot x weekday and calendar controls
    pdf = df.select(
        "product_id", "host_id", "slot", "weekday", "units", "price", "explain", "county_id", *flags
    ).to_pandas()
    by_product = estimate_elasticity(
        pdf,
        "units",
        "price",
        controls=flags,
        fixed_effects=("host_id", ("slot", "weekday")),
        by="product_id",
        exposure="explain",
        method="ppml",
    )
    assert isinstance(by_product, pl.DataFrame)
    fields = set(ElasticityEstimate.__dataclass_fields__)
    elasticities = {
        str(r["product_id"]): ElasticityEstimate(**{k: v for k, v in r.items() if k in fields})
        for r in by_product.iter_rows(named=True)
    }

    # the GLM: product and host effects, host trends, slot x weekday cells, flags; price and exposure offsets
    t0 = first
    years = np.array([(d - t0).days / 365.0 for d in df["day"].to_list()])
    cols: dict[str, np.ndarray] = {}
    pid = df["product_id"].to_numpy().astype(str)
    hid = df["host_id"].to_numpy().astype(str)
    for p in sorted(set(pid)):
        cols[f"product[{p}]"] = (pid == p).astype(float)
    counts = df.group_by("host_id", "county_id").agg(pl.col("session_id").n_unique().alias("n")).sort("n", "host_id")
    reference = {c: g.sort("n", descending=True)["host_id"][0] for (c,), g in counts.group_by("county_id")}
    for h in sorted(set(hid)):
        mask = (hid == h).astype(float)
        if h not in reference.values():
            cols[f"host[{h}]"] = mask
        if np.ptp(years[hid == h]) >= 0.25:
            cols[f"trend[{h}]"] = mask * years
    slot, wd = df["slot"].to_numpy(), df["weekday"].to_numpy()
    cell_counts = df.group_by("slot", "weekday").len().sort("len", descending=True)
    ref_cell = tuple(cell_counts.row(0)[:2])
    for s, d in cell_counts.select("slot", "weekday").iter_rows():
        if (s, d) != ref_cell:
            cols[f"cell[{s},{d}]"] = ((slot == s) & (wd == d)).astype(float)
    for f in flags:
        cols[f] = df[f].to_numpy().astype(float)
    names = list(cols)
    x = np.column_stack([cols[c] for c in names])
    e_p = np.array([elasticities[p].elasticity if p in elasticities else math.nan for p in pid])
    e_p = np.where(np.isfinite(e_p), e_p, 0.0)
    list_price = df["list_price_fen"].to_numpy() / 100.0
    offset = e_p * np.log(df["price"].to_numpy() / list_price) + np.log(df["explain"].to_numpy() / EXPOSURE_MINUTES)
    y = df["units"].to_numpy()
    try:
        res = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit(maxiter=100)
    except Exception as exc:  # statsmodels raises many kinds on degenerate data
        raise PlanError(f"the demand model did not fit: {exc} / 需求模型拟合失败：{exc}") from exc
    coef = {c: float(b) for c, b in zip(names, np.asarray(res.params), strict=True) if math.isfinite(b)}
    coef[f"cell[{ref_cell[0]},{ref_cell[1]}]"] = 0.0  # the reference cell: every seen cell has a term
    mu = np.asarray(res.mu, dtype=float)
    a, b = _variance_terms(y, mu)

    # partial pooling of slot x weekday cells: live platform, then county, then host; then the start hour
    deviations: dict[str, dict[tuple[str, int, int], float]] = {}
    tau2: dict[str, float] = {}
    for level, column in (("platform", "platform_id"), ("county", "county_id"), ("host", "host_id")):
        key = df[column].cast(pl.String).fill_null("").to_numpy().astype(str)
        joined = np.array([f"{k}\x1f{s}\x1f{d}" for k, s, d in zip(key, slot, wd, strict=True)])
        dev, tau2[level], mult = _shrunk(y, mu, a * mu + b * mu**2, joined)
        deviations[level] = {
            (k.split("\x1f")[0], int(k.split("\x1f")[1]), int(k.split("\x1f")[2])): v for k, v in dev.items() if v
        }
        mu = mu * mult
    hour_dev, tau2["hour"], mult = _shrunk(y, mu, a * mu + b * mu**2, df["hour"].to_numpy())
    mu = mu * mult
    a, b = _variance_terms(y, mu)

    host_effects = [coef.get(f"host[{h}]", 0.0) for h in set(hid)]
    host_sd = float(np.std(host_effects)) if len(host_effects) > 1 else 0.0

    sess = df.unique("session_id")
    host_sessions = dict(sess.group_by("host_id").len().iter_rows())
    recent = sess.filter(pl.col("day") > last - dt.timedelta(weeks=RATE_WEEKS))
    rate_rows = recent.group_by("host_id").agg(pl.len().alias("n"), pl.col("day").min().alias("first"))
    host_rate = {
        h: n / max((last - max(f0, last - dt.timedelta(weeks=RATE_WEEKS))).days / 7.0, 1.0)
        for h, n, f0 in rate_rows.iter_rows()
    }
    sess = sess.with_columns(((pl.col("start_minute") + 15) // 30 * 30).alias("start_minute"))
    county_starts = (
        sess.group_by(pl.col("county_id").fill_null(""), "slot", "start_minute")
        .len("sessions")
        .filter(pl.col("sessions") >= MIN_START_SESSIONS)
    )
    all_starts = (
        sess.group_by("slot", "start_minute")
        .len("sessions")
        .filter(pl.col("sessions") >= MIN_START_SESSIONS)
        .with_columns(pl.lit("").alias("county_id"))
    )
    starts = pl.concat([county_starts, all_starts.select(county_starts.columns)]).sort(
        "county_id", "slot", "start_minute"
    )
    durations: dict[tuple[str, int], float] = {}
    for keys in (["host_id"], ["county_id"], []):
        g = sess.group_by(*keys, "slot").agg(pl.col("live_minutes").median(), pl.len().alias("n"))
        for row in g.filter(pl.col("n") >= (1 if keys == ["host_id"] else MIN_START_SESSIONS)).iter_rows(named=True):
            durations[(str(row[keys[0]] or "") if keys else "", int(row["slot"]))] = float(row["live_minutes"])
    ranges = {
        p: (float(lo), float(hi))
        for p, lo, hi in df.group_by("product_id")
        .agg(pl.col("price").min().alias("lo"), pl.col("price").max().alias("hi"))
        .iter_rows()
    }
    return DemandModel(
        coef=coef,
        deviations=deviations,
        hour={int(k): v for k, v in hour_dev.items()},
        tau2=tau2,
        var_a=a,
        var_b=b,
        host_sd=host_sd,
        explain_share=share,
        t0=t0,
        last_day=last,
        hosts=hosts,
        products=products,
        host_sessions=host_sessions,
        host_rate=host_rate,
        starts=starts,
        durations=durations,
        elasticities=elasticities,
        price_range=ranges,
        flags=flags,
    )


# --- plans ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedItem:
    """One product of a planned session: its role, price and the units to prepare.

    ``role``: ``traffic`` (draws the room: most units), ``profit`` (margin), ``in_season`` (seasonal
    product in its supply season). ``units_p50``/``units_p90``: demand quantiles; ``units_to_prepare``:
    the newsvendor quantity (``inventory.recommend_stock``), capped by the stock on hand when known.
    ``price_test``: this session carries a test price of a proposed price test. In an outline
    (``plan_sessions(..., detail=False)``) the three quantities are ``None`` and ``reasons`` holds the role
    and price reasons only; :func:`detail_sessions` works them out.
    """

    product_id: str
    title: str
    role: str
    price_fen: int
    list_price_fen: int
    price_test: bool
    explain_minutes: float
    expected_units: float
    units_p50: int | None
    units_p90: int | None
    units_to_prepare: int | None
    expected_gmv_fen: int
    expected_profit_fen: int
    stock_on_hand: int | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class PlannedSession:
    """One proposed session: host, time (UTC), expected GMV with its 80% interval, line-up and reasons.

    ``based_on``: ``host`` (the host's own history) or ``county`` (too little of its own: county data).
    ``status``: ``draft`` (not saved), ``planned`` (saved), ``done``, ``cancelled``."""

    plan_id: str
    host_id: str
    host_name: str
    county_id: str | None
    platform_id: str | None
    start_utc: dt.datetime
    end_utc: dt.datetime
    slot: str
    based_on: str
    expected_gmv_fen: int
    gmv_low_fen: int
    gmv_high_fen: int
    expected_profit_fen: int
    items: tuple[PlannedItem, ...]
    reasons: tuple[Reason, ...]
    status: str = "draft"

    @property
    def detailed(self) -> bool:
        """True when the items carry their demand quantiles and units to prepare (not an outline)."""
        return all(i.units_to_prepare is not None for i in self.items)

    @property
    def start_local(self) -> dt.datetime:
        """The start as naive Asia/Shanghai time."""
        return _local(self.start_utc)

    @property
    def end_local(self) -> dt.datetime:
        """The end as naive Asia/Shanghai time."""
        return _local(self.end_utc)

    def as_dict(self, numbered: dict[Reason, int] | None = None) -> dict[str, Any]:
        """Return the session as a JSON-ready dict (times ISO-8601, reasons as ``{en, zh}``). ``numbered``: a
        plan's table of reasons (reason -> its number, :meth:`Plan.as_dict` with ``shared_reasons``): the
        reasons are written as their numbers, those not in the table yet added to it."""
        out = _fields(self)  # field by field: dataclasses.asdict deep-copies every value (slow for a county plan)
        if numbered is None:
            out["items"] = [{**_fields(i), "reasons": [_fields(r) for r in i.reasons]} for i in self.items]
            out["reasons"] = [_fields(r) for r in self.reasons]
        else:
            number = numbered.setdefault
            out["items"] = [
                {**_fields(i), "reasons": [number(r, len(numbered)) for r in i.reasons]} for i in self.items
            ]
            out["reasons"] = [number(r, len(numbered)) for r in self.reasons]
        out["start_utc"] = self.start_utc.isoformat()
        out["end_utc"] = self.end_utc.isoformat()
        out["start_local"] = self.start_local.isoformat(timespec="minutes")
        out["end_local"] = self.end_local.isoformat(timespec="minutes")
        return out

    @classmethod
    def from_dict(
        cls,
        d: Mapping[str, Any],
        reasons: dict[tuple[str, str], Reason] | None = None,
        table: Sequence[Reason] | None = None,
    ) -> PlannedSession:
        """Rebuild a session from :meth:`as_dict` output. ``reasons``: the reasons already rebuilt, by their
        texts (a plan's sessions share them: a product's price reasons are on every session that sells it).
        ``table``: the plan's table of reasons, for a session whose reasons are written as their numbers in it
        (a number outside the table is refused: ``ValueError``)."""
        memo = {} if reasons is None else reasons

        def reason(r: Any) -> Reason:
            if table is not None:
                if type(r) is not int or not 0 <= r < len(table):
                    raise ValueError(f"reason {r!r} is not a number in the plan's {len(table)} reasons")
                return table[r]
            key = (r["en"], r["zh"])
            found = memo.get(key)
            if found is None:
                found = memo[key] = Reason(*key)
            return found

        items = tuple(
            _made(PlannedItem, {**{f: i[f] for f in _ITEM_FIELDS}, "reasons": tuple([reason(r) for r in i["reasons"]])})
            for i in d["items"]
        )
        kw = {f: d[f] for f in _SESSION_FIELDS if f in d}  # status may be absent (a draft)
        kw["start_utc"] = dt.datetime.fromisoformat(str(d["start_utc"]))
        kw["end_utc"] = dt.datetime.fromisoformat(str(d["end_utc"]))
        return cls(**kw, items=items, reasons=tuple([reason(r) for r in d["reasons"]]))


#: the fields :meth:`PlannedSession.from_dict` reads as they are stored (not the items and reasons it rebuilds)
_ITEM_FIELDS = tuple(f for f in PlannedItem.__dataclass_fields__ if f != "reasons")
_SESSION_FIELDS = tuple(f for f in PlannedSession.__dataclass_fields__ if f not in ("items", "reasons"))


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass instance's fields as a dict, values as they are (not copied)."""
    own = obj.__dict__  # the fields in their order, when the instance holds nothing else (no cached property)
    if len(own) == len(obj.__dataclass_fields__):
        return dict(own)
    return {f: getattr(obj, f) for f in obj.__dataclass_fields__}


def _changed(obj: Any, **changes: Any) -> Any:
    """``dataclasses.replace(obj, **changes)`` for a plan's frozen dataclasses (:class:`PlannedItem`,
    :class:`PlannedSession`: no ``__post_init__``, no init-only fields): the fields copied as they are into a
    new instance, without ``__init__`` setting them one by one (detailing a county's plan makes ~170 copies)."""
    fields = obj.__dataclass_fields__
    unknown = changes.keys() - fields.keys()
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no fields {sorted(unknown)}")
    own = obj.__dict__
    return _made(type(obj), {f: own[f] for f in fields} | changes)


def _made(cls: type, values: dict[str, Any]) -> Any:
    """``cls(**values)`` for a plan's frozen dataclasses, ``values`` holding every field in the class's order (as
    ``__init__`` would set them: :func:`_fields` and ``as_dict`` read them in that order), set at once."""
    new = object.__new__(cls)
    new.__dict__.update(values)
    return new


@dataclass(frozen=True)
class Plan:
    """Proposed sessions from ``start`` over ``days`` days, in time order."""

    sessions: tuple[PlannedSession, ...]
    start: dt.date
    days: int
    created_at_utc: dt.datetime

    def as_dict(self, *, shared_reasons: bool = False) -> dict[str, Any]:
        """Return the plan as a JSON-ready dict. ``shared_reasons``: each distinct reason written once, in a table
        (``reasons``: a list of ``{en, zh}``), and the sessions' and items' reasons as their numbers in it: a
        product's price reasons are on every session that sells it, so a county's plan is about half the size
        (the dashboard's store, sent to the browser and back)."""
        numbered: dict[Reason, int] | None = {} if shared_reasons else None
        out = {
            "start": self.start.isoformat(),
            "days": self.days,
            "created_at_utc": self.created_at_utc.isoformat(),
            "sessions": [s.as_dict(numbered) for s in self.sessions],
        }
        if numbered is not None:
            out["reasons"] = [_fields(r) for r in numbered]  # in the order of their numbers
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Plan:
        """Rebuild a plan from :meth:`as_dict` output (with or without its table of reasons)."""
        reasons: dict[tuple[str, str], Reason] = {}  # shared by the sessions
        shared = d.get("reasons")
        table = None if shared is None else [Reason(r["en"], r["zh"]) for r in shared]
        return cls(
            tuple(PlannedSession.from_dict(s, reasons, table) for s in d["sessions"]),
            dt.date.fromisoformat(str(d["start"])),
            int(d["days"]),
            dt.datetime.fromisoformat(str(d["created_at_utc"])),
        )

    def frame(self) -> pl.DataFrame:
        """Return one row per (session, product): the session's time and totals and the item's numbers."""
        rows = []
        for s in self.sessions:
            for i in s.items:
                rows.append(
                    {
                        "plan_id": s.plan_id,
                        "host_id": s.host_id,
                        "host_name": s.host_name,
                        "county_id": s.county_id,
                        "platform_id": s.platform_id,
                        "start_local": s.start_local,
                        "end_local": s.end_local,
                        "slot": s.slot,
                        "based_on": s.based_on,
                        "session_expected_gmv_fen": s.expected_gmv_fen,
                        "session_gmv_low_fen": s.gmv_low_fen,
                        "session_gmv_high_fen": s.gmv_high_fen,
                    }
                    | {k: v for k, v in asdict(i).items() if k != "reasons"}
                    | {
                        "reasons_zh": "；".join(r.zh for r in i.reasons),
                        "reasons_en": "; ".join(r.en for r in i.reasons),
                    }
                )
        return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame({"plan_id": []})


def _plan_id(host_id: str, start_utc: dt.datetime) -> str:
    """A stable id for a host's session at a time: the same proposal gets the same id (and calendar UID)."""
    return "P" + hashlib.sha1(f"{host_id}|{start_utc.astimezone(dt.UTC).isoformat()}".encode()).hexdigest()[:15]


def _pct(x: float) -> str:
    return f"{x:+.0%}"


def _yuan(fen: float) -> str:
    return f"¥{fen / 100:,.0f}"


def _hhmm(t: dt.datetime) -> str:
    return f"{t:%H:%M}"


def _lineup(
    model: DemandModel, county_id: str | None, day: dt.date, stock: Mapping[str, int] | None, max_products: int
) -> tuple[list[str], list[Reason]]:
    """Products of the county a session on ``day`` can carry (in supply season, sellable, with stock), best first."""
    notes: list[Reason] = []
    chosen: list[tuple[float, str]] = []
    for p in model.county_products(county_id):
        pid = p["product_id"]
        if not _in_season(day.month, p.get("season_start_month"), p.get("season_end_month")):
            continue
        if stock is not None and pid in stock and stock[pid] <= 0:
            notes.append(Reason(f"{p['title']}: no stock on hand, left out", f"{p['title']}：无库存，不上架"))
            continue
        if not model.sellable(pid):
            notes.append(
                Reason(
                    f"{p['title']}: no sales history yet, so no demand estimate; not planned",
                    f"{p['title']}：尚无销售历史，无法估计需求，暂不排入",
                )
            )
            continue
        margin = (p["list_price_fen"] or 0) - (p.get("unit_cost_fen") or 0)
        value = math.exp(model.coef[f"product[{pid}]"]) * max(margin, 1)  # profit per session, up to a common factor
        chosen.append((value, pid))
    chosen.sort(reverse=True)
    return [p for _, p in chosen[:max_products]], notes


def _quota(model: DemandModel, host_id: str, days: int, sessions_per_week: float | None) -> int:
    rate = sessions_per_week if sessions_per_week is not None else model.sessions_per_week(host_id)
    return max(1, min(days, round(rate * days / 7.0)))


@dataclass(frozen=True)
class _Grid:
    """Every start option of every day for each host, scored at some prices, as arrays with one entry per
    row (host, day, start; a host's rows together, by day, then start): ``host`` (an index into ``hosts``,
    whose counties are ``counties``), ``day`` (days after ``start``), ``slot``, ``minute`` (the start, in
    minutes after ``start``'s midnight) and ``minutes`` (how long); its line-up ``lineups[kind]`` (a county's
    products of a day, the same for all its hosts) and ``term``, the row's part of its products' log demand
    (host and day, start, flags, explain minutes): a product's expected units in the row are
    ``exp(line-up term + row term)``.

    End to end (made when asked for): the products of each row, row ``r``'s ``flat[offsets[r]:offsets[r + 1]]``,
    indices into ``names``, with their ``prices``, unit ``costs`` (fen) and expected ``units``."""

    start: dt.date
    hosts: list[str]
    counties: list[Any]
    host: np.ndarray
    day: np.ndarray
    slot: np.ndarray
    minute: np.ndarray
    minutes: np.ndarray
    kind: np.ndarray
    term: np.ndarray
    lineups: list[_Lineup]

    @functools.cached_property
    def _ends(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        sizes = np.array([len(x.products) for x in self.lineups], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)])[:-1]
        per_row = sizes[self.kind]
        offsets = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int64)
        within = np.arange(offsets[-1]) - np.repeat(offsets[:-1], per_row)
        flat = np.repeat(starts[self.kind], per_row) + within
        return offsets, flat, [p for x in self.lineups for p in x.products]

    @property
    def offsets(self) -> np.ndarray:
        """Where each row's products start in :attr:`flat` (and the last ends)."""
        return self._ends[0]

    @property
    def flat(self) -> np.ndarray:
        """The rows' products end to end, as indices into :attr:`names`."""
        return self._ends[1]

    @property
    def names(self) -> list[str]:
        """The line-ups' products end to end (a product once per line-up it is in)."""
        return self._ends[2]

    @functools.cached_property
    def prices(self) -> np.ndarray:
        """The price (fen) of each product of :attr:`flat`."""
        return np.concatenate([x.prices for x in self.lineups])[self.flat]

    @functools.cached_property
    def costs(self) -> np.ndarray:
        """The unit cost (fen) of each product of :attr:`flat`."""
        return np.concatenate([x.costs for x in self.lineups])[self.flat]

    @functools.cached_property
    def units(self) -> np.ndarray:
        """The expected units of each product of :attr:`flat` (its line-up term plus its row's, exponentiated)."""
        sizes = np.diff(self.offsets)
        return np.exp(np.concatenate([x.terms for x in self.lineups])[self.flat] + np.repeat(self.term, sizes))

    @functools.cached_property
    def scale(self) -> np.ndarray:
        """``exp(term)``: each row's factor on the units of its line-up's products."""
        return np.exp(self.term)

    def products_of(self, row: int) -> list[str]:
        """Row ``row``'s products (its line-up)."""
        return list(self.lineups[int(self.kind[row])].products)

    @functools.cached_property
    def micros(self) -> tuple[np.ndarray, np.ndarray]:
        """Each row's local start and end as whole microseconds since 1970-01-01 (as :func:`_micros`)."""
        begin = _micros(dt.datetime.combine(self.start, dt.time())) + self.minute * 60_000_000
        return begin, begin + np.round(self.minutes * 60_000_000).astype(np.int64)

    def row(self, r: int) -> dict[str, Any]:
        """Row ``r`` as the candidate columns without the scores (times as local datetimes), with its
        ``products``."""
        begin, end = (int(x[r]) for x in self.micros)
        h = int(self.host[r])
        return {
            "host_id": self.hosts[h],
            "county_id": self.counties[h],
            "day": self.start + dt.timedelta(days=int(self.day[r])),
            "slot": int(self.slot[r]),
            "start_local": _EPOCH + dt.timedelta(microseconds=begin),
            "end_local": _EPOCH + dt.timedelta(microseconds=end),
            "minutes": float(self.minutes[r]),
            "products": self.products_of(r),
        }

    def schedule(
        self,
        score: np.ndarray,
        quotas: Mapping[str, int],
        busy: Iterable[tuple[str | None, dt.datetime, dt.datetime]] = (),
    ) -> tuple[list[int], list[list[str]]]:
        """:func:`schedule` of the rows scored ``score``, on the arrays: return the picked rows in time order
        and, for each, the hosts whose sessions pushed its host's better starts of that day aside."""
        begin, end = self.micros
        county_code = {c: k for k, c in enumerate(dict.fromkeys(self.counties))}
        host_county = np.array([county_code[c] for c in self.counties], dtype=np.int64)
        rank = {h: k for k, h in enumerate(sorted(self.hosts))}  # equal scores and starts: by host id
        host_rank = np.array([rank[h] for h in self.hosts], dtype=np.int64)
        return _pick(
            _best_first(score, begin, host_rank[self.host]),
            begin,
            end,
            self.host,
            host_county[self.host],
            self.day,
            self.hosts,
            quotas,
            busy,
            county_code,
        )

    @functools.cached_property
    def rows(self) -> pl.DataFrame:
        """The rows as a frame: ``host_id, county_id, day, slot, start_local, end_local, minutes``."""
        begin, end = self.micros
        return pl.DataFrame(
            [
                pl.Series("host_id", self.hosts, dtype=pl.String).gather(self.host),
                pl.Series("county_id", self.counties, dtype=pl.String).gather(self.host),
                pl.Series("day", np.datetime64(self.start, "D") + self.day.astype("timedelta64[D]"), pl.Date),
                pl.Series("slot", self.slot, pl.Int64),
                pl.Series("start_local", begin.astype("datetime64[us]"), pl.Datetime("us")),
                pl.Series("end_local", end.astype("datetime64[us]"), pl.Datetime("us")),
                pl.Series("minutes", self.minutes, pl.Float64),
            ]
        )


def _grid(
    model: DemandModel,
    host_ids: Sequence[str],
    start: dt.date,
    days: int,
    prices_fen: Mapping[str, int] | None,
    stock: Mapping[str, int] | None,
    max_products: int,
) -> _Grid | None:
    """The scored start options of :func:`candidates` (``None`` when there are none)."""
    # a start may fall after midnight (a rounded 23:50 is the next day's 00:00): days + 1 start days
    dates = [start + dt.timedelta(days=k) for k in range(days + 1)]
    weekdays = np.array([d.weekday() for d in dates])
    flags = np.array([model._flag_sum(d) for d in dates])
    lineups: list[_Lineup] = []  # a county's line-up of a day, the same for all its hosts
    lineup_of: dict[tuple[Any, int], int] = {}
    parts: list[dict[str, Any]] = []
    # the hosts of a county (in a row of host_ids) share its start options and line-ups: their terms are
    # worked out together, host × day × option
    for county, run in itertools.groupby(dict.fromkeys(host_ids), key=lambda h: model.host_row(h)["county_id"]):
        hosts = list(run)
        options = [model.option_terms(h) for h in hosts]  # slots, start minutes, minutes, start terms
        slot, minute = options[0][0], options[0][1]
        if not len(slot):
            continue
        for k in range(days):
            if (county, k) not in lineup_of:
                lineup_of[(county, k)] = len(lineups)
                lineups.append(_Lineup.of(model, _lineup(model, county, dates[k], stock, max_products)[0], prices_fen))
        plan_days = np.array([k for k in range(days) if lineups[lineup_of[(county, k)]].products], dtype=np.int64)
        if not len(plan_days):
            continue
        hour = minute % 1440 // 60
        begin_day = plan_days[:, None] + minute[None, :] // 1440  # day × option
        minutes = np.stack([o[2] for o in options])  # host × option
        start_term = np.stack([o[3] for o in options])  # host × weekday × hour
        effect = model.host_effects(hosts, dates)  # host × date
        kinds = np.array([lineup_of[(county, int(k))] for k in plan_days])
        sizes = np.array([len(x.products) for x in lineups])[kinds]
        explain = np.maximum(model.explain_share * minutes[:, None, :] / sizes[None, :, None], 1.0)
        term = effect[:, begin_day] + start_term[:, weekdays[begin_day], hour[None, :]] + flags[begin_day][None]
        term = term + np.log(explain / EXPOSURE_MINUTES)
        n_hosts, n_days, n_opts = len(hosts), len(plan_days), len(slot)
        parts.append(
            {
                "hosts": hosts,
                "county_id": county,
                "rows_per_host": n_days * n_opts,
                "day": np.tile(np.repeat(plan_days, n_opts), n_hosts),
                "slot": np.tile(slot, n_days * n_hosts),
                "minute": np.tile((plan_days[:, None] * 1440 + minute[None, :]).ravel(), n_hosts),
                "minutes": np.broadcast_to(minutes[:, None, :], (n_hosts, n_days, n_opts)).ravel(),
                "kind": np.tile(np.repeat(kinds, n_opts), n_hosts),
                "term": term.ravel(),
            }
        )
    if not parts:
        return None
    cat = {n: np.concatenate([p[n] for p in parts]) for n in ("day", "slot", "minute", "minutes", "kind", "term")}
    host_names = [h for p in parts for h in p["hosts"]]
    host_of_row = np.repeat(np.arange(len(host_names)), [p["rows_per_host"] for p in parts for _ in p["hosts"]])
    counties = [p["county_id"] for p in parts for _ in p["hosts"]]
    day, slot, minute, minutes, kind, term = (cat[n] for n in ("day", "slot", "minute", "minutes", "kind", "term"))
    return _Grid(start, host_names, counties, host_of_row, day, slot, minute, minutes, kind, term, lineups)


def _check_objective(objective: str) -> None:
    """Refuse an objective other than ``gmv`` or ``profit`` (:class:`PlanError`, both languages)."""
    if objective not in ("gmv", "profit"):
        raise PlanError(f"objective must be gmv or profit, not {objective!r} / 目标须为 gmv 或 profit")


def candidates(
    model: DemandModel,
    host_ids: Sequence[str],
    start: dt.date,
    days: int,
    *,
    prices_fen: Mapping[str, int] | None = None,
    stock: Mapping[str, int] | None = None,
    max_products: int = 4,
    objective: str = "gmv",
) -> pl.DataFrame:
    """Return every start option of every day for each host, scored: one row per (host, day, start).

    Columns: ``host_id, county_id, day, slot, start_local, end_local, minutes, products`` (list),
    ``prices_fen`` (list), ``expected_units`` (list), ``expected_gmv_fen``, ``expected_profit_fen`` and
    ``score`` (the GMV or the profit, by ``objective``). Prices default to the list prices.

    The units are those of :meth:`DemandModel.units` for each row, computed for all rows at once: a
    product's log demand in a session is the product's term (coefficient and price) plus the session's
    (host and start day, weekday and start hour, festival flags, explain minutes), so each term is worked
    out once per product, host and day, or start, not once per row."""
    _check_objective(objective)
    grid = _grid(model, host_ids, start, days, prices_fen, stock, max_products)
    if grid is None:
        return pl.DataFrame(schema={"host_id": pl.String, "score": pl.Float64})
    gmv = np.add.reduceat(grid.units * grid.prices, grid.offsets[:-1])
    profit = np.add.reduceat(grid.units * (grid.prices - grid.costs), grid.offsets[:-1])
    products = pl.Series(grid.names, dtype=pl.String).gather(grid.flat)
    lists = {"products": products, "prices_fen": grid.prices, "expected_units": grid.units}
    values = {"expected_gmv_fen": gmv, "expected_profit_fen": profit, "score": gmv if objective == "gmv" else profit}
    return grid.rows.with_columns(
        [
            _flat_list(name, grid.offsets, lists[name], dtype)
            if isinstance(dtype, pl.List)
            else pl.Series(name, values[name], dtype)
            for name, dtype in _CANDIDATE_SCHEMA.items()
            if name not in grid.rows.columns
        ]
    )


@dataclass(frozen=True)
class _Lineup:
    """A day's line-up of a county as :func:`candidates` scores it: the products, their prices and unit
    costs (fen) and each product's term of the log demand (its coefficient and the price's effect)."""

    products: list[str]
    prices: np.ndarray
    costs: np.ndarray
    terms: np.ndarray

    @classmethod
    def of(cls, model: DemandModel, products: list[str], prices_fen: Mapping[str, int] | None) -> _Lineup:
        rows = [model.product_row(p) for p in products]
        prices = [int((prices_fen or {}).get(p) or r["list_price_fen"]) for p, r in zip(products, rows, strict=True)]
        terms = [
            model.coef[f"product[{p}]"] + model.price_term(p, price) for p, price in zip(products, prices, strict=True)
        ]
        costs = [int(r.get("unit_cost_fen") or 0) for r in rows]
        return cls(products, np.asarray(prices, dtype=np.int64), np.asarray(costs, dtype=np.int64), np.asarray(terms))


def _flat_list(name: str, offsets: np.ndarray, flat: Any, dtype: pl.List) -> pl.Series:
    """A list column from its values end to end and the offsets where each row's list starts (and the
    last ends); polars builds a series per inner list otherwise."""
    import pyarrow as pa

    inner = pl.Series(flat, dtype=dtype.inner).to_arrow()
    return pl.Series(name, pl.from_arrow(pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), inner))).cast(
        dtype
    )


_CANDIDATE_SCHEMA = {
    "host_id": pl.String,
    "county_id": pl.String,
    "day": pl.Date,
    "slot": pl.Int64,
    "start_local": pl.Datetime("us"),
    "end_local": pl.Datetime("us"),
    "minutes": pl.Float64,
    "products": pl.List(pl.String),
    "prices_fen": pl.List(pl.Int64),
    "expected_units": pl.List(pl.Float64),
    "expected_gmv_fen": pl.Float64,
    "expected_profit_fen": pl.Float64,
    "score": pl.Float64,
}


def _reprice(model: DemandModel, grid: _Grid, prices_fen: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's GMV and profit (fen) with the products of a grid scored at list prices sold at
    ``prices_fen`` (list price where missing) instead. A price only scales a product's units by
    ``(price / list price) ** elasticity`` (see :meth:`DemandModel.units`) and a row's units are its line-up's
    product factors times the row's own (:attr:`_Grid.scale`), so each line-up's sums are worked out once."""
    price: dict[str, int] = {}
    factor: dict[str, float] = {}
    margin: dict[str, int] = {}
    gmv, profit = [], []
    for lineup in grid.lineups:
        g = m = 0.0
        for p, term in zip(lineup.products, lineup.terms.tolist(), strict=True):
            if p not in price:
                row = model.product_row(p)
                price[p] = int(prices_fen.get(p) or row.get("list_price_fen"))
                factor[p] = math.exp(model.price_term(p, price[p]))
                margin[p] = price[p] - int(row.get("unit_cost_fen") or 0)
            units = math.exp(term) * factor[p]
            g += units * price[p]
            m += units * margin[p]
        gmv.append(g)
        profit.append(m)
    return grid.scale * np.array(gmv)[grid.kind], grid.scale * np.array(profit)[grid.kind]


def schedule(
    cands: pl.DataFrame,
    quotas: Mapping[str, int],
    busy: Iterable[tuple[str | None, dt.datetime, dt.datetime]] = (),
) -> pl.DataFrame:
    """Pick sessions from scored candidates, best ``score`` first: at most ``quotas[host]`` per host, one per
    host and day, never overlapping another picked (or ``busy``: county, local start, local end) session of the
    same county. Returns the picked rows in time order with ``clash``: the hosts whose session pushed this
    host's better start of that day aside (empty when none)."""
    if cands.is_empty():
        return cands.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("clash"))
    # hosts and counties as their ranks among the distinct names (so the hosts' codes sort as their ids)
    county = pl.col("county_id").fill_null("\x00")
    cols = cands.select(
        pl.col("score").cast(pl.Float64),
        (pl.col("host_id").rank("dense") - 1).cast(pl.Int64).alias("host"),
        (county.rank("dense") - 1).cast(pl.Int64).alias("county"),
        pl.col("day").cast(pl.Int64),
        pl.col("start_local").dt.epoch("us").alias("begin"),
        pl.col("end_local").dt.epoch("us").alias("end"),
    )
    names = cands["host_id"].unique().sort().to_list()
    county_code = {None if c == "\x00" else c: k for k, c in enumerate(cands.select(county.unique().sort())[:, 0])}
    host, begin = cols["host"].to_numpy(), cols["begin"].to_numpy()
    rows, clash = _pick(
        _best_first(cols["score"].to_numpy(), begin, host),
        begin,
        cols["end"].to_numpy(),
        host,
        cols["county"].to_numpy(),
        cols["day"].to_numpy(),
        names,
        quotas,
        busy,
        county_code,
    )
    return cands[rows].with_columns(pl.Series("clash", clash, dtype=pl.List(pl.String)))


def _best_first(score: np.ndarray, begin: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """The rows by ``score`` from the highest, equal scores by ``begin`` and then ``rank``: what
    ``np.lexsort((rank, begin, -score))`` returns. A stable sort on the score alone keeps equal scores in
    the rows' order, which is already right when the rows come by start (a host's start options, whose
    starts in one hour score the same); only runs of equal scores out of order are sorted again."""
    order = np.argsort(-score, kind="stable")
    ranked, b, r = score[order], begin[order], rank[order]
    tie = ranked[1:] == ranked[:-1]  # position k ties with position k + 1
    wrong = tie & ((b[1:] < b[:-1]) | ((b[1:] == b[:-1]) & (r[1:] < r[:-1])))
    if wrong.any():
        run = np.cumsum(np.concatenate([[True], ~tie]))  # the run of equal scores of each position
        at = np.flatnonzero(np.isin(run, run[1:][wrong]))  # the positions of the runs out of order
        rows = order[at]
        order[at] = rows[np.lexsort((rank[rows], begin[rows], run[at]))]  # the runs stay in place, sorted within
    return order


def _pick(
    order: np.ndarray,
    begins: np.ndarray,
    ends: np.ndarray,
    hosts: np.ndarray,
    counties: np.ndarray,
    days: np.ndarray,
    names: Sequence[str],
    quotas: Mapping[str, int],
    busy: Iterable[tuple[Any, dt.datetime, dt.datetime]],
    county_code: Mapping[Any, int],
) -> tuple[list[int], list[list[str]]]:
    """The rule of :func:`schedule` on arrays with one entry per candidate: ``order`` (the candidates, best
    first), local ``begins`` and ``ends`` (whole microseconds, :func:`_micros`), ``hosts`` (indices into
    ``names``), ``counties`` (the codes of ``county_code``) and ``days`` (day numbers); ``quotas`` by host id,
    ``busy`` as (county, local begin, local end). Returns the picked candidates in time order (then by host
    id) and, for each, the hosts whose sessions pushed its host's better starts of that day aside."""
    # the candidates in score order: position k is candidate order[k]
    hosts, county_codes = hosts[order], counties[order]
    host_days = hosts * 1_000_000 + days[order]  # a host's day as one integer
    begins, finishes = begins[order], ends[order]
    # per county (code) the busy time as sorted disjoint intervals (starts, ends): the one interval starting
    # last before a candidate's end is the only one that can overlap it
    starts: dict[int, list[int]] = {}
    stops: dict[int, list[int]] = {}
    history: list[tuple[int, int, int, str]] = []  # every taken session (county code, a, b, host), in order

    def take(county: int, a: int, b: int, who: str) -> None:
        history.append((county, a, b, who))
        s, e = starts.setdefault(county, []), stops.setdefault(county, [])
        lo = bisect.bisect_left(e, a)  # the first interval ending at or after a: merge those touching [a, b]
        hi = bisect.bisect_right(s, b)
        if lo < hi:
            a, b = min(a, s[lo]), max(b, e[hi - 1])
        s[lo:hi], e[lo:hi] = [a], [b]

    for county, a, b in busy:
        take(county_code.get(county, -1), _micros(a), _micros(b), "")  # a county without candidates: -1
    n_busy = len(history)
    left = {code: q for code, h in enumerate(names) if (q := quotas.get(h, 0)) > 0}  # sessions each may still get
    days_used: set[int] = set()  # host-day codes that have their session
    picked_at: dict[int, int] = {}  # host-day code -> the position (in score order) of its picked start
    keep: list[int] = []  # the positions picked, in order
    one_county = bool(county_codes.min() == county_codes.max())
    first, size = 0, _SCHEDULE_CHUNK
    while first < len(order):
        last = min(first + size, len(order))
        # starts that overlap what is already taken are pushed aside whatever happens in this chunk (taken
        # time only grows): found for the chunk at once, the rest looked at one by one
        blocked = np.zeros(last - first, dtype=bool)
        for code in [int(county_codes[first])] if one_county else np.unique(county_codes[first:last]).tolist():
            mine = slice(None) if one_county else np.flatnonzero(county_codes[first:last] == code)
            if starts.get(code):
                j = np.searchsorted(np.array(starts[code], dtype=np.int64), finishes[first:last][mine])
                before = np.array(stops[code], dtype=np.int64)[np.maximum(j - 1, 0)]
                blocked[mine] = (j > 0) & (before > begins[first:last][mine])
        picked = False
        ks = first + np.flatnonzero(~blocked)
        for k, h, hd, county, a, b in zip(
            ks.tolist(),
            hosts[ks].tolist(),
            host_days[ks].tolist(),
            county_codes[ks].tolist(),
            begins[ks].tolist(),
            finishes[ks].tolist(),
            strict=True,
        ):
            if hd in days_used or not left.get(h):
                continue
            s = starts.get(county)
            if s:  # the busy interval starting last before this one ends is the only one that may overlap it
                j = bisect.bisect_left(s, b)
                if j and stops[county][j - 1] > a:
                    continue
            keep.append(k)
            picked = True
            picked_at[hd] = k
            left[h] -= 1
            days_used.add(hd)
            take(county, a, b, names[h])
        first, size = last, size if picked else 2 * size  # the taken time fills up: longer chunks as picks thin out
    # the better starts of the days the hosts got were all pushed aside by taken time (the host had its day
    # free and a session left then): who held it when each was looked at, every such start against every
    # session taken before it (the busy ones and the picks at earlier positions), at once
    got = np.array(sorted(picked_at), dtype=np.int64)  # host-days that got a session, and the position picked
    got_at = np.array([picked_at[x] for x in got.tolist()], dtype=np.int64)
    who: dict[int, set[str]] = {}
    if len(got) and history:
        j = np.minimum(np.searchsorted(got, host_days), len(got) - 1)
        at = np.flatnonzero((got[j] == host_days) & (np.arange(len(host_days)) < got_at[j]))
        taken, j = n_busy + np.searchsorted(np.asarray(keep, dtype=np.int64), at), j[at]
        h_county = np.array([c for c, *_ in history], dtype=np.int64)
        h_a, h_b = (np.array([t[i] for t in history], dtype=np.int64) for i in (1, 2))
        overlap = (
            (h_county[None, :] == county_codes[at][:, None])
            & (h_a[None, :] < finishes[at][:, None])
            & (begins[at][:, None] < h_b[None, :])
            & (np.arange(len(history))[None, :] < taken[:, None])
        )
        r, i = np.nonzero(overlap)
        for pair in np.unique(j[r] * len(history) + i).tolist():  # each (host-day, taken session) once
            who.setdefault(int(got[pair // len(history)]), set()).add(history[pair % len(history)][3] or "?")
    keep.sort(key=lambda k: (int(begins[k]), names[int(hosts[k])]))  # the picked in time order (then by host id)
    return order[keep].tolist(), [sorted(who.get(int(host_days[k]), ())) for k in keep]


_SCHEDULE_CHUNK = 256  # candidates checked against the taken time at once


def _micros(t: dt.datetime) -> int:
    """A naive local time as whole microseconds since 1970-01-01 00:00 (as polars' ``dt.epoch("us")``)."""
    return (t - _EPOCH) // dt.timedelta(microseconds=1)


def _roles(model: DemandModel, products: Sequence[str], mu: np.ndarray) -> dict[str, str]:
    """Traffic item: the most units; in-season: the other seasonal products in season; profit: the rest."""
    roles: dict[str, str] = {}
    seasonal = {
        p
        for p in products
        if (r := model.product_row(p)).get("season_start_month") is not None
        and not (r["season_start_month"] == 1 and r["season_end_month"] == 12)
    }
    if len(products) > 1:
        units = mu.tolist()
        roles[products[max(range(len(units)), key=units.__getitem__)]] = "traffic"  # the first of the most
    for p in products:
        if p not in roles:
            roles[p] = "in_season" if p in seasonal else "profit"
    return roles


def _role_reason(role: str, title: str, units: float, row: Mapping[str, Any]) -> Reason:
    if role == "traffic":
        return Reason(
            f"traffic item: the most units expected ({units:.0f}) — it brings viewers into the room",
            f"引流款：预计销量最高（{units:.0f} 件），带动直播间人气",
        )
    if role == "in_season":
        a, b = row.get("season_start_month"), row.get("season_end_month")
        return Reason(
            f"in-season item: supply season months {a}–{b}, fresh stock now",
            f"当季款：供应期 {a}–{b} 月，正当季",
        )
    margin = (row.get("list_price_fen") or 0) - (row.get("unit_cost_fen") or 0)
    return Reason(
        f"profit item: margin {_yuan(margin)} a unit at list price",
        f"利润款：按标价每件毛利 {_yuan(margin)}",
    )


def _price_decisions(
    model: DemandModel, reference: Mapping[str, float], labels: Mapping[str, list[str]]
) -> dict[str, Any]:
    """``pricing.recommend_price`` per product around its list price, with its planned sessions as test labels."""
    out: dict[str, Any] = {}
    for p, units in reference.items():
        row = model.product_row(p)
        lst = (row.get("list_price_fen") or 0) / 100.0
        if lst <= 0:
            continue
        cost = row.get("unit_cost_fen")
        est = model.elasticities.get(p)
        sessions = labels.get(p) or []
        out[p] = recommend_price(
            est if est is not None else math.nan,
            current_price=lst,
            unit_cost=cost / 100.0 if cost else None,
            reference_units=max(units, 1e-6),
            observed_range=model.price_range.get(p),
            test_sessions=max(len(sessions), 1),
            sessions=sessions or None,
        )
    return out


def _law_numbers(
    dist: DemandDistribution, units: float, price_fen: int, row: Mapping[str, Any]
) -> tuple[int, int, int, Reason]:
    """What an item's demand law says (its product's ``row``, sold at ``price_fen``; ``units`` expected): the
    demand's P50 and P90 and the units to prepare (:func:`inventory.stock_quantity`) as whole units, and the
    reason that gives them (the newsvendor's last reason)."""
    cost = row.get("unit_cost_fen")
    prepare, why = stock_quantity(
        dist,
        price=price_fen / 100.0,
        unit_cost=cost / 100.0 if cost else None,
        shelf_life_days=row.get("shelf_life_days"),
        category=row.get("category"),
    )
    p50, p90 = math.ceil(dist.quantile(0.5) - 1e-9), math.ceil(dist.quantile(0.9) - 1e-9)
    en, _, zh = why[-1].partition(" / ")
    reason = Reason(
        f"demand {units:.0f} expected (P50 {p50}, P90 {p90}); prepare {prepare}: " + en,
        f"预计需求 {units:.0f} 件（P50 {p50}，P90 {p90}）；建议备货 {prepare} 件：" + zh,
    )
    return p50, p90, prepare, reason


def _evaluate(
    model: DemandModel,
    host_id: str,
    start_local: dt.datetime,
    minutes: float,
    products: Sequence[str],
    prices_fen: Mapping[str, int],
    tests: Mapping[str, bool],
    price_reasons: Mapping[str, tuple[Reason, ...]],
    stock_left: dict[str, float] | None,
    fixed_roles: Mapping[str, str] | None = None,
    laws: _Laws | None = None,
    detail: bool = True,
) -> tuple[tuple[PlannedItem, ...], list[Reason], float, float, float]:
    """Price, units and roles of each product of one session; return the items, notes, GMV mean, GMV sd, profit.

    ``laws``: the units and demand laws of all of ``products`` worked out beforehand (:func:`_session_laws`),
    used when no product is left out for want of stock. ``detail=False`` (only without stock): the items
    without their demand laws (no quantiles, units to prepare or demand reason); the session's numbers
    are the same."""
    if not detail and stock_left is not None:
        raise ValueError("stock on hand is used up through the demand laws: an outline cannot carry it")
    notes: list[Reason] = []
    live = []
    for p in products:
        if stock_left is not None and p in stock_left and stock_left[p] < 1:  # not one whole unit left
            title = model.product_row(p)["title"]
            notes.append(
                Reason(f"{title}: stock used up by earlier sessions, left out", f"{title}：库存已被前几场用完，不上架")
            )
            continue
        live.append(p)
    prices = [int(prices_fen[p]) for p in live]
    if laws is not None and len(live) == len(products):
        mu, var, dists = laws
    else:
        mu, var = model.units(host_id, start_local, minutes, live, prices)
        dists = model.distributions(mu, var) if detail else []
    roles = dict(fixed_roles or {})
    auto = _roles(model, live, mu)
    items = []
    gmv = gmv_var = profit = 0.0
    n = max(len(live), 1)
    for k, p in enumerate(live):
        row = model.product_row(p)
        price, cost = prices[k], row.get("unit_cost_fen")
        reasons = [_role_reason(roles.get(p) or auto[p], row["title"], float(mu[k]), row)]
        reasons += list(price_reasons.get(p, ()))
        p50 = p90 = prepare = on_hand = None
        sales, sales_var = float(mu[k]), float(var[k])
        if detail:  # the demand law: quantiles, units to prepare, what the stock on hand covers
            dist = dists[k]
            p50, p90, prepare, why = _law_numbers(dist, float(mu[k]), price, row)
            reasons.append(why)
            if stock_left is not None and p in stock_left:
                on_hand = math.floor(stock_left[p])
                if prepare > on_hand:
                    out_p = 1 - dist.cdf(on_hand)
                    reasons.append(
                        Reason(
                            f"only {on_hand} on hand: bring them all; sold out with probability {out_p:.0%}",
                            f"现有库存仅 {on_hand} 件：全部带上；售罄概率 {out_p:.0%}",
                        )
                    )
                    prepare = on_hand
                # the share of demand the stock covers, E[min(D, on hand)] / E[D] on the law, of the expected units
                # (the law's grid mean is not exactly the model's mean: their difference is not a sale)
                law_mean = dist.grid_mean
                covered = (law_mean - dist.expected_shortage(on_hand)) / law_mean if law_mean > 0 else 1.0
                sales = min(float(mu[k]) * covered, float(on_hand))
                sales_var = min(sales_var, float(on_hand) ** 2)
                stock_left[p] -= sales
        gmv += sales * price
        gmv_var += sales_var * price**2
        profit += sales * (price - (cost or 0))
        items.append(
            PlannedItem(
                product_id=p,
                title=row["title"],
                role=roles.get(p) or auto[p],
                price_fen=price,
                list_price_fen=int(row.get("list_price_fen") or price),
                price_test=bool(tests.get(p, False)),
                explain_minutes=round(model.explain_share * minutes / n, 1),
                expected_units=round(float(mu[k]), 2),
                units_p50=p50,
                units_p90=p90,
                units_to_prepare=None if prepare is None else int(prepare),
                expected_gmv_fen=round(sales * price),
                expected_profit_fen=round(sales * (price - (cost or 0))),
                stock_on_hand=on_hand,
                reasons=tuple(reasons),
            )
        )
    return tuple(items), notes, gmv, math.sqrt(gmv_var), profit


_Laws = tuple[np.ndarray, np.ndarray, list[DemandDistribution]]


def _session_laws(
    model: DemandModel,
    sessions: Sequence[tuple[str, dt.datetime, float, Sequence[str], Sequence[int]]],
) -> list[_Laws]:
    """The units, their variances and the demand laws of every product of each session (host, local start,
    minutes, products, prices in fen), as :func:`_evaluate` would work them out session by session: the
    laws of all sessions in one :meth:`DemandModel.distributions` pass (its fixed cost paid once a plan)."""
    units = [model.units(h, start, minutes, list(products), list(fen)) for h, start, minutes, products, fen in sessions]
    if not units:
        return []
    dists = model.distributions(np.concatenate([mu for mu, _ in units]), np.concatenate([var for _, var in units]))
    out, at = [], 0
    for mu, var in units:
        out.append((mu, var, dists[at : at + len(mu)]))
        at += len(mu)
    return out


def _session_reasons(
    model: DemandModel,
    host_id: str,
    start_local: dt.datetime,
    gmv: float,
    day_mean: float | None,
    clash: Sequence[str],
    quota: int | None,
    days: int | None,
) -> list[Reason]:
    slot = SLOTS[_SLOT_OF_HOUR_LIST[start_local.hour]]
    wd = start_local.weekday()
    out = []
    differs = bool(day_mean) and abs(gmv / day_mean - 1) >= 0.005  # one start option: nothing to compare
    lift = f"{_pct(gmv / day_mean - 1)} against the day's average start" if differs else ""
    lift_zh = f"与当天各开播时段的平均相比 {_pct(gmv / day_mean - 1)}" if differs else ""
    hhmm, yuan = _hhmm(start_local), _yuan(gmv)
    out.append(
        Reason(
            f"{_WEEKDAY_EN[wd]} {hhmm} ({slot}): expected GMV {yuan}" + (f", {lift}" if lift else ""),
            f"{_WEEKDAY_ZH[wd]} {hhmm}（{_SLOT_ZH[slot]}）：预计 GMV {yuan}" + (f"，{lift_zh}" if lift_zh else ""),
        )
    )
    if quota is not None and days is not None:
        out.append(
            Reason(
                f"one of the host's {quota} best days in these {days} days (its usual pace)",
                f"按主播平时的开播频率，在这 {days} 天中选出预计最好的 {quota} 天之一",
            )
        )
    if model.based_on_county(host_id):
        n = model.host_sessions.get(host_id, 0)
        out.append(
            Reason(
                f"based on county data: the host has {n} sessions of its own, so slots and demand follow the county",
                f"基于县域数据：该主播只有 {n} 场历史直播，时段和需求按县域数据估计",
            )
        )
    for flag, effect in model.flag_effect(start_local.date()).items():
        en, zh = _FLAG_WORDS.get(flag, (flag, flag))
        change = _pct(math.exp(effect) - 1)
        out.append(Reason(f"{en}: demand {change}", f"{zh}：需求 {change}"))
    if clash:
        names = ", ".join(clash)
        out.append(
            Reason(
                f"a better start that day is taken by {names} of the same county (one host of a county live at a time)",
                f"当天更好的时段已由同县主播 {names} 占用（同县同一时间只安排一位主播）",
            )
        )
    return out


def plan_sessions(
    model: DemandModel,
    host_ids: Sequence[str],
    start: dt.date,
    days: int,
    *,
    sessions_per_week: float | None = None,
    stock: Mapping[str, int] | None = None,
    busy: Iterable[tuple[str | None, dt.datetime, dt.datetime]] = (),
    max_products: int = 4,
    objective: str = "gmv",
    now: dt.datetime | None = None,
    detail: bool = True,
) -> Plan:
    """Propose sessions for ``host_ids`` from ``start`` over ``days`` days; return a :class:`Plan`.

    Each host gets its usual number of sessions per week (or ``sessions_per_week``) on its best days,
    never overlapping another session of its county (planned here or ``busy``: county, local start, local
    end). ``stock`` (units on hand per product, optional) is used up session by session.

    ``detail=False`` returns an outline: the same sessions, times, line-ups, prices and expected GMV, but
    items without their demand quantiles and units to prepare (:func:`detail_sessions` adds them, equal
    to those of ``detail=True``). A county's plan is mostly those item laws; a screen that shows one
    session at a time needs one session's. With ``stock`` the plan is always detailed (the stock is used
    up through the laws)."""
    if days < 1:
        raise PlanError(f"days must be at least 1, not {days} / 天数至少为 1")
    if not host_ids:
        raise PlanError("no host to plan for / 没有可排期的主播")
    quotas = {h: _quota(model, h, days, sessions_per_week) for h in host_ids}
    _check_objective(objective)
    # the candidates of :func:`candidates` at list prices, kept as arrays (their product lists are made for
    # the picked sessions only)
    grid = _grid(model, host_ids, start, days, None, stock, max_products)
    if grid is None:
        raise PlanError(
            "no product of these hosts' counties is in season with a sales history in these days"
            " / 这些天没有当季且有销售历史的商品可排"
        )
    # prices: recommended around each product's typical session, then the candidates re-scored at them
    # each product's mean units over the candidates that carry it, in order of first appearance: a line-up's
    # product factors times the sum of its rows' factors
    count = np.bincount(grid.kind, minlength=len(grid.lineups))
    total = np.bincount(grid.kind, weights=grid.scale, minlength=len(grid.lineups))
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    at = np.full(len(grid.lineups), len(grid.kind))  # each line-up's first row: written last to first, the first stays
    at[grid.kind[::-1]] = np.arange(len(grid.kind))[::-1]
    seen = np.flatnonzero(count)
    for k in seen[np.argsort(at[seen])].tolist():
        for p, term in zip(grid.lineups[k].products, grid.lineups[k].terms.tolist(), strict=True):
            sums[p] = sums.get(p, 0.0) + math.exp(term) * float(total[k])
            counts[p] = counts.get(p, 0) + int(count[k])
    reference = {p: sums[p] / counts[p] for p in sums}
    first = _price_decisions(model, reference, {})
    prices = {p: round(r.price * 100) for p, r in first.items()}
    gmv, profit = _reprice(model, grid, prices)
    picked, clash = grid.schedule(gmv if objective == "gmv" else profit, quotas, busy)
    # each picked session's day: the mean GMV of its host's start options that day (the rows of those days)
    host_day = grid.host * (days + 1) + grid.day  # a host's day as a small integer (days run 0..days)
    wanted = np.zeros(len(grid.hosts) * (days + 1), dtype=bool)
    wanted[host_day[picked]] = True
    same_days = wanted[host_day]
    size = len(wanted)
    sums = np.bincount(host_day[same_days], weights=gmv[same_days], minlength=size)
    counts = np.bincount(host_day[same_days], minlength=size)
    day_mean = [float(sums[host_day[r]] / counts[host_day[r]]) for r in picked]
    rows = [grid.row(r) | {"clash": c, "day_mean": m} for r, c, m in zip(picked, clash, day_mean, strict=True)]
    for row in rows:
        row["start_utc"], row["end_utc"] = _utc(row["start_local"]), _utc(row["end_local"])
    ids = [_plan_id(row["host_id"], row["start_utc"]) for row in rows]
    labels: dict[str, list[str]] = {}
    for pid, row in zip(ids, rows, strict=True):
        for p in row["products"]:
            labels.setdefault(p, []).append(pid)
    decisions = _price_decisions(model, {p: u for p, u in reference.items() if p in labels}, labels)
    stock_left = {p: float(v) for p, v in stock.items()} if stock is not None else None
    terms = []  # per session: the prices, price tests and price reasons of its products
    split = {p: [Reason.split(r) for r in rec.reasons] for p, rec in decisions.items()}  # once a product
    for pid, row in zip(ids, rows, strict=True):
        session_prices, tests, price_reasons = {}, {}, {}
        for p in row["products"]:
            rec = decisions.get(p)
            if rec is None:
                session_prices[p] = int(model.product_row(p)["list_price_fen"])
                continue
            step = next((s for s in rec.price_test if s.session == pid), None)
            price = step.price if step is not None else rec.price
            session_prices[p] = round(price * 100)
            tests[p] = step is not None and abs(step.price - rec.price) > 1e-9
            reasons = list(split[p])
            if tests[p]:
                reasons.append(
                    Reason(
                        f"price test: ¥{price:.2f} in this session (¥{rec.price:.2f} in the others) "
                        "to learn the elasticity",
                        f"价格测试：本场 ¥{price:.2f}（其他场 ¥{rec.price:.2f}），用于估计价格弹性",
                    )
                )
            price_reasons[p] = tuple(reasons)
        terms.append((session_prices, tests, price_reasons))
    detail = detail or stock is not None
    laws: list[_Laws | None] = [None] * len(rows)
    if detail:
        laws = list(
            _session_laws(
                model,
                [
                    (r["host_id"], r["start_local"], r["minutes"], r["products"], [fen[p] for p in r["products"]])
                    for r, (fen, _, _) in zip(rows, terms, strict=True)
                ],
            )
        )
    sessions = []
    lineup_notes_of: dict[tuple[Any, Any], list[Reason]] = {}
    for pid, row, (session_prices, tests, price_reasons), session_laws in zip(ids, rows, terms, laws, strict=True):
        h = row["host_id"]
        host = model.host_row(h)
        items, notes, gmv, sd, profit = _evaluate(
            model,
            h,
            row["start_local"],
            row["minutes"],
            row["products"],
            session_prices,
            tests,
            price_reasons,
            stock_left,
            laws=session_laws,
            detail=detail,
        )
        reasons = _session_reasons(model, h, row["start_local"], gmv, row["day_mean"], row["clash"], quotas[h], days)
        key = (host["county_id"], row["day"])
        if key not in lineup_notes_of:  # the same for every session of the county that day
            lineup_notes_of[key] = _lineup(model, host["county_id"], row["day"], stock, max_products)[1]
        lineup_notes = lineup_notes_of[key]
        sessions.append(
            PlannedSession(
                plan_id=pid,
                host_id=h,
                host_name=str(host.get("name") or h),
                county_id=host["county_id"],
                platform_id=host["platform_id"],
                start_utc=row["start_utc"],
                end_utc=row["end_utc"],
                slot=SLOTS[int(row["slot"])],
                based_on="county" if model.based_on_county(h) else "host",
                expected_gmv_fen=round(gmv),
                gmv_low_fen=round(max(gmv - _Z80 * sd, 0.0)),
                gmv_high_fen=round(gmv + _Z80 * sd),
                expected_profit_fen=round(profit),
                items=items,
                reasons=tuple(reasons + lineup_notes + notes),
            )
        )
    return Plan(tuple(sessions), start, days, now or dt.datetime.now(dt.UTC))


def detail_sessions(model: DemandModel, sessions: Sequence[PlannedSession]) -> list[PlannedSession]:
    """Return ``sessions`` with the items of outlines (``plan_sessions(..., detail=False)``) worked out in
    full: demand quantiles, units to prepare and their reasons, equal to those ``detail=True`` gives.
    Detailed sessions come back as they are; the laws of the others are built in one pass.

    An outline's item keeps what it carries (role, price, expected units and GMV, its role and price reasons,
    as the session keeps its expected GMV): the model gives each item's demand law, and from it the three
    quantities and the demand reason that ``detail=True`` appends."""
    out = list(sessions)
    todo = [k for k, s in enumerate(sessions) if not s.detailed]
    # each outline as _evaluate takes it: host, local start, minutes, products and their prices
    terms = [
        (s.host_id, s.start_local, (s.end_utc - s.start_utc).total_seconds() / 60.0,
         [i.product_id for i in s.items], [i.price_fen for i in s.items])
        for s in (sessions[k] for k in todo)
    ]  # fmt: skip
    product_row = model.product_row
    for k, (mu, _, dists) in zip(todo, _session_laws(model, terms), strict=True):
        s = sessions[k]
        items = []
        for i, units, dist in zip(s.items, mu.tolist(), dists, strict=True):
            p50, p90, prepare, why = _law_numbers(dist, units, i.price_fen, product_row(i.product_id))
            items.append(_changed(i, units_p50=p50, units_p90=p90, units_to_prepare=prepare, reasons=(*i.reasons, why)))
        out[k] = _changed(s, items=tuple(items))
    return out


def adjust_session(
    model: DemandModel,
    session: PlannedSession,
    *,
    start_local: dt.datetime | None = None,
    minutes: float | None = None,
    product_ids: Sequence[str] | None = None,
    prices_fen: Mapping[str, int] | None = None,
    others: Iterable[PlannedSession] = (),
) -> PlannedSession:
    """Return ``session`` moved, with another line-up or other prices, its numbers recomputed from the fitted
    model (no refit). A product added gets its list price unless ``prices_fen`` says otherwise. Raises
    :class:`PlanError` when the new time overlaps one of ``others`` of the same county, or a product is not
    of the host's county."""
    session = detail_sessions(model, [session])[0]  # an outline's items: their reasons in full first
    host = model.host_row(session.host_id)
    begin = start_local or session.start_local
    length = minutes if minutes is not None else (session.end_utc - session.start_utc).total_seconds() / 60.0
    if start_local is not None and minutes is None:
        length = model.duration(session.host_id, _SLOT_OF_HOUR_LIST[begin.hour])
    end = begin + dt.timedelta(minutes=length)
    for o in others:
        if (
            o.plan_id != session.plan_id
            and o.county_id == session.county_id
            and o.start_local < end
            and begin < o.end_local
        ):
            raise PlanError(
                f"{_hhmm(begin)}–{_hhmm(end)} overlaps {o.host_name}'s session "
                f"{_hhmm(o.start_local)}–{_hhmm(o.end_local)}"
                f" on {o.start_local:%Y-%m-%d} / 与 {o.host_name} 在 {o.start_local:%Y-%m-%d} "
                f"{_hhmm(o.start_local)}–{_hhmm(o.end_local)} 的直播时间冲突"
            )
    current = {i.product_id: i for i in session.items}
    products = list(product_ids) if product_ids is not None else list(current)
    for p in products:
        if model.product_row(p)["county_id"] != host["county_id"]:
            raise PlanError(f"{p} is not a product of {host['county_id']} / {p} 不是该县的商品")
    prices = {
        p: int(current[p].price_fen) if p in current else int(model.product_row(p)["list_price_fen"]) for p in products
    }
    manual: dict[str, tuple[Reason, ...]] = {}
    for p, v in (prices_fen or {}).items():
        if p in prices and int(v) != prices[p]:
            prices[p] = int(v)
            manual[p] = (Reason(f"price set by hand: ¥{v / 100:.2f}", f"手动定价：¥{v / 100:.2f}"),)
    price_reasons = {
        p: manual.get(p) or tuple(r for r in current[p].reasons[1:-1]) if p in current else manual.get(p, ())
        for p in products
    }
    tests = {p: current[p].price_test and p not in manual for p in products if p in current}
    items, notes, gmv, sd, profit = _evaluate(
        model, session.host_id, begin, length, products, prices, tests, price_reasons, None
    )
    reasons = _session_reasons(model, session.host_id, begin, gmv, None, (), None, None) + notes
    if start_local is not None or product_ids is not None or prices_fen:
        reasons.append(Reason("adjusted by hand from the proposal", "已在建议基础上手动调整"))
    return replace(
        session,
        start_utc=_utc(begin),
        end_utc=_utc(end),
        slot=SLOTS[_SLOT_OF_HOUR_LIST[begin.hour]],
        expected_gmv_fen=round(gmv),
        gmv_low_fen=round(max(gmv - _Z80 * sd, 0.0)),
        gmv_high_fen=round(gmv + _Z80 * sd),
        expected_profit_fen=round(profit),
        items=items,
        reasons=tuple(reasons),
    )


# --- exports --------------------------------------------------------------------------------------

#: columns of :func:`to_csv`, in order (money in yuan, times local)
CSV_COLUMNS = (
    "plan_id",
    "host_id",
    "host_name",
    "county_id",
    "platform_id",
    "start_local",
    "end_local",
    "slot",
    "based_on",
    "session_expected_gmv_yuan",
    "session_gmv_low_yuan",
    "session_gmv_high_yuan",
    "product_id",
    "title",
    "role",
    "price_yuan",
    "price_test",
    "expected_units",
    "units_p50",
    "units_p90",
    "units_to_prepare",
    "expected_gmv_yuan",
    "reasons_zh",
    "reasons_en",
)


def to_csv(plan: Plan) -> str:
    """Return the plan as CSV text: one row per (session, product), :data:`CSV_COLUMNS`, money in yuan, text
    cells neutralised against spreadsheet formulas (:func:`livecommerce.sheets.neutralised`: a host name or a
    product title from a platform export could start with ``=``)."""
    rows: list[list[Any]] = [list(CSV_COLUMNS)]
    for s in plan.sessions:
        # every text cell that comes from the data (ids, names, titles, reasons) neutralised
        session = [  # the session's cells, the same on each of its products' rows
            s.plan_id,
            neutralised(s.host_id),
            neutralised(s.host_name),
            s.county_id or "",
            s.platform_id or "",
            s.start_local.isoformat(sep=" ", timespec="minutes"),
            s.end_local.isoformat(sep=" ", timespec="minutes"),
            s.slot,
            s.based_on,
            f"{s.expected_gmv_fen / 100:.2f}",
            f"{s.gmv_low_fen / 100:.2f}",
            f"{s.gmv_high_fen / 100:.2f}",
        ]
        rows.extend(
            [
                *session,
                neutralised(i.product_id),
                neutralised(i.title),
                i.role,
                f"{i.price_fen / 100:.2f}",
                "yes" if i.price_test else "no",
                f"{i.expected_units:.1f}",
                i.units_p50,
                i.units_p90,
                i.units_to_prepare,
                f"{i.expected_gmv_fen / 100:.2f}",
                neutralised("；".join([r.zh for r in i.reasons])),
                neutralised("; ".join([r.en for r in i.reasons])),
            ]
            for i in s.items
        )
    return csv_text(rows)


def _ics_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _folded(raw: bytes) -> bytes:
    """Return a content line's UTF-8 octets folded at 75 octets (RFC 5545 §3.1) without splitting a character,
    CRLF-terminated (a calendar's lines are joined as octets and decoded once)."""
    if len(raw) <= 75:  # most lines of a plan's calendar: nothing to fold
        return raw + b"\r\n"
    parts: list[bytes] = []
    limit = 75
    while len(raw) > limit:
        cut = limit
        while cut > 0 and (raw[cut] & 0xC0) == 0x80:  # a continuation byte: step back to the character start
            cut -= 1
        parts.append(raw[:cut])
        raw = raw[cut:]
        limit = 74  # continuation lines start with one space
    parts.append(raw)
    return b"\r\n ".join(parts) + b"\r\n"


def _ics_time(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def to_ics(plan: Plan, lang: str = "zh", *, remind_minutes: int = 60) -> str:
    """Return the plan as an iCalendar file (RFC 5545): one event per session with a stable UID (the plan id),
    UTC times, the line-up with prices and units to prepare in the description, and a reminder
    ``remind_minutes`` before the start. Lines end in CRLF and are folded at 75 octets."""
    zh = lang != "en"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//livecommerce//session planner//" + ("ZH" if zh else "EN"),
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:" + _ics_text("直播排期" if zh else "Live session plan"),
    ]
    stamp = _ics_time(plan.created_at_utc)
    for s in plan.sessions:
        titles = "、".join(i.title for i in s.items) if zh else ", ".join(i.title for i in s.items)
        summary = f"直播：{s.host_name}（{titles}）" if zh else f"Live: {s.host_name} ({titles})"
        lo, hi, mean = s.gmv_low_fen / 100, s.gmv_high_fen / 100, s.expected_gmv_fen / 100
        interval = f"¥{lo:,.0f}–¥{hi:,.0f}"
        body = [f"预计 GMV ¥{mean:,.0f}（{interval}）" if zh else f"Expected GMV ¥{mean:,.0f} ({interval})"]
        for i in s.items:
            price, q = i.price_fen / 100, i.units_to_prepare
            if zh:
                body.append(f"{i.title}：¥{price:.2f}，备货 {q} 件（P50 {i.units_p50}，P90 {i.units_p90}）")
            else:
                body.append(f"{i.title}: ¥{price:.2f}, prepare {q} (P50 {i.units_p50}, P90 {i.units_p90})")
        body += [r.text(lang) for r in s.reasons]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{s.plan_id}@livecommerce",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_ics_time(s.start_utc)}",
            f"DTEND:{_ics_time(s.end_utc)}",
            "SUMMARY:" + _ics_text(summary),
            "DESCRIPTION:" + _ics_text("\n".join(body)),
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"TRIGGER:-PT{int(remind_minutes)}M",
            "DESCRIPTION:" + _ics_text(summary),
            "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return b"".join([_folded(line.encode("utf-8")) for line in lines]).decode("utf-8")


# --- the warehouse --------------------------------------------------------------------------------

_FITS: dict[tuple[Any, ...], DemandModel] = {}
_FITS_KEEP = 8


def _dimensions(engine: Any, scope: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Hosts (with names) and products (with supply season) the scope may plan for."""
    from sqlalchemy import select

    from livecommerce import queries
    from livecommerce.warehouse.tables import Product

    d = queries.directory(engine, scope)
    p = Product.__table__
    with engine.connect() as conn:
        season = conn.execute(select(p.c.product_id, p.c.season_start_month, p.c.season_end_month)).all()
    seasons = pl.DataFrame(
        [tuple(r) for r in season],
        schema={"product_id": pl.String, "season_start_month": pl.Int64, "season_end_month": pl.Int64},
        orient="row",
    )
    products = d["products"].join(seasons, on="product_id", how="left") if d["products"].height else d["products"]
    return d["hosts"], products


def model_to_json(model: DemandModel) -> str:
    """Return ``model`` as a JSON document that :func:`model_from_json` turns back into an equal model
    (frames as Arrow IPC in base64, tuple keys as lists, NaN kept)."""
    import base64

    def frame(f: pl.DataFrame) -> str:
        buf = io.BytesIO()
        f.write_ipc(buf)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    doc = {
        "version": 1,
        "coef": dict(model.coef),
        "deviations": {level: [[*k, v] for k, v in d.items()] for level, d in model.deviations.items()},
        "hour": [[k, v] for k, v in model.hour.items()],
        "tau2": dict(model.tau2),
        "var_a": model.var_a,
        "var_b": model.var_b,
        "host_sd": model.host_sd,
        "explain_share": model.explain_share,
        "t0": model.t0.isoformat(),
        "last_day": model.last_day.isoformat(),
        "hosts": frame(model.hosts),
        "products": frame(model.products),
        "starts": frame(model.starts),
        "host_sessions": dict(model.host_sessions),
        "host_rate": dict(model.host_rate),
        "durations": [[*k, v] for k, v in model.durations.items()],
        "elasticities": {p: asdict(e) for p, e in model.elasticities.items()},
        "price_range": {p: list(r) for p, r in model.price_range.items()},
        "flags": list(model.flags),
    }
    return json.dumps(doc, ensure_ascii=False)


def model_from_json(text: str) -> DemandModel:
    """Return the :class:`DemandModel` that :func:`model_to_json` wrote; ValueError for another version."""
    import base64

    doc = json.loads(text)
    if doc.get("version") != 1:
        raise ValueError(f"unknown planner model version {doc.get('version')!r} / 排期模型版本未知")

    def frame(b64: str) -> pl.DataFrame:
        return pl.read_ipc(io.BytesIO(base64.b64decode(b64)))

    return DemandModel(
        coef=doc["coef"],
        deviations={
            level: {(str(k), int(s), int(w)): float(v) for k, s, w, v in rows}
            for level, rows in doc["deviations"].items()
        },
        hour={int(k): float(v) for k, v in doc["hour"]},
        tau2=doc["tau2"],
        var_a=float(doc["var_a"]),
        var_b=float(doc["var_b"]),
        host_sd=float(doc["host_sd"]),
        explain_share=float(doc["explain_share"]),
        t0=dt.date.fromisoformat(doc["t0"]),
        last_day=dt.date.fromisoformat(doc["last_day"]),
        hosts=frame(doc["hosts"]),
        products=frame(doc["products"]),
        starts=frame(doc["starts"]),
        host_sessions={k: int(v) for k, v in doc["host_sessions"].items()},
        host_rate={k: float(v) for k, v in doc["host_rate"].items()},
        durations={(str(k), int(s)): float(v) for k, s, v in doc["durations"]},
        elasticities={p: ElasticityEstimate(**e) for p, e in doc["elasticities"].items()},
        price_range={p: (float(lo), float(hi)) for p, (lo, hi) in doc["price_range"].items()},
        flags=tuple(doc["flags"]),
    )


def _stamp(conn: Any) -> str:
    """The warehouse state a demand model is fitted on: sessions (count, last day), hosts, products."""
    from sqlalchemy import func, select

    from livecommerce.warehouse.tables import Host, Product, RollupSession

    rs = RollupSession.__table__
    # two statements: together the count and the maximum scan every row; apart, the count reads the
    # table's smallest index and the maximum one end of the day's index (large world: 1.8 ms -> 0.05 ms)
    n = conn.execute(select(func.count()).select_from(rs)).scalar()
    last = conn.execute(select(func.max(rs.c.day))).scalar()
    hosts = conn.execute(select(func.count()).select_from(Host.__table__)).scalar()
    products = conn.execute(select(func.count()).select_from(Product.__table__)).scalar()
    when = last.isoformat() if isinstance(last, dt.date) else str(last)
    return f"sessions={n};last={when};hosts={hosts};products={products}"


def _fitted(engine: Any, until: dt.date | None) -> DemandModel:
    from livecommerce import queries
    from livecommerce.scope import Scope

    everyone = Scope.everything()
    history = queries.session_sales(engine, everyone, filters=queries.Filters(end=until))
    hosts, products = _dimensions(engine, everyone)
    if history.is_empty() or "host_id" not in history.columns:
        raise PlanError("no past sessions in the warehouse: load sessions first / 仓库里还没有直播场次，请先导入")
    return fit_demand(history, hosts, products)


_STORED_KEEP = 3


def store_demand_model(engine: Any) -> str | None:
    """Fit the demand model on every session in the warehouse and store it (``planner_model``), so that
    :func:`demand_model` reads it instead of refitting while the warehouse is unchanged; keep the
    newest few. Return the model id, None when there are no sessions to fit on."""
    import uuid

    from sqlalchemy import delete, select

    from livecommerce.warehouse.tables import PlannerModel
    from livecommerce.warehouse.upsert import upsert

    pm = PlannerModel.__table__
    with engine.connect() as conn:
        stamp = _stamp(conn)
    try:
        model = _fitted(engine, None)
    except PlanError:
        return None
    model_id = str(uuid.uuid4())
    with engine.begin() as conn:
        upsert(
            conn,
            pm,
            [
                {
                    "model_id": model_id,
                    "created_at_utc": dt.datetime.now(dt.UTC),
                    "stamp": stamp,
                    "payload": model_to_json(model),
                }
            ],
        )
        keep = select(pm.c.model_id).order_by(pm.c.created_at_utc.desc()).limit(_STORED_KEEP)
        conn.execute(delete(pm).where(pm.c.model_id.not_in(keep)))
    return model_id


def _stored_model(conn: Any, stamp: str) -> DemandModel | None:
    from sqlalchemy import select

    from livecommerce.warehouse.tables import PlannerModel

    pm = PlannerModel.__table__
    text = conn.execute(
        select(pm.c.payload).where(pm.c.stamp == stamp).order_by(pm.c.created_at_utc.desc()).limit(1)
    ).scalar()
    return model_from_json(text) if text is not None else None


def demand_model(engine: Any, scope: Any = None, *, until: dt.date | None = None) -> DemandModel:
    """Return the demand model fitted on the warehouse's sessions up to ``until`` (all by default).

    For all history, the model a run stored (:func:`store_demand_model`) is read while the warehouse
    still carries the state it was fitted on; otherwise the sessions are fitted here. Fits are kept in
    memory per warehouse, scope, end date and that state, so the dashboard adjusts plans without
    refitting."""
    from livecommerce.scope import Scope

    scope = scope or Scope.everything()
    with engine.connect() as conn:
        stamp = _stamp(conn)
        key = (str(engine.url), getattr(engine.url, "database", None), id(engine), scope, until, stamp)
        if key in _FITS:
            return _FITS[key]
        model = _stored_model(conn, stamp) if until is None else None
    if model is None:
        model = _fitted(engine, until)
    if len(_FITS) >= _FITS_KEEP:
        _FITS.pop(next(iter(_FITS)))
    _FITS[key] = model
    return model


def _busy(engine: Any, county_id: str | None, hosts: Sequence[str], start: dt.date, days: int) -> list[Any]:
    """Saved plans (status planned) of the county's other hosts in the period: (county, local start, local end)."""
    from sqlalchemy import select

    from livecommerce.warehouse.tables import SessionPlan

    sp = SessionPlan.__table__
    a = _utc(dt.datetime.combine(start, dt.time()))
    b = _utc(dt.datetime.combine(start + dt.timedelta(days=days + 1), dt.time()))
    with engine.connect() as conn:
        rows = conn.execute(
            select(sp.c.planned_start_utc, sp.c.planned_end_utc).where(
                sp.c.county_id == county_id,
                sp.c.status == "planned",
                sp.c.host_id.not_in(list(hosts)),
                sp.c.planned_start_utc < b,
                sp.c.planned_end_utc > a,
            )
        ).all()
    return [(county_id, _local(x), _local(y)) for x, y in rows]


def plan_from_warehouse(
    engine: Any,
    scope: Any = None,
    *,
    host_id: str | None = None,
    county_id: str | None = None,
    start: dt.date,
    days: int,
    stock: Mapping[str, int] | None = None,
    sessions_per_week: float | None = None,
    max_products: int = 4,
    objective: str = "gmv",
    detail: bool = True,
    hosts: pl.DataFrame | None = None,
) -> Plan:
    """Return a plan for one host or every host of a county from the warehouse's history (see
    :func:`plan_sessions`; ``detail=False``: an outline), avoiding the saved plans of the county's other
    hosts. The scope must see the host or county (:class:`PlanError` otherwise). ``hosts``: the hosts of
    ``queries.directory`` with the same scope, when the caller has read them already (a county's, or any
    that hold ``host_id``): the host or the county's hosts are looked up there instead of read again."""
    from livecommerce.scope import Scope

    scope = scope or Scope.everything()
    if (host_id is None) == (county_id is None):
        raise PlanError("give a host or a county, not both / 请指定一位主播或一个县（二选一）")
    from livecommerce import queries

    if hosts is None:
        hosts = queries.directory(engine, scope, county_id=county_id if host_id is None else None)["hosts"]
    if host_id is not None:
        mine = hosts.filter(pl.col("host_id") == host_id)
        if mine.is_empty():
            raise PlanError(f"host {host_id!r} not found or not yours to plan / 找不到主播 {host_id!r} 或无权限")
        county_id = mine["county_id"][0]
        host_ids = [host_id]
    else:
        mine = hosts.filter((pl.col("county_id") == county_id) & pl.col("platform_id").is_not_null())
        if mine.is_empty():
            raise PlanError(f"county {county_id!r} has no hosts you may plan for / 县 {county_id!r} 没有可排期的主播")
        host_ids = mine["host_id"].to_list()
    if county_id is None:
        raise PlanError(f"host {host_id!r} has no county yet: assign one first / 该主播尚未分配县，请先分配")
    model = demand_model(engine, scope)
    return plan_sessions(
        model,
        host_ids,
        start,
        days,
        sessions_per_week=sessions_per_week,
        stock=stock,
        busy=_busy(engine, county_id, host_ids, start, days),
        max_products=max_products,
        objective=objective,
        detail=detail,
    )


def _reasons_json(reasons: Iterable[Reason]) -> str:
    """The reasons as stored: a JSON list of ``{en, zh}`` (UTF-8 text, compact; orjson, ~10x json's speed)."""
    return orjson.dumps([{"en": r.en, "zh": r.zh} for r in reasons]).decode()


@functools.cache
def _stored_items() -> Any:
    """The statement reading the (plan, product) keys of the items stored for the plan ids bound as ``ids``
    (built once: a list of ids written into the statement was coerced id by id on every save)."""
    from sqlalchemy import bindparam, select

    from livecommerce.warehouse.tables import SessionPlanItem

    spi = SessionPlanItem.__table__
    return select(spi.c.plan_id, spi.c.product_id).where(spi.c.plan_id.in_(bindparam("ids", expanding=True)))


def save_plan(engine: Any, plan: Plan | Iterable[PlannedSession]) -> list[str]:
    """Store the plan's sessions (status ``planned``) and their items in one transaction; return the plan ids.

    Saving the same session again updates it (plan ids are stable) and keeps when it was first saved
    (``created_at_utc``): an unchanged session saved again writes nothing; products dropped from a session are
    removed from its items. Outlines (``plan_sessions(..., detail=False)``) are detailed first with the
    warehouse's demand model."""
    from sqlalchemy import delete

    from livecommerce.warehouse.tables import SessionPlan, SessionPlanItem
    from livecommerce.warehouse.upsert import upsert

    sessions = list(plan.sessions if isinstance(plan, Plan) else plan)
    if not all(s.detailed for s in sessions):
        sessions = detail_sessions(demand_model(engine), sessions)
    created = plan.created_at_utc if isinstance(plan, Plan) else dt.datetime.now(dt.UTC)
    spi = SessionPlanItem.__table__
    with engine.begin() as conn:
        upsert(
            conn,
            SessionPlan.__table__,
            [
                {
                    "plan_id": s.plan_id,
                    "host_id": s.host_id,
                    "county_id": s.county_id,
                    "platform_id": s.platform_id,
                    "planned_start_utc": s.start_utc,
                    "planned_end_utc": s.end_utc,
                    "slot": s.slot,
                    "based_on": s.based_on,
                    "expected_gmv_fen": s.expected_gmv_fen,
                    "gmv_low_fen": s.gmv_low_fen,
                    "gmv_high_fen": s.gmv_high_fen,
                    "expected_profit_fen": s.expected_profit_fen,
                    "status": s.status if s.status != "draft" else "planned",
                    "created_at_utc": created,
                    "reasons": _reasons_json(s.reasons),
                }
                for s in sessions
            ],
            update_columns=[c for c in SessionPlan.__table__.c.keys() if c not in ("plan_id", "created_at_utc")],
        )
        # items of these sessions whose product was dropped: looked up at once, deleted session by session
        kept = {(s.plan_id, i.product_id) for s in sessions for i in s.items}
        stored = conn.execute(_stored_items(), {"ids": [s.plan_id for s in sessions]}).all()
        dropped: dict[str, list[str]] = {}
        for plan_id, product_id in stored:
            if (plan_id, product_id) not in kept:
                dropped.setdefault(plan_id, []).append(product_id)
        for plan_id, products in dropped.items():
            conn.execute(delete(spi).where(spi.c.plan_id == plan_id, spi.c.product_id.in_(products)))
        upsert(
            conn,
            spi,
            [
                {
                    "plan_id": s.plan_id,
                    "product_id": i.product_id,
                    "role": i.role,
                    "price_fen": i.price_fen,
                    "price_test": i.price_test,
                    "expected_units": i.expected_units,
                    "units_p50": i.units_p50,
                    "units_p90": i.units_p90,
                    "units_to_prepare": i.units_to_prepare,
                    "expected_gmv_fen": i.expected_gmv_fen,
                    "reasons": _reasons_json(i.reasons),
                }
                for s in sessions
                for i in s.items
            ],
        )
    return [s.plan_id for s in sessions]


def _frame(conn: Any, stmt: Any) -> pl.DataFrame:
    result = conn.execute(stmt)
    names = list(result.keys())
    rows = [tuple(r) for r in result]
    if not rows:
        return pl.DataFrame({n: [] for n in names})
    return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)


def plans(
    engine: Any,
    scope: Any = None,
    *,
    host_id: str | None = None,
    county_id: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Return the saved sessions the scope may see (one row each, money in fen), in time order, optionally for
    one host or county and local dates ``start``..``end`` (inclusive), with all the stored columns or only
    ``columns`` (a picker of saved sessions needs three, not their reasons)."""
    from sqlalchemy import select

    from livecommerce import queries
    from livecommerce.scope import Scope
    from livecommerce.warehouse.tables import SessionPlan

    scope = scope or Scope.everything()
    sp = SessionPlan.__table__
    where = []
    if not scope.all_data:  # the hosts the scope sees
        where.append(sp.c.host_id.in_(queries.directory(engine, scope)["hosts"]["host_id"].to_list()))
    if host_id:
        where.append(sp.c.host_id == host_id)
    if county_id:
        where.append(sp.c.county_id == county_id)
    if start:
        where.append(sp.c.planned_start_utc >= _utc(dt.datetime.combine(start, dt.time())))
    if end:
        where.append(sp.c.planned_start_utc < _utc(dt.datetime.combine(end + dt.timedelta(days=1), dt.time())))
    picked = [sp.c[c] for c in columns] if columns is not None else [sp]
    with engine.connect() as conn:
        return _frame(conn, select(*picked).where(*where).order_by(sp.c.planned_start_utc, sp.c.host_id))


def load_plan(engine: Any, plan_id: str, scope: Any = None) -> PlannedSession:
    """Return a saved session with its items; :class:`PlanError` when there is none the scope may see."""
    from sqlalchemy import select

    from livecommerce import queries
    from livecommerce.scope import Scope
    from livecommerce.warehouse.tables import Host, Product, SessionPlan, SessionPlanItem

    scope = scope or Scope.everything()
    sp, spi = SessionPlan.__table__, SessionPlanItem.__table__
    h, p = Host.__table__, Product.__table__
    with engine.connect() as conn:
        head = conn.execute(select(sp).where(sp.c.plan_id == plan_id)).mappings().first()
        items = conn.execute(select(spi).where(spi.c.plan_id == plan_id).order_by(spi.c.product_id)).mappings().all()
        if head is not None:  # the session's host and products only, not the whole directory
            names = dict(conn.execute(select(h.c.host_id, h.c.name).where(h.c.host_id == head["host_id"])).all())
            rows = conn.execute(
                select(p.c.product_id, p.c.title, p.c.list_price_fen).where(
                    p.c.product_id.in_([i["product_id"] for i in items])
                )
            ).all()
    if head is None or not queries.may_see(engine, scope, "host", head["host_id"]):
        raise PlanError(f"no saved plan {plan_id!r} you may see / 没有可查看的计划 {plan_id!r}")
    titles = {r.product_id: r.title for r in rows}
    lists = {r.product_id: r.list_price_fen for r in rows}

    def reasons(text: str) -> tuple[Reason, ...]:
        return tuple(Reason(**r) for r in json.loads(text or "[]"))

    return PlannedSession(
        plan_id=head["plan_id"],
        host_id=head["host_id"],
        host_name=str(names.get(head["host_id"]) or head["host_id"]),
        county_id=head["county_id"],
        platform_id=head["platform_id"],
        start_utc=head["planned_start_utc"],
        end_utc=head["planned_end_utc"],
        slot=head["slot"],
        based_on=head["based_on"],
        expected_gmv_fen=int(head["expected_gmv_fen"]),
        gmv_low_fen=int(head["gmv_low_fen"]),
        gmv_high_fen=int(head["gmv_high_fen"]),
        expected_profit_fen=int(head["expected_profit_fen"] or 0),
        items=tuple(
            PlannedItem(
                product_id=i["product_id"],
                title=str(titles.get(i["product_id"]) or i["product_id"]),
                role=i["role"],
                price_fen=int(i["price_fen"]),
                list_price_fen=int(lists.get(i["product_id"]) or i["price_fen"]),
                price_test=bool(i["price_test"]),
                explain_minutes=0.0,
                expected_units=float(i["expected_units"]),
                units_p50=int(i["units_p50"]),
                units_p90=int(i["units_p90"]),
                units_to_prepare=int(i["units_to_prepare"]),
                expected_gmv_fen=int(i["expected_gmv_fen"]),
                expected_profit_fen=0,
                stock_on_hand=None,
                reasons=reasons(i["reasons"]),
            )
            for i in items
        ),
        reasons=reasons(head["reasons"]),
        status=head["status"],
    )


def plan_vs_actual(engine: Any, plan_id: str, scope: Any = None) -> pl.DataFrame:
    """Return the saved session against what sold in the host's actual session overlapping its time.

    One row per product planned or sold: ``product_id, title, role, planned_price_fen, units_p50,
    units_p90, units_to_prepare, expected_units, expected_gmv_fen, actual_units, actual_gmv_fen,
    actual_price_fen, stock_left`` (prepared − sold, never below 0), ``sold_out`` (sold everything
    prepared), plus ``session_id``, ``actual_start_utc`` (null, and actual columns null, when no actual
    session overlaps yet) and ``plan_id``."""
    from livecommerce import queries
    from livecommerce.scope import Scope

    scope = scope or Scope.everything()
    s = load_plan(engine, plan_id, scope)
    day = s.start_local.date()
    sales = queries.session_sales(
        engine,
        scope,
        filters=queries.Filters(start=day - dt.timedelta(days=1), end=day + dt.timedelta(days=1)),
        host_ids=[s.host_id],
    )
    match = None
    if sales.height and "host_id" in sales.columns:
        mine = sales.filter(pl.col("host_id") == s.host_id)
        best = 0.0
        for sid, started, minutes in mine.select("session_id", "started_at_utc", "live_minutes").unique().iter_rows():
            a = started if started.tzinfo else started.replace(tzinfo=dt.UTC)
            b = a + dt.timedelta(minutes=float(minutes or 0))
            overlap = (min(b, s.end_utc) - max(a, s.start_utc)).total_seconds()
            if overlap > best:
                best, match = overlap, (sid, a)
    planned = pl.DataFrame(
        [
            {
                "product_id": i.product_id,
                "title": i.title,
                "role": i.role,
                "planned_price_fen": i.price_fen,
                "units_p50": i.units_p50,
                "units_p90": i.units_p90,
                "units_to_prepare": i.units_to_prepare,
                "expected_units": i.expected_units,
                "expected_gmv_fen": i.expected_gmv_fen,
            }
            for i in s.items
        ],
        schema={
            "product_id": pl.String,
            "title": pl.String,
            "role": pl.String,
            "planned_price_fen": pl.Int64,
            "units_p50": pl.Int64,
            "units_p90": pl.Int64,
            "units_to_prepare": pl.Int64,
            "expected_units": pl.Float64,
            "expected_gmv_fen": pl.Int64,
        },
    )
    actual = pl.DataFrame(
        schema={
            "product_id": pl.String,
            "actual_units": pl.Int64,
            "actual_gmv_fen": pl.Int64,
            "actual_price_fen": pl.Int64,
        }
    )
    if match is not None:
        actual = sales.filter((pl.col("session_id") == match[0]) & (pl.col("host_id") == s.host_id)).select(
            pl.col("product_id").cast(pl.String),
            pl.col("units").cast(pl.Int64).alias("actual_units"),
            pl.col("gmv_fen").cast(pl.Int64).alias("actual_gmv_fen"),
            (pl.col("price") * 100).round().cast(pl.Int64).alias("actual_price_fen"),
        )
    out = planned.join(actual, on="product_id", how="full", coalesce=True)
    if match is not None:
        out = out.with_columns(pl.col("actual_units", "actual_gmv_fen").fill_null(0))
    prepared = pl.col("units_to_prepare")
    return out.with_columns(
        pl.when(prepared.is_not_null() & pl.col("actual_units").is_not_null())
        .then((prepared - pl.col("actual_units")).clip(0))
        .alias("stock_left"),
        (prepared.is_not_null() & (pl.col("actual_units") >= prepared)).alias("sold_out"),
        pl.lit(match[0] if match else None, dtype=pl.String).alias("session_id"),
        pl.lit(match[1] if match else None, dtype=pl.Datetime("us", "UTC")).alias("actual_start_utc"),
        pl.lit(plan_id).alias("plan_id"),
    ).sort("product_id")
