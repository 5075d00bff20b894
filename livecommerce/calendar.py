"""The festival calendar as data: lunar festivals, a versioned table of platform festivals, daily flags.

Pure (layer 1): dates in, frames out. Lunar festivals (Spring Festival, Mid-Autumn) are computed
with ``lunardate``; official days off come from ``holidays`` (country CN). Platform festivals (双11,
618, 双12) are *announcements*, not rules, so they live in :data:`PLATFORM_FESTIVALS`, a table
versioned by :data:`CALENDAR_VERSION`; a year missing from the table falls back to a stated rule
(``source="rule"``). Update the table when a platform announces its dates.

:func:`festival_flags` returns one row per local day with 0/1 columns that forecasting models take
as regressors; :func:`with_festival_flags` joins them onto any frame with a date or datetime column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import polars as pl
from lunardate import LunarDate

__all__ = [
    "ALL_FLAGS",
    "CALENDAR_VERSION",
    "FLAGS",
    "PLATFORM_FESTIVALS",
    "PlatformFestival",
    "festival_flags",
    "lunar_festivals",
    "platform_festivals",
    "with_festival_flags",
]

#: version of the platform festival table; bump it whenever a row is added or corrected
CALENDAR_VERSION = "2024.2"


@dataclass(frozen=True)
class PlatformFestival:
    """One platform festival in one year.

    ``presale_start``: the day its selling period opens (presale deposits or early sales), ``None`` when
    there is none; the presale runs until the day before ``peak_start``. ``peak_start``..``peak_end``:
    the peak day(s). ``after_days``: days after the peak with the usual dip. ``windows``: the announced
    sales windows, for reference. ``source``: ``"announced"`` (from the platform's announcement) or
    ``"rule"`` (the default rule, for years not in the table).
    """

    key: str
    name_zh: str
    year: int
    presale_start: date | None
    peak_start: date
    peak_end: date
    after_days: int
    windows: tuple[tuple[date, date], ...] = ()
    source: str = "announced"

    @property
    def presale_days(self) -> tuple[date, date] | None:
        """Return the first and last presale day, or ``None``."""
        if self.presale_start is None or self.presale_start >= self.peak_start:
            return None
        return self.presale_start, self.peak_start - timedelta(days=1)

    @property
    def after(self) -> tuple[date, date] | None:
        """Return the first and last day of the after-festival dip, or ``None``."""
        if self.after_days <= 0:
            return None
        return self.peak_end + timedelta(days=1), self.peak_end + timedelta(days=self.after_days)


def _d(y: int, m: int, d: int) -> date:
    return date(y, m, d)


def _double11(year: int, presale: date, windows: tuple[tuple[date, date], ...] = ()) -> PlatformFestival:
    return PlatformFestival("d11", "双11", year, presale, _d(year, 11, 11), _d(year, 11, 11), 7, windows)


def _d618(year: int, presale: date) -> PlatformFestival:
    return PlatformFestival("d618", "618", year, presale, _d(year, 6, 18), _d(year, 6, 18), 4)


#: the versioned table (Taobao/Tmall announcements): 双11 presale openings and sales windows, 618 openings
PLATFORM_FESTIVALS: tuple[PlatformFestival, ...] = (
    _double11(2018, _d(2018, 10, 20)),
    _double11(2019, _d(2019, 10, 21)),
    _double11(2020, _d(2020, 10, 21), ((_d(2020, 11, 1), _d(2020, 11, 3)), (_d(2020, 11, 11), _d(2020, 11, 11)))),
    _double11(2021, _d(2021, 10, 20), ((_d(2021, 11, 1), _d(2021, 11, 3)), (_d(2021, 11, 11), _d(2021, 11, 11)))),
    _double11(2022, _d(2022, 10, 24), ((_d(2022, 10, 31), _d(2022, 11, 3)), (_d(2022, 11, 10), _d(2022, 11, 11)))),
    _double11(2023, _d(2023, 10, 24), ((_d(2023, 10, 31), _d(2023, 11, 3)), (_d(2023, 11, 10), _d(2023, 11, 11)))),
    _double11(2024, _d(2024, 10, 14), ((_d(2024, 10, 21), _d(2024, 11, 11)),)),
    _d618(2022, _d(2022, 5, 26)),
    _d618(2023, _d(2023, 5, 26)),
    _d618(2024, _d(2024, 5, 20)),
)

#: the rule for a year the table lacks: (presale month, day) before the peak
_RULE_PRESALE = {"d11": (10, 20), "d618": (5, 25)}


def platform_festivals(year: int) -> list[PlatformFestival]:
    """Return the platform festivals of ``year``: 双11, 618, 双12 and the New-Year goods festival (年货节).

    双11 and 618 come from :data:`PLATFORM_FESTIVALS` when the year is there, else from the rule
    (presale from Oct 20 / May 25, ``source="rule"``). 双12 is Dec 12 without presale. 年货节 runs
    from four weeks before the Spring Festival to the courier stop eight days before it (its whole
    window is the "presale"; the peak is its last day).
    """
    table = {(f.key, f.year): f for f in PLATFORM_FESTIVALS}
    out = []
    for key, build in (("d11", _double11), ("d618", _d618)):
        if (key, year) in table:
            out.append(table[(key, year)])
        else:
            m, d = _RULE_PRESALE[key]
            f = build(year, _d(year, m, d))
            out.append(
                PlatformFestival(
                    f.key, f.name_zh, year, f.presale_start, f.peak_start, f.peak_end, f.after_days, (), "rule"
                )
            )
    out.append(PlatformFestival("d1212", "双12", year, None, _d(year, 12, 12), _d(year, 12, 12), 3, (), "rule"))
    sf = lunar_festivals(year)["spring_festival"]
    out.append(
        PlatformFestival(
            "new_year_goods",
            "年货节",
            year,
            sf - timedelta(days=28),
            sf - timedelta(days=8),
            sf - timedelta(days=8),
            0,
            (),
            "rule",
        )
    )
    return out


@lru_cache(maxsize=256)
def lunar_festivals(year: int) -> dict[str, date]:
    """Return the solar dates of the lunar festivals of ``year``.

    Keys: ``spring_festival`` (春节, 1/1), ``lantern`` (元宵, 1/15), ``dragon_boat`` (端午, 5/5),
    ``qixi`` (七夕, 7/7), ``mid_autumn`` (中秋, 8/15).
    """
    conv = {"spring_festival": (1, 1), "lantern": (1, 15), "dragon_boat": (5, 5), "qixi": (7, 7), "mid_autumn": (8, 15)}
    return {k: LunarDate(year, m, d).to_solar_date() for k, (m, d) in conv.items()}


#: per-festival flags, not collinear with each other: the default regressors of the forecaster
FLAGS: tuple[str, ...] = (
    "d11_presale",
    "d11_peak",
    "d11_after",
    "d618_presale",
    "d618_peak",
    "d618_after",
    "d1212_peak",
    "new_year_goods",
    "spring_festival_slowdown",
    "mid_autumn_gifting",
    "national_day",
)

#: every flag :func:`festival_flags` can return: the per-festival ones, their unions and official days off
ALL_FLAGS: tuple[str, ...] = (
    "festival_presale",
    "festival_peak",
    "festival_after",
    *FLAGS,
    "public_holiday",
)

#: days around the lunar festivals that move demand: courier slowdown and gifting before Mid-Autumn
_SLOWDOWN = (-7, 6)  # Spring Festival: couriers stop a week before, restart a week after
_GIFTING = (-14, -1)  # Mid-Autumn gifting: the two weeks before


def _spans(year: int) -> dict[str, list[tuple[date, date]]]:
    """Return flag name -> inclusive (first, last) spans in ``year``'s festivals."""
    spans: dict[str, list[tuple[date, date]]] = {}

    def add(name: str, span: tuple[date, date] | None) -> None:
        if span is not None and span[0] <= span[1]:
            spans.setdefault(name, []).append(span)

    for f in platform_festivals(year):
        if f.key == "new_year_goods":
            add("new_year_goods", (f.presale_start or f.peak_start, f.peak_end))
            continue
        add(f"{f.key}_presale", f.presale_days)
        add(f"{f.key}_peak", (f.peak_start, f.peak_end))
        add(f"{f.key}_after", f.after)
        add("festival_presale", f.presale_days)
        add("festival_peak", (f.peak_start, f.peak_end))
        add("festival_after", f.after)
    lunar = lunar_festivals(year)
    sf, ma = lunar["spring_festival"], lunar["mid_autumn"]
    add("spring_festival_slowdown", (sf + timedelta(days=_SLOWDOWN[0]), sf + timedelta(days=_SLOWDOWN[1])))
    add("mid_autumn_gifting", (ma + timedelta(days=_GIFTING[0]), ma + timedelta(days=_GIFTING[1])))
    add("national_day", (_d(year, 10, 1), _d(year, 10, 7)))
    return spans


def festival_flags(start: date, end: date, columns: tuple[str, ...] = FLAGS) -> pl.DataFrame:
    """Return one row per day from ``start`` to ``end`` (inclusive): ``ds`` (Date) and a 0/1 ``Int8`` column per flag.

    ``columns`` picks flags from :data:`ALL_FLAGS` (default :data:`FLAGS`, the per-festival ones).
    ``festival_presale`` / ``festival_peak`` / ``festival_after`` are the unions over 双11, 618 and 双12;
    ``public_holiday`` marks official days off (``holidays``, CN, including substituted days off).
    """
    unknown = [c for c in columns if c not in ALL_FLAGS]
    if unknown:
        raise ValueError(f"unknown calendar flag(s) {unknown}; known: {', '.join(ALL_FLAGS)}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    days = pl.date_range(start, end, interval="1d", eager=True).alias("ds")
    out = pl.DataFrame({"ds": days})
    years = range(start.year - 1, end.year + 2)
    spans: dict[str, list[tuple[date, date]]] = {}
    for y in years:
        for k, v in _spans(y).items():
            spans.setdefault(k, []).extend(v)
    exprs = []
    for c in columns:
        if c == "public_holiday":
            import holidays

            off = sorted(holidays.country_holidays("CN", years=list(years)))
            exprs.append(pl.col("ds").is_in(off).cast(pl.Int8).alias(c))
            continue
        hit = pl.lit(False)
        for a, b in spans.get(c, []):
            if b >= start and a <= end:
                hit = hit | pl.col("ds").is_between(a, b)
        exprs.append(hit.cast(pl.Int8).alias(c))
    return out.with_columns(exprs)


def with_festival_flags(frame: Any, date_col: str = "ds", columns: tuple[str, ...] = FLAGS) -> pl.DataFrame:
    """Return ``frame`` (polars or pandas) as polars with the flag columns of :func:`festival_flags` added.

    The flags are joined on the local date of ``date_col`` (a Date, or a Datetime taken as local time:
    convert UTC times to Asia/Shanghai first). Existing columns of the same names are replaced.
    """
    if not isinstance(frame, pl.DataFrame):
        frame = pl.from_pandas(frame)
    if frame.height == 0:
        return frame.with_columns([pl.lit(0, dtype=pl.Int8).alias(c) for c in columns])
    dtype = frame.schema[date_col]
    day = pl.col(date_col) if dtype == pl.Date else pl.col(date_col).dt.date()
    bounds = frame.select(day.min().alias("a"), day.max().alias("b")).row(0)
    a, b = (v.date() if isinstance(v, datetime) else v for v in bounds)
    flags = festival_flags(a, b, columns).rename({"ds": "_day"})
    keep = [c for c in frame.columns if c not in columns]
    return frame.select(keep).with_columns(day.alias("_day")).join(flags, on="_day", how="left").drop("_day")
