"""Readers and pitfalls: each hand-written fixture loads to the right rows, each pitfall is caught
with the right line, column and code, and repairable values are repaired. Asserts on database state."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import select, text

from etl import load_paths
from etl.extract import detect, known_headers, open_tables, sniff_encoding
from etl.extract.sniff import EncodingRefused, header_key
from etl.normalise import fen, ids, order_statuses, provinces_and_cities, timestamps, whole_numbers
from livecommerce.warehouse.tables import AfterSale, OrderLine, RejectedRow

FIX = Path(__file__).parent / "fixtures" / "etl"
NOW = dt.datetime(2024, 12, 17, tzinfo=dt.UTC)
UTC = dt.UTC


def _lines(engine, platform: str | None = None) -> dict[tuple[str, int], dict]:  # type: ignore[no-untyped-def]
    table = OrderLine.__table__
    query = select(table)
    if platform:
        query = query.where(table.c.platform_id == platform)
    with engine.connect() as conn:
        return {(r.order_id, r.line_no): dict(r._mapping) for r in conn.execute(query)}


def _rejects(report) -> set[tuple[int | None, str | None, str]]:  # type: ignore[no-untyped-def]
    return {(r.line, r.column, r.code) for r in report.rejects}


# --- normalisation units ------------------------------------------------------------------------


def test_ids_unwrap_and_refuse_scientific() -> None:
    out, bad = ids(
        pl.Series(['="5118609024991031607"', "'5118609024991031607", "\t5118609024991031607\t", "1.23457E+18"])
    )
    assert out.to_list()[:3] == ["5118609024991031607"] * 3
    assert bad.to_list() == [False, False, False, True]


def test_money_through_parse_fen() -> None:
    out, bad = fen(pl.Series(["¥58,920.00", "58920", "2.3万", "-", "—", None, "abc", "￥1,288.5"]))
    assert out.to_list() == [5_892_000, 5_892_000, 2_300_000, None, None, None, None, 128_850]
    assert bad.to_list() == [False] * 6 + [True, False]


def test_timestamps_in_every_layout_are_shanghai_local() -> None:
    out, bad = timestamps(
        pl.Series(
            ["2021-05-17 14:03:22", "2021/5/17 14:03", "44333.5", "2021-05-17T06:03:22Z", "2021年5月17日 14:03:22", "x"]
        ),
        tz="Asia/Shanghai",
    )
    got = out.to_list()
    assert got[0] == dt.datetime(2021, 5, 17, 6, 3, 22, tzinfo=UTC)
    assert got[1] == dt.datetime(2021, 5, 17, 6, 3, tzinfo=UTC)
    assert got[2] == dt.datetime(2021, 5, 17, 4, 0, tzinfo=UTC)  # Excel serial 44333.5 = 2021-05-17 12:00 local
    assert got[3] == dt.datetime(2021, 5, 17, 6, 3, 22, tzinfo=UTC)
    assert got[4] == got[0]
    assert bad.to_list() == [False] * 5 + [True]


def test_statuses_addresses_and_whole_numbers() -> None:
    status, bad = order_statuses(
        pl.Series(["买家已付款，等待卖家发货", "交易成功", "已发货，待签收", "已签收,退款成功", "??"])
    )
    assert status.to_list() == ["paid", "completed", "shipped", "refunded", None] and bad.to_list()[-1]
    prov, city = provinces_and_cities(pl.Series(["广东省 深圳市 南山区 科技园", "**** **** ****"]))
    assert prov.to_list() == ["广东省", None] and city.to_list() == ["深圳市", None]
    qty, bad = whole_numbers(pl.Series(["2", "2.0", "x"]))
    assert qty.to_list() == [2, 2, None] and bad.to_list() == [False, False, True]


def test_header_keys_ignore_width_brackets_and_spaces() -> None:
    assert header_key("商品总价（元） ") == header_key("商品总价(元)") == "商品总价(元)"
    assert header_key("\ufeff订单编号\t") == "订单编号"


# --- encodings -------------------------------------------------------------------------------------


def test_encodings_are_sniffed_strictly() -> None:
    assert sniff_encoding(FIX / "douyin_orders_bom.csv") == "utf-8-sig"
    assert sniff_encoding(FIX / "taobao_orders_gbk.csv") == "gb18030"
    assert sniff_encoding(FIX / "pinduoduo_orders.csv") == "utf-8"
    with pytest.raises(EncodingRefused, match="GB18030") as err:
        sniff_encoding(FIX / "not_text.csv")
    assert "编码" in str(err.value)


def test_undecodable_file_is_refused_whole(memory_engine) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(memory_engine, [FIX / "not_text.csv"], now=NOW)
    assert report.status == "refused" and "UTF-8" in report.message and "编码" in report.message
    assert _lines(memory_engine) == {}


def test_unknown_export_is_refused_then_loads_with_a_mapping(memory_engine) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(memory_engine, [FIX / "unknown_export.csv"], now=NOW)
    assert report.status == "refused" and "--mapping" in report.message
    [report] = load_paths(memory_engine, [FIX / "unknown_export.csv"], mapping=FIX / "unknown_mapping.yaml", now=NOW)
    assert report.status == "loaded" and report.inserted == 1
    assert _rejects(report) == {(3, "实收（元）", "bad_money")}
    line = _lines(memory_engine, "kuaishou")[("A001", 1)]
    assert line["amount_fen"] == 5800 and line["quantity"] == 2 and line["status"] == "completed"
    assert line["created_at_utc"] == dt.datetime(2024, 5, 17, 6, 3, 22, tzinfo=UTC)


# --- Douyin -----------------------------------------------------------------------------------------


def test_douyin_orders_every_pitfall(memory_engine) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(memory_engine, [FIX / "douyin_orders_bom.csv"], now=NOW)
    assert report.format == "douyin_orders" and report.encoding == "utf-8-sig" and report.status == "loaded"
    assert report.rows_read == 10 and report.inserted == 3 and report.rejected == 7
    assert _rejects(report) == {
        (4, "主订单编号", "id_scientific"),
        (5, "订单提交时间", "bad_timestamp"),
        (6, "商品数量", "quantity_not_positive"),
        (7, "子订单编号", "duplicate_row"),
        (8, "订单提交时间", "future_timestamp"),
        (9, "订单应付金额", "missing_required"),
        (10, "主订单编号", "summary_row"),
    }
    lines = _lines(memory_engine, "douyin")
    first = lines[("6900000000000000010", 1)]
    # ="…" unwrapped, ¥ and postage handled: paid ¥109.80 incl. ¥10.00 postage -> goods 9980 fen
    assert first["amount_fen"] == 9980 and first["shipping_fen"] == 1000 and first["quantity"] == 2
    assert first["created_at_utc"] == dt.datetime(2024, 9, 1, 12, 3, tzinfo=UTC)
    assert first["export_host_id"] == "262326536451" and first["traffic_genre"] == "数据将于第二天更新"
    assert first["platform_line_id"] == "6900000000000000011" and first["product_id"] == "douyin:3664938891258188413"
    assert lines[("6900000000000000010", 2)]["amount_fen"] == 7990
    tabbed = lines[("6900000000000000080", 1)]  # tab-wrapped id, Excel serial date, masked province
    assert tabbed["created_at_utc"] == dt.datetime(2024, 9, 1, 4, 0, tzinfo=UTC)
    assert tabbed["amount_fen"] == 128_800 and tabbed["province"] is None and tabbed["city"] is None
    with memory_engine.connect() as conn:
        stored = conn.execute(select(RejectedRow.__table__).order_by(RejectedRow.__table__.c.line)).all()
        hosts = dict(conn.execute(text("select platform_host_id, kind from host")).all())
    assert [r.line for r in stored] == [4, 5, 6, 7, 8, 9, 10]
    assert all("/" in r.message and r.raw for r in stored)  # bilingual message and the raw row
    assert '"主订单编号": "6.90000E+18"' in stored[0].raw
    assert hosts == {"262326536451": "unknown", "7000000001": "affiliate"}  # 精选联盟 -> affiliate


def test_settlement_bill_header_not_on_first_line(memory_engine) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(memory_engine, [FIX / "settlement_douyin.csv"], now=NOW)
    assert report.format == "douyin_orders" and report.encoding == "gb18030" and report.inserted == 1
    # the note line (line 3) is reported, the data line (line 4) loads
    assert {r.line for r in report.rejects} == {3}
    assert ("6900000000000000090", 1) in _lines(memory_engine, "douyin")


def test_after_sales_refund_lines_whichever_arrives_first(memory_engine) -> None:  # type: ignore[no-untyped-def]
    [aftersale] = load_paths(memory_engine, [FIX / "douyin_aftersale.csv"], now=NOW)
    assert aftersale.status == "loaded" and aftersale.inserted == 3
    load_paths(memory_engine, [FIX / "douyin_orders_bom.csv"], now=NOW)
    lines = _lines(memory_engine, "douyin")
    refunded = lines[("6900000000000000010", 1)]
    assert refunded["refund_fen"] == 9980 and refunded["status"] == "refunded" and refunded["refund_reason"] == "坏果"
    closed = lines[("6900000000000000010", 2)]  # 售后关闭: no refund
    assert closed["refund_fen"] == 0 and closed["status"] == "completed"
    with memory_engine.connect() as conn:  # the case whose order never arrived waits, unapplied
        waiting = conn.execute(
            select(AfterSale.__table__).where(AfterSale.__table__.c.order_id == "6900000000009999")
        ).all()
    assert waiting == [] or all(w.status == "refunded" for w in waiting)


# --- Taobao -------------------------------------------------------------------------------------------


def test_taobao_report_with_companion_items_gbk(memory_engine) -> None:  # type: ignore[no-untyped-def]
    reports = load_paths(memory_engine, [FIX / "taobao_orders_gbk.csv", FIX / "taobao_items_gbk.csv"], now=NOW)
    by_name = {Path(r.path).name: r for r in reports}
    orders = by_name["taobao_orders_gbk.csv"]
    assert orders.encoding == "gb18030" and orders.format == "taobao_orders"
    assert _rejects(orders) == {(5, "订单编号 ", "id_scientific")}
    assert by_name["taobao_items_gbk.csv"].status == "skipped"
    lines = _lines(memory_engine, "taobao")
    # paid 148.90 incl. 10.00 postage split over two items by price x qty (89.00 and 49.90)
    assert lines[("3600000000004783946", 1)]["amount_fen"] == 8900
    assert lines[("3600000000004783946", 2)]["amount_fen"] == 4990
    assert lines[("3600000000004783946", 1)]["status"] == "paid"
    # leading ' unwrapped; unpaid order (paid 0.00) keeps its goods amount; masked address -> no province
    unpaid = lines[("3600000000009533728", 1)]
    assert unpaid["status"] == "unpaid" and unpaid["amount_fen"] == 16800 and unpaid["province"] is None
    assert lines[("3600000000001384617", 1)]["province"] == "湖北省"
    assert lines[("3600000000001384617", 1)]["city"] == "武汉市"


def test_taobao_item_report_alone_is_refused(memory_engine) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(memory_engine, [FIX / "taobao_items_gbk.csv"], now=NOW)
    assert report.status == "refused" and "order report" in report.message and "订单报表" in report.message


def test_taobao_analysis_subset_with_trailing_spaces(memory_engine) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(memory_engine, [FIX / "taobao_subset.csv"], now=NOW)
    assert report.status == "loaded" and report.inserted == 2 and report.rejected == 0
    line = _lines(memory_engine, "taobao")[("3600000000000000002", 1)]
    assert line["amount_fen"] == 129_000 and line["refund_fen"] == 29_000 and line["status"] == "paid"
    assert line["created_at_utc"] == dt.datetime(2024, 5, 17, 6, 3, tzinfo=UTC)


def test_newer_21_column_export_splits_amounts_and_says_so(memory_engine) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(memory_engine, [FIX / "export21.csv"], now=NOW)
    assert report.format == "taobao_export21" and report.inserted == 2
    assert any("split" in n for n in report.notes)
    lines = _lines(memory_engine, "taobao")
    a, b = lines[("5118609024991031607", 1)], lines[("5118609024991031607", 2)]
    assert (a["title"], b["title"]) == ("礼县花牛苹果 5斤", "普安白茶 100克")
    assert a["quantity"] + b["quantity"] == 3 and a["amount_fen"] + b["amount_fen"] == 10_000


def _qianniu(path: Path) -> Path:
    wb = Workbook()
    orders = wb.active
    orders.title = "订单"
    orders.append(["订单编号", "订单状态", "买家实付金额", "买家应付邮费", "确认收货打款金额", "退款金额",
                   "订单创建时间", "订单付款时间", "发货时间", "确认收货时间", "商家备注", "订单关闭原因",
                   "收货地址"])  # fmt: skip
    orders.append(["5118609024991031607", "交易成功", "130.00", "0.00", "130.00", "0",
                   dt.datetime(2024, 5, 17, 14, 3, 22), dt.datetime(2024, 5, 17, 14, 5), None, None, None,
                   "订单未关闭", "浙江省 杭州市 西湖区 x"])  # fmt: skip
    orders.append(["5118609024991031608", "退款成功", "58.00", "0.00", "0", "58.00", "2024-05-18 09:00:00",
                   "2024-05-18 09:01:00", None, None, None, "退款成功", "广东省 深圳市 南山区 x"])  # fmt: skip
    lines = wb.create_sheet("子订单")
    lines.append(["子订单编号", "主订单编号", "商品ID", "商品属性", "商品标题", "商品价格", "购买数量", "买家实付金额",
                  "订单状态", "退款状态", "退款金额", "发货时间"])  # fmt: skip
    lines.append(
        [
            "1",
            "5118609024991031607",
            "707659717837",
            "5斤",
            "礼县花牛苹果",
            "49.90",
            2,
            "80.00",
            "交易成功",
            "",
            "0",
            None,
        ]
    )
    lines.append(
        [
            "2",
            "5118609024991031607",
            "786879189767",
            "10斤",
            "礼县红富士",
            "50.00",
            1,
            "50.00",
            "交易成功",
            "",
            "0",
            None,
        ]
    )
    lines.append(
        [
            "3",
            "5118609024991031608",
            "707659717837",
            "5斤",
            "礼县花牛苹果",
            "58.00",
            1,
            "58.00",
            "退款成功",
            "退款成功",
            "58.00",
            None,
        ]
    )
    lines.append(
        [
            "4",
            5.118609024991032e18,
            "707659717837",
            "5斤",
            "礼县花牛苹果",
            "58.00",
            1,
            "58.00",
            "交易成功",
            "",
            "0",
            None,
        ]
    )
    wb.save(path)
    return path


def test_qianniu_two_sheets_told_apart_by_headers(memory_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(memory_engine, [_qianniu(tmp_path / "千牛订单.xlsx")], now=NOW)
    assert report.status == "loaded" and report.format == "qianniu_orders" and report.inserted == 3
    assert (5, "主订单编号", "id_scientific") in {(r.line, r.column, r.code) for r in report.rejects}
    lines = _lines(memory_engine, "taobao")
    assert lines[("5118609024991031607", 1)]["amount_fen"] == 8000
    assert lines[("5118609024991031607", 2)]["amount_fen"] == 5000
    assert lines[("5118609024991031607", 1)]["platform_line_id"] == "1"
    assert lines[("5118609024991031607", 1)]["created_at_utc"] == dt.datetime(2024, 5, 17, 6, 3, 22, tzinfo=UTC)
    refunded = lines[("5118609024991031608", 1)]
    assert refunded["status"] == "refunded" and refunded["refund_fen"] == 5800


# --- Pinduoduo ---------------------------------------------------------------------------------------


def test_pinduoduo_blank_deal_time_filled_from_order_id(memory_engine) -> None:  # type: ignore[no-untyped-def]
    [report] = load_paths(memory_engine, [FIX / "pinduoduo_orders.csv"], now=NOW)
    assert report.inserted == 2 and _rejects(report) == {(4, "订单成交时间", "summary_row")}
    lines = _lines(memory_engine, "pinduoduo")
    first = lines[("240517-123456789012345", 1)]
    assert first["created_at_utc"] == dt.datetime(2024, 5, 16, 16, 0, tzinfo=UTC)  # 2024-05-17 00:00 Shanghai
    assert first["amount_fen"] == 5480 and first["unit_price_fen"] == 2990 and first["discount_fen"] == 500
    assert first["province"] is None  # ****
    assert lines[("240518-123456789012346", 1)]["amount_fen"] == 16800  # 174.00 paid - 6.00 postage


def test_pinduoduo_xlsx_with_numeric_ids(memory_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = pl.read_csv(FIX / "pinduoduo_orders.csv", infer_schema=False)
    wb = Workbook()
    ws = wb.active
    ws.append(src.columns)
    for row in src.head(2).iter_rows():
        ws.append(list(row))
    ws.append([None, "x", 2.40519123456789e20, "已签收", 1, 0, 0, 0, 0, 1, 1, 1])  # an id Excel made a number
    path = tmp_path / "pdd.xlsx"
    wb.save(path)
    [report] = load_paths(memory_engine, [path], now=NOW)
    assert report.format == "pinduoduo_orders" and report.inserted == 2
    # the mangled id also leaves no date prefix to fill the blank 订单成交时间 from
    assert {(r.line, r.code) for r in report.rejects} == {(4, "id_scientific"), (4, "missing_required")}


def test_detection_picks_each_reader() -> None:
    names = {}
    for name in ("douyin_orders_bom.csv", "douyin_aftersale.csv", "taobao_orders_gbk.csv", "taobao_items_gbk.csv",
                 "taobao_subset.csv", "pinduoduo_orders.csv", "export21.csv"):  # fmt: skip
        [table] = open_tables(FIX / name, known_headers())
        names[name] = detect(table).name  # type: ignore[union-attr]
    assert names == {
        "douyin_orders_bom.csv": "douyin_orders",
        "douyin_aftersale.csv": "douyin_aftersale",
        "taobao_orders_gbk.csv": "taobao_orders",
        "taobao_items_gbk.csv": "taobao_items",
        "taobao_subset.csv": "taobao_orders",
        "pinduoduo_orders.csv": "pinduoduo_orders",
        "export21.csv": "taobao_export21",
    }


def test_canonical_parquet_and_jsonl(memory_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from livecommerce.schemas import CANONICAL_FILES

    products = pl.DataFrame({"product_id": ["P1"], "title": ["礼县花牛苹果"], "unit_cost_fen": [2600]})
    orders = pl.DataFrame(
        {
            "platform_id": ["douyin", "douyin", "douyin"],
            "order_id": ["1", "2", "3"],
            "line_no": [1, 1, 1],
            "product_id": ["P1", "P1", "NOPE"],
            "quantity": [1, 2, 1],
            "amount_fen": [4990, 9980, 100],
            "refund_fen": [0, 0, 0],
            "status": ["paid", "completed", "paid"],
            "created_at_utc": [dt.datetime(2024, 9, 1, 12, tzinfo=UTC)] * 3,
        }
    )
    assert set(orders.columns) <= set(CANONICAL_FILES["orders"])
    products.write_parquet(tmp_path / "products.parquet")
    orders.write_parquet(tmp_path / "orders.parquet")
    orders.with_columns(pl.col("order_id") + "j").write_ndjson(tmp_path / "orders.jsonl")
    reports = load_paths(memory_engine, [tmp_path], now=NOW)
    by_name = {Path(r.path).name: r for r in reports}
    assert Path(reports[0].path).name == "products.parquet"  # dimensions first
    assert by_name["orders.parquet"].inserted == 2 and by_name["orders.jsonl"].inserted == 2
    assert {(r.line, r.code) for r in by_name["orders.parquet"].rejects} == {(4, "unknown_product")}
    line = _lines(memory_engine, "douyin")[("2", 1)]
    assert line["created_at_utc"] == dt.datetime(2024, 9, 1, 12, tzinfo=UTC) and line["amount_fen"] == 9980


def test_folder_order_dimensions_orders_aftersales(memory_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in ("douyin_aftersale.csv", "douyin_orders_bom.csv", "taobao_orders_gbk.csv", "taobao_items_gbk.csv"):
        shutil.copy(FIX / name, tmp_path / name)
    reports = load_paths(memory_engine, [tmp_path], now=NOW)
    order = [Path(r.path).name for r in reports if r.status != "skipped"]
    assert order.index("douyin_aftersale.csv") > order.index("douyin_orders_bom.csv")
    assert _lines(memory_engine, "douyin")[("6900000000000000010", 1)]["status"] == "refunded"


@pytest.mark.parametrize(
    ("body", "simple"),
    [
        (b"a,b\n1,2\n3,4\n", True),
        (b"a,b\n1,2\n3,4", True),  # no final line break
        (b'a,b\n1,"x, ""y"""\n3,4\n', True),  # quotes, even per line
        (b'a,b\n1,"two\nlines"\n3,4\n', False),  # a quoted line break
        (b"a,b\n1,2\n\n3,4\n", False),  # a blank line
        (b"a,b\r\n1,2\r\n\r\n3,4\r\n", False),  # a blank CRLF line
        (b"a,b\n\n1,2\n", False),  # blank right after the header
        (b'a,b\n1,"open\n', False),  # the last line opens a quote
    ],
)
def test_one_record_per_line_streams_the_checks(tmp_path, body, simple) -> None:  # type: ignore[no-untyped-def]
    from etl.extract.tables import _one_record_per_line

    path = tmp_path / "f.csv"
    path.write_bytes(body)
    assert _one_record_per_line(path, 1) is simple


def test_one_record_per_line_sees_a_blank_line_across_read_blocks(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from etl.extract import sniff
    from etl.extract.tables import _one_record_per_line

    line = b"1234567,abcdefgh\n"  # 17 bytes
    monkeypatch.setattr(sniff, "_SCAN_CHUNK", 4 + 17 * 4)  # the header and four lines a read
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + line * 4 + b"\n" + line * 3)  # the blank line starts the second read
    assert _one_record_per_line(path, 1) is False
    path.write_bytes(b"a,b\n" + line * 4 + b"\r\n" + line * 3)
    assert _one_record_per_line(path, 1) is False
    path.write_bytes(b"a,b\n" + line * 7)
    assert _one_record_per_line(path, 1) is True


def test_one_record_per_line_ignores_what_comes_before_the_records(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from etl.extract.tables import _one_record_per_line

    path = tmp_path / "f.csv"
    path.write_bytes(b'"title\n\n"a,b\n1,2\n')  # an export's title block: odd quotes, a blank line
    assert _one_record_per_line(path, 3) is True
    assert _one_record_per_line(path, 2) is False


_PIECES = st.sampled_from([b"a", b",", b'"', b"\n", b"\r\n", "价".encode(), "价".encode()[:2], b"\xff"])


@settings(max_examples=200, deadline=None)
@given(body=st.lists(_PIECES, max_size=40).map(b"".join), chunk=st.integers(1, 9), skip=st.integers(0, 3))
def test_file_scan_equals_separate_checks_whatever_the_read_size(tmp_path_factory, body, chunk, skip) -> None:  # type: ignore[no-untyped-def]
    """One read of the file (in reads of any size) gives the same hash, UTF-8 verdict and record
    check as hashing, decoding and splitting the whole file."""
    import hashlib

    from etl.extract import sniff
    from etl.extract.tables import _one_record_per_line

    path = tmp_path_factory.mktemp("scan") / "f.csv"
    path.write_bytes(body)
    saved, sniff._SCAN_CHUNK = sniff._SCAN_CHUNK, chunk
    try:
        scan = sniff.scan_file(path)
        records = _one_record_per_line(path, skip)
    finally:
        sniff._SCAN_CHUNK = saved
    assert scan.sha256 == hashlib.sha256(body).hexdigest()
    try:
        body.decode("utf-8")
        assert scan.utf8
    except UnicodeDecodeError:
        assert not scan.utf8
    *complete, tail = body.split(b"\n")  # lines ended by a break, and what follows the last break
    if skip > len(complete):
        complete, tail = [], b""  # skipping read everything
    bad = any(line in (b"", b"\r") or line.count(b'"') % 2 for line in complete[skip:]) or tail.count(b'"') % 2
    assert records is not bad
