"""Forecast frames from canonical files (``canonical/`` of docs/formats.md): daily product series and sessions.

For analysts with canonical exports at hand, for the benchmark and for the accuracy tests on the
simulated world. Reads files only (no database); the warehouse path is ``livecommerce.queries``.
Times are converted from UTC to Asia/Shanghai local time; prices are in yuan (money stays integer
fen in ``gmv_fen``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

__all__ = ["LOCAL_TZ", "canonical_daily", "canonical_sessions"]

LOCAL_TZ = "Asia/Shanghai"


def _local(col: str) -> pl.Expr:
    return pl.col(col).str.to_datetime(time_zone="UTC").dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None)


def _orders(canonical: Path) -> pl.DataFrame:
    return pl.read_csv(
        canonical / "orders.csv",
        columns=[
            "product_id",
            "quantity",
            "unit_price_fen",
            "amount_fen",
            "created_at_utc",
            "paid_at_utc",
            "session_id",
        ],
        schema_overrides={"session_id": pl.String, "product_id": pl.String},
    ).with_columns(_local("created_at_utc").alias("created"))


def _sessions(canonical: Path) -> pl.DataFrame:
    return pl.read_csv(
        canonical / "sessions.csv",
        columns=["platform_id", "session_id", "host_id", "started_at_utc", "ended_at_utc"],
        schema_overrides={"session_id": pl.String, "host_id": pl.String},
    ).with_columns(
        _local("started_at_utc").alias("ds"),
        ((_local("ended_at_utc") - _local("started_at_utc")).dt.total_seconds() / 60.0).alias("live_minutes"),
    )


def _explain_minutes(canonical: Path) -> pl.DataFrame:
    """Minutes each product was explained per session, from the session log (only logged sessions)."""
    path = canonical / "session_log.jsonl"
    if not path.exists():
        return pl.DataFrame(schema={"session_id": pl.String, "product_id": pl.String, "explain_minutes": pl.Float64})
    events = (
        pl.scan_ndjson(path, infer_schema_length=None)
        .filter(pl.col("event").is_in(["explain_start", "explain_stop"]))
        .select("session_id", "product_id", "event", pl.col("ts_utc").str.to_datetime(time_zone="UTC"))
        .collect()
        .sort("session_id", "product_id", "ts_utc")
    )
    starts = events.filter(pl.col("event") == "explain_start").with_columns(
        pl.int_range(pl.len()).over("session_id", "product_id").alias("k")
    )
    stops = events.filter(pl.col("event") == "explain_stop").with_columns(
        pl.int_range(pl.len()).over("session_id", "product_id").alias("k")
    )
    pairs = starts.join(stops, on=["session_id", "product_id", "k"], suffix="_stop")
    return pairs.group_by("session_id", "product_id").agg(
        ((pl.col("ts_utc_stop") - pl.col("ts_utc")).dt.total_seconds().sum() / 60.0).alias("explain_minutes")
    )


def canonical_sessions(canonical_dir: str | Path, sold_out: Any = None) -> pl.DataFrame:
    """Return the session history: one row per live session and product that sold.

    Columns: ``unique_id`` (product_id), ``session_id``, ``platform_id``, ``ds`` (session start, local),
    ``y`` (units ordered in the session, every status), ``price`` (mean unit price, yuan),
    ``explain_minutes`` (from the session log; null for sessions without a log), ``live_minutes``,
    ``host_id``, ``sold_out``. ``sold_out`` is a frame with ``session_id, product_id`` and a boolean
    ``sold_out`` (the inventory's sold-out marker); without it every session counts as not sold out.
    """
    canonical = Path(canonical_dir)
    live = _orders(canonical).filter(pl.col("session_id").is_not_null())
    sp = live.group_by("session_id", "product_id").agg(
        pl.col("quantity").sum().cast(pl.Float64).alias("y"),
        (pl.col("unit_price_fen") * pl.col("quantity")).sum().alias("_fen"),
    )
    sp = sp.with_columns((pl.col("_fen") / pl.col("y") / 100.0).alias("price")).drop("_fen")
    frame = sp.join(_sessions(canonical), on="session_id", how="inner").join(
        _explain_minutes(canonical), on=["session_id", "product_id"], how="left"
    )
    if sold_out is not None:
        marks = sold_out if isinstance(sold_out, pl.DataFrame) else pl.from_pandas(sold_out)
        marks = marks.select(pl.col("session_id").cast(pl.String), "product_id", pl.col("sold_out").cast(pl.Boolean))
        frame = frame.join(marks, on=["session_id", "product_id"], how="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Boolean).alias("sold_out"))
    return frame.select(
        pl.col("product_id").alias("unique_id"),
        "session_id",
        "platform_id",
        "ds",
        "y",
        "price",
        "explain_minutes",
        "live_minutes",
        "host_id",
        pl.col("sold_out").fill_null(False),
    ).sort("unique_id", "ds", "session_id")


def canonical_daily(canonical_dir: str | Path, sessions: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return the daily product series: units per product per local day, with exogenous columns.

    Columns: ``unique_id`` (product_id), ``ds`` (local Date), ``y`` (units ordered, every status),
    ``price`` (mean unit price of the day's units, yuan), ``gmv_fen`` (paid amounts), ``sessions``
    (live sessions that sold the product that day), ``live_minutes`` (their minutes). Days without
    orders are absent (the forecaster fills them with zero). ``sessions`` reuses a frame from
    :func:`canonical_sessions`.
    """
    canonical = Path(canonical_dir)
    orders = _orders(canonical)
    daily = orders.group_by("product_id", pl.col("created").dt.date().alias("ds")).agg(
        pl.col("quantity").sum().cast(pl.Float64).alias("y"),
        ((pl.col("unit_price_fen") * pl.col("quantity")).sum() / pl.col("quantity").sum() / 100.0).alias("price"),
        pl.col("amount_fen").filter(pl.col("paid_at_utc").is_not_null()).sum().alias("gmv_fen"),
    )
    sess = sessions if sessions is not None else canonical_sessions(canonical)
    per_day = sess.group_by(pl.col("unique_id").alias("product_id"), pl.col("ds").dt.date().alias("ds")).agg(
        pl.len().cast(pl.Float64).alias("sessions"), pl.col("live_minutes").sum()
    )
    return (
        daily.join(per_day, on=["product_id", "ds"], how="left")
        .with_columns(pl.col("sessions").fill_null(0.0), pl.col("live_minutes").fill_null(0.0))
        .rename({"product_id": "unique_id"})
        .select("unique_id", "ds", "y", "price", "gmv_fen", "sessions", "live_minutes")
        .sort("unique_id", "ds")
    )
