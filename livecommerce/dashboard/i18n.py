"""Chinese (简体, the default) and English strings of the dashboard, and display formatting.

``t(key, lang)`` returns a string; KPI labels come from the metrics registry, money goes
through :func:`livecommerce.reports.format_kpi` / :func:`livecommerce.money.format_yuan`
(¥ with 万 in Chinese) and times are shown in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from livecommerce.config import LOCAL_TZ
from livecommerce.metrics import METRICS, in_yuan
from livecommerce.reports import format_kpi

__all__ = [
    "COOKIE",
    "LANGS",
    "kpi_label",
    "kpi_text",
    "local_time",
    "percent",
    "request_language",
    "t",
    "weekday",
]

LANGS = ("zh", "en")
COOKIE = "livecommerce_lang"
_TZ = ZoneInfo(LOCAL_TZ)

_STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("直播电商看板", "Livestream commerce dashboard"),
    "nav_overview": ("总览", "Overview"),
    "nav_host": ("主播", "Host"),
    "nav_county": ("县域", "County"),
    "nav_product": ("商品与预测", "Product & forecast"),
    "nav_data": ("数据", "Data"),
    "language": ("语言", "Language"),
    "dates": ("日期（北京时间）", "Dates (Beijing time)"),
    "platform": ("平台", "Platform"),
    "all_platforms": ("全部平台", "All platforms"),
    "loading": ("加载中…", "Loading…"),
    "no_data": ("所选范围内没有数据", "No data for this selection"),
    "vs_prev": ("较上期", "vs previous"),
    "county_position": ("县内排名", "Position in county"),
    "county_median": ("县中位数", "County median"),
    "percentile": ("百分位", "percentile"),
    # overview
    "overview_title": ("总览", "Overview"),
    "trend": ("每日成交趋势", "Daily sales"),
    "top_hosts": ("主播排行", "Top hosts"),
    "top_products": ("商品排行", "Top products"),
    "freshness": ("数据新鲜度", "Data freshness"),
    "freshness_note": (
        "净成交在售后期结束前为暂估；平台实时数据次日修订。",
        "Net GMV is provisional until the after-sale window closes; platform live figures are revised the next day.",
    ),
    "unassigned_host": ("（未归属主播）", "(no host credited)"),
    # host
    "host_title": ("主播复盘", "Host review"),
    "pick_host": ("选择主播", "Choose a host"),
    "hints": ("建议", "Hints"),
    "sessions": ("直播场次", "Sessions"),
    "replay": ("单场回放", "Session replay"),
    "pick_session": ("选择场次", "Choose a session"),
    "funnel": ("转化漏斗", "Funnel"),
    "best_slots": ("最佳开播时段（千次观看成交）", "Best slots (GPM)"),
    "products": ("商品", "Products"),
    "provinces": ("买家省份", "Buyer provinces"),
    "refunds": ("退款原因", "Refund reasons"),
    "online": ("在线人数", "Viewers online"),
    "orders_per_minute": ("每分钟订单", "Orders per minute"),
    "explaining": ("讲解", "Explaining"),
    "price_change": ("改价", "Price"),
    "time_local": ("时间（北京时间）", "Time (Beijing)"),
    "no_sessions": ("所选范围内没有直播场次", "No live sessions in this range"),
    # county
    "county_title": ("县域对比", "County comparison"),
    "pick_county": ("选择县", "Choose a county"),
    "league": ("主播排行榜（可排序）", "Host league (sortable)"),
    "trend_by_platform": ("分平台每日成交", "Daily GMV by platform"),
    "refund_reasons": ("退款原因", "Refunds by reason"),
    "refund_provinces": ("退款目的地", "Refunds by destination"),
    # product
    "product_title": ("商品、预测与建议", "Product, forecast and recommendations"),
    "pick_product": ("选择商品", "Choose a product"),
    "horizon": ("预测天数", "Forecast days"),
    "forecast_fan": ("需求预测（分位区间）", "Demand forecast (quantile bands)"),
    "history": ("历史销量", "Units sold"),
    "median": ("中位数", "Median"),
    "band": ("区间", "band"),
    "accuracy": ("回测精度", "Backtest accuracy"),
    "price": ("价格建议", "Price recommendation"),
    "profit_curve": ("利润曲线", "Profit curve"),
    "profit": ("预计利润", "Expected profit"),
    "price_axis": ("价格（元）", "Price (yuan)"),
    "stock": ("建议备货", "Recommended stock"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "forecast_on_the_fly": (
        "预测为即时计算（尚无已保存的预测）。",
        "Forecast computed on the fly (no saved forecast run yet).",
    ),
    "not_enough_history": ("历史数据不足，无法预测。", "Not enough history to forecast."),
    "not_available": ("暂不可用", "Not available yet"),
    # data
    "data_title": ("数据导入", "Data loads"),
    "runs": ("导入记录", "Ingest runs"),
    "rejects": ("被拒绝的行", "Rejected rows"),
    "pick_run": ("选择导入记录", "Choose a run"),
    "upload": ("上传平台导出文件（拖放或点击）", "Upload a platform export (drop or click)"),
    "upload_limit": ("单个文件不超过 {mb} MB", "At most {mb} MB per file"),
    "upload_too_big": ("文件太大：{mb} MB 以内", "File too large: the limit is {mb} MB"),
    "upload_bad_type": ("不支持的文件类型：{suffix}", "Unsupported file type: {suffix}"),
    "upload_done": (
        "{name}：{status}，读取 {rows} 行，新增 {inserted}，更新 {updated}，拒绝 {rejected}",
        "{name}: {status}, {rows} rows read, {inserted} inserted, {updated} updated, {rejected} rejected",
    ),
    # hints
    "hint_slot_low": (
        "{slot}的千次观看成交（{value}）低于全县同时段（{county}）。",
        "GPM on {slot} ({value}) is below the county's for the same slot ({county}).",
    ),
    "hint_slot_best": (
        "你最好的时段是{slot}：千次观看成交 {value}。",
        "Your best slot is {slot}: GPM {value}.",
    ),
    "hint_hourly_low": (
        "每小时成交 {value}，低于县内主播中位数 {median}。",
        "GMV per live hour {value} is below the county's median host ({median}).",
    ),
    "hint_hourly_high": (
        "每小时成交 {value}，高于县内主播中位数 {median}。",
        "GMV per live hour {value} is above the county's median host ({median}).",
    ),
    "hint_change": ("成交金额较上期{direction} {pct}。", "GMV is {direction} {pct} on the previous period."),
    "up": ("上升", "up"),
    "down": ("下降", "down"),
    "hint_explain": (
        "讲解商品时每分钟成交是未讲解时的 {ratio} 倍。",
        "You sell {ratio}× as much per minute while explaining a product as outside explanations.",
    ),
    "hint_refunds": (
        "退款率（按金额）{value}，高于全县 {county}。",
        "Refund rate by amount {value} is above the county's {county}.",
    ),
    "morning": ("上午", "mornings"),
    "afternoon": ("下午", "afternoons"),
    "evening": ("晚上", "evenings"),
    "night": ("深夜", "nights"),
    # table columns
    "col_host": ("主播", "Host"),
    "col_product": ("商品", "Product"),
    "col_province": ("省份", "Province"),
    "col_reason": ("原因", "Reason"),
    "col_share": ("占比", "Share"),
    "col_platform": ("平台", "Platform"),
    "col_last_order": ("最近订单", "Last order"),
    "col_last_load": ("最近导入", "Last load"),
    "col_provisional": ("归属待定行数", "Provisional lines"),
    "col_open": ("售后期内成交", "GMV in after-sale window"),
    "col_started": ("开播", "Started"),
    "col_minutes": ("分钟", "Minutes"),
    "col_run": ("编号", "Run"),
    "col_file": ("文件", "File"),
    "col_format": ("格式", "Format"),
    "col_status": ("状态", "Status"),
    "col_rows": ("读取行数", "Rows read"),
    "col_inserted": ("新增", "Inserted"),
    "col_updated": ("更新", "Updated"),
    "col_rejected": ("拒绝", "Rejected"),
    "col_finished": ("完成时间", "Finished"),
    "col_line": ("行号", "Line"),
    "col_column": ("列", "Column"),
    "col_code": ("代码", "Code"),
    "col_message": ("原因", "Reason"),
    "col_value": ("原值", "Value"),
    "col_model": ("模型", "Model"),
    "col_metric": ("指标", "Metric"),
    "col_refund_fen": ("退款金额", "Refunded"),
    "col_refunded_lines": ("退款行数", "Refunded lines"),
    # login and access (issue 11)
    "login_title": ("登录", "Log in"),
    "login_username": ("用户名", "Username"),
    "login_password": ("密码", "Password"),
    "login_submit": ("登录", "Log in"),
    "login_failed": ("用户名或密码错误。", "Wrong username or password."),
    "login_throttled": (
        "尝试次数过多，请 {seconds} 秒后再试。",
        "Too many attempts: try again in {seconds} seconds.",
    ),
    "login_expired": ("表单已过期，请重新提交。", "The form expired: please submit it again."),
    "logout": ("退出", "Log out"),
    "logout_title": ("退出登录", "Log out"),
    "logged_out": ("已退出登录。", "You are logged out."),
    "role_streamer": ("主播", "streamer"),
    "role_envoy": ("特派员", "envoy"),
    "role_analyst": ("分析师", "analyst"),
    "role_admin": ("管理员", "admin"),
    "admins_only": ("仅管理员可用此页面。", "Only admins can use this page."),
    # plan page (issue 10)
    "nav_plan": ("排期", "Plan"),
    "plan_title": ("直播排期", "Session plan"),
    "plan_pick_host": ("全县主播（可选一位）", "All hosts of the county (or pick one)"),
    "plan_days": ("天数", "Days"),
    "plan_build": ("生成排期", "Build plan"),
    "plan_sessions": ("建议场次", "Proposed sessions"),
    "plan_session": ("调整场次", "Adjust a session"),
    "plan_pick_session": ("选择场次", "Pick a session"),
    "plan_start_time": ("开播时间 (HH:MM)", "Start time (HH:MM)"),
    "plan_products": ("商品", "Products"),
    "plan_apply": ("重新计算", "Recompute"),
    "plan_save": ("保存排期", "Save plan"),
    "plan_saved_n": ("已保存 {n} 场", "Saved {n} session(s)"),
    "plan_download_csv": ("下载排期表（CSV）", "Download the plan (CSV)"),
    "plan_download_ics": ("加入日历（.ics）", "Add to calendar (.ics)"),
    "plan_built_n": ("已生成 {n} 场建议", "{n} session(s) proposed"),
    "plan_none": ("没有可排的场次", "No session to propose"),
    "plan_actual": ("计划与实际", "Plan vs actual"),
    "plan_pick_saved": ("选择已保存的场次", "Pick a saved session"),
    "plan_no_actual": ("该时段还没有实际场次", "No actual session at that time yet"),
    "plan_expected": (
        "预计 GMV {gmv}（80% 区间 {low}–{high}），预计利润 {profit}",
        "Expected GMV {gmv} (80% interval {low}–{high}), expected profit {profit}",
    ),
    "plan_reasons": ("理由", "Reasons"),
    "col_when": ("时间", "When"),
    "col_slot": ("时段", "Slot"),
    "col_expected_gmv": ("预计 GMV", "Expected GMV"),
    "col_interval": ("80% 区间", "80% interval"),
    "col_based_on": ("依据", "Based on"),
    "col_role": ("角色", "Role"),
    "col_price": ("价格 (元)", "Price (¥)"),
    "col_expected_units": ("预计销量", "Expected units"),
    "col_p50": ("中位需求 P50", "Median demand P50"),
    "col_p90": ("高位需求 P90", "High demand P90"),
    "col_prepare": ("建议备货", "Prepare"),
    "col_actual_units": ("实际销量", "Sold"),
    "col_actual_gmv": ("实际 GMV", "Actual GMV"),
    "col_stock_left": ("剩余库存", "Stock left"),
    "col_sold_out": ("售罄", "Sold out"),
    "role_traffic": ("引流款", "traffic"),
    "role_profit": ("利润款", "profit"),
    "role_in_season": ("当季款", "in season"),
    "based_host": ("本人数据", "own data"),
    "based_county": ("基于县域数据", "based on county data"),
    "slot_morning": ("上午场", "morning"),
    "slot_afternoon": ("下午场", "afternoon"),
    "slot_prime": ("晚间黄金场", "prime"),
    "slot_late": ("深夜场", "late"),
}

_WEEKDAYS = (
    ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"),
)


def _index(lang: str) -> int:
    return 1 if lang == "en" else 0


def t(key: str, lang: str, **values: object) -> str:
    """Return the string ``key`` in ``lang`` (``zh`` or ``en``), formatted with ``values``; an
    unknown key returns the key itself so a missing translation shows up rather than crashing."""
    pair = _STRINGS.get(key)
    text = pair[_index(lang)] if pair else key
    return text.format(**values) if values else text


def keys() -> list[str]:
    """Return every string key (the tests check each has both languages)."""
    return list(_STRINGS)


def weekday(day: int, lang: str) -> str:
    """Return weekday ``day`` (0 = Monday) in ``lang``, plural in English (``Tuesdays``)."""
    return _WEEKDAYS[_index(lang)][day % 7]


def kpi_label(name: str, lang: str) -> str:
    """Return the registry label of KPI ``name`` in ``lang``."""
    m = METRICS.get(name)
    if m is None:
        return name
    return m.label_en if lang == "en" else m.label_zh


def kpi_text(name: str, value_fen_based: object, lang: str) -> str:
    """Return KPI ``name`` as display text from its query value (money in fen): ¥ (万 in Chinese),
    percentages for rates, ``—`` when missing — exactly what ``reports.format_kpi`` prints."""
    yuan = in_yuan({name: value_fen_based})[name]
    return format_kpi(name, yuan, lang)


def percent(value: float | None, *, signed: bool = False) -> str:
    """Return ``value`` (a fraction) as a percentage with one decimal, ``—`` when missing."""
    if value is None:
        return "—"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def local_time(value: dt.datetime | str | None, *, seconds: bool = False) -> str:
    """Return a UTC timestamp (datetime or ISO text) as Asia/Shanghai wall time ``YYYY-MM-DD HH:MM``."""
    if value is None or value == "":
        return "—"
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(_TZ).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def request_language() -> str:
    """Return the language for the current Flask request: the saved choice (cookie) first, then the
    browser's Accept-Language, else Chinese. Outside a request, Chinese."""
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - flask comes with dash
        return "zh"
    if not has_request_context():
        return "zh"
    saved = request.cookies.get(COOKIE)
    if saved in LANGS:
        return saved
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"], default="zh")
    return "en" if best.startswith("en") else "zh"
