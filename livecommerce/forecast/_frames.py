"""Input at the boundary: polars or pandas in, one checked, regular polars panel out.

Everything the core trusts is established here, and every problem found is reported at once.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from livecommerce.forecast.errors import ForecastInputError, Problem

# internal column names (the user's names are restored on output)
UID, DS, Y = "unique_id", "ds", "y"
_OBS = "_observed"

Missing = Literal["zero", "interpolate", "error"]

_FREQ_RE = re.compile(r"^(\d+)(mo|w|d|h|m|s|y)$")
_SEASON = {"d": 7, "w": 52, "mo": 12, "h": 24, "y": 1, "m": 60, "s": 1}


@dataclass
class Panel:
    """A checked, regular panel: history rows (y filled) then ``h`` horizon rows (y null) per series."""

    frame: pl.DataFrame
    exog: tuple[str, ...]  # regressors known for the horizon (used by models that take regressors)
    freq: str
    season_length: int
    notes: dict[Any, list[str]] = field(default_factory=dict)
    id_col: str = UID
    time_col: str = DS
    target_col: str = Y


def to_polars(frame: Any, what: str) -> pl.DataFrame:
    """Return ``frame`` as a polars DataFrame (polars or pandas accepted)."""
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(frame, pd.DataFrame):
        return pl.from_pandas(frame.reset_index(drop=True))
    raise TypeError(f"{what} must be a polars or pandas DataFrame, got {type(frame).__name__}")


def _numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.Boolean


def parse_freq(freq: str) -> tuple[int, str]:
    """Split a polars duration such as ``1d``, ``1w``, ``1mo`` into ``(n, unit)``."""
    m = _FREQ_RE.match(freq)
    if not m:
        raise ForecastInputError(
            [Problem(None, f"freq {freq!r} is not a duration like '1d', '1w', '1mo'", f"频率 {freq!r} 无法识别")]
        )
    return int(m.group(1)), m.group(2)


def infer_freq(frame: pl.DataFrame) -> str:
    """The most common step between consecutive dates of the same series, as a polars duration."""
    steps = (
        frame.select(UID, DS)
        .unique()
        .sort(UID, DS)
        .select(pl.col(DS).diff().over(UID).alias("step"))
        .drop_nulls()
        .to_series()
    )
    if steps.len() == 0:
        raise ForecastInputError(
            [
                Problem(
                    None,
                    "cannot infer the frequency from one date per series; pass freq=",
                    "无法推断频率，请传入 freq=",
                )
            ]
        )
    step = Counter(steps.to_list()).most_common(1)[0][0]
    seconds = step.total_seconds()
    days = seconds / 86400
    if 28 <= days <= 31:
        return "1mo"
    if days in (365, 366):
        return "1y"
    if days >= 1 and days == int(days):
        return "1w" if days == 7 else f"{int(days)}d"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds)}s"


def season_for(freq: str) -> int:
    """Default season length: 7 for daily, 52 for weekly, 12 for monthly, 24 for hourly, else 1."""
    n, unit = parse_freq(freq)
    return _SEASON.get(unit, 1) if n == 1 else 1


def _ranges(start: pl.Expr, end: pl.Expr, freq: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Date:
        return pl.date_ranges(start, end, interval=freq)
    return pl.datetime_ranges(start, end, interval=freq)


def prepare(
    history: Any,
    h: int,
    future: Any = None,
    *,
    id_col: str = UID,
    time_col: str = DS,
    target_col: str = Y,
    freq: str | None = None,
    season_length: int | None = None,
    missing: Missing = "zero",
    carry_columns: tuple[str, ...] = ("price",),
    exog: tuple[str, ...] | None = None,
) -> Panel:
    """Check and regularise the input; raise :class:`ForecastInputError` listing every problem."""
    if not isinstance(h, int) or h < 1:
        raise ForecastInputError([Problem(None, f"h must be a positive integer, got {h!r}", f"h 必须是正整数：{h!r}")])
    if missing not in ("zero", "interpolate", "error"):
        raise ValueError(f"missing must be 'zero', 'interpolate' or 'error', got {missing!r}")
    hist = to_polars(history, "history")
    problems: list[Problem] = []
    absent = [c for c in (id_col, time_col, target_col) if c not in hist.columns]
    if absent:
        raise ForecastInputError(
            [Problem(None, f"history lacks column(s) {', '.join(absent)}", f"历史数据缺少列：{', '.join(absent)}")]
        )
    hist = hist.rename({id_col: UID, time_col: DS, target_col: Y})
    if hist.height == 0:
        raise ForecastInputError([Problem(None, "history is empty", "历史数据为空")])
    if not _numeric(hist.schema[Y]):
        raise ForecastInputError(
            [Problem(None, f"target column {target_col!r} is not numeric", f"目标列 {target_col!r} 不是数值")]
        )
    if not hist.schema[DS].is_temporal():
        raise ForecastInputError(
            [Problem(None, f"time column {time_col!r} is not a date or datetime", f"时间列 {time_col!r} 不是日期类型")]
        )
    ds_dtype = hist.schema[DS]
    hist_exog = [c for c in hist.columns if c not in (UID, DS, Y) and _numeric(hist.schema[c])]
    hist = hist.select(
        UID, DS, pl.col(Y).cast(pl.Float64).fill_nan(None), *[pl.col(c).cast(pl.Float64) for c in hist_exog]
    )

    for uid in hist.filter(pl.col(UID).is_null() | pl.col(DS).is_null()).select(UID).unique().to_series().to_list():
        problems.append(Problem(uid, "rows with a missing id or date", "存在缺少序列编号或日期的行"))
    hist = hist.filter(pl.col(UID).is_not_null() & pl.col(DS).is_not_null())

    dups = hist.group_by(UID, DS).len().filter(pl.col("len") > 1).sort(UID, DS)
    for uid, grp in dups.group_by(UID, maintain_order=True):
        dates = ", ".join(str(d) for d in grp[DS].head(3).to_list())
        problems.append(
            Problem(
                uid[0],
                f"{grp.height} duplicate date(s) ({dates}); aggregate to one row per date first",
                f"{grp.height} 个重复日期（{dates}）；请先按日期汇总为一行",
            )
        )
    negs = hist.filter(pl.col(Y) < 0).group_by(UID, maintain_order=True).agg(pl.len(), pl.col(Y).min()).sort(UID)
    for uid, n, lo in negs.iter_rows():
        problems.append(
            Problem(
                uid,
                f"{n} negative value(s) of {target_col} (lowest {lo:g}); pass gross units, refunds separately",
                f"{target_col} 有 {n} 个负值（最小 {lo:g}）；请使用未扣退款的销量",
            )
        )

    fut = None
    if future is not None:
        fut = to_polars(future, "future")
        absent = [c for c in (id_col, time_col) if c not in fut.columns]
        if absent:
            raise ForecastInputError(
                [Problem(None, f"future lacks column(s) {', '.join(absent)}", f"未来数据缺少列：{', '.join(absent)}")]
            )
        fut = fut.rename({id_col: UID, time_col: DS})
        unknown = [c for c in fut.columns if c not in (UID, DS, Y) and c not in hist.columns]
        if unknown:
            problems.append(
                Problem(
                    None,
                    f"future has column(s) not in history: {', '.join(unknown)}; a model cannot learn their effect",
                    f"未来数据中有历史数据没有的列：{', '.join(unknown)}；模型无法学习其作用",
                )
            )
        extra_ids = set(fut[UID].unique().to_list()) - set(hist[UID].unique().to_list())
        for uid in sorted(extra_ids, key=str):
            problems.append(Problem(uid, "in future but not in history", "出现在未来数据中，但历史数据中没有"))
        if fut.filter(pl.struct(UID, DS).is_duplicated()).height:
            problems.append(Problem(None, "future has duplicate (id, date) rows", "未来数据中有重复的（序列，日期）行"))
    if problems:
        raise ForecastInputError(problems)

    if fut is not None:
        used = tuple(c for c in hist_exog if c in fut.columns and _numeric(fut.schema[c]))
        unused = [c for c in hist_exog if c not in used]
    else:
        used = tuple(hist_exog) if exog is None else ()
        unused = [] if exog is None else list(hist_exog)
    if exog is not None:
        used = tuple(c for c in exog if c in hist_exog)
        unused = [c for c in hist_exog if c not in used]

    freq = freq or infer_freq(hist)
    parse_freq(freq)
    season = season_length or season_for(freq)

    # regular grid per series from its first to its last date
    bounds = hist.group_by(UID).agg(pl.col(DS).min().alias("_start"), pl.col(DS).max().alias("_end"))
    grid = bounds.select(UID, _ranges(pl.col("_start"), pl.col("_end"), freq, ds_dtype).alias(DS)).explode(DS)
    hist = hist.with_columns(pl.lit(True).alias(_OBS))
    off = hist.join(grid, on=[UID, DS], how="anti")
    if off.height:
        for uid, grp in off.group_by(UID, maintain_order=True):
            dates = ", ".join(str(d) for d in grp[DS].head(3).to_list())
            problems.append(
                Problem(
                    uid[0],
                    f"{grp.height} date(s) off the regular {freq} grid ({dates}); pass freq= or align the dates",
                    f"{grp.height} 个日期不在 {freq} 的规则网格上（{dates}）；请传入 freq= 或对齐日期",
                )
            )
        raise ForecastInputError(problems)
    full = grid.join(hist, on=[UID, DS], how="left").sort(UID, DS)
    notes: dict[Any, list[str]] = {}
    gap_counts = full.group_by(UID).agg(
        pl.col(_OBS).is_null().sum().alias("gaps"),
        (pl.col(_OBS).is_not_null() & pl.col(Y).is_null()).sum().alias("nans"),
    )
    for uid, gaps, nans in gap_counts.sort(UID).iter_rows():
        if missing == "error" and (gaps or nans):
            problems.append(
                Problem(
                    uid,
                    f"{gaps} missing period(s) and {nans} missing value(s) of {target_col}",
                    f"缺少 {gaps} 个周期，{target_col} 有 {nans} 个缺失值",
                )
            )
            continue
        how = "0" if missing == "zero" else "linear interpolation"
        if gaps:
            notes.setdefault(uid, []).append(f"{gaps} missing period(s) filled with {how}")
        if nans:
            notes.setdefault(uid, []).append(f"{nans} missing value(s) of {target_col} filled with {how}")
    if problems:
        raise ForecastInputError(problems)
    if missing == "zero":
        y_fill = pl.col(Y).fill_null(0.0)
    else:
        y_fill = pl.col(Y).interpolate().forward_fill().backward_fill().over(UID)
    fills = []
    for c in hist_exog:
        if c in carry_columns:
            fills.append(pl.col(c).forward_fill().over(UID))
        else:  # a period with no row had no session, no minutes, no promotion
            fills.append(pl.when(pl.col(_OBS).is_null()).then(pl.lit(0.0)).otherwise(pl.col(c)).alias(c))
    full = full.with_columns(y_fill, *fills).drop(_OBS)

    # horizon rows
    n, unit = parse_freq(freq)
    ends = bounds.select(UID, "_end")
    steps = pl.DataFrame({"_k": list(range(1, h + 1))})
    horizon = ends.join(steps, how="cross").select(
        UID, pl.col("_end").dt.offset_by(pl.format("{}" + unit, pl.col("_k") * n)).alias(DS)
    )
    if fut is not None and used:
        fut_x = fut.select(UID, pl.col(DS).cast(ds_dtype), *[pl.col(c).cast(pl.Float64) for c in used])
        horizon = horizon.join(fut_x, on=[UID, DS], how="left")
        short = horizon.group_by(UID).agg(pl.any_horizontal([pl.col(c).is_null() for c in used]).sum().alias("bad"))
        for uid, bad in short.filter(pl.col("bad") > 0).sort(UID).iter_rows():
            notes.setdefault(uid, []).append(f"future regressors missing on {bad} of {h} horizon periods")
    else:
        horizon = horizon.with_columns(*[pl.lit(None, dtype=pl.Float64).alias(c) for c in used])
    if unused:
        for uid in bounds[UID].to_list():
            notes.setdefault(uid, []).append(f"not used (no future values): {', '.join(unused)}")
    full = full.select(UID, DS, Y, *used)
    horizon = horizon.with_columns(pl.lit(None, dtype=pl.Float64).alias(Y)).select(UID, DS, Y, *used)
    frame = pl.concat([full, horizon]).sort(UID, DS)
    return Panel(frame, used, freq, season, notes, id_col, time_col, target_col)


# --- session-level history ----------------------------------------------------------------

#: the columns of a session frame (one row per session and product); ``y`` and ``sold_out`` only in history
SESSION_COLUMNS = ("session_id", "price", "explain_minutes", "live_minutes", "host_id", "sold_out")
_SESSION_REQUIRED = ("session_id", "price", "live_minutes", "host_id")
_SESSION_KNOWN = (UID, DS, Y, *SESSION_COLUMNS, "hour", "weekday")


def _session_frame(frame: Any, what: str, id_col: str, time_col: str, target_col: str, planned: bool) -> pl.DataFrame:
    df = to_polars(frame, what).rename({id_col: UID, time_col: DS, target_col: Y}, strict=False)
    need = [UID, DS, *_SESSION_REQUIRED] + ([] if planned else [Y])
    absent = [c for c in need if c not in df.columns]
    if absent:
        raise ForecastInputError(
            [Problem(None, f"{what} lacks column(s) {', '.join(absent)}", f"{what} 缺少列：{', '.join(absent)}")]
        )
    if not df.schema[DS].is_temporal():
        raise ForecastInputError(
            [Problem(None, f"{what}: {time_col!r} is not a datetime", f"{what}：{time_col!r} 不是日期时间")]
        )
    if planned or Y not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.Float64).alias(Y))
    for c, default in (("explain_minutes", None), ("sold_out", False)):
        if c not in df.columns or (planned and c == "sold_out"):
            df = df.with_columns(pl.lit(default).alias(c))
    dtype = df.schema[DS]
    ds = pl.col(DS).dt.replace_time_zone(None) if getattr(dtype, "time_zone", None) else pl.col(DS)
    return df.with_columns(ds.cast(pl.Datetime("us")).alias(DS)).with_columns(
        pl.col(DS).dt.hour().alias("hour"), (pl.col(DS).dt.weekday() - 1).alias("weekday")
    )


def prepare_sessions(
    sessions: Any,
    planned: Any,
    panel: Panel,
    *,
    id_col: str = UID,
    time_col: str = DS,
    target_col: str = Y,
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Check the session history (and planned sessions) and index them on each series' daily grid.

    Returns the checked frame (``_t`` = day index on the series' grid, ``_n_products`` = products in the
    session) and the extra numeric regressor columns (present in history and, when given, in ``planned``).
    Raises :class:`ForecastInputError` listing every problem.
    """
    hist = _session_frame(sessions, "sessions", id_col, time_col, target_col, planned=False)
    problems: list[Problem] = []
    extra = [c for c in hist.columns if c not in _SESSION_KNOWN and _numeric(hist.schema[c])]
    parts = [hist]
    if planned is not None:
        plan = _session_frame(planned, "planned", id_col, time_col, target_col, planned=True)
        unknown = [c for c in plan.columns if c not in _SESSION_KNOWN and c not in hist.columns]
        if unknown:
            problems.append(
                Problem(
                    None,
                    f"planned has column(s) not in sessions: {', '.join(unknown)}",
                    f"计划场次中有历史场次没有的列：{', '.join(unknown)}",
                )
            )
        extra = [c for c in extra if c in plan.columns]
        parts.append(plan)
    cols = [UID, DS, Y, *SESSION_COLUMNS, "hour", "weekday", *extra]
    frame = pl.concat(
        [
            p.select(
                pl.col(UID).cast(panel.frame.schema[UID]),
                pl.col(DS).cast(pl.Datetime("us")),
                pl.col(Y).cast(pl.Float64),
                pl.col("session_id").cast(pl.String),
                *[pl.col(c).cast(pl.Float64) for c in ("price", "explain_minutes", "live_minutes")],
                pl.col("host_id").cast(pl.String),
                pl.col("sold_out").cast(pl.Boolean),
                pl.col("hour").cast(pl.Int64),
                pl.col("weekday").cast(pl.Int64),
                *[pl.col(c).cast(pl.Float64) for c in extra],
            ).select(cols)
            for p in parts
        ]
    )
    known_ids = set(panel.frame[UID].unique().to_list())
    for uid in sorted(set(frame[UID].unique().to_list()) - known_ids, key=str):
        problems.append(Problem(uid, "has sessions but no daily history", "有场次数据，但没有按日历史数据"))
    dups = frame.filter(pl.struct(UID, "session_id").is_duplicated())
    for (uid,), g in dups.group_by(UID, maintain_order=True):
        problems.append(
            Problem(
                uid,
                f"{g.height} duplicate (product, session) rows; one row per session and product",
                f"{g.height} 行重复的（商品，场次）；每个场次每个商品一行",
            )
        )
    for uid, n in frame.filter(pl.col(Y) < 0).group_by(UID).len().sort(UID).iter_rows():
        problems.append(Problem(uid, f"{n} session(s) with negative units", f"{n} 个场次销量为负"))
    for uid, n in (
        frame.filter((pl.col("price") <= 0) | (pl.col("live_minutes") <= 0)).group_by(UID).len().sort(UID).iter_rows()
    ):
        problems.append(
            Problem(uid, f"{n} session(s) without a positive price or live minutes", f"{n} 个场次价格或时长不是正数")
        )
    if problems:
        raise ForecastInputError(problems)
    start = panel.frame.group_by(UID).agg(pl.col(DS).min().alias("_start"))
    frame = (
        frame.join(start, on=UID, how="inner")
        .with_columns(
            (pl.col(DS).dt.date() - pl.col("_start").cast(pl.Date)).dt.total_days().alias("_t"),
            pl.len().over("session_id").alias("_n_products"),
        )
        .drop("_start")
        .filter(pl.col("_t") >= 0)
    )
    return frame, tuple(extra)


def daily_session_exog(sessions: Any, *, id_col: str = UID, time_col: str = DS) -> pl.DataFrame:
    """Aggregate sessions (history or planned) to days: the daily regressors they imply.

    Returns one row per series and local day: ``id_col``, ``time_col`` (Date), ``sessions`` (count),
    ``live_minutes`` and ``explain_minutes`` (sums; explain null when unknown for every session) and
    ``price`` (mean of the session prices). Use it to build the daily ``future`` from planned sessions.
    """
    df = to_polars(sessions, "sessions")
    out = (
        df.group_by(pl.col(id_col), pl.col(time_col).dt.date().alias(time_col))
        .agg(
            pl.len().alias("sessions"),
            pl.col("live_minutes").cast(pl.Float64).sum(),
            *(
                [
                    pl.when(pl.col("explain_minutes").is_not_null().any())
                    .then(pl.col("explain_minutes").cast(pl.Float64).sum())
                    .alias("explain_minutes")
                ]
                if "explain_minutes" in df.columns
                else []
            ),
            pl.col("price").cast(pl.Float64).mean(),
        )
        .sort(id_col, time_col)
    )
    return out
