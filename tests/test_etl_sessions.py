"""Live-session readers (issue 5): canonical sessions, the minute log, the Douyin compass workbook and host
schedules (long and wide form), on hand-written fixtures and on the simulated world; SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from etl import load_paths
from etl.sessions import host_name_key
from livecommerce.warehouse.tables import (
    Host,
    LiveSession,
    ScheduleShift,
    SessionChannel,
    SessionMinute,
    SessionProduct,
    SessionProductStat,
)

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "etl"
SAMPLE = ROOT / "sample_data"
NOW = dt.datetime(2024, 12, 17, tzinfo=dt.UTC)  # the sample world's snapshot
UTC = dt.UTC


def _rows(engine, table, order_by=None) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    t = table.__table__
    query = select(t)
    if order_by:
        query = query.order_by(*[t.c[c] for c in order_by])
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _dims(engine) -> None:  # type: ignore[no-untyped-def]
    """Load the sample world's dimensions (counties, hosts, products, aliases)."""
    c = SAMPLE / "canonical"
    names = ("counties.csv", "hosts.csv", "products.csv", "product_aliases.csv")
    assert all(r.status == "loaded" for r in load_paths(engine, [c / n for n in names], now=NOW))


def _local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(UTC)


# --- canonical sessions and the minute log ---------------------------------------------------------------


def test_canonical_sessions_and_minute_log_on_the_sample_world(warehouse) -> None:  # type: ignore[no-untyped-def]
    c = SAMPLE / "canonical"
    _dims(warehouse.engine)
    reports = load_paths(warehouse.engine, [c / "sessions.csv", c / "session_log.jsonl"], now=NOW)
    assert [r.status for r in reports] == ["loaded", "loaded"], [r.message for r in reports]
    assert not any(r.rejects for r in reports)
    truth = pl.read_csv(c / "sessions.csv", infer_schema_length=0)
    sessions = {(r["platform_id"], r["session_id"]): r for r in _rows(warehouse.engine, LiveSession)}
    assert len(sessions) == truth.height
    # the file wins over the log (more trusted), and the log's own aggregates agree with the file anyway
    for row in truth.iter_rows(named=True):
        got = sessions[(row["platform_id"], row["session_id"])]
        assert got["source"] == "canonical" and got["host_id"] == row["host_id"]
        assert got["started_at_utc"] == dt.datetime.fromisoformat(row["started_at_utc"].replace("Z", "+00:00"))
        assert got["views"] == int(row["views"]) and got["watch_seconds"] == int(row["watch_seconds"])
    events = [json.loads(line) for line in (c / "session_log.jsonl").read_text(encoding="utf-8").splitlines()]
    minutes = _rows(warehouse.engine, SessionMinute)
    assert len(minutes) == sum(e["event"] == "minute" for e in events)
    assert all(m["minute_utc"].second == 0 for m in minutes)
    windows = _rows(warehouse.engine, SessionProduct)
    assert len(windows) == sum(e["event"] == "explain_start" for e in events)
    assert all(w["explain_end_utc"] > w["explain_start_utc"] and w["price_fen"] > 0 for w in windows)
    # loading again changes nothing
    again = load_paths(warehouse.engine, [c / "sessions.csv", c / "session_log.jsonl"], now=NOW)
    assert [r.status for r in again] == ["unchanged", "unchanged"]


def test_minute_log_alone_gives_the_file_aggregates(memory_engine) -> None:  # type: ignore[no-untyped-def]
    c = SAMPLE / "canonical"
    [report] = load_paths(memory_engine, [c / "session_log.jsonl"], now=NOW)
    assert report.status == "loaded" and not report.rejects
    truth = {(r["platform_id"], r["session_id"]): r for r in pl.read_csv(c / "sessions.csv").iter_rows(named=True)}
    got = _rows(memory_engine, LiveSession)
    assert got and all(s["source"] == "log" for s in got)
    for s in got:
        want = truth[(s["platform_id"], s["session_id"])]
        for name in ("views", "peak_online", "watch_seconds", "new_followers", "likes", "comments"):
            assert s[name] == want[name], (s["session_id"], name)
        assert s["avg_online"] == pytest.approx(want["avg_online"])
        assert s["viewers"] is None  # unique people cannot be counted from a minute curve


def test_minute_log_rejects_bad_events_with_their_line(memory_engine) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(memory_engine, [FIX / "session_log_bad.jsonl"], now=NOW)
    assert report.status == "loaded"
    assert {(r.line, r.column, r.code) for r in report.rejects} == {
        (6, "entries", "bad_value"),
        (7, None, "bad_value"),
        (8, "product_id", "bad_value"),
    }
    [session] = _rows(memory_engine, LiveSession)
    assert session["host_id"] == "H9" and session["ended_at_utc"] == dt.datetime(2024, 9, 1, 12, 5, tzinfo=UTC)
    assert session["views"] == 16 and session["peak_online"] == 14
    [window] = _rows(memory_engine, SessionProduct)
    assert window["product_id"] == "p-apple" and window["price_fen"] == 4990  # price from the price_change
    assert window["explain_end_utc"] == dt.datetime(2024, 9, 1, 12, 3, tzinfo=UTC)
    hosts = {h["host_id"]: h for h in _rows(memory_engine, Host)}
    assert hosts["H9"]["county_id"] is None  # an unknown host id is registered, unassigned


def test_sessions_file_rejects_end_before_start(memory_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    frame = pl.read_csv(SAMPLE / "canonical" / "sessions.csv", infer_schema_length=0).head(3)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit("2024-09-01T00:00:00Z"))
        .otherwise(pl.col("ended_at_utc"))
        .alias("ended_at_utc")
    )
    frame.write_parquet(tmp_path / "sessions.parquet")
    [report] = load_paths(memory_engine, [tmp_path / "sessions.parquet"], now=NOW)
    assert report.format == "canonical_sessions"
    assert [(r.line, r.column, r.code) for r in report.rejects] == [(3, "ended_at_utc", "ends_before_start")]
    assert len(_rows(memory_engine, LiveSession)) == 2


# --- Douyin compass -----------------------------------------------------------------------------------------


def compass_workbook(path: Path, *, session_id: str | None = "7412345678901234567", products: bool = True) -> Path:
    """Write a Douyin compass single-session workbook: 基本信息, 整体看板 (text durations), 流量分析-渠道分析
    (with its 整体 total row) and 商品明细 (product rows with SKU sub-rows)."""
    from openpyxl import Workbook

    wb = Workbook()
    info = wb.active
    info.title = "基本信息"
    info.append(["直播间ID", "主播昵称", "抖音号", "直播标题", "开播时间", "下播时间", "直播时长", "直播间用户支付金额",
                 "千次观看用户支付金额", "直播间成交人数"])  # fmt: skip
    info.append([session_id, "宜君村播官方号3", "388398382297", "宜君发制品专场", "2024-09-05 19:58:00",
                 "2024-09-05 22:10:30", "2小时12分30秒", "¥12,580.00", "1,020.50", 96])  # fmt: skip
    board = wb.create_sheet("整体看板")
    board.append(["直播间观看人数", "直播间观看次数", "最高在线人数", "平均在线人数", "人均观看时长", "新增粉丝数",
                  "直播间观看-成交率(人数)", "直播间商品点击-成交率(人数)", "直播间曝光-观看率(人数)"])  # fmt: skip
    board.append([9876, 12328, 412, "180.5", "1分5秒", 57, "0.97%", "12.00%", "21.3%"])
    channels = wb.create_sheet("流量分析-渠道分析")
    channels.append(["渠道名称", "观看人数", "观看人数占比", "成交金额"])
    channels.append(["整体", 9876, "100%", "12580.00"])
    channels.append(["推荐feed", 6000, "60.75%", "8000.00"])
    channels.append(["关注tab", 2500, "25.31%", "3580.00"])
    channels.append(["搜索", 1376, "13.94%", "1000.00"])
    if products:
        items = wb.create_sheet("商品明细")
        items.append(["商品ID", "商品名称", "SKU", "商品价格", "商品曝光人数", "商品点击人数", "成交订单数",
                      "成交件数", "成交金额", "讲解时长", "讲解开始时间"])  # fmt: skip
        items.append(["3601111", "宜君假发 自然黑", None, "199.00", 3000, 500, 40, 42, "8358.00", "12分30秒",
                      "2024-09-05 20:05:00"])  # fmt: skip
        items.append([None, "  └ 自然黑 短款", "短款", "199.00", None, None, 25, 26, "5174.00", None, None])
        items.append([None, "  └ 自然黑 长款", "长款", "199.00", None, None, 15, 16, "3184.00", None, None])
        items.append(["3602222", "宜君假发 棕色", None, "211.00", 2000, 300, 20, 20, "4222.00", "8分", None])
        items.append(["3602222", "宜君假发 棕色", "卷发", "211.00", None, None, 20, 20, "4222.00", None, None])
        items.append(["合计", None, None, None, None, None, 60, 62, "12580.00", None, None])
    wb.save(path)
    return path


def test_compass_workbook_to_a_session(warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _dims(warehouse.engine)
    [report] = load_paths(warehouse.engine, [compass_workbook(tmp_path / "罗盘_场次.xlsx")], now=NOW)
    assert report.status == "loaded" and not report.rejects, report.rejects
    assert report.format == "douyin_compass"  # four sheets told apart by their headers, one format
    [s] = _rows(warehouse.engine, LiveSession)
    assert (s["platform_id"], s["session_id"], s["host_id"], s["source"]) == (
        "douyin",
        "7412345678901234567",
        "H0003",  # 抖音号 → the host's platform_host_id
        "compass",
    )
    assert s["started_at_utc"] == _local("2024-09-05 19:58:00") and s["ended_at_utc"] == _local("2024-09-05 22:10:30")
    assert s["viewers"] == 9876 and s["views"] == 12328 and s["peak_online"] == 412 and s["avg_online"] == 180.5
    assert s["watch_seconds"] == 65 * 9876  # 人均观看时长 1分5秒 x viewers
    assert s["reported_gmv_fen"] == 1_258_000 and s["reported_buyers"] == 96
    assert s["product_clickers"] == 800  # buyers / click-to-order rate (12%)
    channels = {c["channel"]: c for c in _rows(warehouse.engine, SessionChannel)}
    assert set(channels) == {"推荐feed", "关注tab", "搜索"}  # the 整体 row is not a channel
    assert channels["推荐feed"]["share"] == pytest.approx(0.6075) and channels["搜索"]["gmv_fen"] == 100_000
    stats = {p["title"]: p for p in _rows(warehouse.engine, SessionProductStat)}
    assert set(stats) == {"宜君假发 自然黑", "宜君假发 棕色"}  # SKU sub-rows folded, 合计 row left out
    assert stats["宜君假发 自然黑"]["gmv_fen"] == 835_800 and stats["宜君假发 自然黑"]["units"] == 42
    assert stats["宜君假发 棕色"]["gmv_fen"] == 422_200 and stats["宜君假发 棕色"]["explain_seconds"] == 480
    assert sum(p["gmv_fen"] for p in stats.values()) == s["reported_gmv_fen"]  # not double counted
    [window] = _rows(warehouse.engine, SessionProduct)
    assert window["explain_start_utc"] == _local("2024-09-05 20:05:00")
    assert window["explain_end_utc"] == _local("2024-09-05 20:17:30") and window["price_fen"] == 19_900
    assert load_paths(warehouse.engine, [tmp_path / "罗盘_场次.xlsx"], now=NOW)[0].status == "unchanged"


def test_compass_without_session_id_gets_a_deterministic_one(memory_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = compass_workbook(tmp_path / "compass.xlsx", session_id=None, products=False)
    [report] = load_paths(memory_engine, [path], now=NOW)
    assert report.status == "loaded" and not report.rejects
    [s] = _rows(memory_engine, LiveSession)
    # no host dimension yet: the 抖音号 registers an unassigned host
    assert s["session_id"] == "compass:douyin:388398382297:2024-09-05T19:58" and s["host_id"] == "douyin:388398382297"
    assert _rows(memory_engine, SessionProduct) == [] and _rows(memory_engine, SessionMinute) == []


# --- schedules --------------------------------------------------------------------------------------------------


def test_long_schedule_midnight_overlap_duplicate_and_unknown_host(warehouse) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(warehouse.engine, [FIX / "schedule_long.csv"], now=NOW)
    assert report.format == "schedule" and report.status == "loaded"
    by_line = {(r.line, r.code): r for r in report.rejects}
    assert set(by_line) == {(4, "overlapping_shift"), (5, "overlapping_shift"), (7, "duplicate_row")}
    for line, other in ((4, 5), (5, 4)):  # both lines refused, each naming both
        message = by_line[(line, "overlapping_shift")].message
        assert f"line {line}" in message and f"line {other}" in message and f"第 {other} 行" in message
    assert by_line[(5, "overlapping_shift")].column == "主播姓名"
    assert "line 6" in by_line[(7, "duplicate_row")].message
    shifts = {(s["host_name"], s["started_at_utc"]): s for s in _rows(warehouse.engine, ScheduleShift)}
    assert len(shifts) == 4
    night = shifts[("王芳", _local("2024-09-01 23:30"))]
    assert night["ended_at_utc"] == _local("2024-09-02 01:30") and night["note"] == "替班"  # crosses midnight
    sessions = {s["session_id"]: s for s in _rows(warehouse.engine, LiveSession)}
    assert all(s["source"] == "schedule" for s in sessions.values()) and len(sessions) == 4
    assert "sched:name:王芳:2024-09-01T23:30" in sessions
    hosts = {h["host_id"]: h for h in _rows(warehouse.engine, Host)}
    assert hosts["name:新主播"]["platform_id"] == "kuaishou" and hosts["name:新主播"]["county_id"] is None
    assert sessions["sched:name:新主播:2024-09-05T20:00"]["platform_id"] == "kuaishou"
    # the same file again: nothing new, and its overlapping lines are still refused
    again = load_paths(warehouse.engine, [FIX / "schedule_long.csv"], now=NOW)[0]
    assert again.status == "unchanged" and {(r.line, r.code) for r in again.rejects} == set(by_line)


def test_a_later_file_contradicting_a_loaded_shift_is_refused_naming_both(memory_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    load_paths(memory_engine, [FIX / "schedule_long.csv"], now=NOW)
    later = tmp_path / "排班_改.csv"
    later.write_text("日期,上播时间,下播时间,主播姓名,平台\n2024-09-01,22:00,23:59,李昕,抖音\n", encoding="utf-8")
    [report] = load_paths(memory_engine, [later], now=NOW)
    [reject] = report.rejects
    assert reject.code == "overlapping_shift" and reject.line == 2
    assert "schedule_long.csv line 2" in reject.message and "lines 2 and schedule_long.csv:2" in reject.message


def test_wide_schedule_combos_breaks_notes_and_midnight(warehouse, tmp_path) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(warehouse.engine, [FIX / "schedule_wide.csv"], now=NOW)
    assert report.format == "schedule_wide" and report.status == "loaded" and not report.rejects, report.rejects
    got = {
        (s["host_name"], s["started_at_utc"].astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%m-%d %H:%M"))
        : s
        for s in _rows(warehouse.engine, ScheduleShift)
    }  # fmt: skip
    assert set(got) == {
        ("李昕", "09-01 19:00"),
        ("王芳", "09-01 22:00"),
        ("王芳", "09-02 19:00"),
        ("李昕", "09-03 22:00"),
        ("李昕", "09-04 19:00"),
    }  # 断播 and empty cells are no shift; the year and month come from the title row
    assert got[("李昕", "09-01 19:00")]["note"] == "9.31开播"
    assert got[("王芳", "09-02 19:00")]["co_hosts"] == "李昕"  # a combo: the first name leads
    assert got[("李昕", "09-03 22:00")]["ended_at_utc"] == _local("2024-09-04 01:00")
    hosts = {h["name"] for h in _rows(warehouse.engine, Host)}
    assert hosts == {"李昕", "王芳"}  # the note is not part of the name
    assert len(_rows(warehouse.engine, LiveSession)) == 5


def test_wide_schedule_as_xlsx_with_dated_headers(memory_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["直播时段", "平台", dt.datetime(2024, 10, 1), dt.datetime(2024, 10, 2), "10月3日"])
    ws.append(["20:00~次日01:00", "快手", "张三＋李四", "断播", "张三"])
    ws.append(["全天", "快手", "张三", None, None])
    wb.save(tmp_path / "wide.xlsx")
    [report] = load_paths(memory_engine, [tmp_path / "wide.xlsx"], now=NOW)
    assert report.format == "schedule_wide"
    assert [(r.line, r.column, r.code) for r in report.rejects] == [(3, "直播时段", "bad_timestamp")]
    starts = sorted(s["started_at_utc"] for s in _rows(memory_engine, ScheduleShift))
    assert starts == [_local("2024-10-01 20:00"), _local("2024-10-03 20:00")]


def test_wide_schedule_without_days_is_refused(memory_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "slots.csv"
    path.write_text("时段,主播\n20:00-22:00,李昕\n", encoding="utf-8")
    [report] = load_paths(memory_engine, [path], now=NOW)
    assert report.status == "refused" and "宽表排班" in report.message and "one column per day" in report.message
    assert _rows(memory_engine, ScheduleShift) == []


def test_schedule_on_the_simulated_world_matches_the_true_sessions(memory_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = SAMPLE / "canonical"
    _dims(memory_engine)
    [report] = load_paths(memory_engine, [SAMPLE / "exports" / "schedule.csv"], now=NOW)
    assert report.status == "loaded" and not report.rejects
    truth = pl.read_csv(c / "sessions.csv", infer_schema_length=0)
    sessions = _rows(memory_engine, LiveSession)
    assert len(sessions) == truth.height  # one scheduled session per real one, all hosts known by name
    assert all(s["host_id"].startswith("H") for s in sessions)
    # every real session starts 3 minutes before to 8 (whole minutes, plus seconds) after its shift (docs/formats.md)
    real = sorted(
        (r["host_id"], dt.datetime.fromisoformat(r["started_at_utc"].replace("Z", "+00:00")))
        for r in truth.iter_rows(named=True)
    )
    planned = sorted((s["host_id"], s["started_at_utc"]) for s in sessions)
    for (h1, t1), (h2, t2) in zip(real, planned, strict=True):
        assert h1 == h2 and -dt.timedelta(minutes=3) <= t1 - t2 < dt.timedelta(minutes=9)
    # the real sessions arriving later replace the scheduled ones
    load_paths(memory_engine, [c / "sessions.csv"], now=NOW)
    assert {s["source"] for s in _rows(memory_engine, LiveSession)} == {"canonical"}
    assert len(_rows(memory_engine, ScheduleShift)) == truth.height


def test_folder_with_every_live_format_loads_in_one_command(memory_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in ("schedule_wide.csv", "schedule_long.csv", "session_log_bad.jsonl"):
        shutil.copy(FIX / name, tmp_path / name)
    compass_workbook(tmp_path / "compass.xlsx")
    reports = load_paths(memory_engine, [tmp_path], now=NOW)
    formats = {Path(r.path).name: r.format for r in reports}
    assert formats["schedule_wide.csv"] == "schedule_wide" and formats["schedule_long.csv"] == "schedule"
    assert formats["session_log_bad.jsonl"] == "session_log" and formats["compass.xlsx"] == "douyin_compass"
    assert all(r.status == "loaded" for r in reports)


def test_host_names_compare_without_notes() -> None:
    assert host_name_key("李昕（9.31开播）") == host_name_key(" 李昕 ") == host_name_key("李昕(替班)")
    assert host_name_key("Ｌｉ Xin") == "lixin"
