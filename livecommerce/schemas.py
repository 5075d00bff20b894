"""Column names, code sets and the canonical file layouts: each name defined once.

The warehouse tables (``livecommerce.warehouse.tables``), the simulator's canonical writer and
the ETL's canonical reader all use these names, so a column is spelled in one place.
Units and zones are in the names: ``*_fen`` is integer fen, ``*_utc`` a UTC timestamp.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CANONICAL_FILES",
    "DEFECT_KINDS",
    "HOST_KINDS",
    "ORDER_STATUSES",
    "PLATFORMS",
    "REJECT_CODES",
    "C",
]

# --- platforms -------------------------------------------------------------------------
#: platform_id -> (Chinese name, English name, has live sessions)
PLATFORMS: Final[dict[str, tuple[str, str, bool]]] = {
    "taobao": ("淘宝直播", "Taobao Live", True),
    "douyin": ("抖音", "Douyin", True),
    "kuaishou": ("快手", "Kuaishou", True),
    "pinduoduo": ("拼多多", "Pinduoduo", False),
}

#: the canonical order-line status set every export's statuses are mapped onto
ORDER_STATUSES: Final[tuple[str, ...]] = (
    "unpaid",  # created, not paid (not GMV)
    "paid",  # paid, waiting for shipment
    "shipped",  # shipped, waiting for the buyer
    "completed",  # buyer confirmed / auto-confirmed
    "cancelled",  # closed before shipment (refunded in full or never paid)
    "refunded",  # fully refunded after payment
    "partially_refunded",  # part of the amount refunded
)

HOST_KINDS: Final[tuple[str, ...]] = ("farmer", "official", "shop", "affiliate", "unknown")


class C:
    """Column names used across module lines (frames, files and tables)."""

    # keys
    platform_id = "platform_id"
    county_id = "county_id"
    host_id = "host_id"
    product_id = "product_id"
    session_id = "session_id"
    order_id = "order_id"
    line_no = "line_no"
    run_id = "run_id"
    # dimension attributes
    name_zh = "name_zh"
    name_en = "name_en"
    province_zh = "province_zh"
    province_en = "province_en"
    title = "title"
    category = "category"
    unit = "unit"
    kind = "kind"
    unit_cost_fen = "unit_cost_fen"
    list_price_fen = "list_price_fen"
    shelf_life_days = "shelf_life_days"
    season_start_month = "season_start_month"
    season_end_month = "season_end_month"
    platform_host_id = "platform_host_id"
    platform_product_id = "platform_product_id"
    # sessions
    started_at_utc = "started_at_utc"
    ended_at_utc = "ended_at_utc"
    minute_utc = "minute_utc"
    explain_start_utc = "explain_start_utc"
    explain_end_utc = "explain_end_utc"
    # orders
    quantity = "quantity"
    unit_price_fen = "unit_price_fen"
    amount_fen = "amount_fen"
    shipping_fen = "shipping_fen"
    discount_fen = "discount_fen"
    refund_fen = "refund_fen"
    status = "status"
    refund_reason = "refund_reason"
    created_at_utc = "created_at_utc"
    paid_at_utc = "paid_at_utc"
    shipped_at_utc = "shipped_at_utc"
    finished_at_utc = "finished_at_utc"
    refunded_at_utc = "refunded_at_utc"
    buyer_id = "buyer_id"
    province = "province"
    city = "city"
    export_host_id = "export_host_id"
    export_host_name = "export_host_name"
    traffic_source = "traffic_source"
    traffic_genre = "traffic_genre"
    attribution_rule = "attribution_rule"
    attribution_provisional = "attribution_provisional"
    # forecasting long format
    unique_id = "unique_id"
    ds = "ds"
    y = "y"


#: The project's canonical files (CSV, Parquet or JSON-lines with these columns, in this order).
#: Documented in docs/formats.md; ``*_utc`` columns are ISO-8601 timestamps in UTC.
CANONICAL_FILES: Final[dict[str, tuple[str, ...]]] = {
    "counties": (C.county_id, C.name_zh, C.name_en, C.province_zh, C.province_en),
    "hosts": (C.host_id, "name", C.kind, C.county_id, C.platform_id, C.platform_host_id),
    "products": (
        C.product_id,
        C.title,
        C.county_id,
        C.category,
        C.unit,
        C.unit_cost_fen,
        C.list_price_fen,
        C.shelf_life_days,
        C.season_start_month,
        C.season_end_month,
    ),
    "sessions": (
        C.platform_id,
        C.session_id,
        C.host_id,
        C.started_at_utc,
        C.ended_at_utc,
        "title",
        "views",
        "viewers",
        "peak_online",
        "avg_online",
        "watch_seconds",
        "new_followers",
        "likes",
        "comments",
        "interacting_viewers",
        "product_exposed_viewers",
        "product_clickers",
    ),
    "orders": (
        C.platform_id,
        C.order_id,
        C.line_no,
        C.product_id,
        C.title,
        C.quantity,
        C.unit_price_fen,
        C.amount_fen,
        C.shipping_fen,
        C.discount_fen,
        C.refund_fen,
        C.status,
        C.refund_reason,
        C.created_at_utc,
        C.paid_at_utc,
        C.shipped_at_utc,
        C.finished_at_utc,
        C.refunded_at_utc,
        C.buyer_id,
        C.province,
        C.city,
        C.export_host_id,
        C.export_host_name,
        C.traffic_source,
        C.traffic_genre,
        C.session_id,
    ),
    # platform product ids (商品ID / 商品id) mapped to our product (the warehouse's product_alias)
    "product_aliases": (C.platform_id, C.platform_product_id, C.product_id),
}


#: Reject codes the ETL uses, with a bilingual explanation (English / 中文). The simulator's
#: ``--defects`` manifest names the code each injected fault must be caught with (``None``:
#: the fault is repairable and the row must load, e.g. an ``="…"``-wrapped id).
REJECT_CODES: Final[dict[str, str]] = {
    "id_scientific": "id was turned into scientific notation by Excel (e.g. 1.23457E+18); digits are lost, "
    "re-export the file as text / 编号被 Excel 转成科学计数法，位数已丢失，请以文本格式重新导出",
    "bad_timestamp": "date/time cannot be read / 无法识别的日期时间",
    "future_timestamp": "date/time lies in the future / 日期时间晚于当前时间",
    "bad_money": "amount of money cannot be read / 无法识别的金额",
    "quantity_not_positive": "quantity must be a whole number above zero / 数量必须是大于零的整数",
    "unknown_product": "product is not in the product list; add it or map it / 商品不在商品清单中",
    "duplicate_row": "the same row appears earlier in this file / 与本文件前面的行重复",
    "missing_required": "a required field is empty / 必填字段为空",
    "ends_before_start": "end time is before start time / 结束时间早于开始时间",
    "summary_row": "a total row (合计/总计/整体), not data; skipped / 合计行，非数据，已跳过",
    "bad_value": "value cannot be read / 无法识别的值",
    "overlapping_shift": "a host's shift overlaps or contradicts another shift of the same host / "
    "同一主播的班次重叠或矛盾",
}

#: defect kind injected by ``livecommerce sample generate --defects`` -> expected reject code
DEFECT_KINDS: Final[dict[str, str | None]] = {
    "excel_mangled_id": "id_scientific",
    "wrapped_id": None,
    "money_format": None,
    "bad_date": "bad_timestamp",
    "negative_quantity": "quantity_not_positive",
    "unknown_product": "unknown_product",
    "duplicate_row": "duplicate_row",
    "missing_required": "missing_required",
    "session_end_before_start": "ends_before_start",
    "future_timestamp": "future_timestamp",
    "total_row": "summary_row",
}
