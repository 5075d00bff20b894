"""The festival calendar: lunar dates, the versioned platform table, daily flags."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from livecommerce import calendar as cal


def test_lunar_festivals_match_known_dates() -> None:
    assert cal.lunar_festivals(2023)["spring_festival"] == date(2023, 1, 22)
    assert cal.lunar_festivals(2024)["spring_festival"] == date(2024, 2, 10)
    assert cal.lunar_festivals(2024)["mid_autumn"] == date(2024, 9, 17)
    assert cal.lunar_festivals(2023)["mid_autumn"] == date(2023, 9, 29)


def test_double11_presale_opening_per_year_and_rule_for_missing_years() -> None:
    d11 = {y: next(f for f in cal.platform_festivals(y) if f.key == "d11") for y in (2018, 2020, 2021, 2022, 2030)}
    assert d11[2018].presale_start == date(2018, 10, 20)
    assert d11[2020].presale_start == date(2020, 10, 21)
    assert d11[2021].presale_start == date(2021, 10, 20)
    assert d11[2022].presale_start == date(2022, 10, 24)
    assert d11[2022].windows[0] == (date(2022, 10, 31), date(2022, 11, 3))
    assert d11[2022].source == "announced" and d11[2030].source == "rule"
    assert d11[2030].presale_days == (date(2030, 10, 20), date(2030, 11, 10))
    assert cal.CALENDAR_VERSION


def test_flags_of_2022_double11_and_spring_festival() -> None:
    f = cal.festival_flags(date(2022, 1, 1), date(2022, 12, 31), cal.ALL_FLAGS)
    assert f.height == 365 and f["ds"].dtype == pl.Date
    on = lambda c: f.filter(pl.col(c) == 1)["ds"].to_list()  # noqa: E731
    assert on("d11_presale")[0] == date(2022, 10, 24) and on("d11_presale")[-1] == date(2022, 11, 10)
    assert on("d11_peak") == [date(2022, 11, 11)]
    assert on("d11_after") == [date(2022, 11, d) for d in range(12, 19)]
    assert on("d618_peak") == [date(2022, 6, 18)] and on("d1212_peak") == [date(2022, 12, 12)]
    # Spring Festival 2022 fell on Feb 1: couriers slow from Jan 25 to Feb 7; 年货节 before it
    assert on("spring_festival_slowdown")[0] == date(2022, 1, 25) and on("spring_festival_slowdown")[-1] == date(
        2022, 2, 7
    )
    jan = [d for d in on("new_year_goods") if d.month == 1]
    assert jan[0] == date(2022, 1, 4) and jan[-1] == date(2022, 1, 24) < on("spring_festival_slowdown")[0]
    assert date(2022, 12, 25) in on(
        "new_year_goods"
    )  # the 2023 festival (Spring Festival on Jan 22) starts in December
    assert date(2022, 10, 1) in on("national_day") and date(2022, 10, 1) in on("public_holiday")
    # the unions cover the per-festival flags
    assert f.filter((pl.col("d11_peak") == 1) & (pl.col("festival_peak") == 0)).height == 0
    assert f["festival_presale"].sum() == f["d11_presale"].sum() + f["d618_presale"].sum()


def test_default_flags_are_not_collinear_and_span_year_ends() -> None:
    f = cal.festival_flags(date(2023, 12, 20), date(2024, 2, 29))
    assert f.columns == ["ds", *cal.FLAGS]
    assert f["new_year_goods"].sum() > 0 and f["spring_festival_slowdown"].sum() == 14


def test_with_festival_flags_joins_on_the_local_date_of_a_datetime() -> None:
    frame = pl.DataFrame({"ds": [datetime(2024, 11, 11, 20, 0), datetime(2024, 11, 12, 9, 0)], "y": [5, 3]})
    out = cal.with_festival_flags(frame)
    assert out["d11_peak"].to_list() == [1, 0] and out["d11_after"].to_list() == [0, 1]
    assert out["y"].to_list() == [5, 3]


def test_unknown_flag_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown calendar flag"):
        cal.festival_flags(date(2024, 1, 1), date(2024, 1, 2), ("black_friday",))
