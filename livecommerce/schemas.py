"""Column names, code sets and the canonical file layouts: each name defined once.

The warehouse tables (``livecommerce.warehouse.tables``), the simulator's canonical writer and
the ETL's canonical reader all use these names, so a column is spelled in one place.
Units and zones are in the names: ``*_fen`` is integer fen, ``*_utc`` a UTC timestamp.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CANONICAL_FILES",
    "HOST_KINDS",
    "ORDER_STATUSES",
    "PLATFORMS",
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
}
