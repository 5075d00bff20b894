"""The world model: hosts, sessions, explain windows, demand and order lines, all vectorised.

Demand of one product in one live session (the quantity the ground truth is about)::

    expected_units = base_units[p]
                     * exp(slot_weekday[slot, weekday] + platform[pl] + skill[h]
                           + follower_elasticity * log(followers_before / followers_initial[h])
                           + festival[day, p])
                     * (price / list_price[p]) ** elasticity[p]
                     * explain_minutes / 20

Realised demand: a session-level over-dispersion factor exp(N(-sd²/2, sd)) times the expectation gives
the order rate; orders ~ Poisson(rate / E[quantity]), each with quantity 1/2/3. Orders are cut
when cumulative units exceed the stock prepared for the session (censored demand).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from livecommerce.simulate import _catalog as cat
from livecommerce.simulate._calendar import WEEKDAY_LOG_EFFECT, Event, event_lift_matrix, events_between

__all__ = ["SCALES", "ScaleSpec", "World", "build_world"]

LIVE_PLATFORMS = ("taobao", "douyin", "kuaishou")
ALL_PLATFORMS = ("taobao", "douyin", "kuaishou", "pinduoduo")
SLOTS = ("morning", "afternoon", "prime", "late")
SLOT_LOG_EFFECT = (-0.40, -0.55, 0.0, -0.20)
#: scheduled start window (local minutes after midnight, on a 30-minute grid) and duration range (minutes)
SLOT_START = ((8 * 60, 10 * 60 + 30), (14 * 60, 15 * 60 + 30), (19 * 60, 20 * 60 + 30), (22 * 60, 23 * 60))
SLOT_DURATION = ((90, 180), (90, 180), (150, 240), (120, 180))
WEEKEND_AFTERNOON_BONUS = 0.20
PLATFORM_LOG_EFFECT = {"taobao": 0.0, "douyin": 0.10, "kuaishou": -0.10}
FOLLOWER_ELASTICITY = 0.30
NOISE_SD = 0.15
EXPOSURE_UNIT_MIN = 20.0
QTY_VALUES = np.array([1, 2, 3])
QTY_PROBS = np.array([0.70, 0.22, 0.08])
QTY_MEAN = float((QTY_VALUES * QTY_PROBS).sum())
IN_WINDOW_SHARE = 0.85
PRICE_TEST_SHARE = 0.7
PRICE_TEST_MULTIPLIERS = (0.75, 0.85, 1.15, 1.3)
FESTIVAL_DISCOUNT_SHARE = 0.6
FESTIVAL_DISCOUNT = 0.88
LIVE_COUPON_SHARE = 0.2
LIVE_COUPON = 0.95
STOCK_LOG_MEAN, STOCK_LOG_SD = 0.5, 0.25
SHELF_PLATFORM_FACTOR = {"taobao": 1.0, "douyin": 0.8, "kuaishou": 0.5, "pinduoduo": 3.0}
SHELF_DISCOUNT = 0.9
AFFILIATE_PRICE = 0.9
REFUND_BASE = {"fruit": 0.05, "tea": 0.015, "wig": 0.07, "grain": 0.015, "meat": 0.025}
REFUND_FRUIT_FAR = 0.04  # extra for fruit shipped more than FAR_KM
REFUND_FRUIT_HEAT = 0.05  # extra for fruit shipped in June..September
FAR_KM = 1500.0
NEVER_PAID_SHARE = 0.03
CANCEL_AFTER_PAY_SHARE = 0.02
PARTIAL_REFUND_SHARE = 0.3  # of refunds on douyin and kuaishou (taobao and pinduoduo refund in full)
COUPON_SHARE = 0.08
ROOM_TURNOVER_S = 30 * 60  # a shop's live room between two hosts' sessions
JOIN_SHARE = 0.12  # a live order line joins the previous order of the same session (2-line orders)
LOCAL_OFFSET_S = 8 * 3600  # Asia/Shanghai, no DST since 1991


@dataclass(frozen=True)
class ScaleSpec:
    """Size of a world: period, number of hosts and how often they stream."""

    name: str
    start: date
    days: int
    hosts_per_county: int
    sessions_per_week: tuple[float, float]
    logged_share: float  # share of sessions with a minute log (our own tooling)
    affiliates: int
    shelf_mult: float
    affiliate_units: float  # expected affiliate units per product and day
    counties: tuple[str, ...] | None = None  # None: all


SCALES: dict[str, ScaleSpec] = {
    "small": ScaleSpec("small", date(2024, 9, 1), 107, 1, (0.9, 1.6), 0.12, 3, 0.25, 2.0),
    "medium": ScaleSpec("medium", date(2023, 1, 1), 731, 4, (2.5, 4.5), 0.3, 12, 6.0, 12.0),
    "large": ScaleSpec("large", date(2023, 1, 1), 731, 40, (2.5, 4.5), 0.1, 60, 60.0, 120.0),
}


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


def _seg_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each True in ``starts`` (values sorted by segment)."""
    c = np.cumsum(values)
    idx = np.flatnonzero(starts)
    base = np.zeros_like(c)
    base[idx] = c[idx] - values[idx]
    return c - _ffill(base, starts)


def _ffill(base: np.ndarray, starts: np.ndarray) -> np.ndarray:
    pos = np.where(starts, np.arange(len(starts)), 0)
    pos = np.maximum.accumulate(pos)
    return base[pos]


def _cumcount(keys: np.ndarray) -> np.ndarray:
    """0-based position within runs of equal ``keys`` (keys sorted)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[True, keys[1:] != keys[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    return np.arange(n) - first


def _haversine_km(lon1: float, lat1: float, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    p1, p2 = math.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def _in_season(month: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    return np.where(start <= end, (month >= start) & (month <= end), (month >= start) | (month <= end))


def _round_price(fen: np.ndarray) -> np.ndarray:
    """Price endings sellers use: whole yuan minus 10 fen (49.90, 79.90)."""
    return np.maximum(np.round(fen / 100.0).astype(np.int64) * 100 - 10, 90)


@dataclass
class World:
    """A generated world: dimensions, sessions, explain windows, session-product truth and order lines.

    Frames are dicts of numpy arrays (columns); ``products``/``counties`` are the catalog entries.
    """

    seed: int
    spec: ScaleSpec
    start: date
    days: int
    snapshot_s: int  # epoch seconds (UTC) of the export snapshot = end of the last day, local time
    counties: list[cat.County]
    products: list[cat.Product]
    events: list[Event]
    event_lift: np.ndarray  # [day, product] log lift
    discount_day: np.ndarray
    hosts: dict[str, np.ndarray]
    sessions: dict[str, np.ndarray]
    windows: dict[str, np.ndarray]
    sp: dict[str, np.ndarray]  # session x product truth
    lines: dict[str, np.ndarray]
    orders: dict[str, np.ndarray]
    product_platform_ids: dict[tuple[str, str], str]
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def end(self) -> date:
        """Return the first day after the world (exclusive end)."""
        return self.start + timedelta(days=self.days)

    def slot_weekday_matrix(self) -> np.ndarray:
        """Return the [slot, weekday] log effect on demand (slot + weekday + interaction)."""
        m = np.add.outer(np.array(SLOT_LOG_EFFECT), np.array(WEEKDAY_LOG_EFFECT))
        m[1, 5:] += WEEKEND_AFTERNOON_BONUS
        return m


def _day_epoch(start: date, day: np.ndarray) -> np.ndarray:
    """Epoch seconds (UTC) of local midnight of ``start + day``."""
    base = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()) - LOCAL_OFFSET_S
    return base + day.astype(np.int64) * 86400


def build_world(seed: int, spec: ScaleSpec, start: date | None = None, days: int | None = None) -> World:
    """Return the simulated :class:`World` for ``seed`` and ``spec`` (dates overridable)."""
    start = start or spec.start
    days = int(days or spec.days)
    counties = [c for c in cat.COUNTIES if spec.counties is None or c.county_id in spec.counties]
    cids = [c.county_id for c in counties]
    products = [p for p in cat.PRODUCTS if p.county_id in cids]
    len(products)
    events = events_between(start, start + timedelta(days=days))
    lift, discount_day = event_lift_matrix(
        events, start, days, [p.product_id for p in products], [p.category for p in products]
    )
    snapshot_s = int(_day_epoch(start, np.array([days]))[0])
    world = World(
        seed,
        spec,
        start,
        days,
        snapshot_s,
        counties,
        products,
        events,
        lift,
        discount_day,
        {},
        {},
        {},
        {},
        {},
        {},
        {},
    )
    _hosts(world)
    _sessions(world)
    _windows_and_demand(world)
    lines = [_live_lines(world), _shelf_lines(world), _affiliate_lines(world)]
    world.lines = {k: np.concatenate([ln[k] for ln in lines]) for k in lines[0]}
    _orders(world)
    _platform_product_ids(world)
    return world


# --- hosts -----------------------------------------------------------------------------------


def _hosts(w: World) -> None:
    rng = _rng(w.seed, 1)
    spec = w.spec
    n_c = len(w.counties)
    n = spec.hosts_per_county * n_c
    county = np.repeat(np.arange(n_c), spec.hosts_per_county)
    idx = np.arange(n)
    platform = (idx + county) % len(LIVE_PLATFORMS)
    kind = rng.choice(np.array(["farmer", "official", "shop"]), size=n, p=[0.6, 0.15, 0.25])
    kind[:: max(spec.hosts_per_county, 1)] = "shop"  # every county has a shop account
    skill = np.round(rng.normal(0.0, 0.25, n), 3)
    followers0 = np.round(np.exp(rng.normal(math.log(20000), 0.8, n))).astype(np.int64)
    growth = np.round(rng.uniform(0.004, 0.015, n), 4)
    preferred = rng.choice(len(SLOTS), size=n, p=[0.15, 0.10, 0.60, 0.15])
    spw = np.round(rng.uniform(*spec.sessions_per_week, n), 2)
    sur = rng.integers(0, len(cat.SURNAMES), n)
    giv = rng.integers(0, len(cat.GIVEN), (n, 2))
    nick = rng.integers(0, len(cat.NICK), n)
    names = []
    for i in range(n):
        person = cat.SURNAMES[sur[i]] + cat.GIVEN[giv[i, 0]] + cat.GIVEN[giv[i, 1]]
        c = w.counties[county[i]]
        if kind[i] == "shop":
            names.append(f"{c.name_zh.rstrip('县区')}{cat.NICK[nick[i]]}官方号{i + 1}")
        elif kind[i] == "official":
            names.append(f"{c.name_zh}{person}书记带货")
        else:
            names.append(f"{person}的{cat.NICK[nick[i]]}")
    # affiliates (达人) on Douyin: they sell our products in their own rooms
    na = spec.affiliates
    a_names = [
        f"达人{cat.SURNAMES[j % len(cat.SURNAMES)]}{cat.GIVEN[(j * 7) % len(cat.GIVEN)]}好物{j + 1}"
        for j in rng.integers(0, 10_000, na)
    ]
    host_ids = [f"H{i + 1:04d}" for i in range(n)] + [f"A{j + 1:04d}" for j in range(na)]
    plat_host = rng.integers(10**11, 10**12 - 1, n + na)
    plat_idx = np.r_[platform, np.full(na, 1)]
    prefix = np.array(["tb", "dy", "ks"])[plat_idx]
    w.hosts = {
        "host_id": np.array(host_ids),
        "name": np.array(names + a_names),
        "kind": np.r_[kind, np.full(na, "affiliate")],
        "county": np.r_[county, np.full(na, -1)],
        "platform": plat_idx,
        "platform_host_id": np.array(
            [f"{p}{x}" if p != "dy" else str(x) for p, x in zip(prefix, plat_host, strict=False)]
        ),
        "skill": np.r_[skill, np.zeros(na)],
        "followers0": np.r_[followers0, np.zeros(na, dtype=np.int64)],
        "growth": np.r_[growth, np.zeros(na)],
        "preferred_slot": np.r_[preferred, np.full(na, -1)],
        "sessions_per_week": np.r_[spw, np.zeros(na)],
        "n_own": np.array(n),
    }
    # a floor manager (场控) per county
    w.extra["controllers"] = [
        cat.SURNAMES[(k * 5 + 3) % len(cat.SURNAMES)] + cat.GIVEN[(k * 11 + 2) % len(cat.GIVEN)] + "场控"
        for k in range(n_c)
    ]


# --- sessions --------------------------------------------------------------------------------


def _sessions(w: World) -> None:
    rng = _rng(w.seed, 2)
    h = w.hosts
    n = int(h["n_own"])
    day_dates = [w.start + timedelta(days=d) for d in range(w.days)]
    weekday = np.array([d.weekday() for d in day_dates])
    month = np.array([d.month for d in day_dates])
    on = rng.random((n, w.days)) < (h["sessions_per_week"][:n, None] / 7.0)
    host, day = np.nonzero(on)  # sorted by host, then day
    m = len(host)
    slot = np.where(rng.random(m) < 0.75, h["preferred_slot"][host], rng.integers(0, len(SLOTS), m))
    lo = np.array([s[0] for s in SLOT_START])[slot]
    hi = np.array([s[1] for s in SLOT_START])[slot]
    sched_start = lo + 30 * rng.integers(0, (hi - lo) // 30 + 1)
    dlo = np.array([s[0] for s in SLOT_DURATION])[slot]
    dhi = np.array([s[1] for s in SLOT_DURATION])[slot]
    sched_dur = dlo + 30 * rng.integers(0, (dhi - dlo) // 30 + 1)
    start_min = sched_start + rng.integers(-3, 9, m)
    end_min = sched_start + sched_dur + rng.integers(-5, 11, m)
    day0 = _day_epoch(w.start, day)
    start_s = day0 + start_min * 60 + rng.integers(0, 60, m)
    end_s = day0 + end_min * 60 + rng.integers(0, 60, m)
    # products available: county products in season
    county = h["county"][host]
    prods = np.array([[j for j, p in enumerate(w.products) if p.county_id == c.county_id] for c in w.counties])
    cand = prods[county]  # [m, K]
    s_start = np.array([p.season_start_month for p in w.products])
    s_end = np.array([p.season_end_month for p in w.products])
    season = _in_season(month[day][:, None], s_start[cand], s_end[cand])
    keep = season & (rng.random(cand.shape) > 0.2)
    keep = np.where(keep.any(1, keepdims=True), keep, season)
    ok = keep.any(1) & (end_s <= w.snapshot_s)
    sched_start_s = day0 + sched_start * 60
    sched_end_s = sched_start_s + sched_dur * 60
    ok &= _one_shop_room(
        county, h["platform"][host], np.minimum(start_s, sched_start_s), np.maximum(end_s, sched_end_s), ok
    )
    keys = np.where(keep, rng.random(cand.shape), np.inf)
    order = np.argsort(keys, axis=1)
    rotation = np.take_along_axis(cand, order, 1)
    n_avail = keep.sum(1)
    sel = np.flatnonzero(ok)
    # followers: deterministic growth by the host's session index
    host_s = host[sel]
    k = _cumcount(host_s)
    f0 = h["followers0"][host_s].astype(float)
    followers = f0 * (1.0 + h["growth"][host_s]) ** k
    wd = weekday[day[sel]]
    sw = w.slot_weekday_matrix()
    plat = h["platform"][host_s]
    plat_eff = np.array([PLATFORM_LOG_EFFECT[p] for p in LIVE_PLATFORMS])[plat]
    session_log_effect = (
        sw[slot[sel], wd] + plat_eff + h["skill"][host_s] + FOLLOWER_ELASTICITY * np.log(followers / f0)
    )
    ids = np.array([f"{LIVE_PLATFORMS[p][:2].upper()}{w.start:%y}{i + 1:07d}" for i, p in enumerate(plat)])
    w.sessions = {
        "session_id": ids,
        "host": host_s,
        "platform": plat,
        "day": day[sel],
        "weekday": wd,
        "slot": slot[sel],
        "sched_start_min": sched_start[sel],
        "sched_end_min": (sched_start + sched_dur)[sel],
        "start_s": start_s[sel],
        "end_s": end_s[sel],
        "followers": np.round(followers).astype(np.int64),
        "log_effect": session_log_effect,
        "rotation": rotation[sel],
        "n_avail": n_avail[sel],
        "logged": rng.random(len(sel)) < w.spec.logged_share,
    }


def _one_shop_room(
    county: np.ndarray, platform: np.ndarray, start_s: np.ndarray, end_s: np.ndarray, held: np.ndarray
) -> np.ndarray:
    """Return which sessions can be held: a county's Taobao shop has one live room, so a Taobao
    session starting less than ``ROOM_TURNOVER_S`` after the room's previous session (scheduled or
    actual end, whichever is later) is not held. (Douyin and Kuaishou hosts stream from their
    own accounts, and those exports name the host.)"""
    free = np.ones(len(start_s), dtype=bool)
    taobao = np.flatnonzero(held & (platform == LIVE_PLATFORMS.index("taobao")))
    busy_until: dict[int, int] = {}
    for i in taobao[np.lexsort((start_s[taobao], county[taobao]))]:
        c = int(county[i])
        if start_s[i] < busy_until.get(c, -(2**62)) + ROOM_TURNOVER_S:
            free[i] = False
        else:
            busy_until[c] = int(end_s[i])
    return free


# --- explain windows, session-product demand ------------------------------------------------


def _windows_and_demand(w: World) -> None:
    rng = _rng(w.seed, 3)
    s = w.sessions
    S = len(s["session_id"])
    dur = (s["end_s"] - s["start_s"]) // 60  # whole minutes
    wmax = np.maximum(dur // 10, 1)
    ws = np.repeat(np.arange(S), wmax)
    j = _cumcount(ws)
    length = rng.integers(8, 23, len(ws))
    gap = rng.integers(2, 9, len(ws))
    warm = rng.integers(3, 11, S)
    first = j == 0
    step = np.where(first, warm[ws], 0) + np.r_[0, (length + gap)[:-1]] * (~first)
    start_min = _seg_cumsum(step, first)
    keep = start_min + length <= dur[ws] - 3
    ws, j, length, start_min = ws[keep], j[keep], length[keep], start_min[keep]
    prod = s["rotation"][ws, j % s["n_avail"][ws]]
    w.windows = {"session": ws, "product": prod, "start_min": start_min, "length": length}
    # session x product
    P = len(w.products)
    key = ws * P + prod
    uk, inv = np.unique(key, return_inverse=True)
    exposure = np.bincount(inv, weights=length).astype(np.int64)
    sp_s, sp_p = uk // P, uk % P
    n = len(uk)
    lst = np.array([p.list_price_fen for p in w.products])[sp_p]
    test = rng.random(n) < PRICE_TEST_SHARE
    mult = np.where(test, np.array(PRICE_TEST_MULTIPLIERS)[rng.integers(0, len(PRICE_TEST_MULTIPLIERS), n)], 1.0)
    day = s["day"][sp_s]
    fest_disc = w.discount_day[day] & (rng.random(n) < FESTIVAL_DISCOUNT_SHARE)
    coupon = rng.random(n) < LIVE_COUPON_SHARE
    mult = mult * np.where(fest_disc, FESTIVAL_DISCOUNT, 1.0) * np.where(coupon, LIVE_COUPON, 1.0)
    price = _round_price(lst * mult)
    e = np.array([p.elasticity for p in w.products])[sp_p]
    base = np.array([p.base_units for p in w.products])[sp_p]
    log_eff = s["log_effect"][sp_s] + w.event_lift[day, sp_p]
    expected = base * np.exp(log_eff) * (price / lst) ** e * exposure / EXPOSURE_UNIT_MIN
    od = np.exp(rng.normal(-(NOISE_SD**2) / 2, NOISE_SD, n))
    stock = np.ceil(expected * np.exp(rng.normal(STOCK_LOG_MEAN, STOCK_LOG_SD, n))).astype(np.int64)
    w.sp = {
        "session": sp_s,
        "product": sp_p,
        "explain_minutes": exposure,
        "price_fen": price,
        "list_price_fen": lst,
        "price_test": test,
        "festival_discount": fest_disc,
        "live_coupon": coupon,
        "log_effect": log_eff,
        "expected_units": expected,
        "rate": expected * od,
        "stock_units": stock,
    }
    # window -> sp index
    w.windows["sp"] = inv


# --- order lines -----------------------------------------------------------------------------


def _quantities(rng: np.random.Generator, n: int) -> np.ndarray:
    return QTY_VALUES[np.searchsorted(np.cumsum(QTY_PROBS), rng.random(n), side="right").clip(0, 2)]


def _live_lines(w: World) -> dict[str, np.ndarray]:
    rng = _rng(w.seed, 4)
    sp, s, win = w.sp, w.sessions, w.windows
    n_sp = len(sp["session"])
    n_orders = rng.poisson(sp["rate"] / QTY_MEAN)
    o_sp = np.repeat(np.arange(n_sp), n_orders)
    L = len(o_sp)
    qty = _quantities(rng, L)
    # time: inside one of the product's explain windows (weighted by length), else anywhere in the session
    order = np.argsort(win["sp"], kind="stable")
    wlen = win["length"][order].astype(float)
    wstart = win["start_min"][order]
    cum_end = np.cumsum(wlen)
    sp_first = np.searchsorted(win["sp"][order], np.arange(n_sp))
    sp_off = cum_end[sp_first] - wlen[sp_first]
    pos = sp_off[o_sp] + rng.random(L) * sp["explain_minutes"][o_sp]
    wi = np.searchsorted(cum_end, pos, side="right").clip(0, len(cum_end) - 1)
    minute_in = wstart[wi] + (pos - (cum_end[wi] - wlen[wi]))
    sess = sp["session"][o_sp]
    dur_min = (s["end_s"][sess] - s["start_s"][sess]) / 60.0
    anywhere = rng.random(L) * dur_min
    minute = np.where(rng.random(L) < IN_WINDOW_SHARE, minute_in, anywhere)
    t = s["start_s"][sess] + np.floor(minute * 60).astype(np.int64)
    t = np.minimum(t, s["end_s"][sess] - 1)
    # stock cut: in time order within session-product
    o = np.lexsort((t, o_sp))
    o_sp, qty, t = o_sp[o], qty[o], t[o]
    first = np.r_[True, o_sp[1:] != o_sp[:-1]] if L else np.zeros(0, bool)
    cumq = _seg_cumsum(qty, first)
    kept = cumq <= w.sp["stock_units"][o_sp]
    sp["demand_units"] = np.bincount(o_sp, weights=qty, minlength=n_sp).astype(np.int64)
    sp["sold_units"] = np.bincount(o_sp[kept], weights=qty[kept], minlength=n_sp).astype(np.int64)
    sp["orders"] = np.bincount(o_sp[kept], minlength=n_sp)
    sp["censored"] = sp["demand_units"] > sp["sold_units"]
    last = np.full(n_sp, -1, dtype=np.int64)
    np.maximum.at(last, o_sp[kept], t[kept])
    sp["sold_out_s"] = np.where(sp["censored"], last, -1)
    o_sp, qty, t = o_sp[kept], qty[kept], t[kept]
    sess = sp["session"][o_sp]
    return {
        "source": np.zeros(len(t), np.int8),
        "platform": s["platform"][sess].astype(np.int8),
        "session": sess,
        "sp": o_sp,
        "product": sp["product"][o_sp],
        "host": s["host"][sess],
        "created_s": t,
        "quantity": qty,
        "unit_price_fen": sp["price_fen"][o_sp],
    }


#: relative order intensity by local hour for off-live (shelf) orders
HOUR_WEIGHTS = np.array(
    [2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4, 4.5, 5, 4.5, 4, 4, 4, 4.5, 5, 6, 7, 7.5, 6, 4], dtype=float
)


def _shelf_lines(w: World) -> dict[str, np.ndarray]:
    rng = _rng(w.seed, 5)
    len(w.products)
    day_dates = [w.start + timedelta(days=d) for d in range(w.days)]
    wd = np.array([d.weekday() for d in day_dates])
    month = np.array([d.month for d in day_dates])
    s_start = np.array([p.season_start_month for p in w.products])
    s_end = np.array([p.season_end_month for p in w.products])
    season = _in_season(month[:, None], s_start[None, :], s_end[None, :])  # [day, P]
    e = np.array([p.elasticity for p in w.products])
    lst = np.array([p.list_price_fen for p in w.products])
    price = np.where(w.discount_day[:, None], _round_price(lst * SHELF_DISCOUNT)[None, :], lst[None, :])
    units = np.array([p.shelf_units for p in w.products]) * w.spec.shelf_mult
    lam = units[None, :] * np.exp(np.array(WEEKDAY_LOG_EFFECT)[wd][:, None] + w.event_lift) * (price / lst) ** e
    lam = lam * season
    factor = np.array([SHELF_PLATFORM_FACTOR[p] for p in ALL_PLATFORMS])
    full = lam[:, :, None] * factor[None, None, :]  # [day, P, platform]
    n = rng.poisson(full / QTY_MEAN)
    cell = np.repeat(np.arange(n.size), n.ravel())
    d, p, pl = np.unravel_index(cell, n.shape)
    L = len(cell)
    hour = rng.choice(24, size=L, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    t = _day_epoch(w.start, d) + hour * 3600 + rng.integers(0, 3600, L)
    w.extra["shelf_price_fen"] = price
    return {
        "source": np.ones(L, np.int8),
        "platform": pl.astype(np.int8),
        "session": np.full(L, -1),
        "sp": np.full(L, -1),
        "product": p,
        "host": np.full(L, -1),
        "created_s": t,
        "quantity": _quantities(rng, L),
        "unit_price_fen": price[d, p],
    }


def _affiliate_lines(w: World) -> dict[str, np.ndarray]:
    rng = _rng(w.seed, 6)
    P = len(w.products)
    n_own = int(w.hosts["n_own"])
    na = w.spec.affiliates
    day_dates = [w.start + timedelta(days=d) for d in range(w.days)]
    wd = np.array([d.weekday() for d in day_dates])
    month = np.array([d.month for d in day_dates])
    s_start = np.array([p.season_start_month for p in w.products])
    s_end = np.array([p.season_end_month for p in w.products])
    season = _in_season(month[:, None], s_start[None, :], s_end[None, :])
    e = np.array([p.elasticity for p in w.products])
    lst = np.array([p.list_price_fen for p in w.products])
    price = _round_price(lst * AFFILIATE_PRICE)
    lam = w.spec.affiliate_units * np.exp(np.array(WEEKDAY_LOG_EFFECT)[wd][:, None] + w.event_lift)
    lam = lam * (price / lst)[None, :] ** e * season / P
    n = rng.poisson(lam / QTY_MEAN)
    cell = np.repeat(np.arange(n.size), n.ravel())
    d, p = np.unravel_index(cell, n.shape)
    L = len(cell)
    t = _day_epoch(w.start, d) + (19 * 60 + rng.integers(0, 240, L)) * 60 + rng.integers(0, 60, L)
    return {
        "source": np.full(L, 2, np.int8),
        "platform": np.full(L, 1, np.int8),
        "session": np.full(L, -1),
        "sp": np.full(L, -1),
        "product": p,
        "host": n_own + rng.integers(0, max(na, 1), L),
        "created_s": t,
        "quantity": _quantities(rng, L),
        "unit_price_fen": price[p],
    }


# --- orders, statuses, refunds ----------------------------------------------------------------


def _orders(w: World) -> None:
    rng = _rng(w.seed, 7)
    ln = w.lines
    L = len(ln["created_s"])
    T = w.snapshot_s
    # group 2-line orders: a live line joins the previous line of the same session (other product)
    o = np.lexsort((ln["created_s"], ln["session"], ln["platform"]))
    ln = {k: v[o] for k, v in ln.items()}
    live = ln["source"] == 0
    prev_same = np.r_[False, (ln["session"][1:] == ln["session"][:-1]) & live[1:] & live[:-1]]
    prev_other = np.r_[False, ln["product"][1:] != ln["product"][:-1]]
    cand = prev_same & prev_other & (ln["platform"] != 3) & (rng.random(L) < JOIN_SHARE)
    join = cand & ~np.r_[False, cand[:-1]]
    order_of = np.cumsum(~join) - 1
    ln["created_s"] = np.where(join, np.r_[0, ln["created_s"][:-1]], ln["created_s"])
    ln["line_no"] = 1 + join.astype(np.int64)
    # final order: platform, order time, order, line
    n_ord = int(order_of[-1]) + 1 if L else 0
    first_idx = np.flatnonzero(~join)
    o_created = ln["created_s"][first_idx]
    o_platform = ln["platform"][first_idx]
    rank = np.lexsort((np.arange(n_ord), o_created, o_platform))  # orders sorted
    new_id = np.empty(n_ord, np.int64)
    new_id[rank] = np.arange(n_ord)
    ln["order"] = new_id[order_of]
    o2 = np.lexsort((ln["line_no"], ln["order"]))
    ln = {k: v[o2] for k, v in ln.items()}
    first_idx = np.flatnonzero(ln["line_no"] == 1)
    o_created = ln["created_s"][first_idx]
    o_platform = ln["platform"][first_idx]
    o_product = ln["product"][first_idx]
    # buyers: a pool with repeat customers; province per buyer
    pool = max(n_ord // 3, 10)
    buyer = np.floor(pool * rng.random(n_ord) ** 2).astype(np.int64)
    weights = np.array([p.weight for p in cat.PROVINCES])
    buyer_prov = rng.choice(len(cat.PROVINCES), size=pool, p=weights / weights.sum())
    o_prov = buyer_prov[buyer]
    # payment, cancellation, shipping, confirmation
    never_paid = rng.random(n_ord) < NEVER_PAID_SHARE
    paid_s = o_created + rng.integers(5, 241, n_ord)
    cancel_fate = (~never_paid) & (rng.random(n_ord) < CANCEL_AFTER_PAY_SHARE)
    cancel_s = paid_s + rng.integers(1800, 72000, n_ord)
    ship_s = paid_s + rng.integers(6 * 3600, 60 * 3600, n_ord)
    confirm_s = ship_s + rng.integers(4 * 86400, 10 * 86400, n_ord)
    # refunds: probability by category, distance (fruit), heat (fruit shipped June..September)
    cats = np.array([p.category for p in w.products])
    cat_o = cats[o_product]
    pcounty = np.array([next(i for i, c in enumerate(w.counties) if c.county_id == p.county_id) for p in w.products])
    plon = np.array([p.lon for p in cat.PROVINCES])
    plat_ = np.array([p.lat for p in cat.PROVINCES])
    dist = np.stack([_haversine_km(c.lon, c.lat, plon, plat_) for c in w.counties])  # [county, province]
    far = dist[pcounty[o_product], o_prov] > FAR_KM
    ship_month = _months(ship_s + LOCAL_OFFSET_S)
    heat = np.isin(ship_month, (6, 7, 8, 9))
    fruit = cat_o == "fruit"
    p_ref = np.array([REFUND_BASE[p.category] for p in w.products])[o_product]
    p_ref = p_ref + fruit * far * REFUND_FRUIT_FAR + fruit * heat * REFUND_FRUIT_HEAT
    refund_fate = (~never_paid) & (~cancel_fate) & (rng.random(n_ord) < p_ref)
    refund_delay = (1.0 + rng.gamma(2.0, 1.5, n_ord)) * 86400
    refund_s = ship_s + refund_delay.astype(np.int64)
    apply_s = ship_s + (refund_delay * rng.uniform(0.4, 0.9, n_ord)).astype(np.int64)
    partial = refund_fate & np.isin(o_platform, (1, 2)) & (rng.random(n_ord) < PARTIAL_REFUND_SHARE)
    frac = np.where(partial, rng.uniform(0.2, 0.5, n_ord), 1.0)
    # status at the snapshot
    st = np.full(n_ord, "completed", dtype=object)
    shipped_at = np.where(ship_s <= T, ship_s, -1)
    finished_at = np.where(confirm_s <= T, confirm_s, -1)
    refunded_at = np.full(n_ord, -1, np.int64)
    st[confirm_s > T] = "shipped"
    st[ship_s > T] = "paid"
    r_now = refund_fate & (refund_s <= T)
    st[r_now & ~partial] = "refunded"
    st[r_now & partial] = "partially_refunded"
    refunded_at = np.where(r_now, refund_s, refunded_at)
    finished_at = np.where(r_now & ~partial, refund_s, finished_at)
    c_now = cancel_fate & (cancel_s <= T) & (cancel_s < ship_s)
    c_later = cancel_fate & ~c_now
    st[c_now] = "cancelled"
    shipped_at = np.where(c_now, -1, shipped_at)
    refunded_at = np.where(c_now, cancel_s, refunded_at)
    finished_at = np.where(c_now, cancel_s, finished_at)
    st[c_later & (ship_s > T)] = "paid"
    st[never_paid] = np.where(o_created[never_paid] + 1800 > T, "unpaid", "cancelled")
    paid_at = np.where(never_paid, -1, paid_s)
    shipped_at = np.where(never_paid, -1, shipped_at)
    refunded_at = np.where(never_paid, -1, refunded_at)
    finished_at = np.where(never_paid, np.where(st == "cancelled", o_created + 1800, -1), finished_at)
    remote = np.array([cat.PROVINCES[i].name in cat.REMOTE_PROVINCES for i in range(len(cat.PROVINCES))])
    shipping = np.where(remote[o_prov], 1000, 0)
    reason_pool = {
        "fruit": ("商品腐烂/变质", "商品破损", "收到商品少件"),
        "tea": ("不想要了", "商品与描述不符"),
        "wig": ("效果不好/不喜欢", "尺码/颜色不合适", "质量问题"),
        "grain": ("不想要了", "包装破损"),
        "meat": ("不想要了", "口味不喜欢", "包装破损"),
    }
    reason_pick = rng.integers(0, 3, n_ord)
    table = np.array(
        [[reason_pool[p.category][k % len(reason_pool[p.category])] for k in range(3)] for p in w.products]
    )
    reason = table[o_product, reason_pick]
    reason = np.where(c_now, "拍错/多拍/不想要", reason)
    reason = np.where(r_now | c_now, reason, "")
    w.orders = {
        "platform": o_platform,
        "created_s": o_created,
        "paid_s": paid_at,
        "shipped_s": shipped_at,
        "finished_s": finished_at,
        "refunded_s": refunded_at,
        "status": st.astype(str),
        "refund_frac": np.where(c_now, 1.0, np.where(r_now, frac, 0.0)),
        "refund_reason": reason,
        "buyer": buyer,
        "province": o_prov,
        "shipping_fen": shipping,
        "refund_pending": refund_fate & (refund_s > T),
        "refund_apply_s": np.where(refund_fate & (apply_s <= T), apply_s, np.where(c_now, cancel_s - 600, -1)),
        "refund_delay_days": np.where(refund_fate, refund_delay / 86400.0, np.nan),
        "refund_fate": refund_fate,
        "far": far,
        "heat": heat,
    }
    # line-level money
    oi = ln["order"]
    gross = ln["unit_price_fen"] * ln["quantity"]
    coupon = (ln["platform"] != 0) & (rng.random(L) < COUPON_SHARE)
    disc = np.where(coupon, np.minimum(rng.choice(np.array([300, 500]), L), gross - 100), 0)
    disc = np.maximum(disc, 0)
    amount = gross - disc
    refund = np.round(amount * w.orders["refund_frac"][oi]).astype(np.int64)
    ln["discount_fen"] = disc
    ln["amount_fen"] = amount
    ln["refund_fen"] = refund
    ln["shipping_fen"] = np.where(ln["line_no"] == 1, shipping[oi], 0)
    w.lines = ln


def _months(epoch_s: np.ndarray) -> np.ndarray:
    return epoch_s.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def _platform_product_ids(w: World) -> None:
    rng = _rng(w.seed, 8)
    out: dict[tuple[str, str], str] = {}
    for plat in ALL_PLATFORMS:
        for p in w.products:
            if plat == "douyin":
                v = str(int(rng.integers(3_500_000_000_000_000_000, 3_800_000_000_000_000_000)))
            elif plat == "taobao":
                v = str(int(rng.integers(600_000_000_000, 800_000_000_000)))
            elif plat == "kuaishou":
                v = str(int(rng.integers(20_000_000_000, 29_000_000_000)))
            else:
                v = str(int(rng.integers(500_000_000, 700_000_000_000)))
            out[(plat, p.product_id)] = v
    w.product_platform_ids = out
