"""The built-in formats: the project's canonical files and the platform exports in FORMATS.md.

Each entry maps canonical fields to the header names real exports use. Header names are
compared after NFKC and with spaces removed, so ``商品总价（元）`` and ``商品总价(元) `` are one
alias. To support a new export variant, add its header names here.
"""

from __future__ import annotations

from etl.extract import Reader, register
from livecommerce.schemas import CANONICAL_FILES, C

__all__: list[str] = []


def _canonical(kind: str, required: tuple[str, ...], extra: dict[str, tuple[str, ...]] | None = None) -> None:
    columns = {name: (name,) for name in CANONICAL_FILES[kind]}
    columns.update(extra or {})
    register(Reader(f"canonical_{kind}", kind, None, columns, required, tz="UTC", money="fen"))


_canonical("counties", (C.county_id, C.name_zh, C.name_en))
_canonical("hosts", (C.host_id, "name", C.kind))
_canonical("products", (C.product_id, C.title, C.unit_cost_fen))
_canonical("product_aliases", (C.platform_id, C.platform_product_id, C.product_id))
_canonical("sessions", (C.platform_id, C.session_id, C.started_at_utc, C.ended_at_utc))
_canonical("orders", (C.platform_id, C.order_id, C.line_no, C.amount_fen, C.created_at_utc))

# --- shared aliases ------------------------------------------------------------------------
_ADDRESS = ("收货地址", "收货人地址", "详细地址")
_PROVINCE = ("省", "省份", "收件省", "收货省份")
_CITY = ("市", "城市", "收件市")

# --- Taobao / Tmall ------------------------------------------------------------------------
register(
    Reader(
        "taobao_orders",
        "order_headers",
        "taobao",
        {
            C.order_id: ("订单编号",),
            C.amount_fen: ("买家实际支付金额", "买家实付金额"),
            "payable_goods_fen": ("买家应付货款",),
            "total_fen": ("总金额",),
            C.shipping_fen: ("买家应付邮费",),
            C.refund_fen: ("退款金额",),
            C.status: ("订单状态",),
            "close_reason": ("订单关闭原因",),
            C.created_at_utc: ("订单创建时间",),
            C.paid_at_utc: ("订单付款时间",),
            C.buyer_id: ("买家会员名",),
            "address": _ADDRESS,
            C.title: ("宝贝标题",),
            "item_kinds": ("宝贝种类",),
            C.quantity: ("宝贝总数量",),
        },
        (C.order_id, C.amount_fen, C.created_at_utc),
        companion="taobao_items",
        row_required=("total_fen",),
    )
)
register(
    Reader(
        "taobao_items",
        "order_items",
        "taobao",
        {
            C.order_id: ("订单编号",),
            C.title: ("标题",),
            C.unit_price_fen: ("价格",),
            C.quantity: ("购买数量",),
            "external_id": ("外部系统编号",),
            "sku": ("商品属性",),
            C.status: ("订单状态",),
            "seller_code": ("商家编码",),
        },
        (C.order_id, C.title, C.unit_price_fen, C.quantity),
    )
)
register(
    Reader(
        "taobao_export21",
        "orders",
        "taobao",
        {
            C.order_id: ("订单编号",),
            "payment_no": ("支付单号",),
            "payable_goods_fen": ("买家应付货款",),
            C.shipping_fen: ("买家应付邮费",),
            "total_fen": ("总金额",),
            C.amount_fen: ("买家实付金额",),
            C.status: ("订单状态",),
            "address": _ADDRESS,
            C.created_at_utc: ("订单创建时间",),
            C.title: ("商品标题",),
            "item_kinds": ("宝贝种类",),
            C.quantity: ("宝贝总数量",),
            "sku": ("商品属性SKU",),
            C.shipped_at_utc: ("发货时间",),
        },
        (C.order_id, C.amount_fen, C.title, C.created_at_utc, "payment_no"),
        notes=(
            "this export has no amount per item: the paid amount of an order listing several items is split "
            "across them in proportion to their quantity / 此导出没有单品金额：多商品订单的实付金额按数量分摊到各商品",
        ),
    )
)
register(
    Reader(
        "qianniu_orders",
        "order_headers",
        "taobao",
        {
            C.order_id: ("订单编号",),
            C.status: ("订单状态",),
            C.amount_fen: ("买家实付金额",),
            C.shipping_fen: ("买家应付邮费",),
            "settled_fen": ("确认收货打款金额",),
            C.refund_fen: ("退款金额",),
            C.created_at_utc: ("订单创建时间",),
            C.paid_at_utc: ("订单付款时间",),
            C.shipped_at_utc: ("发货时间",),
            C.finished_at_utc: ("确认收货时间",),
            "seller_note": ("商家备注",),
            "close_reason": ("订单关闭原因",),
            "address": _ADDRESS,
        },
        (C.order_id, C.amount_fen, C.created_at_utc, "settled_fen"),
        companion="qianniu_lines",
    )
)
register(
    Reader(
        "qianniu_lines",
        "order_items",
        "taobao",
        {
            "platform_line_id": ("子订单编号",),
            C.order_id: ("主订单编号",),
            "platform_product_id": ("商品ID",),
            "sku": ("商品属性",),
            C.title: ("商品标题",),
            C.unit_price_fen: ("商品价格",),
            C.quantity: ("购买数量",),
            C.amount_fen: ("买家实付金额",),
            C.status: ("订单状态",),
            "refund_status": ("退款状态",),
            C.refund_fen: ("退款金额",),
            C.shipped_at_utc: ("发货时间",),
        },
        ("platform_line_id", C.order_id, C.quantity),
    )
)

# --- Douyin (抖店) ----------------------------------------------------------------------------
register(
    Reader(
        "douyin_orders",
        "orders",
        "douyin",
        {
            C.order_id: ("主订单编号",),
            "platform_line_id": ("子订单编号",),
            C.title: ("选购商品", "商品名称"),
            "item_no": ("货号",),
            "platform_product_id": ("商品ID",),
            "seller_code": ("商家编码",),
            C.quantity: ("商品数量",),
            "goods_fen": ("商品金额",),
            C.unit_price_fen: ("商品单价",),
            "created_date": ("订单提交日期",),
            C.created_at_utc: ("订单提交时间", "下单时间"),
            C.paid_at_utc: ("支付完成时间",),
            C.finished_at_utc: ("订单完成时间",),
            C.status: ("订单状态",),
            "cancel_reason": ("取消原因",),
            "after_sale_status": ("售后状态",),
            C.shipped_at_utc: ("发货时间",),
            C.amount_fen: ("订单应付金额", "应付金额"),
            C.shipping_fen: ("运费",),
            C.discount_fen: ("优惠总金额",),
            C.province: _PROVINCE,
            C.city: _CITY,
            C.export_host_id: ("达人ID",),
            C.export_host_name: ("达人昵称",),
            C.traffic_source: ("流量来源",),
            C.traffic_genre: ("流量体裁",),
            "sku": ("商品规格",),
        },
        (C.order_id, "platform_line_id", C.quantity, C.amount_fen),
    )
)
register(
    Reader(
        "douyin_aftersale",
        "after_sale",
        "douyin",
        {
            "after_sale_id": ("售后单号",),
            C.order_id: ("订单号", "主订单编号"),
            "platform_line_id": ("商品单号", "子订单编号"),
            C.title: ("商品名称",),
            "platform_product_id": ("商品ID",),
            "payable_fen": ("应付金额(元)", "应付金额"),
            "kind": ("售后类型",),
            C.refund_fen: ("退商品金额(元)", "退商品金额", "退款金额"),
            "shipping_refund_fen": ("退运费金额(元)", "退运费金额"),
            C.status: ("售后状态",),
            "applied_at_utc": ("售后申请时间",),
            "refund_method": ("退款方式",),
            C.refund_reason: ("售后原因",),
            "reason_tag": ("售后原因标签",),
            C.refunded_at_utc: ("商家退款时间",),
            C.finished_at_utc: ("售后完结时间",),
        },
        ("after_sale_id", C.order_id, C.status),
        row_required=(C.refund_fen,),
    )
)

# --- Pinduoduo -----------------------------------------------------------------------------
register(
    Reader(
        "pinduoduo_orders",
        "orders",
        "pinduoduo",
        {
            C.created_at_utc: ("订单成交时间",),
            C.title: ("商品",),
            C.order_id: ("订单号",),
            C.status: ("订单状态",),
            "goods_fen": ("商品总价(元)",),
            C.shipping_fen: ("邮费(元)",),
            "shop_discount_fen": ("店铺优惠折扣(元)",),
            "platform_discount_fen": ("平台优惠折扣(元)",),
            "pay_discount_fen": ("多多支付立减金额(元)",),
            C.amount_fen: ("用户实付金额(元)",),
            "merchant_fen": ("商家实收金额(元)",),
            C.quantity: ("商品数量(件)",),
            C.shipped_at_utc: ("发货时间",),
            C.finished_at_utc: ("确认收货时间",),
            "platform_product_id": ("商品id",),
            "sku": ("商品规格",),
            "seller_code": ("商家编码-规格维度",),
            "seller_code_item": ("商家编码-商品维度",),
            "after_sale_status": ("售后状态",),
            C.paid_at_utc: ("支付时间",),
            C.province: _PROVINCE,
            C.city: _CITY,
        },
        (C.order_id, C.amount_fen, C.quantity, "goods_fen"),
    )
)

# --- live sessions (issue 5) ----------------------------------------------------------------
# Host schedules (排班表), long form: one row per shift. 下播时间 before 上播时间 ends the next day.
register(
    Reader(
        "schedule",
        "schedule",
        None,
        {
            "date": ("日期", "直播日期", "排班日期"),
            "start": ("上播时间", "开播时间", "开始时间"),
            "end": ("下播时间", "关播时间", "结束时间"),
            "host": ("主播姓名", "主播", "主播昵称"),
            "controller": ("场控姓名", "场控"),
            "platform_name": ("平台", "直播平台"),
            "note": ("备注",),
        },
        ("date", "start", "end", "host"),
    )
)
# Wide form: one row per time slot (20:00-23:00), one column per day (9月1日, 2024-09-01, 1日, 1),
# cells with a host, a combo (A+B) or 断播; days without a year take it from a title row or the file name.
register(
    Reader(
        "schedule_wide",
        "schedule_wide",
        None,
        {"slot": ("时段", "时间段", "直播时段", "上播时段", "班次"), "platform_name": ("平台", "直播平台")},
        ("slot",),
    )
)
register(
    Reader(
        "session_log",
        "session_log",
        None,
        {C.platform_id: ("platform_id",), C.session_id: ("session_id",), "event": ("event", "type"), "ts": ("ts_utc",)},
        (C.session_id, "event"),
        tz="UTC",
    )
)
# Douyin compass (抖音电商罗盘) single-session workbook: four sheets told apart by their headers.
register(
    Reader(
        "douyin_compass_info",
        "compass",
        "douyin",
        {
            C.session_id: ("直播间ID", "直播ID", "场次ID", "直播场次ID", "房间ID"),
            "host_name": ("主播昵称", "达人昵称", "账号昵称", "抖音昵称", "主播"),
            C.platform_host_id: ("抖音号", "达人ID", "主播ID", "抖音ID"),
            C.title: ("直播标题", "直播间标题", "标题"),
            C.started_at_utc: ("开播时间", "直播开始时间", "开始时间"),
            C.ended_at_utc: ("下播时间", "关播时间", "直播结束时间", "结束时间"),
            "duration": ("直播时长",),
            "reported_gmv_fen": ("直播间用户支付金额", "用户支付金额", "直播间成交金额"),
            "gpm_fen": ("千次观看用户支付金额", "千次观看成交金额"),
            "reported_buyers": ("直播间成交人数", "成交人数"),
        },
        (C.started_at_utc, "reported_gmv_fen"),
    )
)
register(
    Reader(
        "douyin_compass_overview",
        "compass",
        "douyin",
        {
            "viewers": ("直播间观看人数", "观看人数"),
            "views": ("直播间观看次数", "观看次数"),
            "peak_online": ("最高在线人数", "在线人数峰值", "最高在线"),
            "avg_online": ("平均在线人数", "平均在线"),
            "avg_watch": ("人均观看时长", "平均观看时长"),
            "new_followers": ("新增粉丝数", "新增粉丝", "新加关注"),
            "likes": ("点赞次数", "点赞数"),
            "comments": ("评论次数", "评论数"),
            "interacting_viewers": ("互动人数",),
            "product_exposed_viewers": ("商品曝光人数",),
            "product_clickers": ("商品点击人数",),
            "watch_to_order": ("直播间观看-成交率(人数)", "观看-成交率(人数)"),
            "click_to_order": ("直播间商品点击-成交率(人数)", "商品点击-成交率(人数)"),
            "exposure_to_view": ("直播间曝光-观看率(人数)", "曝光-观看率(人数)"),
        },
        ("viewers", "avg_watch"),
    )
)
register(
    Reader(
        "douyin_compass_channels",
        "compass",
        "douyin",
        {
            "channel": ("渠道名称", "流量渠道", "渠道"),
            "viewers": ("观看人数", "直播间观看人数"),
            "views": ("观看次数", "直播间观看次数"),
            "share": ("观看人数占比", "占比"),
            "gmv_fen": ("成交金额", "用户支付金额", "直播间成交金额"),
        },
        ("channel", "viewers"),
    )
)
register(
    Reader(
        "douyin_compass_products",
        "compass",
        "douyin",
        {
            "platform_product_id": ("商品ID",),
            C.title: ("商品名称", "商品标题", "商品"),
            "sku": ("SKU", "SKU名称", "sku规格", "规格", "商品规格"),
            "price_fen": ("商品价格", "直播价", "价格", "售价"),
            "exposed_viewers": ("商品曝光人数", "曝光人数"),
            "clickers": ("商品点击人数", "点击人数"),
            "orders": ("成交订单数", "订单数"),
            "units": ("成交件数", "成交商品件数", "销量"),
            "gmv_fen": ("成交金额", "用户支付金额", "直播间成交金额"),
            "explain_seconds": ("讲解时长",),
            C.explain_start_utc: ("讲解开始时间", "首次讲解时间"),
            C.explain_end_utc: ("讲解结束时间",),
        },
        (C.title, "gmv_fen", "clickers"),
    )
)
