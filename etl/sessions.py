"""Live sessions into the warehouse: session files, minute logs, Douyin compass workbooks, host schedules.

:func:`sessions_loaded` takes the tables of one file that :mod:`etl.extract` recognised as live-session
data and writes them inside the file's transaction:

- canonical ``sessions`` CSV/Parquet → ``live_session`` (source ``canonical``);
- the canonical JSON-lines minute log → ``live_session`` (source ``log``, aggregates from the minute
  curve), ``session_minute`` and ``session_product`` (explain windows, price shown);
- the Douyin compass single-session workbook → one ``live_session`` (source ``compass``) plus
  ``session_channel`` (the 整体 total row kept apart) and ``session_product_stat`` (SKU sub-rows folded
  into their product, never added), and explain windows when the sheet gives their times;
- host schedules (排班表), long and wide form → ``schedule_shift``, and a ``live_session`` (source
  ``schedule``, id ``sched:<host>:<local start>``) for each shift no known session of the same host
  and platform overlaps. Shifts of one host that overlap or contradict each other are refused, each
  reject naming both lines.

When several sources describe one session, each field takes the value of the most trusted source that
has it (canonical > compass > log > schedule), so loading order does not change the result. A known
session replaces the schedule sessions of its host it overlaps.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import and_, delete, select, tuple_
from sqlalchemy.engine import Connection

from etl import normalise as nz
from etl.extract import RawTable, Reader, resolved_columns
from etl.load import Assignments, _product_ids
from etl.validate import Reject, prepared_batches, reject_message
from livecommerce.config import LOCAL_TZ
from livecommerce.money import MoneyError, parse_fen
from livecommerce.schemas import PLATFORMS, C
from livecommerce.warehouse.tables import (
    Host,
    LiveSession,
    RollupSession,
    ScheduleShift,
    SessionChannel,
    SessionMinute,
    SessionProduct,
    SessionProductStat,
)
from livecommerce.warehouse.upsert import UpsertResult, upsert

__all__ = [
    "SESSION_KINDS",
    "SOURCE_RANK",
    "FileRefused",
    "LiveLoad",
    "host_name_key",
    "platform_of",
    "sessions_loaded",
]

#: reader kinds this module loads
SESSION_KINDS = frozenset({"sessions", "session_log", "compass", "schedule", "schedule_wide"})
#: how much each source of session facts is trusted when two describe the same session
SOURCE_RANK: dict[str, int] = {"schedule": 0, "log": 1, "compass": 2, "canonical": 3}
#: a shift planned further ahead than this is taken for a typo (future_timestamp)
PLAN_HORIZON = dt.timedelta(days=92)
_TZ = ZoneInfo(LOCAL_TZ)
_LS = LiveSession.__table__
_SHIFT = ScheduleShift.__table__
_HOST = Host.__table__
_OFF_CELLS = frozenset({"断播", "停播", "休息", "休播", "无", "-", "—", "/", "停", "空"})
_NOTE = re.compile(r"[(\[【〔<《][^)\]】〕>》]*[)\]】〕>》]")
_COMBO = re.compile(r"[+＋&＆、/]")
_PLATFORM_NAMES: dict[str, str] = {
    "淘宝直播": "taobao",
    "淘宝": "taobao",
    "天猫": "taobao",
    "点淘": "taobao",
    "taobao": "taobao",
    "抖音": "douyin",
    "抖音直播": "douyin",
    "抖店": "douyin",
    "douyin": "douyin",
    "快手": "kuaishou",
    "快手直播": "kuaishou",
    "kuaishou": "kuaishou",
    "拼多多": "pinduoduo",
    "多多直播": "pinduoduo",
    "pinduoduo": "pinduoduo",
}


class FileRefused(ValueError):
    """A live-session file that cannot be read as a whole (e.g. a wide schedule without days)."""


@dataclass
class LiveLoad:
    """What loading the live-session tables of one file did: counts, rejects, notes and the time
    spans (per platform) whose orders must be re-attributed."""

    result: UpsertResult = field(default_factory=UpsertResult)
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    notes: list[str] = field(default_factory=list)
    spans: dict[str, list[dt.datetime]] = field(default_factory=dict)

    def spanned(self, platform: str, *times: dt.datetime | None) -> None:
        """Record ``times`` as touched on ``platform``."""
        self.spans.setdefault(platform, []).extend(t for t in times if t is not None)


# --- names, platforms, times ---------------------------------------------------------------------


def host_name_key(name: str | None) -> str:
    """Return the comparable form of a host name: NFKC, notes in brackets removed, no spaces, lower case.

    ``李昕（9.31开播）`` and ``李昕`` give the same key.
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", str(name))
    text = _NOTE.sub("", text)
    return "".join(text.split()).lower()


def _note_of(name: str) -> str | None:
    found = _NOTE.findall(unicodedata.normalize("NFKC", name))
    return "; ".join(f.strip("()[]【】〔〕<>《》") for f in found) or None


def _clean_name(name: str) -> str:
    return _NOTE.sub("", unicodedata.normalize("NFKC", name)).strip()


def platform_of(text: str | None) -> str | None:
    """Return the platform id a schedule's 平台 cell names (淘宝直播 → taobao), or None when unknown."""
    if not text:
        return None
    key = "".join(unicodedata.normalize("NFKC", text).split()).lower()
    if key in PLATFORMS:
        return key
    return _PLATFORM_NAMES.get(key)


def _clock(text: str | None) -> int | None:
    """Return minutes after midnight of ``20:00``, ``9:30:00``, ``20点30``, ``24:00`` or an Excel day fraction."""
    if text is None:
        return None
    value = unicodedata.normalize("NFKC", str(text)).strip()
    m = re.fullmatch(r"(\d{1,2})[:：点时](\d{1,2})?(?::(\d{1,2}))?分?", value)
    if m:
        hours, minutes = int(m.group(1)), int(m.group(2) or 0)
        if hours <= 24 and minutes < 60 and (hours < 24 or minutes == 0):
            return hours * 60 + minutes
        return None
    m = re.fullmatch(r"\d{4}-\d{2}-\d{2} (\d{2}):(\d{2}):\d{2}", value)  # an Excel time typed as a date
    if m:
        return int(m.group(1)) * 60 + int(m.group(2))
    try:
        fraction = float(value)
    except ValueError:
        return None
    if 0 <= fraction < 1:
        return round(fraction * 1440)
    return None


def _day(text: str | None) -> dt.date | None:
    """Return the date of ``2024-09-01``, ``2024/9/1``, ``2024年9月1日`` or an Excel serial, else None."""
    if text is None:
        return None
    parsed, bad = nz.timestamps(pl.Series([str(text).strip()]), tz="UTC")
    value = parsed[0]
    if bad[0] or value is None:
        return None
    if (value.hour, value.minute, value.second) != (0, 0, 0):
        return None
    return value.date()


def _local(day: dt.date, minutes: int) -> dt.datetime:
    """Return the UTC time of ``minutes`` after local midnight of ``day`` (may run into the next day)."""
    start = dt.datetime.combine(day, dt.time(), _TZ) + dt.timedelta(minutes=minutes)
    return start.astimezone(dt.UTC)


def _seconds(text: str | None) -> int | None:
    """Return the seconds of a duration written as ``1分5秒``, ``1小时2分``, ``65秒``, ``1:05`` or ``01:02:05``."""
    if text is None:
        return None
    value = "".join(unicodedata.normalize("NFKC", str(text)).split())
    if not value:
        return None
    m = re.fullmatch(
        r"(?:(\d+(?:\.\d+)?)(?:小时|时|h))?(?:(\d+(?:\.\d+)?)(?:分钟|分|min|m))?(?:(\d+(?:\.\d+)?)(?:秒|s))?", value
    )
    if m and any(m.groups()):
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        return round(h * 3600 + mi * 60 + s)
    parts = value.split(":")
    if 2 <= len(parts) <= 3 and all(p.isdigit() for p in parts):
        nums = [int(p) for p in parts]
        return nums[0] * 3600 + nums[1] * 60 + nums[2] if len(nums) == 3 else nums[0] * 60 + nums[1]
    try:
        return round(float(value))
    except ValueError:
        return None


def _reject(
    path: str,
    line: int | None,
    column: str | None,
    code: str,
    value: object,
    raw: object = None,
    detail: str | None = None,
) -> Reject:
    message = reject_message(code, column, value)
    if detail:
        message = f"{message}: {detail}"
    return Reject(path, line, column, code, message, json.dumps(raw, ensure_ascii=False) if raw is not None else None)


# --- hosts ---------------------------------------------------------------------------------------


class _HostBook:
    """Hosts by name key (and by platform host id), registering unknown ones as unassigned hosts."""

    def __init__(self, conn: Connection, assign: Assignments) -> None:
        self.conn = conn
        self.assign = assign
        self.by_name: dict[str, list[tuple[str, str | None, str]]] = {}
        self.by_pid: dict[tuple[str, str], str] = {}
        self.ids: set[str] = set()
        rows = conn.execute(
            select(_HOST.c.host_id, _HOST.c.name, _HOST.c.kind, _HOST.c.platform_id, _HOST.c.platform_host_id)
        )
        for host_id, name, kind, platform, pid in rows:
            self.ids.add(host_id)
            self.by_name.setdefault(host_name_key(name), []).append((host_id, platform, kind))
            if platform and pid:
                self.by_pid[(platform, pid)] = host_id

    def named(self, name: str, platform: str | None) -> tuple[str | None, str | None]:
        """Return (host id, its platform) for ``name``: same platform first, affiliates last; (None, None)."""
        found = self.by_name.get(host_name_key(name), [])
        if not found:
            return None, None
        ranked = sorted(found, key=lambda h: (h[1] != platform if platform else False, h[2] == "affiliate", h[0]))
        return ranked[0][0], ranked[0][1]

    def registered(self, name: str, platform: str, platform_host_id: str | None = None) -> str:
        """Return the id of a new unassigned host named ``name`` on ``platform`` (registered now)."""
        host_id = f"{platform}:{platform_host_id}" if platform_host_id else f"name:{_clean_name(name)}"[:128]
        if host_id not in self.ids:
            mapped = self.assign.hosts.get(f"{platform}:{platform_host_id}", {}) if platform_host_id else {}
            host_id = mapped.get("host_id") or host_id
            upsert(
                self.conn,
                _HOST,
                [
                    {
                        "host_id": host_id,
                        "name": _clean_name(name)[:128] or host_id,
                        "kind": "unknown",
                        "county_id": mapped.get("county_id") or self.assign.county_id,
                        "platform_id": platform,
                        "platform_host_id": platform_host_id,
                    }
                ],
                update_columns=[],
            )
            self.ids.add(host_id)
            self.by_name.setdefault(host_name_key(name), []).append((host_id, platform, "unknown"))
            if platform_host_id:
                self.by_pid[(platform, platform_host_id)] = host_id
        return host_id

    def known_id(self, host_id: str, platform: str) -> str:
        """Return ``host_id``, registering it (named by its id) when the warehouse does not know it."""
        if host_id not in self.ids:
            upsert(
                self.conn,
                _HOST,
                [
                    {
                        "host_id": host_id,
                        "name": host_id[:128],
                        "kind": "unknown",
                        "platform_id": platform,
                        "county_id": self.assign.county_id,
                    }
                ],
                update_columns=[],
            )
            self.ids.add(host_id)
        return host_id


# --- sessions: precedence merge, schedule sessions replaced -----------------------------------------

_SESSION_COLUMNS = [c.name for c in _LS.c]


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _sessions_written(conn: Connection, rows: list[dict[str, Any]], run_id: int, load: LiveLoad) -> None:
    """Upsert session rows, each field from the most trusted source that has it; replace schedule sessions."""
    if not rows:
        return
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        by_key[(row[C.platform_id], row[C.session_id])] = row
    keys = list(by_key)
    existing: dict[tuple[str, str], Any] = {}
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        for old in conn.execute(select(_LS).where(tuple_(_LS.c.platform_id, _LS.c.session_id).in_(part))):
            existing[(old.platform_id, old.session_id)] = old
    merged: list[dict[str, Any]] = []
    for key, new in by_key.items():
        new = {c: new.get(c) for c in _SESSION_COLUMNS}
        new["ingest_run_id"] = run_id
        old = existing.get(key)
        if old is not None:
            old_row = {c: getattr(old, c) for c in _SESSION_COLUMNS}
            new_first = SOURCE_RANK.get(new["source"], 0) >= SOURCE_RANK.get(old_row["source"], 0)
            first, second = (new, old_row) if new_first else (old_row, new)
            new = {c: first[c] if first[c] is not None else second[c] for c in _SESSION_COLUMNS}
            new["ingest_run_id"] = run_id
            load.spanned(key[0], _aware(old_row[C.started_at_utc]), _aware(old_row[C.ended_at_utc]))
        merged.append(new)
        load.spanned(key[0], new[C.started_at_utc], new[C.ended_at_utc])
    load.result = load.result + upsert(
        conn,
        _LS,
        merged,
        update_columns=[c for c in _SESSION_COLUMNS if c not in (C.platform_id, C.session_id, "ingest_run_id")],
        stamp=["ingest_run_id"],
    )
    known = [r for r in merged if r["source"] != "schedule" and r[C.host_id]]
    _schedule_sessions_replaced(conn, known, load)


def _schedule_sessions_replaced(conn: Connection, known: list[dict[str, Any]], load: LiveLoad) -> None:
    """Delete schedule sessions that a known session of the same host and platform overlaps."""
    doomed: set[tuple[str, str]] = set()
    for row in known:
        found = conn.execute(
            select(_LS.c.platform_id, _LS.c.session_id, _LS.c.started_at_utc, _LS.c.ended_at_utc).where(
                _LS.c.platform_id == row[C.platform_id],
                _LS.c.host_id == row[C.host_id],
                _LS.c.source == "schedule",
                _LS.c.started_at_utc < row[C.ended_at_utc],
                _LS.c.ended_at_utc > row[C.started_at_utc],
            )
        ).all()
        for platform, session_id, start, end in found:
            doomed.add((platform, session_id))
            load.spanned(platform, _aware(start), _aware(end))
    if not doomed:
        return
    ids = sorted(doomed)
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for table in (RollupSession.__table__, _LS):
            conn.execute(delete(table).where(tuple_(table.c.platform_id, table.c.session_id).in_(part)))
    load.notes.append(
        f"{len(ids)} scheduled session(s) replaced by the known session(s) of their host / "
        f"{len(ids)} 个排班场次已由实际场次取代"
    )


# --- canonical sessions file ------------------------------------------------------------------------


def _canonical_sessions(
    conn: Connection, table: RawTable, reader: Reader, run_id: int, now: dt.datetime, hosts: _HostBook, load: LiveLoad
) -> None:
    path = str(table.path)
    header_of = {f: table.header[i] for f, i in resolved_columns(reader, table.keys).items()}
    seen: set[tuple[str, str]] = set()
    for prepared in prepared_batches(table, reader, now=now):
        load.rows_read += prepared.rows_read
        load.rejects.extend(prepared.rejects)
        rows: list[dict[str, Any]] = []
        for row in prepared.frame.iter_rows(named=True):
            line = row["_line"]
            problems: list[Reject] = []
            for f in (C.platform_id, C.session_id, C.started_at_utc, C.ended_at_utc):
                if row.get(f) is None:
                    problems.append(_reject(path, line, header_of.get(f, f), "missing_required", None, _row_raw(row)))
            platform = row.get(C.platform_id)
            if platform is not None and platform not in PLATFORMS:
                problems.append(_reject(path, line, header_of.get(C.platform_id), "bad_value", platform, _row_raw(row)))
            start, end = row.get(C.started_at_utc), row.get(C.ended_at_utc)
            if start is not None and end is not None and end < start:
                problems.append(
                    _reject(
                        path, line, header_of.get(C.ended_at_utc), "ends_before_start", end.isoformat(), _row_raw(row)
                    )
                )
            key = (platform, row.get(C.session_id))
            if not problems and key in seen:
                problems.append(
                    _reject(path, line, header_of.get(C.session_id), "duplicate_row", key[1], _row_raw(row))
                )
            if problems:
                load.rejects.extend(problems)
                continue
            seen.add(key)
            session = {c: row.get(c) for c in _SESSION_COLUMNS if c in row}
            if session.get(C.host_id):
                session[C.host_id] = hosts.known_id(session[C.host_id], platform)
            session["source"] = "canonical"
            rows.append(session)
        _sessions_written(conn, rows, run_id, load)


def _row_raw(row: Mapping[str, Any]) -> dict[str, str]:
    """Return a typed row as text cells (for ``rejected_row.raw``)."""
    return {
        k: (v.isoformat() if isinstance(v, dt.datetime) else str(v))
        for k, v in row.items()
        if v is not None and k != "_line"
    }


# --- canonical minute log ---------------------------------------------------------------------------

_EVENTS: dict[str, tuple[str, ...]] = {
    "session_start": (),
    "minute": ("online", "entries", "exits", "likes", "comments", "follows"),
    "explain_start": ("product_id",),
    "explain_stop": ("product_id",),
    "price_change": ("product_id", "price_fen"),
    "session_end": (),
}
_COUNTS = frozenset({"online", "entries", "exits", "likes", "comments", "follows", "price_fen"})


@dataclass
class _LogSession:
    platform: str
    session_id: str
    host_id: str | None = None
    title: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    minutes: dict[dt.datetime, dict[str, int]] = field(default_factory=dict)
    open_explains: dict[str, tuple[dt.datetime, int | None]] = field(default_factory=dict)
    windows: list[dict[str, Any]] = field(default_factory=list)
    prices: dict[str, int] = field(default_factory=dict)


def _event_problem(ev: Any) -> tuple[str, str, object] | None:
    """Return (column, code, value) of the first thing wrong with a log event, or None."""
    if not isinstance(ev, dict):
        return ("event", "bad_value", ev)
    for key in ("event", C.platform_id, C.session_id, "ts_utc"):
        if ev.get(key) in (None, ""):
            return (key, "missing_required", None)
    if ev["event"] not in _EVENTS:
        return ("event", "bad_value", ev["event"])
    if ev[C.platform_id] not in PLATFORMS:
        return (C.platform_id, "bad_value", ev[C.platform_id])
    if not isinstance(ev[C.session_id], str):
        return (C.session_id, "bad_value", ev[C.session_id])
    for key in _EVENTS[ev["event"]]:
        if ev.get(key) is None:
            return (key, "missing_required", None)
    for key in _COUNTS & set(ev):
        value = ev[key]
        if value is None and key == "price_fen":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return (key, "bad_value", value)
    return None


def _ts(text: object) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone(dt.UTC) if value.tzinfo else None


def _session_log(conn: Connection, path: Path, run_id: int, now: dt.datetime, hosts: _HostBook, load: LiveLoad) -> None:
    spath = str(path)
    sessions: dict[tuple[str, str], _LogSession] = {}
    with path.open("r", encoding="utf-8-sig") as fh:
        for line_no, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            load.rows_read += 1
            try:
                ev = json.loads(text)
            except json.JSONDecodeError as exc:
                load.rejects.append(
                    _reject(spath, line_no, None, "bad_value", text.strip()[:80], detail=f"not JSON ({exc.msg})")
                )
                continue
            problem = _event_problem(ev)
            if problem:
                load.rejects.append(_reject(spath, line_no, problem[0], problem[1], problem[2], ev))
                continue
            when = _ts(ev["ts_utc"])
            if when is None:
                load.rejects.append(_reject(spath, line_no, "ts_utc", "bad_timestamp", ev["ts_utc"], ev))
                continue
            if when > now + dt.timedelta(hours=1):
                load.rejects.append(_reject(spath, line_no, "ts_utc", "future_timestamp", ev["ts_utc"], ev))
                continue
            key = (ev[C.platform_id], ev[C.session_id])
            s = sessions.setdefault(key, _LogSession(*key))
            s.first = when if s.first is None else min(s.first, when)
            s.last = when if s.last is None else max(s.last, when)
            kind = ev["event"]
            if kind == "session_start":
                s.start, s.host_id, s.title = when, ev.get(C.host_id) or s.host_id, ev.get("title") or s.title
            elif kind == "session_end":
                s.end = when
            elif kind == "minute":
                s.minutes[when.replace(second=0, microsecond=0)] = {k: ev[k] for k in _EVENTS["minute"]}
            elif kind == "price_change":
                s.prices[ev["product_id"]] = ev["price_fen"]
            elif kind == "explain_start":
                price = ev.get("price_fen")
                s.open_explains[ev["product_id"]] = (
                    when,
                    price if price is not None else s.prices.get(ev["product_id"]),
                )
            elif kind == "explain_stop":
                opened = s.open_explains.pop(ev["product_id"], None)
                if opened is None:
                    load.rejects.append(
                        _reject(
                            spath,
                            line_no,
                            "product_id",
                            "bad_value",
                            ev["product_id"],
                            ev,
                            detail="explain_stop without an explain_start / 讲解结束前没有讲解开始",
                        )
                    )
                    continue
                s.windows.append({"product_id": ev["product_id"], "start": opened[0], "end": when, "price": opened[1]})
    session_rows, minute_rows, window_rows = [], [], []
    for s in sessions.values():
        start = s.start or s.first
        end = s.end or s.last
        for product, (opened, price) in s.open_explains.items():  # still explaining when the log ends
            s.windows.append({"product_id": product, "start": opened, "end": s.end, "price": price})
        minutes = sorted(s.minutes.items())
        online = [m["online"] for _, m in minutes]
        row: dict[str, Any] = {
            C.platform_id: s.platform,
            C.session_id: s.session_id,
            C.host_id: hosts.known_id(s.host_id, s.platform) if s.host_id else None,
            C.started_at_utc: start,
            C.ended_at_utc: max(end, start) if end and start else end,
            "title": s.title,
            "source": "log",
        }
        if minutes:
            row.update(
                views=sum(m["entries"] for _, m in minutes),
                peak_online=max(online),
                avg_online=round(sum(online) / len(online), 1),
                watch_seconds=sum(online) * 60,
                new_followers=sum(m["follows"] for _, m in minutes),
                likes=sum(m["likes"] for _, m in minutes),
                comments=sum(m["comments"] for _, m in minutes),
            )
        session_rows.append(row)
        minute_rows.extend(
            {C.platform_id: s.platform, C.session_id: s.session_id, C.minute_utc: when, **counts}
            for when, counts in minutes
        )
        window_rows.extend(
            {
                C.platform_id: s.platform,
                C.session_id: s.session_id,
                C.product_id: w["product_id"],
                C.explain_start_utc: w["start"],
                C.explain_end_utc: w["end"],
                "price_fen": w["price"],
            }
            for w in s.windows
        )
    _sessions_written(conn, session_rows, run_id, load)
    if minute_rows:
        load.result = load.result + upsert(conn, SessionMinute.__table__, minute_rows)
    if window_rows:
        _products_known(conn, {w[C.product_id] for w in window_rows})
        load.result = load.result + upsert(conn, SessionProduct.__table__, window_rows)


def _products_known(conn: Connection, product_ids: Iterable[str]) -> None:
    """Register product ids a log names that the warehouse does not know (unassigned, titled by id)."""
    from livecommerce.warehouse.tables import Product

    table = Product.__table__
    wanted = sorted(set(product_ids))
    known: set[str] = set()
    for start in range(0, len(wanted), 500):
        known.update(
            conn.execute(
                select(table.c.product_id).where(table.c.product_id.in_(wanted[start : start + 500]))
            ).scalars()
        )
    missing = [{"product_id": p, "title": p[:256]} for p in wanted if p not in known]
    if missing:
        upsert(conn, table, missing, update_columns=[])


# --- Douyin compass workbook --------------------------------------------------------------------------


def _cells(table: RawTable, reader: Reader) -> list[tuple[int, dict[str, str | None]]]:
    """Return the data rows of ``table`` as (line, {field: text}) for the fields ``reader`` knows."""
    cols = resolved_columns(reader, table.keys)
    out = []
    for batch in table.batches():
        for row in batch.frame.iter_rows(named=True):
            cells = {f: (row[f"c{i}"].strip() if row[f"c{i}"] is not None else None) for f, i in cols.items()}
            cells = {f: (v if v else None) for f, v in cells.items()}
            cells["_first"] = next((row[f"c{i}"] for i in range(len(table.header)) if row.get(f"c{i}")), None)
            out.append((row["_line"], cells))
    return out


def _is_total(text: str | None) -> bool:
    return text is not None and "".join(text.split()).rstrip(":：") in ("整体", "合计", "总计", "全部", "汇总", "total")


class _Cells:
    """Typed reading of text cells with rejects noted (path, sheet, line, header names)."""

    def __init__(self, table: RawTable, reader: Reader, load: LiveLoad) -> None:
        self.path = str(table.path)
        self.sheet = table.sheet
        self.header_of = {f: table.header[i] for f, i in resolved_columns(reader, table.keys).items()}
        self.load = load
        self.bad = False

    def _bad(self, line: int, f: str, code: str, value: object) -> None:
        self.bad = True
        self.load.rejects.append(
            _reject(self.path, line, self.header_of.get(f, f), code, value, detail=f"sheet 工作表 {self.sheet}")
        )

    def _parsed(self, line: int, cells: Mapping[str, str | None], f: str, parse: Any) -> Any:
        """Return cell ``f`` parsed by the series normaliser ``parse``; None (and a reject) when unreadable."""
        text = cells.get(f)
        if text is None:
            return None
        out, bad = parse(pl.Series([text]))
        if bad[0]:
            self._bad(line, f, "bad_value", text)
            return None
        return out[0]

    def whole(self, line: int, cells: Mapping[str, str | None], f: str) -> int | None:
        return self._parsed(line, cells, f, nz.whole_numbers)

    def fraction(self, line: int, cells: Mapping[str, str | None], f: str) -> float | None:
        return self._parsed(line, cells, f, nz.fractions)

    def fen(self, line: int, cells: Mapping[str, str | None], f: str) -> int | None:
        text = cells.get(f)
        try:
            return parse_fen(text)
        except MoneyError:
            self._bad(line, f, "bad_money", text)
            return None

    def seconds(self, line: int, cells: Mapping[str, str | None], f: str) -> int | None:
        text = cells.get(f)
        value = _seconds(text)
        if text is not None and value is None:
            self._bad(line, f, "bad_value", text)
        return value

    def time(self, line: int, cells: Mapping[str, str | None], f: str) -> dt.datetime | None:
        text = cells.get(f)
        if text is None:
            return None
        out, bad = nz.timestamps(pl.Series([text]), tz=LOCAL_TZ)
        if bad[0] or out[0] is None:
            self._bad(line, f, "bad_timestamp", text)
            return None
        return out[0]


def _compass(
    conn: Connection,
    tables: Sequence[tuple[RawTable, Reader]],
    run_id: int,
    hosts: _HostBook,
    assign: Assignments,
    load: LiveLoad,
) -> None:
    by_name = {reader.name: table for table, reader in tables}
    readers = {reader.name: reader for _, reader in tables}
    path = str(tables[0][0].path)
    info_table = by_name.get("douyin_compass_info")
    if info_table is None:
        raise FileRefused(
            f"{path}: a Douyin compass workbook needs its 基本信息 sheet (start time, 直播间用户支付金额) / "
            f"{path}：抖音罗盘场次数据缺少“基本信息”工作表（开播时间、直播间用户支付金额）"
        )
    platform = "douyin"
    info_rows = _cells(info_table, readers["douyin_compass_info"])
    load.rows_read += len(info_rows)
    if not info_rows:
        raise FileRefused(f"{path}: the 基本信息 sheet has no row / “基本信息”工作表没有数据")
    if len(info_rows) > 1:
        for line, cells in info_rows[1:]:
            load.rejects.append(
                _reject(
                    path,
                    line,
                    None,
                    "bad_value",
                    cells.get(C.started_at_utc),
                    detail="a compass workbook describes one session; extra rows are not read / "
                    "罗盘单场数据只读取第一行",
                )
            )
    line, info = info_rows[0]
    read = _Cells(info_table, readers["douyin_compass_info"], load)
    start = read.time(line, info, C.started_at_utc)
    end = read.time(line, info, C.ended_at_utc)
    duration = read.seconds(line, info, "duration")
    if end is None and start is not None and duration is not None:
        end = start + dt.timedelta(seconds=duration)
    if start is None or end is None:
        if not read.bad:
            load.rejects.append(
                _reject(
                    path,
                    line,
                    read.header_of.get(C.ended_at_utc, "下播时间"),
                    "missing_required",
                    None,
                    detail="the session needs an end time or a duration / 需要下播时间或直播时长",
                )
            )
        return
    if end < start:
        load.rejects.append(
            _reject(path, line, read.header_of.get(C.ended_at_utc), "ends_before_start", info.get(C.ended_at_utc))
        )
        return
    gmv = read.fen(line, info, "reported_gmv_fen")
    buyers = read.whole(line, info, "reported_buyers")
    pid = info.get(C.platform_host_id)
    name = info.get("host_name")
    host_id = hosts.by_pid.get((platform, pid)) if pid else None
    if host_id is None and name:
        host_id, _ = hosts.named(name, platform)
    if host_id is None and (name or pid):
        host_id = hosts.registered(name or pid or "", platform, pid)
    local = start.astimezone(_TZ).strftime("%Y-%m-%dT%H:%M")
    session_id = info.get(C.session_id) or f"compass:{host_id or 'unknown'}:{local}"
    session: dict[str, Any] = {
        C.platform_id: platform,
        C.session_id: session_id,
        C.host_id: host_id,
        C.started_at_utc: start,
        C.ended_at_utc: end,
        "title": info.get(C.title),
        "source": "compass",
        "reported_gmv_fen": gmv,
        "reported_buyers": buyers,
    }
    overview_table = by_name.get("douyin_compass_overview")
    if overview_table is not None:
        reader = readers["douyin_compass_overview"]
        rows = _cells(overview_table, reader)
        load.rows_read += len(rows)
        if rows:
            oline, o = rows[0]
            ov = _Cells(overview_table, reader, load)
            viewers = ov.whole(oline, o, "viewers")
            avg_watch = ov.seconds(oline, o, "avg_watch")
            session.update(
                viewers=viewers,
                views=ov.whole(oline, o, "views"),
                peak_online=ov.whole(oline, o, "peak_online"),
                avg_online=ov.fraction(oline, o, "avg_online"),
                watch_seconds=round(avg_watch * viewers) if avg_watch is not None and viewers is not None else None,
                new_followers=ov.whole(oline, o, "new_followers"),
                likes=ov.whole(oline, o, "likes"),
                comments=ov.whole(oline, o, "comments"),
                interacting_viewers=ov.whole(oline, o, "interacting_viewers"),
                product_exposed_viewers=ov.whole(oline, o, "product_exposed_viewers"),
                product_clickers=ov.whole(oline, o, "product_clickers"),
            )
            click_rate = ov.fraction(oline, o, "click_to_order")
            watch_rate = ov.fraction(oline, o, "watch_to_order")
            if session["reported_buyers"] is None and watch_rate and viewers:
                session["reported_buyers"] = round(watch_rate * viewers)
            if session["product_clickers"] is None and click_rate and session["reported_buyers"]:
                session["product_clickers"] = round(session["reported_buyers"] / click_rate)
    channels: list[dict[str, Any]] = []
    channel_table = by_name.get("douyin_compass_channels")
    if channel_table is not None:
        reader = readers["douyin_compass_channels"]
        ch = _Cells(channel_table, reader, load)
        for cline, cells in _cells(channel_table, reader):
            load.rows_read += 1
            viewers = ch.whole(cline, cells, "viewers")
            if _is_total(cells.get("channel")) or _is_total(cells.get("_first")):
                # the 整体 row is the session total, kept apart from the channels
                if session.get("viewers") is None:
                    session["viewers"] = viewers
                continue
            if not cells.get("channel"):
                continue
            channels.append(
                {
                    C.platform_id: platform,
                    C.session_id: session_id,
                    "channel": cells["channel"][:128],
                    "viewers": viewers,
                    "views": ch.whole(cline, cells, "views"),
                    "share": ch.fraction(cline, cells, "share"),
                    "gmv_fen": ch.fen(cline, cells, "gmv_fen"),
                }
            )
    stats, windows = _compass_products(conn, by_name, readers, session_id, assign, load)
    _sessions_written(conn, [session], run_id, load)
    if channels:
        load.result = load.result + upsert(conn, SessionChannel.__table__, channels)
    if stats:
        load.result = load.result + upsert(conn, SessionProductStat.__table__, stats)
        total = sum(s["gmv_fen"] or 0 for s in stats)
        if gmv is not None and abs(total - gmv) > max(100, gmv // 100):
            load.notes.append(
                f"商品明细 product rows sum to {total / 100:.2f} yuan, 基本信息 says {gmv / 100:.2f} / "
                f"商品明细合计 {total / 100:.2f} 元，与基本信息 {gmv / 100:.2f} 元不一致"
            )
    if windows:
        load.result = load.result + upsert(conn, SessionProduct.__table__, windows)


def _compass_products(
    conn: Connection,
    by_name: Mapping[str, RawTable],
    readers: Mapping[str, Reader],
    session_id: str,
    assign: Assignments,
    load: LiveLoad,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return per-product figures (SKU sub-rows folded in, not added) and explain windows of 商品明细."""
    table = by_name.get("douyin_compass_products")
    if table is None:
        return [], []
    reader = readers["douyin_compass_products"]
    read = _Cells(table, reader, load)
    products: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line, cells in _cells(table, reader):
        load.rows_read += 1
        if _is_total(cells.get(C.title)) or _is_total(cells.get("_first")):
            continue
        title = cells.get(C.title)
        sku = cells.get("sku")
        ppid = cells.get("platform_product_id")
        is_sub = bool(sku and sku not in ("-", "—", "全部", "全部规格")) or (
            ppid is None
            and current is not None
            and (title is None or title[:1] in "└├—-·" or title != current["title"])
        )
        figures = {
            "price_fen": read.fen(line, cells, "price_fen"),
            "exposed_viewers": read.whole(line, cells, "exposed_viewers"),
            "clickers": read.whole(line, cells, "clickers"),
            "orders": read.whole(line, cells, "orders"),
            "units": read.whole(line, cells, "units"),
            "gmv_fen": read.fen(line, cells, "gmv_fen"),
            "explain_seconds": read.seconds(line, cells, "explain_seconds"),
            "start": read.time(line, cells, C.explain_start_utc),
            "end": read.time(line, cells, C.explain_end_utc),
        }
        same_product = current is not None and (ppid is None or ppid == current["ppid"])
        if is_sub and same_product and current is not None:
            current["skus"].append(figures)
            continue
        current = {
            "ppid": ppid,
            "title": title,
            "line": line,
            "own": None if is_sub else figures,
            "skus": [figures] if is_sub else [],
        }
        products.append(current)
    if not products:
        return [], []
    frame = pl.DataFrame(
        {
            "platform_product_id": [p["ppid"] for p in products],
            C.title: [p["title"] for p in products],
            "_i": list(range(len(products))),
        },
        schema={"platform_product_id": pl.String, C.title: pl.String, "_i": pl.Int64},
    )
    frame = _product_ids(conn, frame, "douyin", assign).sort("_i")
    stats: dict[str, dict[str, Any]] = {}
    windows: list[dict[str, Any]] = []
    for p, product_id in zip(products, frame[C.product_id].to_list(), strict=True):
        own = p["own"]
        if own is None:  # only SKU rows: money and counts add up across SKUs, people do not
            skus = p["skus"]
            own = {
                k: (sum(s[k] for s in skus if s[k] is not None) if any(s[k] is not None for s in skus) else None)
                for k in ("orders", "units", "gmv_fen")
            } | {
                "price_fen": skus[0]["price_fen"],
                "exposed_viewers": None,
                "clickers": None,
                "explain_seconds": None,
                "start": skus[0]["start"],
                "end": skus[0]["end"],
            }
        stats[product_id] = {
            C.platform_id: "douyin",
            C.session_id: session_id,
            C.product_id: product_id,
            "title": (p["title"] or "")[:256] or None,
            **{
                k: own[k]
                for k in ("price_fen", "exposed_viewers", "clickers", "orders", "units", "gmv_fen", "explain_seconds")
            },
        }
        if own["start"] is not None:
            windows.append(
                {
                    C.platform_id: "douyin",
                    C.session_id: session_id,
                    C.product_id: product_id,
                    C.explain_start_utc: own["start"],
                    C.explain_end_utc: own["end"]
                    or (
                        own["start"] + dt.timedelta(seconds=own["explain_seconds"]) if own["explain_seconds"] else None
                    ),
                    "price_fen": own["price_fen"],
                }
            )
    return list(stats.values()), windows


# --- schedules ----------------------------------------------------------------------------------------


@dataclass
class _Shift:
    platform: str
    host_id: str
    host_name: str
    co_hosts: str | None
    controller: str | None
    note: str | None
    start: dt.datetime
    end: dt.datetime
    line: int
    column: str | None
    raw: dict[str, Any]

    @property
    def session_id(self) -> str:
        return f"sched:{self.host_id}:{self.start.astimezone(_TZ).strftime('%Y-%m-%dT%H:%M')}"

    def shown(self) -> str:
        a, b = self.start.astimezone(_TZ), self.end.astimezone(_TZ)
        return f"{self.host_name} {a:%Y-%m-%d %H:%M}–{b:%H:%M}"


def _names(cell: str) -> list[str]:
    """Return the host names of a schedule cell: ``A+B`` is a combo (the first is the lead host)."""
    text = unicodedata.normalize("NFKC", cell)
    stripped = _NOTE.sub("", text)
    return [n.strip() for n in _COMBO.split(stripped) if n.strip()] if stripped.strip() else []


class _ShiftMaker:
    """Turns (day, slot, names, platform) into shifts, noting every reason a row cannot be one."""

    def __init__(self, path: str, hosts: _HostBook, now: dt.datetime, load: LiveLoad) -> None:
        self.path, self.hosts, self.now, self.load = path, hosts, now, load
        self.shifts: list[_Shift] = []

    def made(
        self,
        *,
        line: int,
        day: dt.date,
        start_min: int,
        end_min: int,
        cell: str,
        platform_text: str | None,
        platform_column: str | None,
        date_column: str,
        controller: str | None,
        raw: dict[str, Any],
        column: str | None,
    ) -> None:
        names = _names(cell)
        if not names:
            return
        if end_min == start_min:
            self.load.rejects.append(
                _reject(
                    self.path,
                    line,
                    column or date_column,
                    "bad_value",
                    cell,
                    raw,
                    detail="the shift starts and ends at the same time / 上播与下播时间相同",
                )
            )
            return
        if end_min < start_min:
            end_min += 1440  # ends the next day
        start, end = _local(day, start_min), _local(day, end_min)
        if start > self.now + PLAN_HORIZON:
            self.load.rejects.append(_reject(self.path, line, date_column, "future_timestamp", str(day), raw))
            return
        platform = platform_of(platform_text)
        if platform_text and platform is None:
            self.load.rejects.append(_reject(self.path, line, platform_column, "bad_value", platform_text, raw))
            return
        lead = names[0]
        host_id, host_platform = self.hosts.named(lead, platform)
        platform = platform or host_platform
        if platform is None:
            self.load.rejects.append(
                _reject(
                    self.path,
                    line,
                    platform_column or "平台",
                    "missing_required",
                    None,
                    raw,
                    detail=f"host {lead!r} is not known and the row names no platform / "
                    f"主播 {lead!r} 未登记，且未写明平台",
                )
            )
            return
        if host_id is None:
            host_id = self.hosts.registered(lead, platform)
        note = _note_of(cell)
        self.shifts.append(
            _Shift(
                platform,
                host_id,
                _clean_name(lead),
                "+".join(names[1:]) or None,
                controller,
                note,
                start,
                end,
                line,
                column,
                raw,
            )
        )


def _long_schedule(table: RawTable, reader: Reader, maker: _ShiftMaker) -> None:
    header_of = {f: table.header[i] for f, i in resolved_columns(reader, table.keys).items()}
    for line, cells in _cells(table, reader):
        maker.load.rows_read += 1
        raw = {header_of[f]: v for f, v in cells.items() if f in header_of and v is not None}
        if _is_total(cells.get("_first")):
            maker.load.rejects.append(_reject(maker.path, line, table.header[0], "summary_row", None, raw))
            continue
        host = cells.get("host")
        if host is None:
            maker.load.rejects.append(_reject(maker.path, line, header_of["host"], "missing_required", None, raw))
            continue
        if host_name_key(host) in _OFF_CELLS:
            continue
        day = _day(cells.get("date"))
        if day is None:
            code = "missing_required" if cells.get("date") is None else "bad_timestamp"
            maker.load.rejects.append(_reject(maker.path, line, header_of["date"], code, cells.get("date"), raw))
            continue
        start_min, end_min = _clock(cells.get("start")), _clock(cells.get("end"))
        bad = [(f, cells.get(f)) for f, v in (("start", start_min), ("end", end_min)) if v is None]
        if bad:
            for f, value in bad:
                code = "missing_required" if value is None else "bad_timestamp"
                maker.load.rejects.append(_reject(maker.path, line, header_of[f], code, value, raw))
            continue
        maker.made(
            line=line,
            day=day,
            start_min=start_min,
            end_min=end_min,
            cell=host,  # type: ignore[arg-type]
            platform_text=cells.get("platform_name"),
            platform_column=header_of.get("platform_name"),
            date_column=header_of["date"],
            controller=cells.get("controller"),
            raw=raw,
            column=header_of["host"],
        )


_SLOT = re.compile(r"(\d{1,2}[:：点]\d{0,2})\s*(?:-|~|～|—|–|至|到)\s*(?:次日|凌晨)?\s*(\d{1,2}[:：点]\d{0,2})")


def _title_text(table: RawTable) -> str:
    """Return the text above the header row plus the file name (where a wide schedule names its month)."""
    parts = [table.path.stem, table.sheet or ""]
    if table.header_line > 1:
        if table.path.suffix.lower() in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            workbook = load_workbook(table.path, read_only=True, data_only=True)
            try:
                for row in workbook[table.sheet].iter_rows(max_row=table.header_line - 1, values_only=True):  # type: ignore[index]
                    parts.extend(str(v) for v in row if v is not None)
            finally:
                workbook.close()
        else:
            from etl.extract.sniff import sniff_encoding

            with table.path.open("r", encoding=sniff_encoding(table.path)) as fh:
                for _ in range(table.header_line - 1):
                    parts.append(fh.readline())
    return " ".join(parts)


def _day_columns(table: RawTable, context: str) -> dict[int, dt.date]:
    """Return column index → date for the day columns of a wide schedule's header."""
    ym = re.search(r"(20\d{2})\s*[年\-_/.]\s*(\d{1,2})(?!\d)", unicodedata.normalize("NFKC", context))
    year_only = re.search(r"(20\d{2})\s*年?", unicodedata.normalize("NFKC", context))
    year = int(ym.group(1)) if ym else (int(year_only.group(1)) if year_only else None)
    month = int(ym.group(2)) if ym else None
    if year is None:  # a fully dated column names the year of the others
        for cell in table.header:
            m = re.match(r"(20\d{2})[-/年.]\d{1,2}[-/月.]\d{1,2}", unicodedata.normalize("NFKC", cell or "").strip())
            if m:
                year = int(m.group(1))
                break
    days: dict[int, dt.date] = {}
    for i, cell in enumerate(table.header):
        text = unicodedata.normalize("NFKC", cell or "").strip()
        text = re.sub(r"[(\[].*?[)\]]|(周|星期)[一二三四五六日天]", "", text).strip()
        found: dt.date | None = None
        try:
            if re.fullmatch(r"\d{4}[-/年.]\d{1,2}[-/月.]\d{1,2}日?( 00:00:00)?", text):
                found = _day(text.replace(" 00:00:00", ""))
            elif m := re.fullmatch(r"(\d{1,2})[月/.-](\d{1,2})[日号]?", text):
                found = dt.date(year, int(m.group(1)), int(m.group(2))) if year else None
            elif m := re.fullmatch(r"(\d{1,2})[日号]?", text):
                found = dt.date(year, month, int(m.group(1))) if year and month else None
            elif re.fullmatch(r"\d{5}(\.0)?", text):
                found = _day(text)
        except ValueError:
            found = None
        if found is not None:
            days[i] = found
    return days


def _wide_schedule(table: RawTable, reader: Reader, maker: _ShiftMaker) -> None:
    cols = resolved_columns(reader, table.keys)
    days = _day_columns(table, _title_text(table))
    days = {i: d for i, d in days.items() if i not in cols.values()}
    if not days:
        raise FileRefused(
            f"{maker.path}: a wide schedule needs one column per day (9月1日, 2024-09-01, or 1日 with the month in a "
            f"title row or the file name); none found in the header {table.header[:8]} / "
            f"{maker.path}：宽表排班需要每天一列（如 9月1日、2024-09-01，或 1日 并在标题行或文件名中写明年月），"
            "表头中没有找到日期列"
        )
    slot_col = table.header[cols["slot"]]
    platform_col = table.header[cols["platform_name"]] if "platform_name" in cols else None
    for batch in table.batches():
        for row in batch.frame.iter_rows(named=True):
            line = row["_line"]
            maker.load.rows_read += 1
            raw = {table.header[i]: row[f"c{i}"] for i in range(len(table.header)) if row.get(f"c{i}") is not None}
            slot = (row[f"c{cols['slot']}"] or "").strip()
            if _is_total(slot):
                continue
            m = _SLOT.search(unicodedata.normalize("NFKC", slot))
            start_min = _clock(m.group(1).replace("点", ":")) if m else None
            end_min = _clock(m.group(2).replace("点", ":")) if m else None
            if start_min is None or end_min is None:
                maker.load.rejects.append(
                    _reject(
                        maker.path,
                        line,
                        slot_col,
                        "bad_timestamp" if slot else "missing_required",
                        slot or None,
                        raw,
                        detail="a slot reads like 20:00-23:00 / 时段应写成 20:00-23:00",
                    )
                )
                continue
            platform_text = row[f"c{cols['platform_name']}"] if "platform_name" in cols else None
            for i, day in sorted(days.items()):
                cell = row.get(f"c{i}")
                if cell is None or host_name_key(cell) in _OFF_CELLS or not cell.strip():
                    continue
                maker.made(
                    line=line,
                    day=day,
                    start_min=start_min,
                    end_min=end_min,
                    cell=cell,
                    platform_text=platform_text,
                    platform_column=platform_col,
                    date_column=table.header[i],
                    controller=None,
                    raw=raw,
                    column=table.header[i],
                )


def _shifts_checked(maker: _ShiftMaker, conn: Connection) -> list[_Shift]:
    """Return the shifts that neither repeat nor contradict another; reject the others naming both lines.

    Per host and platform: the same shift twice in a file is a ``duplicate_row`` (the first loads);
    two different shifts that overlap are both refused as ``overlapping_shift``; a shift overlapping a
    different one loaded from an earlier file is refused, naming that file and line.
    """
    path, load = maker.path, maker.load
    refused: set[int] = set()
    clashes: list[tuple[_Shift, str, str, str]] = []  # shift, other (en), other (zh), other line
    by_host: dict[tuple[str, str], list[_Shift]] = {}
    for s in maker.shifts:
        by_host.setdefault((s.platform, s.host_id), []).append(s)
    for group in by_host.values():
        group.sort(key=lambda s: (s.start, s.line))
        kept: list[_Shift] = []
        for s in group:
            dup = next((k for k in kept if k.start == s.start and k.end == s.end), None)
            if dup is not None:
                load.rejects.append(
                    _reject(
                        path,
                        s.line,
                        s.column,
                        "duplicate_row",
                        s.shown(),
                        s.raw,
                        detail=f"same shift as line {dup.line} / 与第 {dup.line} 行的班次相同",
                    )
                )
                refused.add(id(s))
                continue
            for k in kept:
                if k.start < s.end and s.start < k.end:
                    clashes.append((s, f"line {k.line} ({k.shown()})", f"第 {k.line} 行（{k.shown()}）", str(k.line)))
                    clashes.append((k, f"line {s.line} ({s.shown()})", f"第 {s.line} 行（{s.shown()}）", str(s.line)))
            kept.append(s)
    for (platform, host_id), group in by_host.items():
        stored = conn.execute(
            select(_SHIFT).where(
                _SHIFT.c.platform_id == platform,
                _SHIFT.c.host_id == host_id,
                _SHIFT.c.started_at_utc < max(s.end for s in group),
                _SHIFT.c.ended_at_utc > min(s.start for s in group),
            )
        ).all()
        for s in group:
            for old in stored:
                o_start, o_end = _aware(old.started_at_utc), _aware(old.ended_at_utc)
                assert o_start is not None and o_end is not None
                if (o_start, o_end) == (s.start, s.end) or not (o_start < s.end and s.start < o_end):
                    continue
                name = Path(old.path or "?").name
                shown = f"{old.host_name} {o_start.astimezone(_TZ):%Y-%m-%d %H:%M}–{o_end.astimezone(_TZ):%H:%M}"
                clashes.append(
                    (
                        s,
                        f"{name} line {old.line} ({shown}, loaded before)",
                        f"{name} 第 {old.line} 行（{shown}，已导入）",
                        f"{name}:{old.line}",
                    )
                )
    for s, other_en, other_zh, other_line in clashes:
        load.rejects.append(
            Reject(
                path,
                s.line,
                s.column,
                "overlapping_shift",
                f"shift {s.shown()} (line {s.line}) overlaps {other_en}: lines {s.line} and {other_line} contradict "
                f"each other; correct one of them / "
                f"第 {s.line} 行的班次（{s.shown()}）与{other_zh}重叠，两行矛盾，请改正其中一行",
                json.dumps(s.raw, ensure_ascii=False),
            )
        )
        refused.add(id(s))
    return [s for s in maker.shifts if id(s) not in refused]


def _schedule(
    conn: Connection,
    tables: Sequence[tuple[RawTable, Reader]],
    run_id: int,
    now: dt.datetime,
    hosts: _HostBook,
    load: LiveLoad,
) -> None:
    path = str(tables[0][0].path)
    maker = _ShiftMaker(path, hosts, now, load)
    for table, reader in tables:
        if reader.kind == "schedule":
            _long_schedule(table, reader, maker)
        else:
            _wide_schedule(table, reader, maker)
    shifts = _shifts_checked(maker, conn)
    if not shifts:
        return
    rows = [
        {
            C.platform_id: s.platform,
            C.host_id: s.host_id,
            C.started_at_utc: s.start,
            C.ended_at_utc: s.end,
            C.session_id: s.session_id,
            "host_name": s.host_name[:128],
            "co_hosts": (s.co_hosts or None) and s.co_hosts[:256],  # type: ignore[index]
            "controller": s.controller[:128] if s.controller else None,
            "note": s.note[:256] if s.note else None,
            "path": path,
            "line": s.line,
            "run_id": run_id,
        }
        for s in shifts
    ]
    load.result = load.result + upsert(conn, _SHIFT, rows, update_columns=[])
    _shift_sessions_written(conn, shifts, run_id, load)


def _shift_sessions_written(conn: Connection, shifts: list[_Shift], run_id: int, load: LiveLoad) -> None:
    """Upsert a schedule session for each shift that no known session of its host and platform overlaps."""
    sessions = []
    for s in shifts:
        covered = conn.execute(
            select(_LS.c.session_id)
            .where(
                and_(
                    _LS.c.platform_id == s.platform,
                    _LS.c.host_id == s.host_id,
                    _LS.c.source != "schedule",
                    _LS.c.started_at_utc < s.end,
                    _LS.c.ended_at_utc > s.start,
                )
            )
            .limit(1)
        ).first()
        if covered is not None:
            continue
        title = f"排班 {s.host_name}" + (f" + {s.co_hosts}" if s.co_hosts else "")
        sessions.append(
            {
                C.platform_id: s.platform,
                C.session_id: s.session_id,
                C.host_id: s.host_id,
                C.started_at_utc: s.start,
                C.ended_at_utc: s.end,
                "title": title[:256],
                "source": "schedule",
            }
        )
    _sessions_written(conn, sessions, run_id, load)


# --- entry point ----------------------------------------------------------------------------------------


def sessions_loaded(
    conn: Connection,
    tables: Sequence[tuple[RawTable, Reader]],
    *,
    run_id: int,
    now: dt.datetime,
    assign: Assignments,
) -> LiveLoad:
    """Load the live-session tables of one file inside the caller's transaction; return what happened.

    Raises :class:`FileRefused` when the file cannot be read as a whole (nothing of it is kept).
    """
    load = LiveLoad()
    hosts = _HostBook(conn, assign)
    schedules = [(t, r) for t, r in tables if r.kind in ("schedule", "schedule_wide")]
    compass = [(t, r) for t, r in tables if r.kind == "compass"]
    for table, reader in tables:
        if reader.kind == "sessions":
            _canonical_sessions(conn, table, reader, run_id, now, hosts, load)
        elif reader.kind == "session_log":
            _session_log(conn, table.path, run_id, now, hosts, load)
    if compass:
        _compass(conn, compass, run_id, hosts, assign, load)
    if schedules:
        _schedule(conn, schedules, run_id, now, hosts, load)
    return load
