"""Every KPI defined once: name, labels, numerator / denominator, unit, aggregation, definition.

KPIs are computed from *base measures* — additive counts and sums such as ``gmv_fen``,
``orders`` or ``views`` that the rollups keep per day and per session. A ratio is always the
ratio of the summed numerator and denominator over the whole group, never an average of
ratios. :func:`kpis` aggregates a frame of base measures and returns the KPIs.

Where the platforms disagree we name our choice (see ``docs/metrics.md``): GPM is per 1,000
*views* (观看次数), as Douyin and Taobao define it, not per viewer; refund rate comes in two
KPIs, by amount and by order count; AOV (客单价) is per paying buyer, ``order_value``
(笔单价) per order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

__all__ = ["BASE_MEASURES", "METRICS", "MONEY_UNITS", "Metric", "in_yuan", "kpis", "markdown_table", "metric"]

Agg = Literal["sum", "max", "ratio"]
Unit = Literal["fen", "count", "ratio", "seconds", "hours", "fen_per_1000_views", "fen_per_hour"]

#: base measure -> how it combines across rows (days, hosts, sessions)
BASE_MEASURES: dict[str, Literal["sum", "max"]] = {
    "gmv_fen": "sum",  # amount paid on paid lines, refunds not deducted
    "refund_fen": "sum",  # amount refunded on those lines
    "net_gmv_fen": "sum",  # gmv_fen - refund_fen - cancelled_fen (derived when absent)
    "cancelled_fen": "sum",  # paid then cancelled, not yet counted as refund
    "live_gmv_fen": "sum",  # GMV credited to a host (sold live): the numerator of GPM and UV value
    "orders": "sum",  # paid orders
    "units": "sum",  # units on paid lines
    "buyers": "sum",  # paying buyers (distinct within a day and host; summed across them)
    "refunded_orders": "sum",  # paid orders with any refund
    "cancelled_orders": "sum",  # paid orders cancelled in full
    "sessions": "sum",
    "effective_sessions": "sum",  # sessions of 30 minutes or more
    "live_minutes": "sum",
    "online_minutes": "sum",  # sum over live minutes of viewers online (for the mean)
    "views": "sum",  # 观看次数 (room entries)
    "viewers": "sum",  # 观看人数 (summed over sessions, as Taobao does over several sessions)
    "peak_online": "max",
    "watch_seconds": "sum",
    "new_followers": "sum",
    "interacting_viewers": "sum",
    "product_exposed_viewers": "sum",
    "product_clickers": "sum",
    "live_buyers": "sum",  # paying buyers attributed to live sessions
    "explain_gmv_fen": "sum",  # GMV inside product explain windows
    "explain_minutes": "sum",
    "outside_gmv_fen": "sum",  # live GMV outside explain windows
    "outside_minutes": "sum",
}


@dataclass(frozen=True)
class Metric:
    """One KPI: ``value = numerator / denominator * scale`` (or the aggregated base itself)."""

    name: str
    label_zh: str
    label_en: str
    unit: Unit
    agg: Agg
    numerator: str
    denominator: str | None = None
    scale: float = 1.0
    definition: str = ""
    note: str = ""

    def expr(self) -> pl.Expr:
        """Return the polars expression that computes this KPI from aggregated base measures."""
        num = pl.col(self.numerator).cast(pl.Float64) if self.denominator else pl.col(self.numerator)
        if self.denominator is None:
            return (num * self.scale if self.scale != 1.0 else num).alias(self.name)
        den = pl.col(self.denominator).cast(pl.Float64)
        value = pl.when(den > 0).then(num / den * self.scale).otherwise(None)
        return value.alias(self.name)

    @property
    def bases(self) -> tuple[str, ...]:
        """Return the base measures this KPI needs."""
        return tuple(b for b in (self.numerator, self.denominator) if b)


def _m(*args, **kwargs) -> Metric:  # type: ignore[no-untyped-def]
    return Metric(*args, **kwargs)


_DEFS: list[Metric] = [
    _m(
        "gmv",
        "成交金额",
        "GMV",
        "fen",
        "sum",
        "gmv_fen",
        definition="Amount paid on paid order lines; refunds and cancellations not deducted.",
        note="直播间成交金额 / 支付金额: presale counts on the day of the final payment.",
    ),
    _m(
        "net_gmv",
        "净成交金额",
        "Net GMV (GSV)",
        "fen",
        "sum",
        "net_gmv_fen",
        definition="GMV minus refunds and paid-then-cancelled amounts; provisional until the after-sale window closes.",
    ),
    _m("refunds", "退款金额", "Refunds", "fen", "sum", "refund_fen", definition="Amount refunded on paid lines."),
    _m("orders", "成交订单数", "Orders", "count", "sum", "orders", definition="Paid orders."),
    _m("units", "成交件数", "Units", "count", "sum", "units", definition="Units on paid order lines."),
    _m(
        "buyers",
        "成交人数",
        "Buyers",
        "count",
        "sum",
        "buyers",
        definition="Paying buyers, distinct within a day and host, summed over days and hosts.",
        note="A buyer who pays on two days counts twice, as in the platforms' daily figures.",
    ),
    _m(
        "aov",
        "客单价",
        "AOV (per buyer)",
        "fen",
        "ratio",
        "gmv_fen",
        "buyers",
        definition="GMV / paying buyers (客单价). Per-order value is order_value (笔单价).",
    ),
    _m(
        "order_value", "笔单价", "Value per order", "fen", "ratio", "gmv_fen", "orders", definition="GMV / paid orders."
    ),
    _m(
        "refund_rate_amount",
        "退款率(金额)",
        "Refund rate (amount)",
        "ratio",
        "ratio",
        "refund_fen",
        "gmv_fen",
        definition="Refunded amount / GMV.",
    ),
    _m(
        "refund_rate_orders",
        "退款率(订单)",
        "Refund rate (orders)",
        "ratio",
        "ratio",
        "refunded_orders",
        "orders",
        definition="Paid orders with a refund / paid orders.",
    ),
    _m(
        "cancellation_rate",
        "取消率",
        "Cancellation rate",
        "ratio",
        "ratio",
        "cancelled_orders",
        "orders",
        definition="Paid orders cancelled in full / paid orders.",
    ),
    _m("sessions", "直播场次", "Sessions", "count", "sum", "sessions", definition="Live sessions."),
    _m(
        "effective_sessions",
        "有效直播场次",
        "Effective sessions",
        "count",
        "sum",
        "effective_sessions",
        definition="Live sessions of 30 minutes or more.",
    ),
    _m(
        "live_hours",
        "直播时长(小时)",
        "Live hours",
        "hours",
        "sum",
        "live_minutes",
        None,
        1 / 60,
        definition="Time live, in hours.",
    ),
    _m("views", "观看次数", "Views", "count", "sum", "views", definition="Room entries (观看次数)."),
    _m(
        "viewers",
        "观看人数",
        "Viewers",
        "count",
        "sum",
        "viewers",
        definition="Distinct viewers per session, summed over sessions.",
    ),
    _m(
        "peak_online",
        "最高在线人数",
        "Peak concurrent viewers",
        "count",
        "max",
        "peak_online",
        definition="Maximum of the per-minute online count.",
    ),
    _m(
        "avg_online",
        "平均在线人数",
        "Average concurrent viewers",
        "count",
        "ratio",
        "online_minutes",
        "live_minutes",
        definition="Mean of the per-minute online count over live minutes.",
    ),
    _m(
        "avg_watch_seconds",
        "人均观看时长",
        "Average watch time",
        "seconds",
        "ratio",
        "watch_seconds",
        "viewers",
        definition="Total watch time / viewers.",
    ),
    _m(
        "new_followers",
        "新增粉丝数",
        "New followers",
        "count",
        "sum",
        "new_followers",
        definition="Follows in the room, not reduced by later unfollows.",
    ),
    _m(
        "follow_rate",
        "关注率",
        "Follow rate",
        "ratio",
        "ratio",
        "new_followers",
        "viewers",
        definition="New followers / viewers.",
    ),
    _m(
        "interaction_rate",
        "观看-互动率(人数)",
        "Interaction rate",
        "ratio",
        "ratio",
        "interacting_viewers",
        "viewers",
        definition="Viewers who liked, commented or shared / viewers.",
    ),
    _m(
        "product_ctr",
        "商品曝光-点击率(人数)",
        "Product click-through rate",
        "ratio",
        "ratio",
        "product_clickers",
        "product_exposed_viewers",
        definition="Product clickers / viewers a product was shown to.",
    ),
    _m(
        "click_to_order",
        "商品点击-成交率(人数)",
        "Click-to-order conversion",
        "ratio",
        "ratio",
        "live_buyers",
        "product_clickers",
        definition="Paying buyers / product clickers.",
    ),
    _m(
        "watch_to_order",
        "观看-成交率(人数)",
        "Watch-to-order conversion",
        "ratio",
        "ratio",
        "live_buyers",
        "viewers",
        definition="Paying buyers / viewers.",
    ),
    _m(
        "gpm",
        "千次观看成交金额",
        "GPM (per 1,000 views)",
        "fen_per_1000_views",
        "ratio",
        "live_gmv_fen",
        "views",
        1000.0,
        definition="Live GMV (credited to a host) / views × 1000.",
        note="Per view, as the platforms define it; some tools divide by viewers.",
    ),
    _m(
        "uv_value",
        "UV价值",
        "UV value",
        "fen",
        "ratio",
        "live_gmv_fen",
        "viewers",
        definition="Live GMV (credited to a host) / viewers.",
    ),
    _m(
        "gmv_per_live_hour",
        "小时成交额",
        "GMV per live hour",
        "fen_per_hour",
        "ratio",
        "live_gmv_fen",
        "live_minutes",
        60.0,
        definition="Live GMV / hours live; ranks hosts fairly across shift lengths.",
    ),
    _m(
        "explain_gpm_inside",
        "讲解时段每分钟成交",
        "GMV per minute in explain windows",
        "fen",
        "ratio",
        "explain_gmv_fen",
        "explain_minutes",
        definition="GMV inside a product's explain windows / their minutes.",
    ),
    _m(
        "explain_gpm_outside",
        "非讲解时段每分钟成交",
        "GMV per minute outside explain windows",
        "fen",
        "ratio",
        "outside_gmv_fen",
        "outside_minutes",
        definition="Live GMV outside explain windows / those minutes.",
    ),
]

#: the registry: KPI name -> Metric
METRICS: dict[str, Metric] = {m.name: m for m in _DEFS}


def metric(name: str) -> Metric:
    """Return the registered KPI ``name``; raises KeyError listing the known names."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown KPI {name!r}; known: {', '.join(METRICS)}") from None


def _with_derived_bases(frame: pl.DataFrame) -> pl.DataFrame:
    if "net_gmv_fen" not in frame.columns and "gmv_fen" in frame.columns:
        parts = [pl.col("gmv_fen")]
        for col in ("refund_fen", "cancelled_fen"):
            if col in frame.columns:
                parts.append(-pl.col(col).fill_null(0))
        frame = frame.with_columns(pl.sum_horizontal(parts).alias("net_gmv_fen"))
    return frame


def kpis(frame: pl.DataFrame, names: Iterable[str] | None = None, by: Sequence[str] = ()) -> pl.DataFrame:
    """Return one row per ``by`` group (one row overall when empty) with the requested KPIs.

    ``frame`` holds base measures (see :data:`BASE_MEASURES`), one row per day, session or
    host. Bases are summed (``peak_online``: max) over each group first, then each ratio is
    computed once from the sums. KPIs whose bases are absent from ``frame`` are skipped;
    money KPIs stay in fen.
    """
    frame = _with_derived_bases(frame)
    wanted = [metric(n) for n in (names or METRICS)]
    present = set(frame.columns)
    chosen = [m for m in wanted if all(b in present for b in m.bases)]
    bases = sorted({b for m in chosen for b in m.bases})
    aggs = [(pl.col(b).max() if BASE_MEASURES.get(b) == "max" else pl.col(b).sum()).alias(b) for b in bases]
    grouped = frame.group_by(list(by), maintain_order=True).agg(aggs) if by else frame.select(aggs)
    out = grouped.with_columns([m.expr() for m in chosen])
    return out.select([*by, *[m.name for m in chosen]])


MONEY_UNITS = frozenset({"fen", "fen_per_1000_views", "fen_per_hour"})


def in_yuan(values: dict[str, object]) -> dict[str, object]:
    """Return ``values`` (KPI name → value) with money KPIs converted from fen to yuan (2 places)."""
    out: dict[str, object] = {}
    for name, value in values.items():
        base = name.removesuffix("_prev")
        m = METRICS.get(base)
        if m is not None and m.unit in MONEY_UNITS and isinstance(value, int | float):
            out[name] = round(value / 100.0, 2)
        else:
            out[name] = value
    return out


def markdown_table() -> str:
    """Return the registry as the Markdown table kept in docs/metrics.md."""
    lines = [
        "| name | 中文 | English | unit | aggregation | numerator | denominator | definition |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in METRICS.values():
        den = f"`{m.denominator}`" if m.denominator else "—"
        scale = f" ×{m.scale:g}" if m.scale != 1.0 else ""
        text = f"{m.definition} {m.note}".strip()
        cells = [f"`{m.name}`", m.label_zh, m.label_en, m.unit, m.agg, f"`{m.numerator}`", f"{den}{scale}", text]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m livecommerce.metrics > table for docs/metrics.md
    print(markdown_table())
