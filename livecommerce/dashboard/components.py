"""Small component factories shared by the pages and the callbacks: translated text, sections,
KPI cards, the filter bar, graphs and tables. All text is passed as text (never as HTML)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from dash import dash_table, dcc, html
from dash.dash_table.Format import Format, Group, Scheme, Symbol

from livecommerce.dashboard import ids
from livecommerce.dashboard.i18n import kpi_label, kpi_text, percent, t
from livecommerce.schemas import PLATFORMS

__all__ = ["columns", "filter_bar", "graph", "kpi_cards", "picker", "section", "table", "text"]


def text(key: str, lang: str, tag: type[html.Span] = html.Span, **kwargs: Any) -> html.Span:
    """Return ``tag`` showing string ``key`` in ``lang``; the frame's language callback rewrites it."""
    return tag(t(key, lang), id=ids.text(key), **kwargs)


def section(key: str, lang: str, *children: Any, wide: bool = False) -> html.Section:
    """Return a titled card holding ``children`` (``wide`` spans the whole grid row)."""
    return html.Section([text(key, lang, html.H2), *children], className="card wide" if wide else "card")


def graph(component_id: str, *, height: int = 320) -> dcc.Loading:
    """Return a responsive graph (resizes with its card, no mode bar) inside a loading indicator."""
    return dcc.Loading(
        dcc.Graph(
            id=component_id,
            responsive=True,
            config={"displayModeBar": False, "responsive": True},
            style={"height": f"{height}px", "width": "100%"},
        ),
        type="dot",
    )


def table(component_id: str, *, page_size: int = 10, sortable: bool = True) -> dash_table.DataTable:
    """Return a data table that scrolls inside itself (never widens the page), natively sortable."""
    return dash_table.DataTable(
        id=component_id,
        data=[],
        columns=[],
        sort_action="native" if sortable else "none",
        page_size=page_size,
        style_table={"overflowX": "auto", "maxWidth": "100%"},
        style_cell={"textAlign": "left", "padding": "4px 8px", "fontSize": "13px", "whiteSpace": "nowrap"},
        style_header={"fontWeight": "600"},
    )


def picker(component_id: str, options: list[dict[str, str]], value: str | None, placeholder: str) -> dcc.Dropdown:
    """Return a single-choice dropdown (hosts, counties, products, sessions)."""
    return dcc.Dropdown(
        id=component_id,
        options=options,
        value=value,
        clearable=False,
        placeholder=placeholder,
        className="picker",
    )


#: KPIs for which a rise is bad news (shown red when they go up)
LOWER_IS_BETTER = frozenset({"refunds", "refund_rate_amount", "refund_rate_orders", "cancellation_rate"})


def _change(name: str, value: Any, before: Any) -> tuple[str, str]:
    if not isinstance(value, int | float) or not isinstance(before, int | float) or not before:
        return "", "change"
    rel = (value - before) / before
    good = rel < 0 if name in LOWER_IS_BETTER else rel > 0
    return percent(rel, signed=True), "change" if rel == 0 else ("change up" if good else "change down")


def kpi_cards(row: Mapping[str, Any], names: Sequence[str], lang: str, page: str) -> list[html.Div]:
    """Return one card per KPI in ``names`` from a ``queries.kpi_report`` row (money in fen): label,
    value as ``reports.format_kpi`` prints it, change vs the previous period and, for GMV per live
    hour of a host, the position among the county's hosts."""
    cards = []
    for name in names:
        if name not in row:
            continue
        change, css = _change(name, row.get(name), row.get(f"{name}_prev"))
        body: list[Any] = [
            html.Div(kpi_label(name, lang), className="kpi-label"),
            html.Div(kpi_text(name, row.get(name), lang), id=ids.kpi_value(page, name), className="kpi-value"),
        ]
        if change:
            body.append(html.Div(f"{t('vs_prev', lang)} {change}", className=css))
        if name == "gmv_per_live_hour" and row.get("percentile_gmv_per_live_hour") is not None:
            body.append(
                html.Div(
                    f"{t('county_position', lang)}: {percent(row['percentile_gmv_per_live_hour'])} "
                    f"{t('percentile', lang)}"
                    f" · {t('county_median', lang)} {kpi_text(name, row.get('county_median_gmv_per_live_hour'), lang)}",
                    className="position",
                )
            )
        cards.append(html.Div(body, className="kpi-card"))
    return cards


def filter_bar(lang: str, start: dt.date | None, end: dt.date | None) -> html.Div:
    """Return the frame's filter bar: a local date range and a platform (empty = all platforms)."""
    platform_options = [
        {"label": (en if lang == "en" else zh), "value": pid} for pid, (zh, en, _live) in PLATFORMS.items()
    ]
    return html.Div(
        [
            html.Label([text("dates", lang), " "], className="filter-label"),
            dcc.DatePickerRange(
                id=ids.DATES,
                start_date=start.isoformat() if start else None,
                end_date=end.isoformat() if end else None,
                display_format="YYYY-MM-DD",
                clearable=True,
                persistence=True,
                className="dates",
            ),
            dcc.Dropdown(
                id=ids.PLATFORM,
                options=platform_options,
                value=None,
                placeholder=t("all_platforms", lang),
                persistence=True,
                className="platform",
            ),
        ],
        className="filter-bar",
    )


def columns(spec: Sequence[tuple[str, str, str]], lang: str) -> list[dict[str, Any]]:
    """Return DataTable column definitions from (field, string key or KPI name, kind) triples in
    ``lang``; kind ``money`` (yuan, ¥ with two decimals), ``ratio`` (percent), ``count`` or ``text``.
    Numbers stay numbers so the table sorts them as numbers."""
    out: list[dict[str, Any]] = []
    for field, key, kind in spec:
        label = t(key, lang) if key.startswith("col_") else kpi_label(key, lang)
        col: dict[str, Any] = {"id": field, "name": label}
        if kind == "money":
            col.update(
                type="numeric",
                format=Format(precision=2, scheme=Scheme.fixed, group=Group.yes, symbol=Symbol.yes, symbol_prefix="¥"),
            )
        elif kind == "ratio":
            col.update(type="numeric", format=Format(precision=1, scheme=Scheme.percentage))
        elif kind == "count":
            col.update(type="numeric", format=Format(group=Group.yes))
        else:
            col.update(type="text")
        out.append(col)
    return out
