"""Writers: the canonical files, the platform-style exports, the session log and the ground truth.

Everything is formatted with vectorised polars expressions, in chunks of orders, so the large world
does not need its whole text in memory. Output layout and column meanings: docs/formats.md.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from livecommerce.schemas import CANONICAL_FILES, PLATFORMS
from livecommerce.simulate import _catalog as cat
from livecommerce.simulate import _world as wm
from livecommerce.simulate._sinks import DefectPlan, Sink
from livecommerce.simulate._text import fmt
from livecommerce.simulate._world import World

__all__ = ["TAOBAO_ORDER_COLUMNS", "write_world"]

CHUNK_LINES = 500_000
SESSION_CHUNK = 5_000

TAOBAO_ORDER_COLUMNS = [
    "订单编号",
    "买家会员名",
    "买家支付宝账号",
    "支付交易号",
    "买家应付货款",
    "买家应付邮费",
    "买家支付积分",
    "总金额",
    "返点积分",
    "买家实际支付金额",
    "买家实际支付积分",
    "订单状态",
    "买家留言",
    "收货人姓名",
    "收货地址",
    "运送方式",
    "联系电话",
    "联系手机",
    "订单创建时间",
    "订单付款时间",
    "宝贝标题",
    "宝贝种类",
    "物流单号",
    "物流公司",
    "订单备注",
    "宝贝总数量",
    "店铺Id",
    "店铺名称",
    "订单关闭原因",
    "卖家服务费",
    "买家服务费",
    "发票抬头",
    "是否手机订单",
    "分阶段订单信息",
    "定金排名",
    "修改后的sku",
    "修改后的收货地址",
    "异常信息",
    "天猫卡券抵扣",
    "集分宝抵扣",
    "是否是O2O交易",
    "买家姓名",
    "买家身份证号",
    "买家手机号",
]
TAOBAO_ITEM_COLUMNS = [
    "订单编号",
    "标题",
    "价格",
    "购买数量",
    "外部系统编号",
    "商品属性",
    "套餐信息",
    "备注",
    "订单状态",
    "商家编码",
]
DOUYIN_ORDER_COLUMNS = [
    "主订单编号",
    "子订单编号",
    "支付方式",
    "选购商品",
    "商品规格",
    "商品ID",
    "商家编码",
    "商品单价",
    "商品数量",
    "商品金额",
    "订单提交时间",
    "支付完成时间",
    "订单完成时间",
    "订单状态",
    "取消原因",
    "售后状态",
    "订单类型",
    "发货时间",
    "订单应付金额",
    "运费",
    "优惠总金额",
    "平台优惠",
    "商家优惠",
    "达人优惠",
    "收件人",
    "收件人手机号",
    "省",
    "市",
    "区",
    "详细地址",
    "达人ID",
    "达人昵称",
    "流量来源",
    "流量类型",
    "流量体裁",
    "流量渠道",
    "APP渠道",
]
DOUYIN_AFTERSALE_COLUMNS = [
    "售后单号",
    "订单号",
    "商品单号",
    "商品名称",
    "商品ID",
    "应付金额（元）",
    "售后类型",
    "退商品金额（元）",
    "退运费金额（元）",
    "售后状态",
    "售后申请时间",
    "退款方式",
    "售后原因",
    "售后原因标签",
    "商家退款时间",
    "售后完结时间",
]
PDD_COLUMNS = [
    "订单成交时间",
    "商品",
    "订单号",
    "订单状态",
    "商品总价(元)",
    "邮费(元)",
    "店铺优惠折扣(元)",
    "平台优惠折扣(元)",
    "多多支付立减金额(元)",
    "用户实付金额(元)",
    "商家实收金额(元)",
    "商品数量(件)",
    "发货时间",
    "确认收货时间",
    "商品id",
    "商品规格",
    "样式ID",
    "商家编码-规格维度",
    "商家编码-商品维度",
    "商家备注",
    "售后状态",
    "快递单号",
    "快递公司",
    "省",
    "市",
    "区",
]
SCHEDULE_COLUMNS = ["日期", "上播时间", "下播时间", "主播姓名", "场控姓名", "平台"]

TAOBAO_STATUS = {
    "unpaid": "等待买家付款",
    "paid": "买家已付款,等待卖家发货",
    "shipped": "等待买家确认收货",
    "completed": "交易成功",
    "cancelled": "交易关闭",
    "refunded": "交易关闭",
    "partially_refunded": "交易成功",
}
DOUYIN_STATUS = {
    "unpaid": "待支付",
    "paid": "待发货",
    "shipped": "已发货",
    "completed": "已完成",
    "cancelled": "已关闭",
    "refunded": "已关闭",
    "partially_refunded": "已完成",
}
PDD_STATUS = {
    "unpaid": "待支付",
    "paid": "待发货",
    "shipped": "已发货，待签收",
    "completed": "已签收",
    "cancelled": "已取消",
    "refunded": "已签收",
    "partially_refunded": "已签收",
}
CATEGORY_ZH = {"fruit": "苹果", "tea": "好茶", "wig": "发制品", "grain": "小米", "meat": "牦牛好物"}
ISO = "%Y-%m-%dT%H:%M:%SZ"
LOCAL = "%Y-%m-%d %H:%M:%S"


def _ts(arr: np.ndarray, fmt: str, local: bool = False) -> pl.Series:
    """Epoch seconds (−1 = none) as text, UTC ISO or Asia/Shanghai local."""
    a = np.asarray(arr, dtype=np.int64)
    shifted = a + (wm.LOCAL_OFFSET_S if local else 0)
    s = pl.from_epoch(pl.Series(shifted), time_unit="s").dt.strftime(fmt)
    return pl.select(pl.when(pl.Series(a) < 0).then(None).otherwise(s)).to_series()


def _yuan(fen: np.ndarray) -> pl.Series:
    """Integer fen as yuan text with two decimals (58.90)."""
    f = pl.Series(np.asarray(fen, dtype=np.int64))
    return pl.select(
        fmt(
            "{}{}.{}",
            pl.when(f < 0).then(pl.lit("-")).otherwise(pl.lit("")),
            f.abs() // 100,
            (f.abs() % 100).cast(pl.Utf8).str.zfill(2),
        )
    ).to_series()


def _s(a: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(a).astype(str))


def _order_ids(w: World) -> np.ndarray:
    """Platform order ids per order (strings): Taobao 19 digits, Douyin 19 digits (multiple of 10),
    Kuaishou 16 digits, Pinduoduo ``yymmdd-`` + 15 digits."""
    rng = wm._rng(w.seed, 9)
    o = w.orders
    n_ord = len(o["platform"])
    out = np.empty(n_ord, dtype=object)
    base = {0: 3_600_000_000_000_000_000, 1: 690_000_000_000_000_000, 2: 2_400_000_000_000_000, 3: 0}
    for p in range(4):
        idx = np.flatnonzero(o["platform"] == p)
        inc = rng.integers(1_000, 5_000_000, len(idx)).astype(np.int64)
        num = base[p] + np.cumsum(inc)
        if p == 1:
            out[idx] = (num * 10).astype(str)
        elif p == 3:
            day = _ts(o["created_s"][idx], "%y%m%d", local=True).to_numpy()
            tail = (100_000_000_000_000 + num).astype(str)
            out[idx] = np.char.add(np.char.add(day.astype(str), "-"), tail)
        else:
            out[idx] = num.astype(str)
    return out


# --- live sessions: minute curves ------------------------------------------------------------


def _minutes(w: World, sel: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Minute arrays for sessions ``sel`` (flat, grouped by session)."""
    s = w.sessions
    dur = ((s["end_s"][sel] - s["start_s"][sel]) // 60).astype(np.int64)
    ms = np.repeat(np.arange(len(sel)), dur)
    t = wm._cumcount(ms)
    day_lift = w.event_lift.mean(axis=1)[s["day"][sel]]
    level = (
        s["followers"][sel] * 0.004 * np.exp(s["log_effect"][sel] + day_lift) * np.exp(rng.normal(0, 0.25, len(sel)))
    )
    off = np.r_[0, np.cumsum(dur)[:-1]]
    # explain windows bump the room
    pos = np.searchsorted(sel, w.windows["session"])
    inside = (pos < len(sel)) & (sel[np.minimum(pos, len(sel) - 1)] == w.windows["session"])
    mark = np.zeros(len(ms) + 1, np.int64)
    st = off[pos[inside]] + w.windows["start_min"][inside]
    np.add.at(mark, st, 1)
    np.add.at(mark, np.minimum(st + w.windows["length"][inside], off[pos[inside]] + dur[pos[inside]]), -1)
    explaining = np.cumsum(mark)[:-1] > 0
    ramp = np.minimum(1.0, (t + 1) / 8.0) * np.minimum(1.0, (dur[ms] - t) / 5.0)
    online = np.round(level[ms] * ramp * (1 + 0.25 * explaining) * np.exp(rng.normal(0, 0.08, len(ms))))
    online = online.astype(np.int64)
    first = t == 0
    prev = np.where(first, 0, np.r_[0, online[:-1]])
    delta = online - prev
    entries = np.maximum(delta, 0) + rng.poisson(0.12 * prev)
    exits = entries - delta
    return {
        "sess": ms,
        "t": t,
        "online": online,
        "entries": entries,
        "exits": exits,
        "likes": rng.poisson(online * 0.8),
        "comments": rng.poisson(online * 0.03),
        "follows": rng.poisson(online * 0.002),
        "dur": dur,
    }


def _session_aggregates(w: World) -> dict[str, np.ndarray]:
    s = w.sessions
    S = len(s["session_id"])
    agg = {k: np.zeros(S, np.int64) for k in ("views", "peak", "watch", "follows", "likes", "comments")}
    agg["avg"] = np.zeros(S)
    for c, lo in enumerate(range(0, S, SESSION_CHUNK)):
        sel = np.arange(lo, min(lo + SESSION_CHUNK, S))
        m = _minutes(w, sel, wm._rng(w.seed, 100 + c))
        n = len(sel)
        agg["views"][sel] = np.bincount(m["sess"], weights=m["entries"], minlength=n)
        peak = np.zeros(n, np.int64)
        np.maximum.at(peak, m["sess"], m["online"])
        agg["peak"][sel] = peak
        tot = np.bincount(m["sess"], weights=m["online"], minlength=n)
        agg["watch"][sel] = (tot * 60).astype(np.int64)
        agg["avg"][sel] = np.round(tot / np.maximum(m["dur"], 1), 1)
        for k in ("follows", "likes", "comments"):
            agg[k][sel] = np.bincount(m["sess"], weights=m[k], minlength=n)
    rng = wm._rng(w.seed, 10)
    viewers = np.round(agg["views"] * rng.uniform(0.7, 0.85, S)).astype(np.int64)
    exposed = rng.binomial(viewers, 0.55)
    return {
        "views": agg["views"],
        "viewers": viewers,
        "peak_online": agg["peak"],
        "avg_online": agg["avg"],
        "watch_seconds": agg["watch"],
        "new_followers": agg["follows"],
        "likes": agg["likes"],
        "comments": agg["comments"],
        "interacting_viewers": rng.binomial(viewers, 0.10),
        "product_exposed_viewers": exposed,
        "product_clickers": rng.binomial(exposed, 0.18),
    }


def _session_titles(w: World) -> np.ndarray:
    s = w.sessions
    county = w.hosts["county"][s["host"]]
    days = [w.start + timedelta(days=int(d)) for d in range(w.days)]
    head = np.array(
        [
            f"{c.name_zh}{CATEGORY_ZH[next(p.category for p in w.products if p.county_id == c.county_id)]}"
            for c in w.counties
        ]
    )
    dd = np.array([f"{d.month}月{d.day}日" for d in days])
    return np.char.add(np.char.add(head[county], "助农直播 "), dd[s["day"]])


def _write_session_log(w: World, path: Path, titles: np.ndarray) -> int:
    s = w.sessions
    S = len(s["session_id"])
    plat = np.array(wm.LIVE_PLATFORMS)[s["platform"]]
    pids = np.array([p.product_id for p in w.products])
    n_lines = 0
    with path.open("wb") as f:
        for c, lo in enumerate(range(0, S, SESSION_CHUNK)):
            sel_all = np.arange(lo, min(lo + SESSION_CHUNK, S))
            m = _minutes(w, sel_all, wm._rng(w.seed, 100 + c))
            logged = s["logged"][sel_all]
            if not logged.any():
                continue
            keep = logged[m["sess"]]
            g = sel_all[m["sess"][keep]]
            frames = []
            base = pl.DataFrame({"platform_id": _s(plat[g]), "session_id": _s(s["session_id"][g])})
            ts = s["start_s"][g] + m["t"][keep] * 60
            frames.append(
                pl.DataFrame(
                    {
                        "g": g,
                        "ts": ts,
                        "rank": np.full(len(g), 4),
                        "x": base.with_columns(
                            [
                                pl.Series(k, m[k][keep])
                                for k in ("comments", "entries", "exits", "follows", "likes", "online")
                            ]
                            + [pl.Series("t", _ts(ts, ISO))]
                        )
                        .select(
                            fmt(
                                '{"comments":{},"entries":{},"event":"minute","exits":{},"follows":{},'
                                '"likes":{},"online":{},"platform_id":"{}","session_id":"{}","ts_utc":"{}"}',
                                "comments",
                                "entries",
                                "exits",
                                "follows",
                                "likes",
                                "online",
                                "platform_id",
                                "session_id",
                                "t",
                            )
                        )
                        .to_series(),
                    }
                )
            )
            sl = sel_all[logged]
            ps, ss = _s(plat[sl]), _s(s["session_id"][sl])
            hid = _s(w.hosts["host_id"][s["host"][sl]])
            title = _s(titles[sl])
            frames.append(
                pl.DataFrame(
                    {
                        "g": sl,
                        "ts": s["start_s"][sl],
                        "rank": np.zeros(len(sl), np.int64),
                        "x": pl.select(
                            fmt(
                                '{"event":"session_start","host_id":"{}","platform_id":"{}",'
                                '"session_id":"{}","title":"{}","ts_utc":"{}"}',
                                hid,
                                ps,
                                ss,
                                title,
                                _ts(s["start_s"][sl], ISO),
                            )
                        ).to_series(),
                    }
                )
            )
            frames.append(
                pl.DataFrame(
                    {
                        "g": sl,
                        "ts": s["end_s"][sl],
                        "rank": np.full(len(sl), 5),
                        "x": pl.select(
                            fmt(
                                '{"event":"session_end","platform_id":"{}","session_id":"{}","ts_utc":"{}"}',
                                ps,
                                ss,
                                _ts(s["end_s"][sl], ISO),
                            )
                        ).to_series(),
                    }
                )
            )
            # price changes at the start for products priced off list; explain windows
            spm = np.isin(w.sp["session"], sl)
            spi = np.flatnonzero(spm & (w.sp["price_fen"] != w.sp["list_price_fen"]))
            sg = w.sp["session"][spi]
            frames.append(
                pl.DataFrame(
                    {
                        "g": sg,
                        "ts": s["start_s"][sg],
                        "rank": np.ones(len(sg), np.int64),
                        "x": pl.select(
                            fmt(
                                '{"event":"price_change","platform_id":"{}","price_fen":{},'
                                '"product_id":"{}","session_id":"{}","ts_utc":"{}"}',
                                _s(plat[sg]),
                                pl.Series(w.sp["price_fen"][spi]),
                                _s(pids[w.sp["product"][spi]]),
                                _s(s["session_id"][sg]),
                                _ts(s["start_s"][sg], ISO),
                            )
                        ).to_series(),
                    }
                )
            )
            wi = np.flatnonzero(np.isin(w.windows["session"], sl))
            wg = w.windows["session"][wi]
            t0 = s["start_s"][wg] + w.windows["start_min"][wi] * 60
            t1 = t0 + w.windows["length"][wi] * 60
            wp = _s(pids[w.windows["product"][wi]])
            price = pl.Series(w.sp["price_fen"][w.windows["sp"][wi]])
            frames.append(
                pl.DataFrame(
                    {
                        "g": wg,
                        "ts": t0,
                        "rank": np.full(len(wg), 3),
                        "x": pl.select(
                            fmt(
                                '{"event":"explain_start","platform_id":"{}","price_fen":{},'
                                '"product_id":"{}","session_id":"{}","ts_utc":"{}"}',
                                _s(plat[wg]),
                                price,
                                wp,
                                _s(s["session_id"][wg]),
                                _ts(t0, ISO),
                            )
                        ).to_series(),
                    }
                )
            )
            frames.append(
                pl.DataFrame(
                    {
                        "g": wg,
                        "ts": t1,
                        "rank": np.full(len(wg), 2),
                        "x": pl.select(
                            fmt(
                                '{"event":"explain_stop","platform_id":"{}","product_id":"{}",'
                                '"session_id":"{}","ts_utc":"{}"}',
                                _s(plat[wg]),
                                wp,
                                _s(s["session_id"][wg]),
                                _ts(t1, ISO),
                            )
                        ).to_series(),
                    }
                )
            )
            ev = pl.concat([fr.with_columns(pl.col("g", "ts", "rank").cast(pl.Int64)) for fr in frames])
            ev = ev.sort(["g", "ts", "rank"], maintain_order=True)
            f.write(("\n".join(ev["x"].to_list()) + "\n").encode("utf-8"))
            n_lines += ev.height
    return n_lines


# --- orders ------------------------------------------------------------------------------------


def _line_frame(w: World, a: int, b: int, oid: np.ndarray) -> pl.DataFrame:
    """Every field of order lines ``a:b`` as text (canonical and export formats) plus helpers."""
    ln = {k: v[a:b] for k, v in w.lines.items()}
    o = w.orders
    oi = ln["order"]
    h = w.hosts
    prods = w.products
    pl_name = np.array(wm.ALL_PLATFORMS)[ln["platform"]]
    pid = np.array([p.product_id for p in prods])[ln["product"]]
    title = np.array([p.title for p in prods])[ln["product"]]
    spec = np.array([p.spec for p in prods])[ln["product"]]
    status = o["status"][oi]
    prov_i = o["province"][oi]
    provs = cat.PROVINCES
    host = ln["host"]
    has_host = host >= 0
    hh = np.where(has_host, host, 0)
    sess = ln["session"]
    sid = np.where(sess >= 0, w.sessions["session_id"][np.maximum(sess, 0)], "")
    # what a platform export shows as host / traffic (Douyin and Kuaishou carry the host)
    shows_host = has_host & np.isin(ln["platform"], (1, 2))
    ex_hid = np.where(shows_host, h["platform_host_id"][hh], "")
    ex_hname = np.where(shows_host, h["name"][hh], "")
    src = ln["source"]
    rng = wm._rng(w.seed, 1000 + a // CHUNK_LINES)
    shelf_src = np.where(rng.random(len(oi)) < 0.6, "商品卡", "搜索")
    t_source = np.where(src == 0, "直播间-自营", np.where(src == 2, "精选联盟-直播", shelf_src))
    t_type = np.where(rng.random(len(oi)) < 0.3, "付费流量", "自然流量")
    genre = np.where(src == 1, "商品卡", "直播")
    genre = np.where(ln["created_s"] >= w.snapshot_s - 86400, "数据将于第二天更新", genre)
    dy = ln["platform"] == 1
    t_source = np.where(dy | (src == 0), t_source, "商品卡")
    buyer = o["buyer"][oi]
    pids_plat = np.array([[w.product_platform_ids[(pl_, p.product_id)] for p in prods] for pl_ in wm.ALL_PLATFORMS])
    plat_pid = pids_plat[ln["platform"], ln["product"]]
    df = pl.DataFrame(
        {
            "platform_id": _s(pl_name),
            "order_id": pl.Series(oid[oi].astype(str)),
            "line_no": _s(ln["line_no"]),
            "product_id": _s(pid),
            "title": _s(title),
            "quantity": _s(ln["quantity"]),
            "unit_price_fen": _s(ln["unit_price_fen"]),
            "amount_fen": _s(ln["amount_fen"]),
            "shipping_fen": _s(ln["shipping_fen"]),
            "discount_fen": _s(ln["discount_fen"]),
            "refund_fen": _s(ln["refund_fen"]),
            "status": _s(status),
            "refund_reason": _s(o["refund_reason"][oi]),
            "created_at_utc": _ts(ln["created_s"], ISO),
            "paid_at_utc": _ts(o["paid_s"][oi], ISO),
            "shipped_at_utc": _ts(o["shipped_s"][oi], ISO),
            "finished_at_utc": _ts(o["finished_s"][oi], ISO),
            "refunded_at_utc": _ts(o["refunded_s"][oi], ISO),
            "buyer_id": pl.Series(np.char.add(np.array(pl_name).astype(str), np.char.add("-b", buyer.astype(str)))),
            "province": _s(np.array([p.name for p in provs])[prov_i]),
            "city": _s(np.array([p.city for p in provs])[prov_i]),
            "export_host_id": _s(ex_hid),
            "export_host_name": _s(ex_hname),
            "traffic_source": _s(t_source),
            "traffic_genre": _s(np.where(dy, genre, "")),
            "session_id": _s(sid),
            # helpers for exports
            "_oi": pl.Series(oi),
            "_p": pl.Series(ln["platform"].astype(np.int64)),
            "_spec": _s(spec),
            "_plat_pid": _s(plat_pid),
            "_district": _s(np.array([p.district for p in provs])[prov_i]),
            "_street": _s(np.array(cat.STREETS)[buyer % len(cat.STREETS)]),
            "_buyer": pl.Series(buyer),
            "_county": pl.Series(
                np.array([next(i for i, c in enumerate(w.counties) if c.county_id == p.county_id) for p in prods])[
                    ln["product"]
                ]
            ),
            "_dy_genre": _s(genre),
            "_dy_type": _s(t_type),
            "_created_l": _ts(ln["created_s"], LOCAL, True),
            "_paid_l": _ts(o["paid_s"][oi], LOCAL, True),
            "_shipped_l": _ts(o["shipped_s"][oi], LOCAL, True),
            "_finished_l": _ts(o["finished_s"][oi], LOCAL, True),
            "_refunded_l": _ts(o["refunded_s"][oi], LOCAL, True),
            "_apply_l": _ts(o["refund_apply_s"][oi], LOCAL, True),
            "_apply": pl.Series(o["refund_apply_s"][oi]),
            "_pending": pl.Series(o["refund_pending"][oi]),
            "_price_y": _yuan(ln["unit_price_fen"]),
            "_gross_y": _yuan(ln["unit_price_fen"] * ln["quantity"]),
            "_amount_y": _yuan(ln["amount_fen"]),
            "_ship_y": _yuan(ln["shipping_fen"]),
            "_disc_y": _yuan(ln["discount_fen"]),
            "_refund_y": _yuan(ln["refund_fen"]),
            "_payable_y": _yuan(ln["amount_fen"] + ln["shipping_fen"]),
            "_amount": pl.Series(ln["amount_fen"]),
            "_ship": pl.Series(ln["shipping_fen"]),
            "_qty": pl.Series(ln["quantity"]),
        }
    )
    return df


def _mask_name(buyer: pl.Expr) -> pl.Expr:
    sur = pl.lit(cat.SURNAMES)
    return sur.str.slice(buyer % len(cat.SURNAMES), 1) + pl.lit("**")


def _taobao(df: pl.DataFrame, shops: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    t = df.filter(pl.col("_p") == 0)
    status = pl.col("status").replace_strict(TAOBAO_STATUS, default="")
    items = t.select(
        pl.col("order_id").alias("订单编号"),
        pl.col("title").alias("标题"),
        pl.col("_price_y").alias("价格"),
        pl.col("quantity").alias("购买数量"),
        pl.lit("").alias("外部系统编号"),
        fmt("规格:{}", "_spec").alias("商品属性"),
        pl.lit("").alias("套餐信息"),
        pl.lit("").alias("备注"),
        status.alias("订单状态"),
        pl.col("product_id").alias("商家编码"),
    )
    g = t.group_by("_oi", maintain_order=True).agg(
        pl.first("order_id"),
        pl.first("status"),
        pl.first("_created_l"),
        pl.first("_paid_l"),
        pl.first("_buyer"),
        pl.first("province"),
        pl.first("city"),
        pl.first("_district"),
        pl.first("_street"),
        pl.first("_county"),
        pl.first("_shipped_l"),
        pl.col("title").str.join("，").alias("titles"),
        pl.len().alias("kinds"),
        pl.sum("_qty").alias("qty"),
        pl.sum("_amount").alias("goods"),
        pl.sum("_ship").alias("ship"),
    )
    total = pl.col("goods") + pl.col("ship")

    def y(e: pl.Expr) -> pl.Expr:
        return fmt("{}.{}", e // 100, (e % 100).cast(pl.Utf8).str.zfill(2))

    paid = pl.col("status") != "unpaid"
    never_paid = pl.col("_paid_l").is_null()
    closed = pl.col("status").is_in(["cancelled", "refunded"])
    reason = (
        pl.when(~closed)
        .then(pl.lit("订单未关闭"))
        .when(never_paid)
        .then(pl.lit("买家未付款"))
        .when(pl.col("status") == "refunded")
        .then(pl.lit("退款成功"))
        .otherwise(pl.lit("买家申请退款"))
    )
    cols = {
        "订单编号": pl.col("order_id"),
        "买家会员名": fmt("tb{}***", pl.col("_buyer") % 97),
        "买家支付宝账号": pl.lit(""),
        "支付交易号": pl.when(never_paid).then(pl.lit("")).otherwise(fmt("2024{}", pl.col("order_id"))),
        "买家应付货款": y(pl.col("goods")),
        "买家应付邮费": y(pl.col("ship")),
        "买家支付积分": pl.lit("0"),
        "总金额": y(total),
        "返点积分": pl.lit("0"),
        "买家实际支付金额": pl.when(never_paid).then(pl.lit("0.00")).otherwise(y(total)),
        "买家实际支付积分": pl.lit("0"),
        "订单状态": pl.col("status").replace_strict(TAOBAO_STATUS, default=""),
        "买家留言": pl.lit(""),
        "收货人姓名": _mask_name(pl.col("_buyer")),
        "收货地址": fmt("{} {} {} {}{}号", "province", "city", "_district", "_street", pl.col("_buyer") % 300 + 1),
        "运送方式": pl.lit("快递"),
        "联系电话": pl.lit(""),
        "联系手机": fmt("1{}****{}", pl.col("_buyer") % 9 + 30, (pl.col("_buyer") % 9000 + 1000)),
        "订单创建时间": pl.col("_created_l"),
        "订单付款时间": pl.col("_paid_l"),
        "宝贝标题": pl.col("titles"),
        "宝贝种类": pl.col("kinds").cast(pl.Utf8),
        "物流单号": pl.when(pl.col("_shipped_l").is_null())
        .then(pl.lit(""))
        .otherwise(fmt("YT{}", pl.col("order_id").str.slice(6, 13))),
        "物流公司": pl.when(pl.col("_shipped_l").is_null()).then(pl.lit("")).otherwise(pl.lit("圆通速递")),
        "订单备注": pl.lit(""),
        "宝贝总数量": pl.col("qty").cast(pl.Utf8),
        "店铺Id": fmt("{}", 5_000_000 + pl.col("_county")),
        "店铺名称": pl.col("_county").replace_strict(dict(enumerate(shops)), return_dtype=pl.Utf8),
        "订单关闭原因": reason,
        "卖家服务费": pl.lit("0.00"),
        "买家服务费": pl.lit("0.00元"),
        "发票抬头": pl.lit(""),
        "是否手机订单": pl.lit("手机订单"),
    }
    _ = paid
    orders = g.select(
        *[e.alias(k) for k, e in cols.items()], *[pl.lit("").alias(c) for c in TAOBAO_ORDER_COLUMNS[len(cols) :]]
    )
    return orders, items


def _douyin(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    d = df.filter(pl.col("_p") == 1)
    st = pl.col("status")
    after = (
        pl.when(st == "refunded")
        .then(pl.lit("退款成功"))
        .when(st == "partially_refunded")
        .then(pl.lit("部分退款成功"))
        .when((st == "cancelled") & pl.col("_paid_l").is_not_null())
        .then(pl.lit("退款成功"))
        .when(pl.col("_pending") & pl.col("_apply_l").is_not_null())
        .then(pl.lit("售后处理中"))
        .otherwise(pl.lit("-"))
    )
    sub = (pl.col("order_id").cast(pl.Int64) + pl.col("line_no").cast(pl.Int64)).cast(pl.Utf8)
    orders = d.select(
        pl.col("order_id").alias("主订单编号"),
        sub.alias("子订单编号"),
        pl.when(pl.col("_paid_l").is_null()).then(pl.lit("")).otherwise(pl.lit("抖音支付")).alias("支付方式"),
        pl.col("title").alias("选购商品"),
        pl.col("_spec").alias("商品规格"),
        pl.col("_plat_pid").alias("商品ID"),
        pl.col("product_id").alias("商家编码"),
        pl.col("_price_y").alias("商品单价"),
        pl.col("quantity").alias("商品数量"),
        pl.col("_gross_y").alias("商品金额"),
        pl.col("_created_l").alias("订单提交时间"),
        pl.col("_paid_l").alias("支付完成时间"),
        pl.when(st == "completed").then(pl.col("_finished_l")).otherwise(None).alias("订单完成时间"),
        st.replace_strict(DOUYIN_STATUS, default="").alias("订单状态"),
        pl.when(st == "cancelled")
        .then(pl.when(pl.col("_paid_l").is_null()).then(pl.lit("超时未支付")).otherwise(pl.lit("买家取消")))
        .otherwise(pl.lit(""))
        .alias("取消原因"),
        after.alias("售后状态"),
        pl.lit("普通订单").alias("订单类型"),
        pl.col("_shipped_l").alias("发货时间"),
        pl.col("_payable_y").alias("订单应付金额"),
        pl.col("_ship_y").alias("运费"),
        pl.col("_disc_y").alias("优惠总金额"),
        pl.lit("0.00").alias("平台优惠"),
        pl.col("_disc_y").alias("商家优惠"),
        pl.lit("0.00").alias("达人优惠"),
        _mask_name(pl.col("_buyer")).alias("收件人"),
        fmt("1{}****{}", pl.col("_buyer") % 9 + 30, pl.col("_buyer") % 9000 + 1000).alias("收件人手机号"),
        pl.col("province").alias("省"),
        pl.col("city").alias("市"),
        pl.col("_district").alias("区"),
        fmt("{}***号", "_street").alias("详细地址"),
        pl.col("export_host_id").alias("达人ID"),
        pl.col("export_host_name").alias("达人昵称"),
        pl.col("traffic_source").alias("流量来源"),
        pl.col("_dy_type").alias("流量类型"),
        pl.col("_dy_genre").alias("流量体裁"),
        pl.lit("抖音").alias("流量渠道"),
        pl.lit("抖音").alias("APP渠道"),
    )
    a = d.filter(pl.col("_apply").cast(pl.Int64) >= 0)
    done = pl.col("refund_fen").cast(pl.Int64) > 0
    kind = (
        pl.when(pl.col("_shipped_l").is_null())
        .then(pl.lit("仅退款"))
        .when(pl.col("product_id").str.starts_with("yijun"))
        .then(pl.lit("退货退款"))
        .otherwise(pl.lit("仅退款"))
    )
    after_df = a.select(
        fmt("7{}", sub.str.slice(1)).alias("售后单号"),
        pl.col("order_id").alias("订单号"),
        sub.alias("商品单号"),
        pl.col("title").alias("商品名称"),
        pl.col("_plat_pid").alias("商品ID"),
        pl.col("_amount_y").alias("应付金额（元）"),
        kind.alias("售后类型"),
        pl.when(done).then(pl.col("_refund_y")).otherwise(pl.col("_amount_y")).alias("退商品金额（元）"),
        pl.lit("0.00").alias("退运费金额（元）"),
        pl.when(done).then(pl.lit("同意退款，退款成功")).otherwise(pl.lit("售后处理中")).alias("售后状态"),
        pl.col("_apply_l").alias("售后申请时间"),
        pl.lit("原路退回").alias("退款方式"),
        pl.col("refund_reason").fill_null("其他").alias("售后原因"),
        pl.lit("").alias("售后原因标签"),
        pl.when(done).then(pl.col("_refunded_l")).otherwise(None).alias("商家退款时间"),
        pl.when(done).then(pl.col("_refunded_l")).otherwise(None).alias("售后完结时间"),
    )
    return orders, after_df


def _pinduoduo(df: pl.DataFrame) -> pl.DataFrame:
    d = df.filter(pl.col("_p") == 3)
    st = pl.col("status")
    shipped = pl.col("_shipped_l").is_not_null()
    status = (
        pl.when(st.is_in(["refunded"]) & ~shipped)
        .then(pl.lit("已取消"))
        .otherwise(st.replace_strict(PDD_STATUS, default=""))
    )
    after = (
        pl.when(pl.col("refund_fen").cast(pl.Int64) > 0).then(pl.lit("退款成功")).otherwise(pl.lit("无售后或售后取消"))
    )
    return d.select(
        pl.col("_created_l").alias("订单成交时间"),
        pl.col("title").alias("商品"),
        pl.col("order_id").alias("订单号"),
        status.alias("订单状态"),
        pl.col("_gross_y").alias("商品总价(元)"),
        pl.col("_ship_y").alias("邮费(元)"),
        pl.col("_disc_y").alias("店铺优惠折扣(元)"),
        pl.lit("0.00").alias("平台优惠折扣(元)"),
        pl.lit("0.00").alias("多多支付立减金额(元)"),
        pl.col("_payable_y").alias("用户实付金额(元)"),
        pl.col("_payable_y").alias("商家实收金额(元)"),
        pl.col("quantity").alias("商品数量(件)"),
        pl.col("_shipped_l").alias("发货时间"),
        pl.when(st == "completed").then(pl.col("_finished_l")).otherwise(None).alias("确认收货时间"),
        pl.col("_plat_pid").alias("商品id"),
        pl.col("_spec").alias("商品规格"),
        fmt("{}1", "_plat_pid").alias("样式ID"),
        fmt("{}-1", "product_id").alias("商家编码-规格维度"),
        pl.col("product_id").alias("商家编码-商品维度"),
        pl.lit("").alias("商家备注"),
        after.alias("售后状态"),
        pl.when(shipped).then(fmt("ZT{}", pl.col("order_id").str.slice(7, 12))).otherwise(pl.lit("")).alias("快递单号"),
        pl.when(shipped).then(pl.lit("中通快递")).otherwise(pl.lit("")).alias("快递公司"),
        pl.col("province").alias("省"),
        pl.col("city").alias("市"),
        pl.col("_district").alias("区"),
    )


# --- the whole world ---------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_world(w: World, out: Path, defects: float = 0.0) -> dict[str, object]:
    """Write every file of world ``w`` under ``out``; return the manifest (also written)."""
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("canonical", "exports", "truth"):
        (out / sub).mkdir(exist_ok=True)
    future_base = datetime.combine(w.end, datetime.min.time()) + timedelta(days=365)
    sinks: list[Sink] = []

    def sink(
        rel: str,
        header: list[str],
        encoding: str = "utf-8",
        plan: DefectPlan | None = None,
        numeric: set[str] | None = None,
        stream: int = 0,
    ) -> Sink:
        sk = Sink(
            out,
            rel,
            list(header),
            encoding,
            plan,
            defects if plan else 0.0,
            wm._rng(w.seed, 500 + stream),
            future_base,
            numeric or set(),
        )
        sinks.append(sk)
        return sk

    # dimensions
    h = w.hosts
    len(h["host_id"])
    cty = sink("canonical/counties.csv", list(CANONICAL_FILES["counties"]))
    cty.write(
        pl.DataFrame(
            {
                "county_id": [c.county_id for c in w.counties],
                "name_zh": [c.name_zh for c in w.counties],
                "name_en": [c.name_en for c in w.counties],
                "province_zh": [c.province_zh for c in w.counties],
                "province_en": [c.province_en for c in w.counties],
            }
        )
    )
    hs = sink("canonical/hosts.csv", list(CANONICAL_FILES["hosts"]))
    hs.write(
        pl.DataFrame(
            {
                "host_id": _s(h["host_id"]),
                "name": _s(h["name"]),
                "kind": _s(h["kind"]),
                "county_id": pl.Series([w.counties[c].county_id if c >= 0 else "" for c in h["county"]]),
                "platform_id": _s(np.array(wm.LIVE_PLATFORMS)[h["platform"]]),
                "platform_host_id": _s(h["platform_host_id"]),
            }
        )
    )
    ps = sink("canonical/products.csv", list(CANONICAL_FILES["products"]))
    ps.write(pl.DataFrame({k: [str(getattr(p, k)) for p in w.products] for k in CANONICAL_FILES["products"]}))
    al = sink("canonical/product_aliases.csv", list(CANONICAL_FILES["product_aliases"]))
    al.write(
        pl.DataFrame(
            {
                "platform_id": [k[0] for k in w.product_platform_ids],
                "platform_product_id": list(w.product_platform_ids.values()),
                "product_id": [k[1] for k in w.product_platform_ids],
            }
        )
    )
    # sessions
    s = w.sessions
    agg = _session_aggregates(w)
    titles = _session_titles(w)
    sess_cols = {
        "platform_id": _s(np.array(wm.LIVE_PLATFORMS)[s["platform"]]),
        "session_id": _s(s["session_id"]),
        "host_id": _s(h["host_id"][s["host"]]),
        "started_at_utc": _ts(s["start_s"], ISO),
        "ended_at_utc": _ts(s["end_s"], ISO),
        "title": _s(titles),
        **{k: _s(v) for k, v in agg.items()},
    }
    ss = sink(
        "canonical/sessions.csv",
        list(CANONICAL_FILES["sessions"]),
        plan=DefectPlan(end_col=("started_at_utc", "ended_at_utc"), duplicates=False),
        stream=1,
    )
    ss.write(pl.DataFrame(sess_cols))
    # schedule (排班表), one row per session, scheduled times in local time
    local_day = np.array([(w.start + timedelta(days=int(d))).isoformat() for d in range(w.days)])

    def hm(m: np.ndarray) -> np.ndarray:
        hh = np.char.zfill(((m // 60) % 24).astype(str), 2)
        return np.char.add(np.char.add(hh, ":"), np.char.zfill((m % 60).astype(str), 2))

    sched = (
        pl.DataFrame(
            {
                "日期": _s(local_day[s["day"]]),
                "上播时间": _s(hm(s["sched_start_min"])),
                "下播时间": _s(hm(s["sched_end_min"])),
                "主播姓名": _s(h["name"][s["host"]]),
                "场控姓名": _s(np.array(w.extra["controllers"])[h["county"][s["host"]]]),
                "平台": _s(np.array([PLATFORMS[p][0] for p in wm.LIVE_PLATFORMS])[s["platform"]]),
                "_k": s["day"] * 2000 + s["sched_start_min"],
            }
        )
        .sort("_k", maintain_order=True)
        .drop("_k")
    )
    sk = sink(
        "exports/schedule.csv",
        SCHEDULE_COLUMNS,
        "utf-8-sig",
        DefectPlan(date_col="日期", date_fmt="%Y-%m-%d"),
        stream=2,
    )
    sk.write(sched)
    # session log (canonical and exports copy)
    log_lines = _write_session_log(w, out / "canonical/session_log.jsonl", titles)
    shutil.copyfile(out / "canonical/session_log.jsonl", out / "exports/session_log.jsonl")
    # orders in chunks
    oid = _order_ids(w)
    canon = sink(
        "canonical/orders.csv",
        list(CANONICAL_FILES["orders"]),
        plan=DefectPlan(
            id_col="order_id",
            required_money_col="amount_fen",
            date_col="created_at_utc",
            date_fmt=ISO,
            qty_col="quantity",
            product_col="product_id",
            wrap=False,
        ),
        stream=3,
    )
    tb_o = sink(
        "exports/taobao_orders.csv",
        TAOBAO_ORDER_COLUMNS,
        "gb18030",
        DefectPlan(
            id_col="订单编号",
            money_col="总金额",
            required_money_col="总金额",
            date_col="订单创建时间",
            qty_col="宝贝总数量",
            total=("订单编号", ["总金额", "买家实际支付金额"]),
        ),
        stream=4,
    )
    tb_i = sink(
        "exports/taobao_items.csv",
        TAOBAO_ITEM_COLUMNS,
        "gb18030",
        DefectPlan(id_col="订单编号", money_col="价格", required_money_col="价格", qty_col="购买数量"),
        stream=5,
    )
    dy_o = sink(
        "exports/douyin_orders.csv",
        DOUYIN_ORDER_COLUMNS,
        "utf-8-sig",
        DefectPlan(
            id_col="子订单编号",
            money_col="订单应付金额",
            required_money_col="订单应付金额",
            date_col="订单提交时间",
            qty_col="商品数量",
            total=("主订单编号", ["商品金额", "订单应付金额"]),
        ),
        stream=6,
    )
    dy_a = sink(
        "exports/douyin_aftersale.csv",
        DOUYIN_AFTERSALE_COLUMNS,
        "utf-8-sig",
        DefectPlan(
            id_col="商品单号",
            money_col="退商品金额（元）",
            required_money_col="退商品金额（元）",
            date_col="售后申请时间",
        ),
        stream=7,
    )
    pdd = sink(
        "exports/pinduoduo_orders.xlsx",
        PDD_COLUMNS,
        plan=DefectPlan(
            id_col="订单号",
            money_col="用户实付金额(元)",
            required_money_col="用户实付金额(元)",
            date_col="订单成交时间",
            qty_col="商品数量(件)",
            mangle=False,
            wrap=False,
            total=("订单成交时间", ["商品总价(元)", "用户实付金额(元)"]),
        ),
        numeric={
            "商品总价(元)",
            "邮费(元)",
            "店铺优惠折扣(元)",
            "平台优惠折扣(元)",
            "多多支付立减金额(元)",
            "用户实付金额(元)",
            "商家实收金额(元)",
            "商品数量(件)",
        },
        stream=8,
    )
    L = len(w.lines["order"])
    order_arr = w.lines["order"]
    a = 0
    while a < L:
        b = min(a + CHUNK_LINES, L)
        while 0 < b < L and order_arr[b] == order_arr[b - 1]:
            b += 1
        df = _line_frame(w, a, b, oid)
        canon.write(df.select(CANONICAL_FILES["orders"]))
        o_tb, i_tb = _taobao(df, [c.shop_zh for c in w.counties])
        tb_o.write(o_tb)
        tb_i.write(i_tb)
        o_dy, a_dy = _douyin(df)
        dy_o.write(o_dy)
        dy_a.write(a_dy)
        pdd.write(_pinduoduo(df))
        a = b
    for sk_ in sinks:
        sk_.close()
    # truth
    truth = ground_truth(w)
    _write_json(out / "ground_truth.json", truth)
    sp_frame = _sp_frame(w)
    sp_frame.write_csv(out / "truth/session_products.csv")
    all_defects = sorted((d for sk_ in sinks for d in sk_.defects), key=lambda d: (str(d["file"]), int(d["line"])))
    if defects > 0:
        _write_json(out / "defects.json", all_defects)
    files = {}
    rows = {sk_.rel: sk_.rows for sk_ in sinks}
    rows["canonical/session_log.jsonl"] = rows["exports/session_log.jsonl"] = log_lines
    rows["truth/session_products.csv"] = sp_frame.height
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"):
        rel = path.relative_to(out).as_posix()
        files[rel] = {"bytes": path.stat().st_size, "sha256": _sha256(path), "rows": rows.get(rel)}
    manifest = {
        "generator": "livecommerce.simulate",
        "seed": w.seed,
        "scale": w.spec.name,
        "start": w.start.isoformat(),
        "days": w.days,
        "snapshot_utc": datetime.fromtimestamp(w.snapshot_s, UTC).strftime(ISO),
        "defect_rate": defects,
        "defects": len(all_defects),
        "files": files,
    }
    _write_json(out / "manifest.json", manifest)
    return manifest


def _write_json(path: Path, doc: object) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1) + "\n", encoding="utf-8")


def _sp_frame(w: World) -> pl.DataFrame:
    sp, s = w.sp, w.sessions
    ss = sp["session"]
    return pl.DataFrame(
        {
            "platform_id": _s(np.array(wm.LIVE_PLATFORMS)[s["platform"][ss]]),
            "session_id": _s(s["session_id"][ss]),
            "host_id": _s(w.hosts["host_id"][s["host"][ss]]),
            "product_id": _s(np.array([p.product_id for p in w.products])[sp["product"]]),
            "day_local": pl.Series([(w.start + timedelta(days=int(d))).isoformat() for d in s["day"][ss]]),
            "slot": _s(np.array(wm.SLOTS)[s["slot"][ss]]),
            "weekday": pl.Series(s["weekday"][ss]),
            "followers": pl.Series(s["followers"][ss]),
            "explain_minutes": pl.Series(sp["explain_minutes"]),
            "price_fen": pl.Series(sp["price_fen"]),
            "list_price_fen": pl.Series(sp["list_price_fen"]),
            "price_test": pl.Series(sp["price_test"]),
            "festival_discount": pl.Series(sp["festival_discount"]),
            "live_coupon": pl.Series(sp["live_coupon"]),
            "log_effect": pl.Series(np.round(sp["log_effect"], 6)),
            "expected_units": pl.Series(np.round(sp["expected_units"], 4)),
            "stock_units": pl.Series(sp["stock_units"]),
            "demand_units": pl.Series(sp["demand_units"]),
            "sold_units": pl.Series(sp["sold_units"]),
            "orders": pl.Series(sp["orders"]),
            "censored": pl.Series(sp["censored"]),
        }
    )


def ground_truth(w: World) -> dict[str, object]:
    """Return every parameter that generated world ``w`` as a JSON-ready dict."""
    h, s, sp, o = w.hosts, w.sessions, w.sp, w.orders
    n_own = int(h["n_own"])
    sw = w.slot_weekday_matrix()
    cens = np.flatnonzero(sp["censored"])
    pids = [p.product_id for p in w.products]
    refunded = o["refund_fate"]
    return {
        "seed": w.seed,
        "scale": w.spec.name,
        "start": w.start.isoformat(),
        "end_exclusive": w.end.isoformat(),
        "snapshot_utc": datetime.fromtimestamp(w.snapshot_s, UTC).strftime(ISO),
        "model": {
            "formula": (
                "expected_units = base_units[product] * exp(slot_weekday[slot][weekday] + platform[platform] "
                "+ skill[host] + follower_elasticity * ln(followers / followers_initial[host]) "
                "+ sum of calendar event log_lift active on the local day for the product) "
                "* (price_fen / list_price_fen) ** elasticity[product] * explain_minutes / 20"
            ),
            "demand": "orders ~ Poisson(expected_units * exp(N(-sd^2/2, sd)) / mean_quantity); units = sum of "
            "quantities; orders are dropped in time order once cumulative units exceed stock_units (censored)",
            "noise_sd": wm.NOISE_SD,
            "quantity_values": wm.QTY_VALUES.tolist(),
            "quantity_probs": wm.QTY_PROBS.tolist(),
            "mean_quantity": wm.QTY_MEAN,
            "explain_minutes_unit": wm.EXPOSURE_UNIT_MIN,
            "follower_elasticity": wm.FOLLOWER_ELASTICITY,
            "in_window_share": wm.IN_WINDOW_SHARE,
            "per_session_product_table": "truth/session_products.csv",
        },
        "products": {
            p.product_id: {
                "elasticity": p.elasticity,
                "base_units": p.base_units,
                "list_price_fen": p.list_price_fen,
                "unit_cost_fen": p.unit_cost_fen,
                "category": p.category,
                "shelf_units_per_day": p.shelf_units,
                "season_start_month": p.season_start_month,
                "season_end_month": p.season_end_month,
                "shelf_life_days": p.shelf_life_days,
            }
            for p in w.products
        },
        "slot_log_effect": dict(zip(wm.SLOTS, wm.SLOT_LOG_EFFECT, strict=False)),
        "slot_local_start_window_min": dict(zip(wm.SLOTS, [list(x) for x in wm.SLOT_START], strict=False)),
        "weekday_log_effect": dict(
            zip(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), wm.WEEKDAY_LOG_EFFECT, strict=False)
        ),
        "weekend_afternoon_bonus": wm.WEEKEND_AFTERNOON_BONUS,
        "slot_weekday_log_effect": {sl: [round(float(x), 4) for x in sw[i]] for i, sl in enumerate(wm.SLOTS)},
        "platform_log_effect": wm.PLATFORM_LOG_EFFECT,
        "hosts": {
            str(h["host_id"][i]): {
                "kind": str(h["kind"][i]),
                "platform_id": wm.LIVE_PLATFORMS[int(h["platform"][i])],
                "skill_log_effect": float(h["skill"][i]),
                "followers_initial": int(h["followers0"][i]),
                "follower_growth_per_session": float(h["growth"][i]),
                "preferred_slot": wm.SLOTS[int(h["preferred_slot"][i])] if i < n_own else None,
                "sessions_per_week": float(h["sessions_per_week"][i]),
            }
            for i in range(len(h["host_id"]))
        },
        "events": [e.as_dict() for e in w.events],
        "price_policy": {
            "price_test_share": wm.PRICE_TEST_SHARE,
            "price_test_multipliers": list(wm.PRICE_TEST_MULTIPLIERS),
            "festival_discount_share": wm.FESTIVAL_DISCOUNT_SHARE,
            "festival_discount": wm.FESTIVAL_DISCOUNT,
            "live_coupon_share": wm.LIVE_COUPON_SHARE,
            "live_coupon": wm.LIVE_COUPON,
            "rounding": "round(list_price * multipliers / 100) * 100 - 10 fen",
            "order_coupon_share": wm.COUPON_SHARE,
            "order_coupon_fen": [300, 500],
        },
        "stock_policy": {
            "stock_units": "ceil(expected_units * exp(N(mean, sd)))",
            "mean": wm.STOCK_LOG_MEAN,
            "sd": wm.STOCK_LOG_SD,
        },
        "shelf": {
            "platform_factor": wm.SHELF_PLATFORM_FACTOR,
            "scale_multiplier": w.spec.shelf_mult,
            "festival_price_multiplier": wm.SHELF_DISCOUNT,
            "formula": "units/day = shelf_units * platform_factor * scale_multiplier * exp(weekday + events) "
            "* (price/list)^elasticity, in season only",
        },
        "affiliate": {
            "units_per_day_all_products": w.spec.affiliate_units,
            "price_multiplier": wm.AFFILIATE_PRICE,
            "platform_id": "douyin",
            "traffic_source": "精选联盟-直播",
        },
        "refunds": {
            "base_by_category": wm.REFUND_BASE,
            "fruit_far_extra": wm.REFUND_FRUIT_FAR,
            "far_km": wm.FAR_KM,
            "fruit_heat_extra": wm.REFUND_FRUIT_HEAT,
            "heat_months": [6, 7, 8, 9],
            "delay_days": "1 + Gamma(shape 2, scale 1.5) after shipment",
            "partial_share_douyin_kuaishou": wm.PARTIAL_REFUND_SHARE,
            "never_paid_share": wm.NEVER_PAID_SHARE,
            "cancel_after_pay_share": wm.CANCEL_AFTER_PAY_SHARE,
            "refund_orders": int(refunded.sum()),
            "refund_rate_orders": round(float(refunded.mean()) if len(refunded) else 0.0, 5),
            "refunds_pending_after_snapshot": int(o["refund_pending"].sum()),
            "mean_delay_days": round(float(np.nanmean(o["refund_delay_days"])) if refunded.any() else 0.0, 3),
        },
        "stockouts": [
            {
                "platform_id": wm.LIVE_PLATFORMS[int(s["platform"][sp["session"][i]])],
                "session_id": str(s["session_id"][sp["session"][i]]),
                "product_id": pids[int(sp["product"][i])],
                "stock_units": int(sp["stock_units"][i]),
                "sold_units": int(sp["sold_units"][i]),
                "demand_units": int(sp["demand_units"][i]),
                "expected_units": round(float(sp["expected_units"][i]), 3),
                "sold_out_at_utc": datetime.fromtimestamp(int(sp["sold_out_s"][i]), UTC).strftime(ISO),
            }
            for i in cens
        ],
        "totals": {
            "sessions": len(s["session_id"]),
            "logged_sessions": int(s["logged"].sum()),
            "session_products": len(sp["session"]),
            "orders": len(o["status"]),
            "order_lines": len(w.lines["order"]),
            "order_lines_by_source": dict(
                zip(("live", "shelf", "affiliate"), np.bincount(w.lines["source"], minlength=3).tolist(), strict=False)
            ),
            "order_lines_by_platform": dict(
                zip(wm.ALL_PLATFORMS, np.bincount(w.lines["platform"], minlength=4).tolist(), strict=False)
            ),
        },
    }
