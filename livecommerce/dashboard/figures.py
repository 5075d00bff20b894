"""Pure figure builders: polars frames in, plotly figures out. No database, no Dash.

Money arrives in fen (as the queries return it) and is drawn in yuan; times arrive in UTC and are
drawn in Asia/Shanghai wall time. Every builder takes the language of its labels and returns a
figure that resizes with its container (``autosize``, no fixed width).
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from livecommerce.config import LOCAL_TZ
from livecommerce.dashboard.i18n import kpi_label, t, weekday
from livecommerce.schemas import PLATFORMS

__all__ = [
    "bars",
    "daily_trend",
    "empty",
    "forecast_fan",
    "funnel",
    "platform_trend",
    "profit_curve",
    "session_replay",
    "slot_heatmap",
    "warm",
]

_COLOURS = ("#c0392b", "#2e86c1", "#27ae60", "#8e44ad", "#d68910", "#566573")


def _base(fig: go.Figure, *, height: int = 320, legend: bool = True) -> go.Figure:
    fig.update_layout(
        autosize=True,
        height=height,
        margin={"l": 48, "r": 12, "t": 16, "b": 40},
        template="plotly_white",
        font={"family": "system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', sans-serif", "size": 12},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        hovermode="x unified",
    )
    return fig


def empty(message: str) -> go.Figure:
    """Return a blank figure showing ``message`` in its middle (no data for the selection)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base(fig, height=200, legend=False)


#: the trace types the builders draw (:func:`warm` draws one of each)
TRACE_TYPES = (go.Scatter, go.Bar, go.Funnel, go.Heatmap)


def warm() -> list[str]:
    """Draw one tiny figure with a trace of each type the builders use, on their common layout, and serialise
    it: plotly loads the validators of a trace type the first time one is drawn (a process's first forecast fan
    took 130 ms, the next 20 ms), so a serving process pays it at start-up instead of its first viewer.
    Return the trace types drawn."""
    fig = _base(go.Figure([kind() for kind in TRACE_TYPES]))
    fig.update_xaxes(visible=True)
    fig.update_yaxes(visible=True)
    fig.add_annotation(text="", showarrow=False)
    fig.to_plotly_json()
    return [trace.type for trace in fig.data]


def _yuan(col: str) -> pl.Expr:
    return (pl.col(col).cast(pl.Float64) / 100.0).alias(col)


def daily_trend(trend: pl.DataFrame, lang: str) -> go.Figure:
    """Return a line chart of daily GMV and net GMV (yuan) from ``queries.daily_trend`` rows."""
    if trend.is_empty():
        return empty(t("no_data", lang))
    data = trend.sort("day").with_columns(_yuan("gmv"), _yuan("net_gmv"))
    fig = go.Figure()
    for i, name in enumerate(("gmv", "net_gmv")):
        fig.add_trace(
            go.Scatter(
                x=data["day"].to_list(),
                y=data[name].to_list(),
                name=kpi_label(name, lang),
                mode="lines",
                line={"color": _COLOURS[i], "width": 2},
            )
        )
    fig.update_yaxes(tickprefix="¥", rangemode="tozero")
    return _base(fig)


def platform_trend(trend: pl.DataFrame, lang: str) -> go.Figure:
    """Return daily GMV (yuan) stacked by platform from ``queries.daily_trend(by_platform=True)`` rows."""
    if trend.is_empty():
        return empty(t("no_data", lang))
    data = trend.sort("day").with_columns(_yuan("gmv"))
    fig = go.Figure()
    for i, platform in enumerate(sorted(data["platform_id"].unique().to_list())):
        part = data.filter(pl.col("platform_id") == platform)
        names = PLATFORMS.get(platform, (platform, platform, False))
        fig.add_trace(
            go.Scatter(
                x=part["day"].to_list(),
                y=part["gmv"].to_list(),
                name=names[1] if lang == "en" else names[0],
                mode="lines",
                stackgroup="gmv",
                line={"color": _COLOURS[i % len(_COLOURS)], "width": 1},
            )
        )
    fig.update_yaxes(tickprefix="¥", rangemode="tozero")
    return _base(fig)


def bars(data: pl.DataFrame, label: str, value: str, lang: str, *, money: bool = True, limit: int = 12) -> go.Figure:
    """Return horizontal bars of ``value`` per ``label`` (largest on top, at most ``limit``); money
    columns (fen) are drawn in yuan."""
    if data.is_empty() or label not in data.columns:
        return empty(t("no_data", lang))
    part = data.sort(value, descending=True).head(limit)
    xs = (part[value].cast(pl.Float64) / 100.0) if money else part[value]
    labels = [str(x) if x is not None else "—" for x in part[label].to_list()]
    fig = go.Figure(
        go.Bar(
            x=xs.to_list()[::-1],
            y=labels[::-1],
            orientation="h",
            marker={"color": _COLOURS[1]},
            hovertemplate="%{y}: %{x:,.2f}<extra></extra>" if money else "%{y}: %{x:,}<extra></extra>",
        )
    )
    if money:
        fig.update_xaxes(tickprefix="¥")
    fig.update_yaxes(automargin=True)
    fig.update_layout(hovermode="closest")
    return _base(fig, height=max(200, 28 * part.height + 60), legend=False)


def funnel(steps: pl.DataFrame, lang: str) -> go.Figure:
    """Return the live funnel (viewers → product exposed → clickers → buyers) from ``queries.funnel``."""
    if steps.is_empty() or not steps["people"].sum():
        return empty(t("no_data", lang))
    labels = {
        "viewers": kpi_label("viewers", lang),
        "product_exposed_viewers": "商品曝光人数" if lang != "en" else "Saw a product",
        "product_clickers": "商品点击人数" if lang != "en" else "Clicked a product",
        "live_buyers": "成交人数" if lang != "en" else "Bought",
    }
    fig = go.Figure(
        go.Funnel(
            y=[labels.get(s, s) for s in steps["step"].to_list()],
            x=steps["people"].to_list(),
            textinfo="value+percent previous",
            marker={"color": list(_COLOURS[: steps.height])},
        )
    )
    fig.update_yaxes(automargin=True)
    fig.update_layout(hovermode="closest")
    return _base(fig, height=260, legend=False)


def slot_heatmap(slots: pl.DataFrame, lang: str) -> go.Figure:
    """Return a weekday × local start hour heatmap of GPM (yuan per 1,000 views) from ``queries.slot_heatmap``."""
    if slots.is_empty() or "gpm" not in slots.columns:
        return empty(t("no_data", lang))
    hours = sorted(slots["hour"].unique().to_list())
    days = list(range(7))
    grid: list[list[float | None]] = [[None] * len(hours) for _ in days]
    sessions: list[list[int]] = [[0] * len(hours) for _ in days]
    for row in slots.iter_rows(named=True):
        j = hours.index(row["hour"])
        grid[row["weekday"]][j] = row["gpm"] / 100.0 if row["gpm"] is not None else None
        sessions[row["weekday"]][j] = row["sessions"]
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=[f"{h:02d}:00" for h in hours],
            y=[weekday(d, lang) for d in days],
            customdata=sessions,
            colorscale="YlOrRd",
            hoverongaps=False,
            colorbar={"title": {"text": "¥"}, "thickness": 10},
            hovertemplate="%{y} %{x}: ¥%{z:,.2f} (%{customdata})<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(hovermode="closest")
    return _base(fig, height=280, legend=False)


def _local(col: str) -> pl.Expr:
    return pl.col(col).dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None).alias(col)


def session_replay(minutes: pl.DataFrame, explains: pl.DataFrame, prices: pl.DataFrame, lang: str) -> go.Figure:
    """Return a session's minute curve: viewers online (line) and orders per minute (bars, right
    axis), product explain windows shaded and labelled, price changes marked — in Beijing time.
    Frames as ``queries.session_curve`` returns them."""
    if minutes.is_empty():
        return empty(t("no_data", lang))
    m = minutes.sort("minute_utc").with_columns(_local("minute_utc"))
    fig = go.Figure()
    if "online" in m.columns:
        fig.add_trace(
            go.Scatter(
                x=m["minute_utc"].to_list(),
                y=m["online"].to_list(),
                name=t("online", lang),
                mode="lines",
                line={"color": _COLOURS[1], "width": 2},
            )
        )
    if "orders" in m.columns:
        fig.add_trace(
            go.Bar(
                x=m["minute_utc"].to_list(),
                y=m["orders"].to_list(),
                name=t("orders_per_minute", lang),
                marker={"color": _COLOURS[0]},
                opacity=0.6,
                yaxis="y2",
            )
        )
    if not explains.is_empty():
        e = explains.with_columns(_local("explain_start_utc"), _local("explain_end_utc"))
        for i, row in enumerate(e.iter_rows(named=True)):
            end = row["explain_end_utc"] or m["minute_utc"].max()
            fig.add_vrect(
                x0=row["explain_start_utc"],
                x1=end,
                fillcolor=_COLOURS[2 + i % 3],
                opacity=0.12,
                line_width=0,
                layer="below",
            )
        fig.add_trace(
            go.Scatter(
                x=e["explain_start_utc"].to_list(),
                y=[0] * e.height,
                mode="markers",
                marker={"symbol": "triangle-up", "size": 9, "color": _COLOURS[2]},
                name=t("explaining", lang),
                text=[str(x) for x in e["title"].to_list()] if "title" in e.columns else None,
                hovertemplate="%{text}<extra></extra>",
            )
        )
    if not prices.is_empty() and "price_fen" in prices.columns:
        p = prices.with_columns(_local("explain_start_utc"))
        fig.add_trace(
            go.Scatter(
                x=p["explain_start_utc"].to_list(),
                y=[(v or 0) / 100.0 for v in p["price_fen"].to_list()],
                mode="markers+text",
                marker={"symbol": "diamond", "size": 8, "color": _COLOURS[4]},
                text=[f"¥{(v or 0) / 100:.2f}" for v in p["price_fen"].to_list()],
                textposition="top center",
                textfont={"size": 9},
                name=t("price_change", lang),
                yaxis="y3",
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis={"title": {"text": t("time_local", lang)}},
        yaxis={"title": {"text": t("online", lang)}, "rangemode": "tozero"},
        yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False},
        yaxis3={"overlaying": "y", "visible": False, "rangemode": "tozero"},
        bargap=0,
    )
    return _base(fig, height=360)


def forecast_fan(history: pl.DataFrame, forecast: pl.DataFrame, quantiles: list[str], lang: str) -> go.Figure:
    """Return demand history (``ds``, ``y``) with the forecast fan: one band per symmetric pair of
    quantile columns in ``quantiles`` (e.g. ``q0.1``/``q0.9``) around the median ``q0.5``."""
    if history.is_empty():
        return empty(t("no_data", lang))
    fig = go.Figure()
    h = history.sort("ds")
    fig.add_trace(
        go.Scatter(
            x=h["ds"].to_list(), y=h["y"].to_list(), name=t("history", lang), mode="lines", line={"color": _COLOURS[5]}
        )
    )
    if not forecast.is_empty():
        f = forecast.sort("ds")
        taus = sorted(quantiles, key=lambda q: float(q[1:]))
        pairs = [(taus[i], taus[-1 - i]) for i in range(len(taus) // 2)]
        for k, (lo, hi) in enumerate(pairs):
            fig.add_trace(
                go.Scatter(x=f["ds"].to_list(), y=f[hi].to_list(), mode="lines", line={"width": 0}, showlegend=False)
            )
            fig.add_trace(
                go.Scatter(
                    x=f["ds"].to_list(),
                    y=f[lo].to_list(),
                    mode="lines",
                    line={"width": 0},
                    fill="tonexty",
                    fillcolor=f"rgba(46,134,193,{0.15 + 0.15 * k})",
                    name=f"{t('band', lang)} {lo[1:]}–{hi[1:]}",
                )
            )
        mid = "q0.5" if "q0.5" in f.columns else "mean"
        fig.add_trace(
            go.Scatter(
                x=f["ds"].to_list(),
                y=f[mid].to_list(),
                name=t("median", lang),
                mode="lines",
                line={"color": _COLOURS[1], "width": 2},
            )
        )
    fig.update_yaxes(rangemode="tozero")
    return _base(fig)


def profit_curve(curve: pl.DataFrame, price: float | None, current: float | None, lang: str) -> go.Figure:
    """Return expected profit per session (yuan) against price with its range (``profit_low`` /
    ``profit_high``), the recommended ``price`` and the ``current`` price marked."""
    if curve.is_empty() or curve["expected_profit"].null_count() == curve.height:
        return empty(t("not_available", lang))
    c = curve.sort("price")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=c["price"].to_list(), y=c["profit_high"].to_list(), mode="lines", line={"width": 0}, showlegend=False
        )
    )
    fig.add_trace(
        go.Scatter(
            x=c["price"].to_list(),
            y=c["profit_low"].to_list(),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(39,174,96,0.2)",
            name=t("band", lang),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=c["price"].to_list(),
            y=c["expected_profit"].to_list(),
            mode="lines",
            name=t("profit", lang),
            line={"color": _COLOURS[2], "width": 2},
        )
    )
    for x, dash, colour in ((price, "solid", _COLOURS[0]), (current, "dot", _COLOURS[5])):
        if x is not None:
            fig.add_vline(x=x, line_dash=dash, line_color=colour)
    fig.update_xaxes(title={"text": t("price_axis", lang)}, tickprefix="¥")
    fig.update_yaxes(tickprefix="¥")
    return _base(fig)
