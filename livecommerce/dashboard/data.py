"""Dashboard glue to the read API: where the engine and the request's scope come from, the filters
the frame's controls describe, and frames to JSON-ready records (for ``dcc.Store``) and back.

Every callback reads through :meth:`Source.scope`, the one place that decides what the current
request may see: today :meth:`Scope.everything`; the access layer (issue 11) passes its own
``scope_of_request`` to :func:`livecommerce.dashboard.create_app`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine

from livecommerce.config import Settings
from livecommerce.queries import Filters
from livecommerce.scope import Scope

__all__ = ["UPLOAD_MAX_BYTES", "Source", "filters_from", "frame", "records", "yuan_rows"]


def _everything() -> Scope:
    return Scope.everything()


@dataclass(frozen=True)
class Source:
    """The warehouse a dashboard reads and how it finds the scope of the current request."""

    engine: Engine
    settings: Settings
    scope_of_request: Callable[[], Scope] = field(default=_everything)

    def scope(self) -> Scope:
        """Return the scope of the current request (what its user may see)."""
        return self.scope_of_request()


def _day(value: str | dt.date | None) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def filters_from(start: str | dt.date | None, end: str | dt.date | None, platform: str | None) -> Filters:
    """Return the query filters for the frame's date range (local days, ISO text) and platform
    (empty or None for all platforms)."""
    return Filters(_day(start), _day(end), platform or None)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    return value


def records(data: pl.DataFrame | None) -> list[dict[str, Any]]:
    """Return ``data`` as JSON-ready rows: dates and datetimes (UTC) as ISO text, NaN as None."""
    if data is None or data.is_empty():
        return []
    return [{k: _plain(v) for k, v in row.items()} for row in data.iter_rows(named=True)]


def frame(
    rows: list[dict[str, Any]] | None, *, times: tuple[str, ...] = (), days: tuple[str, ...] = ()
) -> pl.DataFrame:
    """Return stored ``rows`` as a polars DataFrame, parsing ``times`` (ISO, UTC) and ``days`` back."""
    if not rows:
        return pl.DataFrame()
    out = pl.DataFrame(rows, infer_schema_length=None)
    exprs = []
    for col in times:
        if col in out.columns and out.schema[col] == pl.Utf8:
            exprs.append(pl.col(col).str.to_datetime(time_zone="UTC"))
    for col in days:
        if col in out.columns and out.schema[col] == pl.Utf8:
            exprs.append(pl.col(col).str.to_date())
    return out.with_columns(exprs) if exprs else out


def yuan_rows(
    data: pl.DataFrame | None, money: tuple[str, ...] = (), keep: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Return table rows from ``data``: the ``money`` columns (fen) as yuan rounded to the fen,
    only the ``keep`` columns (all when empty), JSON-ready."""
    if data is None or data.is_empty():
        return []
    out = data.with_columns([(pl.col(c).cast(pl.Float64) / 100.0).round(2) for c in money if c in data.columns])
    if keep:
        out = out.select([c for c in keep if c in out.columns])
    return records(out)


#: the largest export the Data page accepts (the browser refuses bigger files; the server checks again)
UPLOAD_MAX_BYTES = 20 * 1024 * 1024
