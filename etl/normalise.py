"""Normalisation of raw text cells to the canonical model, column by column (polars, vectorised).

Each function takes a text column and returns the typed column plus a mask of the rows that could
not be read, so that validation can report every failing row at once. Values are never guessed:
an id Excel turned into ``1.23457E+18`` is refused, money is parsed by
:func:`livecommerce.money.parse_fen` only, naive local times are Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping

import polars as pl

from livecommerce.money import MoneyError, parse_fen

__all__ = [
    "AFTER_SALE_STATUSES",
    "ORDER_STATUS_NAMES",
    "after_sale_statuses",
    "fen",
    "fractions",
    "ids",
    "order_statuses",
    "provinces_and_cities",
    "timestamps",
    "whole_numbers",
]

_SCIENTIFIC = r"^[+-]?\d+(\.\d+)?[eE][+]?\d+$"
_MASKED = r"^\*+$"

#: export status text (after NFKC, spaces removed) -> canonical status
ORDER_STATUS_NAMES: dict[str, str] = {
    # canonical names themselves
    **{s: s for s in ("unpaid", "paid", "shipped", "completed", "cancelled", "refunded", "partially_refunded")},
    # Taobao / Tmall / Qianniu
    "等待买家付款": "unpaid",
    "买家已付款,等待卖家发货": "paid",
    "买家已付款": "paid",
    "等待卖家发货": "paid",
    "等待卖家发货,即:买家已付款": "paid",
    "卖家已发货,等待买家确认": "shipped",
    "卖家已发货": "shipped",
    "等待买家确认收货": "shipped",
    "等待买家确认收货,即:卖家已发货": "shipped",
    "交易成功": "completed",
    "交易关闭": "cancelled",
    "交易已关闭": "cancelled",
    "退款成功": "refunded",
    "部分退款": "partially_refunded",
    "部分退款成功": "partially_refunded",
    # Douyin
    "待支付": "unpaid",
    "待付款": "unpaid",
    "待发货": "paid",
    "备货中": "paid",
    "已支付": "paid",
    "已付款": "paid",
    "部分发货": "shipped",
    "已发货": "shipped",
    "待收货": "shipped",
    "已签收": "completed",
    "已完成": "completed",
    "已关闭": "cancelled",
    "已取消": "cancelled",
    "已退款": "refunded",
    # Pinduoduo
    "待成团": "paid",
    "已成团,待发货": "paid",
    "已发货,待签收": "shipped",
    "已发货,待收货": "shipped",
    "已收货": "completed",
    "交易已取消": "cancelled",
    "未发货,退款成功": "cancelled",
    "已发货,退款成功": "refunded",
    "已签收,退款成功": "refunded",
    "已收货,退款成功": "refunded",
}

#: after-sale status text -> refunded / closed / exchanged / processing
AFTER_SALE_STATUSES: dict[str, str] = {
    **{s: s for s in ("refunded", "closed", "exchanged", "processing")},
    "同意退款,退款成功": "refunded",
    "退款成功": "refunded",
    "已退款": "refunded",
    "退货退款成功": "refunded",
    "售后关闭": "closed",
    "售后已关闭": "closed",
    "已关闭": "closed",
    "已撤销": "closed",
    "撤销申请": "closed",
    "拒绝退款": "closed",
    "换货成功": "exchanged",
    "售后处理中": "processing",
    "待商家处理": "processing",
    "待买家退货": "processing",
    "待商家收货": "processing",
    "退款中": "processing",
}

_NAIVE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y%m%d %H:%M:%S",
)
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d", "%Y%m%d")
_AWARE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def ids(texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Return ids as exact text and a mask of ids Excel mangled into scientific notation.

    Unwraps ``="…"``, a leading ``'`` and surrounding spaces or tabs. Only the cells that need it
    are rewritten (a clean export has none), so the common case is two quick scans.
    """
    wrapped = texts.str.contains(r"^[\s=\"']|[\s\"]$").fill_null(False)
    s = texts
    if wrapped.any():
        at = wrapped.arg_true()
        part = s.gather(at).str.strip_chars()
        part = part.str.replace(r'^="(.*)"$', "$1").str.replace(r'^"(.*)"$', "$1")
        part = part.str.strip_chars_start("'").str.strip_chars()
        s = s.scatter(at, part)
    empty = (s.str.len_bytes() == 0).fill_null(False)
    if empty.any():
        s = s.scatter(empty.arg_true(), None)
    s = s.alias(texts.name)
    maybe = s.str.contains("[eE]").fill_null(False)
    bad = maybe & s.str.contains(_SCIENTIFIC).fill_null(False) if maybe.any() else maybe
    return s, bad


def _mapped(texts: pl.Series, convert, dtype: pl.DataType) -> tuple[pl.Series, pl.Series]:  # type: ignore[no-untyped-def]
    mapping: dict[str, object] = {}
    failed: list[str] = []
    for value in texts.drop_nulls().unique().to_list():
        try:
            mapping[value] = convert(value)
        except (MoneyError, ValueError):
            failed.append(value)
    out = (
        texts.replace_strict(mapping, default=None, return_dtype=dtype)
        if mapping
        else pl.Series(texts.name, [None] * len(texts), dtype=dtype)
    )
    bad = texts.is_in(failed).fill_null(False) if failed else pl.Series([False] * len(texts))
    return out.alias(texts.name), bad


def fen(texts: pl.Series, *, unit: str = "yuan") -> tuple[pl.Series, pl.Series]:
    """Return amounts as integer fen and a mask of unreadable amounts.

    ``unit="yuan"`` reads export text (``¥58,920.00``, ``2.3万``, ``-``) with ``parse_fen``;
    ``unit="fen"`` reads the canonical files' whole numbers of fen.
    """
    if unit == "fen":
        out = texts.str.strip_chars().cast(pl.Int64, strict=False)
        bad = texts.is_not_null() & out.is_null()
        if bad.any():  # "1200.0" from a typed file is still a whole number
            floats = texts.cast(pl.Float64, strict=False)
            whole = floats.is_not_null() & (floats == floats.round(0))
            out = pl.select(pl.when(bad & whole).then(floats.cast(pl.Int64, strict=False)).otherwise(out)).to_series()
            bad = bad & ~whole
        return out.alias(texts.name), bad
    return _mapped(texts, parse_fen, pl.Int64)


def whole_numbers(texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Return whole numbers (``3``, ``3.0``, ``1,200``) and a mask of text that is not one."""
    s = texts.str.strip_chars().str.replace_all(",", "")
    out = s.cast(pl.Int64, strict=False)
    floats = s.cast(pl.Float64, strict=False)
    whole = floats.is_not_null() & (floats == floats.round(0)) & (floats.abs() < 2**53)
    out = pl.select(pl.when(out.is_null() & whole).then(floats.cast(pl.Int64, strict=False)).otherwise(out)).to_series()
    bad = texts.is_not_null() & out.is_null()
    return out.alias(texts.name), bad


def fractions(texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Return percentages (``9.68%``) and plain ratios as fractions, with a mask of bad values."""
    s = texts.str.strip_chars()
    pct = s.str.ends_with("%").fill_null(False)
    number = s.str.strip_chars_end("%").str.replace_all(",", "").cast(pl.Float64, strict=False)
    out = pl.select(pl.when(pct).then(number / 100).otherwise(number)).to_series().alias(texts.name)
    bad = texts.is_not_null() & out.is_null()
    return out, bad


def _gradually(texts: pl.Series, parsers: list[Callable[[pl.Series], pl.Series]]) -> pl.Series:
    """Return UTC datetimes from the first parser that reads each cell; each parser only sees the
    cells the earlier ones could not read (most files use one layout, so usually one pass)."""
    out = pl.Series(texts.name, [None] * len(texts), dtype=pl.Datetime("us", "UTC"))
    todo = texts.is_not_null().arg_true()
    for parser in parsers:
        if todo.is_empty():
            break
        parsed = parser(texts.gather(todo))
        read = parsed.is_not_null()
        if read.any():
            out = out.scatter(todo.filter(read), parsed.filter(read))
            todo = todo.filter(~read)
    return out


def _strptime(fmt: str, *, tz: str | None) -> Callable[[pl.Series], pl.Series]:
    """A parser of one layout: aware text (``tz=None``) or naive local time in ``tz``."""

    def parse(s: pl.Series) -> pl.Series:
        if tz is None:
            return s.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False, exact=True)
        naive = s.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True)
        return naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")

    return parse


def _excel_serial(tz: str) -> Callable[[pl.Series], pl.Series]:
    """A parser of Excel serial day numbers (local time in ``tz``) between 1954 and 2119."""

    def parse(s: pl.Series) -> pl.Series:
        serial = s.cast(pl.Float64, strict=False)
        plausible = serial.is_not_null() & (serial > 20000) & (serial < 80000)
        micro = pl.select(pl.when(plausible).then(serial * 86_400_000_000)).to_series().round(0).cast(pl.Int64)
        naive = pl.select(pl.lit(_EXCEL_EPOCH) + pl.duration(microseconds=micro)).to_series()
        return naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")

    return parse


def _offsets_spelled(s: pl.Series) -> pl.Series:
    """The same text with a trailing ``Z`` written as ``+00:00`` (for the ``%z`` layouts)."""
    return s.str.replace(r"Z$", "+00:00")


def timestamps(texts: pl.Series, *, tz: str) -> tuple[pl.Series, pl.Series]:
    """Return timestamps as UTC and a mask of text that is no date/time.

    Text without an offset is local time in ``tz``; text with an offset (or ``Z``) is converted.
    Layouts: ``2021-05-17 14:03:22``, ``2021/5/17 14:03``, ISO-8601, ``2021年5月17日``, dates
    alone, and Excel serial numbers (``44333.58``).
    """
    s = texts.str.strip_chars()
    aware = [_strptime(fmt, tz=None) for fmt in _AWARE_FORMATS]
    parsers: list[Callable[[pl.Series], pl.Series]] = [
        _strptime("%Y-%m-%dT%H:%M:%SZ", tz=None),  # the canonical files' layout, read in one pass
        *[_strptime(fmt, tz=tz) for fmt in _NAIVE_FORMATS + _DATE_FORMATS],
        *[lambda x, parse=parse: parse(_offsets_spelled(x)) for parse in aware],
        _excel_serial(tz),
    ]
    out = _gradually(s, parsers).alias(texts.name)
    bad = s.is_not_null() & out.is_null()
    return out, bad


def _statuses(texts: pl.Series, table: Mapping[str, str]) -> tuple[pl.Series, pl.Series]:
    def convert(value: str) -> str:
        found = table.get(_key(value))
        if found is None:
            raise ValueError(value)
        return found

    return _mapped(texts, convert, pl.String)


def order_statuses(texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Return export status text mapped to ``ORDER_STATUSES`` and a mask of unknown statuses."""
    return _statuses(texts, ORDER_STATUS_NAMES)


def after_sale_statuses(texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Return after-sale status text mapped to refunded/closed/exchanged/processing, with a mask."""
    return _statuses(texts, AFTER_SALE_STATUSES)


def provinces_and_cities(addresses: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Return the province and city of ``"省 市 区 详细地址"`` addresses (masked parts become null)."""
    parts = addresses.str.strip_chars().str.split_exact(" ", 2)
    frame = pl.DataFrame({"p": parts}).unnest("p")
    cols = frame.columns

    def clean(name: str) -> pl.Series:
        col = frame[name].str.strip_chars()
        return pl.select(
            pl.when(col.str.contains(_MASKED) | (col.str.len_chars() == 0)).then(None).otherwise(col)
        ).to_series()

    return clean(cols[0]).alias("province"), clean(cols[1]).alias("city")
