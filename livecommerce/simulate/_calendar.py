"""The world's calendar: weekday effects and dated events (festivals, platform sales, harvests).

Each event adds a constant ``log_lift`` to the log demand of the products it applies to on each
of its days (inclusive window); overlapping events add up. Lunar dates come from ``lunardate``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
from lunardate import LunarDate

__all__ = ["WEEKDAY_LOG_EFFECT", "Event", "event_lift_matrix", "events_between"]

#: log effect of the weekday (Monday = 0) on live and shelf demand
WEEKDAY_LOG_EFFECT: tuple[float, ...] = (-0.06, -0.08, -0.04, 0.0, 0.05, 0.14, 0.11)

GIFT_CATEGORIES = ("fruit", "tea", "meat", "grain")


@dataclass(frozen=True)
class Event:
    """A dated calendar event: ``log_lift`` applies on ``start``..``end`` (inclusive)."""

    name: str
    name_zh: str
    start: date
    end: date
    log_lift: float
    categories: tuple[str, ...] | None = None  # None: every category
    product_ids: tuple[str, ...] | None = None  # None: every product of those categories
    discount: bool = False  # sellers cut prices (festival discount) on these days

    def as_dict(self) -> dict[str, object]:
        """Return the event as a JSON-ready dict (dates as ISO strings)."""
        d = asdict(self)
        d["start"], d["end"] = self.start.isoformat(), self.end.isoformat()
        d["categories"] = list(self.categories) if self.categories else None
        d["product_ids"] = list(self.product_ids) if self.product_ids else None
        return d


def _lunar(year: int, month: int, day: int) -> date:
    return LunarDate(year, month, day).to_solar_date()


def _year_events(y: int) -> list[Event]:
    d = timedelta
    sf = _lunar(y, 1, 1)
    ma = _lunar(y, 8, 15)
    return [
        Event("new_year_goods", "年货节", sf - d(26), sf - d(8), 0.40, GIFT_CATEGORIES, None, True),
        Event("spring_festival_logistics", "春节物流停运", sf - d(7), sf + d(6), -0.70),
        Event("presale_618", "618预售", date(y, 6, 1), date(y, 6, 17), 0.12, None, None, True),
        Event("day_618", "618", date(y, 6, 18), date(y, 6, 18), 0.55, None, None, True),
        Event("post_618", "618后回落", date(y, 6, 19), date(y, 6, 22), -0.20),
        Event("huaniu_harvest", "花牛苹果上市", date(y, 8, 15), date(y, 9, 15), 0.30, None, ("lixian-huaniu-5jin",)),
        Event("mid_autumn", "中秋送礼", ma - d(12), ma - d(1), 0.35, GIFT_CATEGORIES),
        Event("national_day", "国庆", date(y, 10, 1), date(y, 10, 7), 0.10),
        Event("fuji_harvest", "红富士上市", date(y, 10, 20), date(y, 11, 20), 0.25, None, ("lixian-fuji-10jin",)),
        Event("presale_1111", "双11预售", date(y, 10, 24), date(y, 11, 10), 0.20, None, None, True),
        Event("day_1111", "双11", date(y, 11, 11), date(y, 11, 11), 0.95, None, None, True),
        Event("post_1111", "双11后回落", date(y, 11, 12), date(y, 11, 18), -0.30),
        Event("day_1212", "双12", date(y, 12, 12), date(y, 12, 12), 0.40, None, None, True),
    ]


def events_between(start: date, end: date) -> list[Event]:
    """Return the events overlapping ``start``..``end`` (exclusive end), sorted by start date."""
    found = [e for y in range(start.year - 1, end.year + 2) for e in _year_events(y)]
    return sorted((e for e in found if e.end >= start and e.start < end), key=lambda e: (e.start, e.name))


def event_lift_matrix(
    events: list[Event], start: date, n_days: int, product_ids: list[str], categories: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(log_lift[day, product], discount_day[day])`` for ``n_days`` days from ``start``."""
    lift = np.zeros((n_days, len(product_ids)))
    discount = np.zeros(n_days, dtype=bool)
    pid = np.array(product_ids)
    cat = np.array(categories)
    for e in events:
        a = max((e.start - start).days, 0)
        b = min((e.end - start).days + 1, n_days)
        if b <= a:
            continue
        mask = np.ones(len(product_ids), dtype=bool)
        if e.categories:
            mask &= np.isin(cat, e.categories)
        if e.product_ids:
            mask &= np.isin(pid, e.product_ids)
        lift[a:b, mask] += e.log_lift
        if e.discount:
            discount[a:b] = True
    return lift, discount
