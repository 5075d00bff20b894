"""Stock to prepare and replenishment on demand distributions: no database, values out.

A demand distribution (:class:`DemandDistribution`) is built from forecast quantiles (the output of
``livecommerce.forecast.forecast`` for a session or day, or ``forecast_total`` for a period) by
interpolating the quantile function, or as a normal / negative-binomial law. On it:

- ``recommend_stock`` solves the newsvendor: stock ``q* = F⁻¹(Cu / (Cu + Co))`` with underage cost
  ``Cu = price − cost + sold-out penalty`` and overage cost ``Co = cost − salvage + holding``, the
  salvage following the shelf life (``salvage_value``);
- ``presale_plan`` turns presale (sell first, harvest after) into a packing-capacity plan;
- ``replenishment`` gives the order-up-to level for lead time plus review period (base stock), or
  an (s, S) policy when each order has a fixed cost, with fill rate, stock-out probability and
  expected leftover.

Money is in yuan (floats) at this boundary; quantities are units. See ``docs/pricing.md``.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy import optimize, stats

__all__ = [
    "DemandDistribution",
    "PackingPlan",
    "ReplenishmentPlan",
    "Salvage",
    "StockPlan",
    "calibrated_level",
    "critical_ratio",
    "presale_plan",
    "quantile_levels",
    "recommend_stock",
    "replenishment",
    "salvage_value",
    "stock_quantity",
]

Fit = Literal["interpolate", "normal", "negbin"]

_U = (np.arange(4000) + 0.5) / 4000  # midpoint grid on (0, 1) for expectations over the quantile function
_U_LEVELS = tuple(_U.tolist())
_ZU = stats.norm.ppf(_U)  # the grid's normal scores, worked out once
_Z_TAIL = 3.0  # tails beyond the outermost given quantile follow a normal law out to ±3 sd-equivalents


@functools.lru_cache(maxsize=32)
def _grid_runs(levels: tuple[float, ...]) -> tuple[int, int, tuple[tuple[int, int, int], ...]]:
    """Where the common grid falls against sorted ``levels``: the points below the first level are
    ``_U[:below]``, those above the last ``_U[above:]``, and ``(k, a, b)`` for each run ``_U[a:b]`` of points
    interpolated between levels ``k`` and ``k + 1`` (as :func:`numpy.interp` pairs them)."""
    lv = np.asarray(levels)
    below = int(np.searchsorted(_U, lv[0], side="left"))
    above = int(np.searchsorted(_U, lv[-1], side="right"))
    j = np.clip(np.searchsorted(lv, _U[below:above], side="right") - 1, 0, len(lv) - 2)
    runs = []
    for k in np.unique(j).tolist():
        where = np.flatnonzero(j == k)
        runs.append((k, below + int(where[0]), below + int(where[-1]) + 1))
    return below, above, tuple(runs)


@functools.lru_cache(maxsize=32)
def _grid_pieces(levels: tuple[float, ...]) -> tuple[int, int, tuple[int, ...], tuple[int, ...]]:
    """``below``, ``above`` and the runs of :func:`_grid_runs` as two sorted tuples: each run's first grid
    index and the level it starts from (for a bisection from a grid index to its piece). Where one piece of a
    grid starts is each run's first index and ``above`` (the lower tail ends where the first run starts)."""
    below, above, runs = _grid_runs(levels)
    return below, above, tuple(a for _, a, _ in runs), tuple(k for k, _, _ in runs)


#: :func:`_grid_pieces` of a level set and the normal scores of its two outermost levels on each side
_KnotShape = tuple[int, int, tuple[int, ...], tuple[int, ...], float, float, float, float]


@functools.lru_cache(maxsize=32)
def _knot_shape(levels: tuple[float, ...]) -> _KnotShape:
    """What :meth:`_KnotLaw._point` needs of ``levels`` (at least two), as plain numbers: worked out once per
    level set and shared by its laws, instead of two cache lookups (hashing the levels) per grid point."""
    z = _normal_scores(levels).tolist()
    return (*_grid_pieces(levels), z[0], z[1], z[-2], z[-1])


def _grid_points(levels: tuple[float, ...], qv: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The values of the interpolated grids of knot rows ``qv`` (non-negative, non-decreasing) at grid indices
    ``at``, one column each, before any running maximum: the arithmetic of :func:`_interpolated_grids`."""
    lv = np.asarray(levels)
    z = _normal_scores(levels)
    below, above, starts, ks = _grid_pieces(levels)
    out = np.empty((len(qv), len(at)))
    for c, i in enumerate(at.tolist()):
        if i < below:
            lo_slope = (qv[:, 1] - qv[:, 0]) / (z[1] - z[0])
            out[:, c] = np.maximum(qv[:, 0] + lo_slope * (_ZU[i] - z[0]), 0.0)
        elif i >= above:
            hi_slope = (qv[:, -1] - qv[:, -2]) / (z[-1] - z[-2])
            out[:, c] = qv[:, -1] + hi_slope * (_ZU[i] - z[-1])
        else:
            k = ks[bisect.bisect_right(starts, i) - 1]
            slope = (qv[:, k + 1] - qv[:, k]) / (lv[k + 1] - lv[k])
            out[:, c] = slope * (_U[i] - lv[k]) + qv[:, k]
    return out


def _interpolated_grids(levels: tuple[float, ...], qv: np.ndarray) -> np.ndarray:
    """The 4,000-point grids of knot rows ``qv`` (non-negative, non-decreasing) at ``levels``, one row each,
    read-only: ``np.interp`` between the levels (its own arithmetic, so the values are the same to the bit),
    normal tails beyond them, clipped at zero and non-decreasing."""
    lv = np.asarray(levels)
    z = _normal_scores(levels)
    vals = np.empty((len(qv), len(_U)))
    # np.interp's own arithmetic (slope × (x − x_j) + y_j), so the values are the same to the bit; the grid
    # is sorted, so the points between two levels are a run of it
    below, above, runs = _grid_runs(levels)
    for k, a, b in runs:
        slope = (qv[:, k + 1] - qv[:, k]) / (lv[k + 1] - lv[k])
        vals[:, a:b] = slope[:, None] * (_U[a:b] - lv[k]) + qv[:, k : k + 1]
    lo_slope = (qv[:, 1] - qv[:, 0]) / (z[1] - z[0])
    hi_slope = (qv[:, -1] - qv[:, -2]) / (z[-1] - z[-2])
    vals[:, :below] = qv[:, :1] + lo_slope[:, None] * (_ZU[:below] - z[0])
    vals[:, above:] = qv[:, -1:] + hi_slope[:, None] * (_ZU[above:] - z[-1])
    # as ``from_quantiles``: clipped at zero and made non-decreasing. Only the lower tail can fall below zero
    # (inside, a non-negative slope times a non-negative step is added to a level's value ≥ 0; above, the
    # last value); each run and tail rises on its own (rounding to nearest keeps order), so the running
    # maximum can only change a row where one piece ends above where the next starts: checked, then done
    # only when so (the same numbers, one pass over the grids instead of two)
    np.maximum(vals[:, :below], 0.0, out=vals[:, :below])
    _, _, starts, _ = _grid_pieces(levels)
    if any(0 < a < len(_U) and bool(np.any(vals[:, a - 1] > vals[:, a])) for a in (*starts, above)):
        vals = np.maximum.accumulate(vals, axis=1)
    vals.flags.writeable = False  # each law's grid is a row of it (read-only, like ``_on_grid``'s copies)
    return vals


def _json(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in asdict(obj).items():
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out


# --- demand distributions ---------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DemandDistribution:
    """Demand for a session or a period, as a quantile function on a fine grid of levels.

    ``levels``/``values`` are the quantile function (increasing), ``mean`` the forecast mean,
    ``kind`` how it was built (``interpolate``, ``normal``, ``negbin``). Build it with
    :meth:`from_quantiles`, :meth:`from_forecast` or :meth:`normal`. The grid is kept as a numpy
    array; ``levels`` and ``values`` give it as tuples (made on first use: a plan builds hundreds of
    these and only asks them questions).
    """

    mean: float
    kind: str
    grid: np.ndarray = field(repr=False)  # the values at the common levels

    @property
    def levels(self) -> tuple[float, ...]:
        """The levels of the quantile function (the common grid)."""
        return _U_LEVELS

    @functools.cached_property
    def values(self) -> tuple[float, ...]:
        """The quantile function's values at :attr:`levels`."""
        return tuple(self.grid.tolist())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DemandDistribution):
            return NotImplemented
        return (self.mean, self.kind) == (other.mean, other.kind) and np.array_equal(self.grid, other.grid)

    def __hash__(self) -> int:
        return hash((self.mean, self.kind, self.grid.tobytes()))

    @classmethod
    def from_quantiles(
        cls, quantiles: Mapping[float, float], mean: float | None = None, fit: Fit = "interpolate"
    ) -> DemandDistribution:
        """Return the distribution through the given ``{level: value}`` quantiles.

        ``interpolate``: piecewise linear between the given quantiles; beyond the outermost ones a
        normal tail whose spread matches the two outermost quantiles on that side; never below 0.
        ``normal``: mean (given, else the median) and sd from the widest symmetric pair.
        ``negbin``: the negative binomial with the given mean whose quantiles fit best (counts).
        """
        items = sorted((float(k), float(v)) for k, v in quantiles.items() if v is not None and math.isfinite(v))
        if not items or any(not 0 < k < 1 for k, _ in items):
            raise ValueError(f"quantile levels must be strictly between 0 and 1 and values finite: {quantiles!r}")
        lv = np.array([k for k, _ in items])
        qv = np.maximum.accumulate(np.maximum(np.array([v for _, v in items]), 0.0))
        mid = float(np.interp(0.5, lv, qv))
        m = float(mean) if mean is not None and math.isfinite(mean) else mid
        if fit == "normal" or (fit == "interpolate" and len(items) == 1):
            return cls.normal(m, _sd_from(lv, qv, m))
        if fit == "negbin":
            return cls._negbin(m, lv, qv)
        z = _normal_scores(tuple(lv.tolist()))
        u = _U
        zu = _ZU
        vals = np.interp(u, lv, qv)
        # tails: continue with the slope (per unit of z) of the outermost pair on each side
        lo_slope = (qv[1] - qv[0]) / (z[1] - z[0]) if len(lv) > 1 and z[1] > z[0] else _sd_from(lv, qv, m)
        hi_slope = (qv[-1] - qv[-2]) / (z[-1] - z[-2]) if len(lv) > 1 and z[-1] > z[-2] else _sd_from(lv, qv, m)
        below, above = u < lv[0], u > lv[-1]
        vals[below] = qv[0] + lo_slope * (zu[below] - z[0])
        vals[above] = qv[-1] + hi_slope * (zu[above] - z[-1])
        vals = np.maximum.accumulate(np.maximum(vals, 0.0))
        return cls._on_grid(vals, m, "interpolate")

    @classmethod
    def from_quantile_rows(
        cls, levels: Sequence[float], rows: np.ndarray, means: Sequence[float]
    ) -> list[DemandDistribution]:
        """Return ``[from_quantiles(dict(zip(levels, row)), mean) for row, mean in zip(rows, means)]``
        (``interpolate``), the same numbers worked out for all rows at once: ``levels`` strictly
        increasing in (0, 1), ``rows`` finite, one row of values per distribution. The planner builds a
        plan's item laws this way (one numpy pass instead of one per item).

        Each law keeps its knots and builds its 4,000-point grid only when something needs the whole
        of it (``cdf``, ``expected_shortage``, ``values``, …): a quantile is worked out from the two grid
        points around its level, with the grid's own arithmetic and ``numpy.interp``'s, so it is the same
        number to the bit (a plan asks each item's law for three quantiles and nothing else)."""
        lv = np.asarray(levels, dtype=float)
        if lv.ndim != 1 or len(lv) < 2 or not (np.all(np.diff(lv) > 0) and 0 < lv[0] and lv[-1] < 1):
            raise ValueError(f"levels must be at least two, strictly increasing, between 0 and 1: {levels!r}")
        qv = np.maximum.accumulate(np.maximum(np.asarray(rows, dtype=float).reshape(-1, len(lv)), 0.0), axis=1)
        key = tuple(lv.tolist())
        # a row whose grid needs the running maximum (a piece ending above where the next starts: rounding,
        # at a level just above a grid point) is built whole; the others keep their knots
        _, above, starts, _ = _grid_pieces(key)
        joins = np.array([a for a in (*starts, above) if 0 < a < len(_U)], dtype=np.int64)
        whole = np.zeros(len(qv), dtype=bool)
        if len(joins):
            whole = np.any(_grid_points(key, qv, joins - 1) > _grid_points(key, qv, joins), axis=1)
        grids = _interpolated_grids(key, qv[whole]) if whole.any() else None
        shape = _knot_shape(key)
        out: list[DemandDistribution] = []
        at = 0
        for row, m, built in zip(qv.tolist(), means, whole.tolist(), strict=True):
            if built:
                assert grids is not None
                out.append(cls(float(m), "interpolate", grids[at]))
                at += 1
            else:
                out.append(_KnotLaw(float(m), key, tuple(row), shape))
        return out

    @classmethod
    def from_forecast(cls, row: Mapping[str, Any] | pl.DataFrame, fit: Fit = "interpolate") -> DemandDistribution:
        """Return the distribution of one forecast row (``mean`` and ``q{tau}`` columns, e.g. ``q0.9``)."""
        if isinstance(row, pl.DataFrame):
            if row.height != 1:
                raise ValueError(f"one forecast row expected, got {row.height}; filter to one series and date")
            row = row.row(0, named=True)
        qs = {
            float(k[1:]): float(v) for k, v in row.items() if k.startswith("q") and _is_level(k[1:]) and v is not None
        }
        if not qs:
            raise ValueError(f"no quantile columns (q0.1, q0.5, …) in {list(row)}")
        return cls.from_quantiles(qs, mean=row.get("mean"), fit=fit)

    @classmethod
    def normal(cls, mean: float, sd: float) -> DemandDistribution:
        """Return a normal demand law (not truncated: use it for large volumes)."""
        vals = mean + max(sd, 0.0) * _ZU
        return cls._on_grid(vals, float(mean), "normal")

    @classmethod
    def _negbin(cls, mean: float, lv: np.ndarray, qv: np.ndarray) -> DemandDistribution:
        if mean <= 0:
            return cls._on_grid(np.zeros(len(_U)), 0.0, "negbin")

        def loss(log_r: float) -> float:
            r = math.exp(log_r)
            return float(((stats.nbinom.ppf(lv, r, r / (r + mean)) - qv) ** 2).sum())

        best = min((loss(x), x) for x in np.linspace(-3, 8, 45))[1]
        res = optimize.minimize_scalar(loss, bounds=(best - 0.3, best + 0.3), method="bounded")
        r = math.exp(res.x)
        vals = stats.nbinom.ppf(_U, r, r / (r + mean)).astype(float)
        return cls._on_grid(vals, float(mean), "negbin")

    @property
    def _levels(self) -> np.ndarray:
        return _U

    @property
    def _values(self) -> np.ndarray:
        return self.grid

    @classmethod
    def _on_grid(cls, values: np.ndarray, mean: float, kind: str) -> DemandDistribution:
        """The distribution with ``values`` at the levels of the common grid (kept as a read-only array)."""
        grid = np.array(values, dtype=float)
        grid.flags.writeable = False
        return cls(mean, kind, grid)

    def quantile(self, level: float) -> float:
        """Return the demand not exceeded with probability ``level``."""
        asked = self._asked
        if level not in asked:  # a stock plan asks for the median three or four times
            asked[level] = float(np.interp(level, self._levels, self._values))
        return asked[level]

    @functools.cached_property
    def _asked(self) -> dict[float, float]:
        return {}

    def cdf(self, x: float) -> float:
        """Return P(demand ≤ x)."""
        return float(np.mean(self._values <= x + 1e-9))

    def expected_shortage(self, stock: float) -> float:
        """Return E[(demand − stock)⁺], the units asked for but not available (loss function)."""
        return float(np.mean(np.maximum(self._values - stock, 0.0)))

    def expected_leftover(self, stock: float) -> float:
        """Return E[(stock − demand)⁺], the units left over."""
        return float(np.mean(np.maximum(stock - self._values, 0.0)))

    def required_level(self, actual: float) -> float:
        """Return the lowest level whose whole-unit stock ``ceil(quantile(level))`` would have covered ``actual``.

        Over past forecasts these levels are the probability integral transform of the actuals:
        uniform when the forecast is calibrated; :func:`calibrated_level` corrects it when not.
        """
        idx = int(np.searchsorted(self._values, actual - 1.0, side="right"))
        return float(self.levels[idx]) if idx < len(self.levels) else 1.0

    @property
    def grid_mean(self) -> float:
        """The mean of the quantile function (equals ``mean`` when the forecast is unbiased in shape)."""
        return float(np.mean(self._values))


class _KnotLaw(DemandDistribution):
    """A law of :meth:`DemandDistribution.from_quantile_rows` kept as its knots (non-negative, non-decreasing
    values at ``levels``): its grid is built on first use, and a quantile is worked out from the two grid
    points around its level with the grid's arithmetic and ``numpy.interp``'s, the same number to the bit.
    ``shape`` is :func:`_knot_shape` of the levels, shared by every law of one plan."""

    def __init__(self, mean: float, levels: tuple[float, ...], knots: tuple[float, ...], shape: _KnotShape) -> None:
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "kind", "interpolate")
        object.__setattr__(self, "_knots", (levels, knots))
        object.__setattr__(self, "_shape", shape)
        self.__dict__["_asked"] = {}  # the cached property's slot, filled: a plain dict lookup from the start

    @functools.cached_property
    def grid(self) -> np.ndarray:  # type: ignore[override]
        levels, knots = self._knots
        return _interpolated_grids(levels, np.array([knots]))[0]

    def _point(self, i: int) -> float:
        """The grid's value at index ``i`` (:func:`_grid_points` in plain floats)."""
        levels, qv = self._knots
        below, above, starts, ks, z0, z1, z_2, z_1 = self._shape
        if i < below:
            lo_slope = (qv[1] - qv[0]) / (z1 - z0)
            return max(qv[0] + lo_slope * (_ZU_LIST[i] - z0), 0.0)
        if i >= above:
            hi_slope = (qv[-1] - qv[-2]) / (z_1 - z_2)
            return qv[-1] + hi_slope * (_ZU_LIST[i] - z_1)
        k = ks[bisect.bisect_right(starts, i) - 1]
        slope = (qv[k + 1] - qv[k]) / (levels[k + 1] - levels[k])
        return slope * (_U_LEVELS[i] - levels[k]) + qv[k]

    def quantile(self, level: float) -> float:
        """Return the demand not exceeded with probability ``level`` (``np.interp`` on the grid, without it)."""
        asked = self._asked
        if level not in asked:
            if "grid" in self.__dict__:  # built already: the grid's own answer
                return super().quantile(level)
            x, u, last = float(level), _U_LEVELS, len(_U_LEVELS) - 1
            j = bisect.bisect_right(u, x) - 1  # u[j] <= x < u[j + 1], as numpy.interp's search
            if j < 0:
                value = self._point(0)
            elif j >= last:
                value = self._point(last)
            elif u[j] == x:
                value = self._point(j)
            else:
                left = self._point(j)
                value = (self._point(j + 1) - left) / (u[j + 1] - u[j]) * (x - u[j]) + left
            asked[level] = value
        return asked[level]


_ZU_LIST = tuple(_ZU.tolist())


@functools.lru_cache(maxsize=64)
def _normal_scores(levels: tuple[float, ...]) -> np.ndarray:
    """The standard normal quantiles of ``levels`` (the same few level sets come back again and again)."""
    out = stats.norm.ppf(np.asarray(levels))
    out.flags.writeable = False
    return out


def _is_level(text: str) -> bool:
    try:
        return 0 < float(text) < 1
    except ValueError:
        return False


def _sd_from(lv: np.ndarray, qv: np.ndarray, mean: float) -> float:
    if len(lv) >= 2 and lv[-1] > lv[0]:
        sd = (qv[-1] - qv[0]) / (stats.norm.ppf(lv[-1]) - stats.norm.ppf(lv[0]))
        if sd > 0:
            return float(sd)
    return float(math.sqrt(max(mean, 1.0)))  # Poisson-like spread when only one quantile is known


def calibrated_level(required_levels: Sequence[float], target: float) -> float:
    """Return the level to ask the demand distribution for so that past demand was covered a ``target`` share of times.

    ``required_levels`` are :meth:`DemandDistribution.required_level` of past actuals under the
    forecasts made before them (backtest windows). With a calibrated forecast the answer is
    ``target`` itself; with intervals that were too narrow it is higher. Fewer than 50 past
    decisions: ``target`` unchanged.
    """
    r = np.asarray([x for x in required_levels if math.isfinite(x)], dtype=float)
    if len(r) < 50:
        return float(target)
    return float(min(np.quantile(r, target, method="inverted_cdf"), 0.999))


# --- costs ------------------------------------------------------------------------------------


def critical_ratio(
    price: float, unit_cost: float, salvage: float = 0.0, *, sold_out_penalty: float = 0.0, holding_cost: float = 0.0
) -> float:
    """Return the critical ratio ``Cu / (Cu + Co)`` of the newsvendor.

    ``Cu = price − unit_cost + sold_out_penalty``, ``Co = unit_cost − salvage + holding_cost``.

    A ¥40 box costing ¥25 with leftovers resold at ¥20: 15 / (15 + 5) = 0.75; salvage ¥5: 15 / 35 = 0.43.
    """
    cu = price - unit_cost + sold_out_penalty
    co = unit_cost - salvage + holding_cost
    if cu <= 0:
        return 0.0
    if co <= 0:
        return 1.0
    return cu / (cu + co)


@dataclass(frozen=True)
class Salvage:
    """What a unit left over is worth (yuan) after ``weeks`` in store, and why."""

    value: float
    weeks: float
    reason: str


def salvage_value(
    unit_cost: float,
    shelf_life_days: float | None,
    category: str | None = None,
    *,
    days_to_next_sale: float = 7.0,
    cold_store_per_week: float = 0.01,
    weekly_shrink: float = 0.02,
    clearance_share: float = 0.3,
) -> Salvage:
    """Return the value of a leftover unit kept until the next sale, by shelf life.

    - fresh fruit keeping under 45 days (Huaniu turns mealy): sold off at ``clearance_share`` of cost;
    - fruit that keeps longer (Red Fuji in cold store): cost less cold-store holding
      (``cold_store_per_week`` of cost) and shrink (``weekly_shrink`` lost per week);
    - anything whose shelf life is shorter than the wait: clearance;
    - the rest (tea, grain, dried meat, wigs) keeps: cost less 0.5% a week of capital and storage.
    Unknown shelf life: clearance (the cautious answer).
    """
    weeks = days_to_next_sale / 7.0
    if shelf_life_days is None or not math.isfinite(shelf_life_days):
        return Salvage(
            clearance_share * unit_cost,
            weeks,
            "shelf life unknown: leftovers valued at clearance / 保质期未知：剩货按清仓价计",
        )
    if shelf_life_days < days_to_next_sale or (category == "fruit" and shelf_life_days < 45):
        return Salvage(
            clearance_share * unit_cost,
            weeks,
            f"keeps {shelf_life_days:g} days (turns mealy / spoils): leftovers sold off at "
            f"{clearance_share:.0%} of cost / 保质期 {shelf_life_days:g} 天，剩货按成本的 {clearance_share:.0%} 清仓",
        )
    if category == "fruit":
        value = unit_cost * (1 - weekly_shrink) ** weeks - cold_store_per_week * unit_cost * weeks
        return Salvage(
            value,
            weeks,
            f"keeps in cold store: {cold_store_per_week:.0%} of cost a week plus {weekly_shrink:.0%} weekly shrink"
            f" / 冷库保存：每周成本 {cold_store_per_week:.0%} 加损耗 {weekly_shrink:.0%}",
        )
    value = unit_cost * (1 - 0.005 * weeks)
    return Salvage(value, weeks, "keeps until the next sale (0.5% a week) / 可保存到下次销售（每周 0.5%）")


# --- newsvendor -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockPlan:
    """Units to prepare, the critical ratio behind them, and what to expect.

    ``status``: ``ok``, ``missing_cost`` (no cost or price: the median is stocked), ``no_margin``
    (price ≤ cost: nothing to gain from stock beyond what is sure to sell).
    """

    quantity: int
    critical_ratio: float
    underage_cost: float
    overage_cost: float
    expected_sales: float
    expected_leftover: float
    expected_shortage: float
    stock_out_probability: float
    fill_rate: float
    expected_profit: float
    demand_mean: float
    demand_quantiles: tuple[tuple[float, float], ...]
    status: str
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the plan as a JSON-ready dict."""
        out = _json(self)
        out["demand_quantiles"] = {f"q{k:g}": v for k, v in self.demand_quantiles}
        return out


def _outcomes(demand: DemandDistribution, q: float) -> tuple[float, float, float, float, float]:
    short = demand.expected_shortage(q)
    left = demand.expected_leftover(q)
    mean = demand.grid_mean
    sales = mean - short
    return sales, left, short, 1.0 - demand.cdf(q), (sales / mean if mean > 0 else 1.0)


_Decision = tuple[int, str, float, float, float, tuple[str, ...]]


@functools.lru_cache(maxsize=4096)
def _stock_costs(
    price: float,
    unit_cost: float,
    salvage: float | Salvage | None,
    shelf_life_days: float | None,
    category: str | None,
    sold_out_penalty: float,
    holding_cost: float,
    days_to_next_sale: float,
) -> tuple[float, float, float, tuple[str, ...], str]:
    """The newsvendor's cost side at a known price and unit cost, the same whatever the demand (a plan's items
    of one product at one price share it): critical ratio, underage and overage cost, the reasons that come
    before the quantity (the salvage's; no margin) and the critical ratio's reason."""
    head: list[str] = []
    if salvage is None:
        salvage = salvage_value(unit_cost, shelf_life_days, category, days_to_next_sale=days_to_next_sale)
    if isinstance(salvage, Salvage):
        head.append(salvage.reason)
        salvage_yuan = salvage.value
    else:
        salvage_yuan = float(salvage)
    cu = price - unit_cost + sold_out_penalty
    co = unit_cost - salvage_yuan + holding_cost
    ratio = critical_ratio(price, unit_cost, salvage_yuan, sold_out_penalty=sold_out_penalty, holding_cost=holding_cost)
    if cu <= 0:
        head.append(
            f"price ¥{price:.2f} does not cover cost ¥{unit_cost:.2f}: no stock pays off; fix the price first"
            f" / 售价 ¥{price:.2f} 不够成本 ¥{unit_cost:.2f}：备货不赚钱，请先调价"
        )
    ratio_reason = (
        f"critical ratio {ratio:.2f} = (margin ¥{price - unit_cost:.2f} + sold-out penalty ¥{sold_out_penalty:.2f})"
        f" / (that + cost ¥{unit_cost:.2f} − salvage ¥{salvage_yuan:.2f} + holding ¥{holding_cost:.2f})"
        f" / 临界比 {ratio:.2f}：缺货损失 ¥{cu:.2f}，积压损失 ¥{co:.2f}"
    )
    return ratio, cu, co, tuple(head), ratio_reason


def _newsvendor(
    demand: DemandDistribution,
    price: float | None,
    unit_cost: float | None,
    salvage: float | Salvage | None,
    shelf_life_days: float | None,
    category: str | None,
    sold_out_penalty: float,
    holding_cost: float,
    days_to_next_sale: float,
    required_levels: Sequence[float] | None,
) -> _Decision:
    """The newsvendor's decision of :func:`recommend_stock`: units to prepare, status, critical ratio,
    underage and overage cost (NaN without a cost) and the reasons."""
    known = price is not None and unit_cost is not None and 0 < price < math.inf and 0 < unit_cost < math.inf
    if not known:
        q = math.ceil(demand.quantile(0.5) - 1e-9)
        missing = "price" if price is None or not (price and price > 0) else "unit cost"
        missing_zh = "售价" if missing == "price" else "单位成本"
        why = (
            f"{missing} missing: stocking the median demand ({q}); enter it for a costed answer"
            f" / 缺少{missing_zh}：按需求中位数备货（{q}）；录入后可按成本计算"
        )
        return q, "missing_cost", 0.5, math.nan, math.nan, (why,)
    assert price is not None and unit_cost is not None
    ratio, cu, co, head, ratio_reason = _stock_costs(  # floats: 40 and 40.0 are one key of the cache
        float(price), float(unit_cost), salvage, shelf_life_days, category,
        float(sold_out_penalty), float(holding_cost), float(days_to_next_sale),
    )  # fmt: skip
    reasons = list(head)
    status = "ok"
    if cu <= 0:
        status = "no_margin"
        q = 0
    else:
        level = ratio
        if required_levels is not None:
            level = calibrated_level(required_levels, ratio)
            reasons.append(
                f"backtest: past demand was covered {ratio:.0%} of the time at forecast level {level:.2f}"
                f" / 回测：取预测的 {level:.2f} 分位数时，过去 {ratio:.0%} 的场次需求被覆盖"
            )
        q = max(0, math.ceil(demand.quantile(level) - 1e-9))
        reasons.append(ratio_reason)
        median = f"{demand.quantile(0.5):.1f}"
        reasons.append(
            f"stock {q} = demand quantile {ratio:.2f} (median {median}, mean {demand.mean:.1f})"
            f" / 备货 {q} = 需求的 {ratio:.2f} 分位数（中位数 {median}）"
        )
    return q, status, ratio, cu, co, tuple(reasons)


def recommend_stock(
    demand: DemandDistribution,
    *,
    price: float | None,
    unit_cost: float | None,
    salvage: float | Salvage | None = None,
    shelf_life_days: float | None = None,
    category: str | None = None,
    sold_out_penalty: float = 0.0,
    holding_cost: float = 0.0,
    days_to_next_sale: float = 7.0,
    required_levels: Sequence[float] | None = None,
) -> StockPlan:
    """Return the units to prepare for a session or a period (newsvendor) as a :class:`StockPlan`.

    ``q* = F⁻¹(Cu / (Cu + Co))`` rounded up to a whole unit, with ``Cu = price − unit_cost +
    sold_out_penalty`` (the penalty stands for the ranking a sold-out room loses) and ``Co =
    unit_cost − salvage + holding_cost``. Without ``salvage`` it follows the shelf life
    (:func:`salvage_value`). A missing price or cost stocks the median and says so.
    ``required_levels`` (past actuals' :meth:`DemandDistribution.required_level` from backtest
    windows) recalibrate the level asked for so that the realised service level meets the ratio.
    """
    quantiles = tuple((lv, round(demand.quantile(lv), 2)) for lv in (0.1, 0.5, 0.9))
    q, status, ratio, cu, co, reasons = _newsvendor(
        demand, price, unit_cost, salvage, shelf_life_days, category,
        sold_out_penalty, holding_cost, days_to_next_sale, required_levels,
    )  # fmt: skip
    sales, left, short, p_out, fill = _outcomes(demand, q)
    if status == "missing_cost":
        profit = math.nan
    else:
        assert price is not None and unit_cost is not None
        profit = (price - unit_cost) * sales - co * left - sold_out_penalty * p_out
    return StockPlan(q, ratio, cu, co, sales, left, short, p_out, fill, profit, demand.mean, quantiles, status, reasons)


def stock_quantity(
    demand: DemandDistribution,
    *,
    price: float | None,
    unit_cost: float | None,
    salvage: float | Salvage | None = None,
    shelf_life_days: float | None = None,
    category: str | None = None,
    sold_out_penalty: float = 0.0,
    holding_cost: float = 0.0,
    days_to_next_sale: float = 7.0,
    required_levels: Sequence[float] | None = None,
) -> tuple[int, tuple[str, ...]]:
    """Return the units to prepare and their reasons, equal to ``quantity`` and ``reasons`` of
    :func:`recommend_stock` with the same arguments, without its expected outcomes (sales, leftover,
    fill rate, profit: four passes over the demand law that a plan's items do not show)."""
    q, *_, reasons = _newsvendor(
        demand, price, unit_cost, salvage, shelf_life_days, category,
        sold_out_penalty, holding_cost, days_to_next_sale, required_levels,
    )  # fmt: skip
    return q, reasons


# --- presale ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackingPlan:
    """Presale: how many boxes to be ready to pick and pack, and at what daily rate.

    ``capacity`` boxes in total (orders taken plus the critical-ratio quantile of the orders still
    to come), ``per_day`` over the ``ship_days`` promised, ``stop_selling_at`` (close the presale
    when orders reach the capacity), and the chance that orders exceed it.
    """

    capacity: int
    per_day: int
    ship_days: int
    orders_taken: int
    expected_orders: float
    stop_selling_at: int
    overflow_probability: float
    critical_ratio: float
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the plan as a JSON-ready dict."""
        return _json(self)


def presale_plan(
    remaining_demand: DemandDistribution,
    *,
    orders_taken: int = 0,
    ship_days: int = 7,
    capacity_cost: float,
    late_cost: float,
) -> PackingPlan:
    """Return the packing capacity for a presale (sell first, harvest and ship after).

    Nothing is picked before it is sold, so there is no leftover fruit: the decision is the
    capacity (pickers, boxes, cold-chain slots). One unit of capacity costs ``capacity_cost``
    whether used or not; an order beyond capacity costs ``late_cost`` (late shipment, refund
    risk, rating). Capacity = orders taken + the ``late / (late + capacity)`` quantile of the
    orders still to come; ``per_day`` spreads it over ``ship_days``.
    """
    if ship_days < 1:
        raise ValueError(f"ship_days must be at least 1, not {ship_days}")
    ratio = critical_ratio(capacity_cost + late_cost, capacity_cost, 0.0)
    extra = max(0, math.ceil(remaining_demand.quantile(ratio) - 1e-9))
    capacity = orders_taken + extra
    per_day = math.ceil(capacity / ship_days)
    overflow = 1.0 - remaining_demand.cdf(extra)
    return PackingPlan(
        capacity=capacity,
        per_day=per_day,
        ship_days=ship_days,
        orders_taken=orders_taken,
        expected_orders=orders_taken + remaining_demand.mean,
        stop_selling_at=capacity,
        overflow_probability=overflow,
        critical_ratio=ratio,
        reasons=(
            f"presale: pack for {orders_taken} orders taken + {extra} more"
            f" (quantile {ratio:.2f} of the orders to come);"
            f" {per_day} boxes a day over {ship_days} days; close the presale at {capacity}"
            f" / 预售：已售 {orders_taken} 单 + 预计再售 {extra} 单；{ship_days} 天内每天打包 {per_day} 箱；"
            f"订单达到 {capacity} 单时停止预售",
        ),
    )


# --- replenishment ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplenishmentPlan:
    """A replenishment policy and what it delivers per cycle.

    ``policy``: ``base_stock`` (every review, order up to ``order_up_to``; ``reorder_point`` equals
    it) or ``s_S`` (order up to ``order_up_to`` when the stock position falls to ``reorder_point``
    or below). ``safety_stock`` = reorder point − mean demand over lead time + review period.
    ``fill_rate`` is the expected share of demand shipped from stock, ``stock_out_probability`` the
    chance of running out in a cycle, ``expected_leftover`` the stock left when the next order lands.
    """

    policy: str
    reorder_point: int
    order_up_to: int
    order_quantity: float
    safety_stock: float
    service_level: float
    fill_rate: float
    stock_out_probability: float
    expected_leftover: float
    protection_mean: float
    lead_time: float
    review_period: float
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the plan as a JSON-ready dict."""
        return _json(self)


def replenishment(
    protection_demand: DemandDistribution,
    *,
    period_demand: float,
    lead_time: float,
    review_period: float = 1.0,
    service_level: float | None = None,
    holding_cost: float | None = None,
    stockout_cost: float | None = None,
    fixed_order_cost: float = 0.0,
) -> ReplenishmentPlan:
    """Return the reorder point and order-up-to level for lead time ``L`` plus review period ``R``.

    ``protection_demand`` is the demand over ``L + R`` periods (from ``forecast_total(h=L+R)``: its
    quantiles come from backtested cumulative errors, so the safety stock does too);
    ``period_demand`` the mean demand per period. The service level is ``service_level``, or the
    critical ratio ``stockout_cost / (stockout_cost + holding_cost)``. Without a fixed order cost:
    base stock, order up to ``S = F⁻¹_{L+R}(α)`` every review. With ``fixed_order_cost = K`` and a
    holding cost ``h`` per unit and period: (s, S) with ``s = F⁻¹_{L+R}(α)`` and ``S = s + Q``,
    ``Q = √(2·K·period_demand / h)`` (EOQ plus safety stock).
    """
    if service_level is None:
        if holding_cost is None or stockout_cost is None or holding_cost <= 0 or stockout_cost <= 0:
            raise ValueError("give service_level, or both holding_cost and stockout_cost (positive)")
        service_level = stockout_cost / (stockout_cost + holding_cost)
    if not 0 < service_level < 1:
        raise ValueError(f"service_level must be between 0 and 1, not {service_level}")
    s = max(0, math.ceil(protection_demand.quantile(service_level) - 1e-9))
    mean = protection_demand.mean
    short = protection_demand.expected_shortage(s)
    reasons = [
        f"demand over lead time {lead_time:g} + review {review_period:g} periods: mean {mean:.1f}, "
        f"quantile {service_level:.2f} = {s} / 提前期加盘点周期内需求均值 {mean:.1f}，{service_level:.2f} 分位数 {s}"
    ]
    if fixed_order_cost > 0:
        if holding_cost is None or holding_cost <= 0:
            raise ValueError("an (s, S) policy needs holding_cost (per unit and period) with fixed_order_cost")
        q = math.sqrt(2 * fixed_order_cost * period_demand / holding_cost)
        big_s = s + math.ceil(q)
        fill = 1.0 - short / q if q > 0 else 1.0
        policy = "s_S"
        reasons.append(
            f"fixed cost ¥{fixed_order_cost:.2f} per order: order {math.ceil(q)} (EOQ) when stock falls to {s}"
            f" / 每次订货固定成本 ¥{fixed_order_cost:.2f}：库存降到 {s} 时订 {math.ceil(q)} 件"
        )
    else:
        q = period_demand * review_period
        big_s = s
        fill = 1.0 - short / q if q > 0 else 1.0
        policy = "base_stock"
        reasons.append(f"every {review_period:g} periods order up to {s} / 每 {review_period:g} 期补货到 {s}")
    return ReplenishmentPlan(
        policy=policy,
        reorder_point=s,
        order_up_to=big_s,
        order_quantity=q,
        safety_stock=s - mean,
        service_level=service_level,
        fill_rate=max(0.0, min(1.0, fill)),
        stock_out_probability=1.0 - protection_demand.cdf(s),
        expected_leftover=protection_demand.expected_leftover(s),
        protection_mean=mean,
        lead_time=lead_time,
        review_period=review_period,
        reasons=tuple(reasons),
    )


def quantile_levels(extra: Sequence[float] = ()) -> tuple[float, ...]:
    """Return the quantile levels to ask the forecast for: 0.05…0.95 by 0.05, plus ``extra`` (e.g. the ratio)."""
    base = {round(x, 4) for x in np.arange(0.05, 0.951, 0.05)}
    base |= {round(float(x), 4) for x in extra if 0 < x < 1}
    return tuple(sorted(base))
