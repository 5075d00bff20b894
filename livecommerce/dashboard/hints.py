"""Plain-language hints for a host, computed from query results by one pure function.

The inputs are what the host page already loaded: the host's KPI row (``queries.kpi_report`` at
level host, money in fen, with ``_prev`` columns and the county position), the host's and the
county's slot heatmaps (``queries.slot_heatmap``) and the county's KPI row. Each hint compares a
ratio of sums with the same ratio for the county (or the previous period); nothing is averaged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from livecommerce.dashboard.i18n import kpi_text, percent, t, weekday

__all__ = ["host_hints", "slot_name"]


def _daypart(hour: int) -> str:
    if hour < 6:
        return "night"
    if hour < 12:
        return "morning"
    if hour < 18:
        return "afternoon"
    return "evening"


def slot_name(day: int, hour: int, lang: str) -> str:
    """Return a weekday and local start hour as words: ``周二上午（9点开播）`` / ``Tuesday mornings (9:00 starts)``."""
    part = t(_daypart(hour), lang)
    if lang == "en":
        return f"{weekday(day, lang)} {part} ({hour}:00 starts)"
    return f"{weekday(day, lang)}{part}（{hour}点开播）"


def _slot_gap(slots: pl.DataFrame, county: pl.DataFrame, min_sessions: int) -> pl.DataFrame:
    if slots.is_empty() or county.is_empty() or "gpm" not in slots.columns or "gpm" not in county.columns:
        return pl.DataFrame()
    joined = slots.filter(pl.col("sessions") >= min_sessions, pl.col("gpm").is_not_null()).join(
        county.select("weekday", "hour", pl.col("gpm").alias("county_gpm")), on=["weekday", "hour"], how="inner"
    )
    return joined.filter(pl.col("county_gpm") > 0).with_columns((pl.col("gpm") / pl.col("county_gpm")).alias("ratio"))


def host_hints(
    host: Mapping[str, Any],
    slots: pl.DataFrame,
    county_slots: pl.DataFrame,
    county: Mapping[str, Any] | None,
    lang: str,
    *,
    min_sessions: int = 2,
    below: float = 0.8,
    change_at: float = 0.10,
) -> list[str]:
    """Return the hints for one host, most telling first (an empty list when nothing stands out):

    - GMV change vs the previous period when it moved by ``change_at`` or more;
    - GMV per live hour against the county's median host;
    - the slot (weekday × start hour, at least ``min_sessions`` sessions) whose GPM is furthest
      below the county's GPM for that slot, when under ``below`` × the county's;
    - the host's best slot by GPM;
    - GMV per minute while explaining a product vs outside explanations;
    - refund rate by amount when above the county's by a fifth or more.
    """
    out: list[str] = []
    gmv, prev = host.get("gmv"), host.get("gmv_prev")
    if gmv is not None and prev:
        change = (gmv - prev) / prev
        if abs(change) >= change_at:
            out.append(
                t("hint_change", lang, direction=t("up" if change > 0 else "down", lang), pct=percent(abs(change)))
            )
    hourly, median = host.get("gmv_per_live_hour"), host.get("county_median_gmv_per_live_hour")
    if hourly is not None and median:
        key = "hint_hourly_low" if hourly < median else "hint_hourly_high"
        out.append(
            t(
                key,
                lang,
                value=kpi_text("gmv_per_live_hour", hourly, lang),
                median=kpi_text("gmv_per_live_hour", median, lang),
            )
        )
    gaps = _slot_gap(slots, county_slots, min_sessions)
    if gaps.height:
        worst = gaps.sort("ratio", "weekday", "hour").row(0, named=True)
        if worst["ratio"] < below:
            out.append(
                t(
                    "hint_slot_low",
                    lang,
                    slot=slot_name(worst["weekday"], worst["hour"], lang),
                    value=kpi_text("gpm", worst["gpm"], lang),
                    county=kpi_text("gpm", worst["county_gpm"], lang),
                )
            )
    if not slots.is_empty() and "gpm" in slots.columns:
        ranked = slots.filter(pl.col("sessions") >= min_sessions, pl.col("gpm").is_not_null())
        if ranked.height > 1:
            best = ranked.sort(["gpm", "weekday", "hour"], descending=[True, False, False]).row(0, named=True)
            out.append(
                t(
                    "hint_slot_best",
                    lang,
                    slot=slot_name(best["weekday"], best["hour"], lang),
                    value=kpi_text("gpm", best["gpm"], lang),
                )
            )
    inside, outside = host.get("explain_gpm_inside"), host.get("explain_gpm_outside")
    if inside and outside:
        out.append(t("hint_explain", lang, ratio=f"{inside / outside:.1f}"))
    rate = host.get("refund_rate_amount")
    county_rate = (county or {}).get("refund_rate_amount")
    if rate is not None and county_rate and rate >= 1.2 * county_rate:
        out.append(
            t(
                "hint_refunds",
                lang,
                value=kpi_text("refund_rate_amount", rate, lang),
                county=kpi_text("refund_rate_amount", county_rate, lang),
            )
        )
    return out
