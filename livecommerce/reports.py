"""Reports rendered for people: KPI documents for the CLI and JSON, and the daily chat-group text.

Built on :mod:`livecommerce.queries` (the numbers) and :mod:`livecommerce.metrics` (the names and
units), so a report shows exactly what the dashboard shows for the same inputs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from livecommerce.metrics import METRICS, MONEY_UNITS, in_yuan
from livecommerce.money import format_yuan
from livecommerce.queries import Filters, Level, kpi_report
from livecommerce.scope import Scope
from livecommerce.warehouse.tables import County, Host

__all__ = ["daily_text", "format_kpi", "kpi_document"]

_POSITION = ("county_id", "county_median_gmv_per_live_hour", "percentile_gmv_per_live_hour")


def kpi_document(
    engine: Engine, scope: Scope, level: Level, key: str | None, filters: Filters
) -> dict[str, Any] | None:
    """Return the report for ``level``/``key`` as a JSON-ready document (money in yuan), or None
    when there is nothing the scope may see. Keys: level, key, from, to, platform, currency,
    kpis (registry names), previous, change (relative, vs the previous period), position, labels."""
    frame = kpi_report(engine, scope, level, key, filters)
    if frame.is_empty():
        return None
    row = frame.row(0, named=True)
    names = [n for n in METRICS if n in row]
    current = in_yuan({n: row[n] for n in names})
    previous = in_yuan({n: row.get(f"{n}_prev") for n in names}) if f"{names[0]}_prev" in row else {}
    change = {}
    for n in names:
        now, before = row.get(n), row.get(f"{n}_prev")
        change[n] = (now - before) / before if isinstance(now, int | float) and before else None
    position = {k: row.get(k) for k in _POSITION if k in row}
    if position.get("county_median_gmv_per_live_hour") is not None:
        position["county_median_gmv_per_live_hour"] = round(position["county_median_gmv_per_live_hour"] / 100, 2)
    return {
        "level": level,
        "key": key,
        "from": filters.start.isoformat() if filters.start else None,
        "to": filters.end.isoformat() if filters.end else None,
        "platform": filters.platform,
        "currency": "CNY (yuan)",
        "kpis": current,
        "previous": previous,
        "change": change if previous else {},
        "position": position,
        "labels": {n: {"zh": METRICS[n].label_zh, "en": METRICS[n].label_en} for n in names},
    }


def format_kpi(name: str, value: object, lang: str = "zh") -> str:
    """Return ``value`` of KPI ``name`` as display text: ¥ (万 in Chinese) for money given in yuan,
    percentages for rates, thousands separators for counts; ``—`` when missing."""
    if value is None:
        return "—"
    m = METRICS.get(name)
    unit = m.unit if m else "count"
    if unit in MONEY_UNITS:
        return format_yuan(round(float(value) * 100), lang=lang)  # type: ignore[arg-type]
    if unit == "ratio":
        return f"{float(value):.2%}"  # type: ignore[arg-type]
    if unit == "seconds":
        secs = round(float(value))  # type: ignore[arg-type]
        return f"{secs // 60}分{secs % 60}秒" if lang.startswith("zh") else f"{secs // 60}m {secs % 60}s"
    if unit == "hours":
        return f"{float(value):.1f}"  # type: ignore[arg-type]
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


_DAILY_LINES: tuple[tuple[str, ...], ...] = (
    ("gmv", "refunds", "net_gmv"),
    ("orders", "buyers", "aov"),
    ("views", "viewers", "gpm", "uv_value"),
    ("watch_to_order", "refund_rate_amount", "new_followers"),
    ("sessions", "effective_sessions", "live_hours"),
)


def daily_text(engine: Engine, scope: Scope, host_id: str, day: dt.date, lang: str = "zh") -> str | None:
    """Return the daily report of ``host_id`` for local ``day`` as the text sellers paste into chat
    groups (Chinese by default, ``lang='en'`` for English), or None when the host is out of scope."""
    doc = kpi_document(engine, scope, "host", host_id, Filters(day, day))
    if doc is None:
        return None
    with engine.connect() as conn:
        h, c = Host.__table__, County.__table__
        row = conn.execute(
            select(h.c.name, c.c.name_zh, c.c.name_en)
            .outerjoin(c, c.c.county_id == h.c.county_id)
            .where(h.c.host_id == host_id)
        ).first()
    name = row.name if row else host_id
    zh = lang.startswith("zh")
    county = (row.name_zh if zh else row.name_en) if row and row.name_zh else ""
    kpis = doc["kpis"]
    label = (lambda n: METRICS[n].label_zh) if zh else (lambda n: METRICS[n].label_en)
    sep = "：" if zh else ": "
    title = (
        f"【{county}·{name} 日报】{day.isoformat()}" if zh else f"[{county} · {name} daily report] {day.isoformat()}"
    )
    lines = [title]
    for group in _DAILY_LINES:
        cells = [f"{label(n)}{sep}{format_kpi(n, kpis.get(n), lang)}" for n in group if n in kpis]
        lines.append(" · ".join(cells))
    change = doc["change"].get("gmv")
    if change is not None:
        lines.append(f"较前一日成交金额 {change:+.1%}" if zh else f"GMV vs previous day {change:+.1%}")
    lines.append(
        "注：净成交在售后期结束前为暂估。" if zh else "Note: net GMV is provisional until the after-sale window closes."
    )
    return "\n".join(lines)
