"""Validation at the boundary: raw batches in, typed good rows and every reject out.

:func:`prepared_batches` reads a raw table with a reader, normalises each field by its type and
checks the rows, collecting *every* failure (row, column, reason) instead of stopping at the
first, pandera's lazy validation. Rejected rows are dropped from the good rows; a row with
several problems is reported once per problem and counted once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl

from etl import normalise as nz
from etl.extract import RawTable, Reader, resolved_columns
from livecommerce.schemas import PLATFORMS, REJECT_CODES, C

__all__ = ["Prepared", "Reject", "prepared_batches", "reject_message"]

#: ids that are numbers in exports, so Excel can turn them into 1.23E+18
_NUMERIC_IDS = frozenset(
    {C.order_id, "platform_line_id", "platform_product_id", "after_sale_id", "payment_no", C.export_host_id}
)
_TEXT_IDS = frozenset(
    {C.product_id, C.host_id, C.county_id, C.session_id, C.platform_host_id, "seller_code", "seller_code_item"}
)
_INTS = frozenset(
    {
        C.line_no,
        C.quantity,
        "item_kinds",
        C.shelf_life_days,
        C.season_start_month,
        C.season_end_month,
        "views",
        "viewers",
        "peak_online",
        "watch_seconds",
        "new_followers",
        "likes",
        "comments",
        "interacting_viewers",
        "product_exposed_viewers",
        "product_clickers",
    }
)
_FLOATS = frozenset({"avg_online"})

#: fields a row of each kind must carry
REQUIRED: dict[str, tuple[str, ...]] = {
    "orders": (C.platform_id, C.order_id, C.quantity, C.amount_fen, C.created_at_utc, C.status),
    "order_headers": (C.order_id, C.amount_fen, C.created_at_utc, C.status),
    "order_items": (C.order_id, C.quantity, C.unit_price_fen),
    "after_sale": ("after_sale_id", C.order_id, C.status),
    "counties": (C.county_id, C.name_zh, C.name_en),
    "hosts": (C.host_id, "name"),
    "products": (C.product_id, C.title),
    "product_aliases": (C.platform_id, C.platform_product_id, C.product_id),
}
#: natural key of a row within one file, for duplicate detection
_DUP_KEYS: dict[str, tuple[str, ...]] = {
    "counties": (C.county_id,),
    "hosts": (C.host_id,),
    "products": (C.product_id,),
    "after_sale": ("after_sale_id",),
    "product_aliases": (C.platform_id, C.platform_product_id),
    "order_headers": (C.order_id,),
}
_FUTURE_SLACK = dt.timedelta(hours=1)
_PLACEHOLDER_GENRE = "数据将于第二天更新"
_SUMMARY_WORDS = frozenset({"合计", "总计", "整体", "total", "sum"})
_GAP = r"[\s:：]*"
#: a cell that is one of the summary words, whatever the case, spaces or colons around and inside it
_SUMMARY_CELL = (
    f"(?i)^{_GAP}(" + "|".join(_GAP.join(re.escape(ch) for ch in word) for word in sorted(_SUMMARY_WORDS)) + f"){_GAP}$"
)


@dataclass(frozen=True)
class Reject:
    """One refused row (or one problem of it): where, why, and the raw row as JSON."""

    path: str
    line: int | None
    column: str | None
    code: str
    message: str
    raw: str | None = None


@dataclass
class Prepared:
    """A batch after normalisation: good rows (typed, with ``_line``), rejects, rows read."""

    frame: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0


def reject_message(code: str, column: str | None, value: object) -> str:
    """Return the bilingual message for a reject: the reason, the column and the value found."""
    reason = REJECT_CODES.get(code, code)
    where = f" — column 列 {column!r}" if column else ""
    shown = f", value 值 {value!r}" if value is not None else ""
    return f"{reason}{where}{shown}"


@dataclass
class _State:
    """What carries across the batches of one file: keys seen (duplicates), line numbers."""

    seen: pl.Series = field(default_factory=lambda: pl.Series("h", [], dtype=pl.UInt64))
    line_counts: dict[str, int] = field(default_factory=dict)


def _dup_key(reader: Reader, frame: pl.DataFrame) -> list[str]:
    if reader.kind == "orders":
        if C.line_no in frame.columns:
            return [C.platform_id, C.order_id, C.line_no]
        if "platform_line_id" in frame.columns:
            return [C.order_id, "platform_line_id"]
        return [C.order_id]
    if reader.kind == "order_items":
        if "platform_line_id" in frame.columns:
            return [C.order_id, "platform_line_id"]
        return [c for c in frame.columns if c != "_line"]
    return [c for c in _DUP_KEYS.get(reader.kind, ()) if c in frame.columns]


def prepared_batches(
    table: RawTable,
    reader: Reader,
    *,
    now: dt.datetime | None = None,
    known_products: set[str] | None = None,
) -> Iterator[Prepared]:
    """Yield the batches of ``table`` read with ``reader``: typed good rows plus every reject.

    ``known_products`` (canonical orders only) is the set of product ids that exist; other
    product ids are refused as ``unknown_product``.
    """
    now = now or dt.datetime.now(dt.UTC)
    cols = resolved_columns(reader, table.keys)
    header_of = {f: table.header[i] for f, i in cols.items()}
    state = _State()
    for batch in table.batches():
        yield _prepared(batch.frame, table, reader, cols, header_of, state, now, known_products)


def _prepared(
    raw: pl.DataFrame,
    table: RawTable,
    reader: Reader,
    cols: dict[str, int],
    header_of: dict[str, str],
    state: _State,
    now: dt.datetime,
    known_products: set[str] | None,
) -> Prepared:
    path = str(table.path)
    problems: list[pl.DataFrame] = []  # _line, column, code, value

    def report(mask: pl.Series, column: str, code: str, values: pl.Series | None) -> None:
        if not mask.any():
            return
        lines = frame["_line"].filter(mask)
        vals = (
            values.filter(mask).cast(pl.String)
            if values is not None
            else pl.Series([None] * len(lines), dtype=pl.String)
        )
        problems.append(
            pl.DataFrame(
                {
                    "_line": lines,
                    "column": [column] * len(lines),
                    "code": [code] * len(lines),
                    "value": vals,
                },
                schema={"_line": pl.Int64, "column": pl.String, "code": pl.String, "value": pl.String},
            )
        )

    raw_all = raw
    frame = raw.select([pl.col(f"c{i}").str.strip_chars().alias(f) for f, i in cols.items()] + [pl.col("_line")])
    frame = frame.with_columns(
        [pl.when(pl.col(f).str.len_chars() == 0).then(None).otherwise(pl.col(f)).alias(f) for f in cols]
    )

    # total rows (合计 / 总计 / 整体) anywhere in the row: reported and skipped
    cell_cols = [c for c in raw.columns if c != "_line"]
    summary = (
        raw.select(
            pl.any_horizontal([pl.col(c).str.contains(_SUMMARY_CELL) for c in cell_cols[:4]])
            if cell_cols
            else pl.lit(False)
        )
        .to_series()
        .fill_null(False)
    )
    if summary.any():
        report(summary.fill_null(False), table.header[0] if table.header else "", "summary_row", None)
        keep = ~summary.fill_null(False)
        frame = frame.filter(keep)
        raw = raw.filter(keep)

    if reader.platform is not None:
        frame = frame.with_columns(pl.lit(reader.platform).alias(C.platform_id))

    # ids: unwrap, refuse scientific notation
    for f in [c for c in frame.columns if c in _NUMERIC_IDS or c in _TEXT_IDS]:
        clean, bad = nz.ids(frame[f])
        frame = frame.with_columns(clean.alias(f))
        if f in _NUMERIC_IDS:
            report(bad, header_of.get(f, f), "id_scientific", frame[f])

    # duplicates within the file: the first occurrence loads
    key = _dup_key(reader, frame)
    if key:
        hashes = frame.select(pl.struct(key).hash(seed=7)).to_series()
        # rows whose key is missing or mangled are reported for that, not as duplicates of each other
        id_parts = [k for k in key if k in _NUMERIC_IDS or k in _TEXT_IDS or k == C.line_no] or key[:1]
        unkeyed = frame.select(pl.any_horizontal([pl.col(k).is_null() for k in id_parts])).to_series()
        if problems:
            unkeyed = unkeyed | frame["_line"].is_in(pl.concat(problems)["_line"].implode())
        hashes = pl.select(pl.when(unkeyed).then(None).otherwise(hashes)).to_series()
        dup = (hashes.is_not_null() & hashes.is_duplicated() & ~hashes.is_first_distinct()).fill_null(False)
        if len(state.seen):
            dup = dup | (hashes.is_not_null() & hashes.is_in(state.seen.implode())).fill_null(False)
        report(
            dup, header_of.get(key[-1], key[-1]), "duplicate_row", frame[key[-1]] if key[-1] in frame.columns else None
        )
        state.seen = pl.concat([state.seen, hashes.filter(~dup).drop_nulls()])
        frame_rows_dup = dup
    else:
        frame_rows_dup = pl.Series([False] * frame.height)

    # line numbers where the export has none: position of the row within its order (in file order)
    if reader.kind in ("orders", "order_items") and C.line_no not in frame.columns and C.order_id in frame.columns:
        frame = _numbered(frame, frame_rows_dup, state)

    # split date and time columns (订单提交日期 + 订单提交时间)
    if "created_date" in frame.columns and C.created_at_utc in frame.columns:
        time_only = frame[C.created_at_utc].str.contains(r"^\d{1,2}:\d{2}(:\d{2})?$").fill_null(False)
        joined = frame["created_date"] + " " + frame[C.created_at_utc]
        frame = frame.with_columns(
            pl.select(pl.when(time_only).then(joined).otherwise(frame[C.created_at_utc]))
            .to_series()
            .alias(C.created_at_utc)
        )

    # typed conversion
    for f in list(frame.columns):
        if f in ("_line", C.platform_id, "created_date") or frame[f].dtype != pl.String:
            continue
        raw_col = frame[f]
        column = header_of.get(f, f)
        if f.endswith("_fen"):
            out, bad = nz.fen(raw_col, unit=reader.money)
            report(bad, column, "bad_money", raw_col)
        elif f.endswith("_utc"):
            out, bad = nz.timestamps(raw_col, tz=reader.tz)
            report(bad, column, "bad_timestamp", raw_col)
            future = (out > (now + _FUTURE_SLACK)).fill_null(False)
            report(future, column, "future_timestamp", raw_col)
        elif f in _INTS:
            out, bad = nz.whole_numbers(raw_col)
            code = "quantity_not_positive" if f == C.quantity else "bad_value"
            report(bad, column, code, raw_col)
        elif f in _FLOATS:
            out, bad = nz.fractions(raw_col)
            report(bad, column, "bad_value", raw_col)
        elif f == C.status:
            out, bad = nz.after_sale_statuses(raw_col) if reader.kind == "after_sale" else nz.order_statuses(raw_col)
            report(bad, column, "bad_value", raw_col)
            if reader.kind == "after_sale":
                frame = frame.with_columns(raw_col.alias("status_raw"))
        else:
            continue
        frame = frame.with_columns(out.alias(f))

    frame = _shaped(frame, reader, report, header_of)

    # required fields, value ranges
    for f in (*REQUIRED.get(reader.kind, ()), *reader.row_required):
        column = header_of.get(f, f)
        if f not in frame.columns:
            continue
        already = _lines_with_problem(problems, frame, column)
        report(frame[f].is_null() & ~already, column, "missing_required", None)
    if C.quantity in frame.columns:
        report(
            (frame[C.quantity] <= 0).fill_null(False),
            header_of.get(C.quantity, C.quantity),
            "quantity_not_positive",
            frame[C.quantity],
        )
    for f in (
        C.amount_fen,
        C.shipping_fen,
        C.discount_fen,
        C.refund_fen,
        C.unit_price_fen,
        C.unit_cost_fen,
        C.list_price_fen,
    ):
        if f in frame.columns and frame[f].dtype == pl.Int64:
            report((frame[f] < 0).fill_null(False), header_of.get(f, f), "bad_money", frame[f])
    if reader.kind == "orders" and C.refund_fen in frame.columns:
        over = (frame[C.refund_fen] > frame[C.amount_fen]).fill_null(False)
        report(over, header_of.get(C.refund_fen, C.refund_fen), "bad_value", frame[C.refund_fen])
    if reader.kind in ("orders", "product_aliases") and C.platform_id in frame.columns and reader.platform is None:
        report(
            ~frame[C.platform_id].is_in(list(PLATFORMS)).fill_null(True) & frame[C.platform_id].is_not_null(),
            C.platform_id,
            "bad_value",
            frame[C.platform_id],
        )
    if known_products is not None and C.product_id in frame.columns:
        unknown = frame[C.product_id].is_not_null() & ~frame[C.product_id].is_in(list(known_products))
        report(unknown, header_of.get(C.product_id, C.product_id), "unknown_product", frame[C.product_id])

    bad_lines = pl.concat(problems)["_line"].unique() if problems else pl.Series("_line", [], dtype=pl.Int64)
    good = frame.filter(~frame["_line"].is_in(bad_lines.implode()))
    rejects = _rejects(problems, raw_all, table, path)
    return Prepared(good, rejects, raw.height + int(summary.sum() or 0))


def _lines_with_problem(problems: list[pl.DataFrame], frame: pl.DataFrame, column: str) -> pl.Series:
    """Return a mask of rows already reported for ``column`` (so an unreadable value is not also 'missing')."""
    if not problems:
        return pl.Series([False] * frame.height)
    seen = pl.concat(problems).filter(pl.col("column") == column)["_line"]
    return frame["_line"].is_in(seen.implode())


def _numbered(frame: pl.DataFrame, dup: pl.Series, state: _State) -> pl.DataFrame:
    """Return ``frame`` with ``line_no``: the row's position within its order in the file."""
    counting = frame.with_columns(pl.Series("_dup", dup)).with_row_index("_i")
    firsts = counting.filter(~pl.col("_dup"))
    firsts = firsts.with_columns((pl.int_range(pl.len()).over(C.order_id) + 1).alias("_pos"))
    if state.line_counts:
        offsets = pl.DataFrame(
            {C.order_id: list(state.line_counts), "_off": list(state.line_counts.values())},
            schema={C.order_id: pl.String, "_off": pl.Int64},
        )
        firsts = firsts.join(offsets, on=C.order_id, how="left")
    else:
        firsts = firsts.with_columns(pl.lit(None, dtype=pl.Int64).alias("_off"))
    firsts = firsts.with_columns((pl.col("_pos") + pl.col("_off").fill_null(0)).cast(pl.Int64).alias(C.line_no))
    last = firsts.group_by(C.order_id).agg(pl.col(C.line_no).max())
    for order, n in last.iter_rows():
        if order is not None:
            state.line_counts[order] = n
    numbered = counting.join(firsts.select("_i", C.line_no), on="_i", how="left")
    return numbered.drop("_i", "_dup")


def _shaped(frame: pl.DataFrame, reader: Reader, report, header_of: dict[str, str]) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """Return ``frame`` with the platform-specific derivations applied."""
    cols = set(frame.columns)
    exprs: list[pl.Expr] = []
    if reader.kind in ("orders", "order_headers", "order_items"):
        if C.status not in cols and reader.platform is not None:
            # an export without a status column lists paid orders (e.g. Taobao's analysis subset)
            exprs.append(pl.lit("paid").alias(C.status))
        if C.refund_fen in cols:
            exprs.append(pl.col(C.refund_fen).fill_null(0))
        elif reader.kind != "order_items":
            exprs.append(pl.lit(0, dtype=pl.Int64).alias(C.refund_fen))
        if "address" in cols:
            prov, city = nz.provinces_and_cities(frame["address"])
            if C.province not in cols:
                exprs.append(pl.lit(prov).alias(C.province))
            if C.city not in cols:
                exprs.append(pl.lit(city).alias(C.city))
        else:
            for part in (C.province, C.city):
                if part in cols:
                    masked = pl.col(part).str.contains(r"^\*+$")
                    exprs.append(pl.when(masked).then(None).otherwise(pl.col(part)).alias(part))
        reasons = [r for r in ("close_reason", "cancel_reason") if r in cols]
        if reasons and C.refund_reason not in cols:
            reason = pl.coalesce([pl.col(r) for r in reasons])
            exprs.append(
                pl.when(reason.is_in(["订单未关闭", "未关闭"])).then(None).otherwise(reason).alias(C.refund_reason)
            )
    if reader.platform is not None and reader.kind in ("orders", "order_headers"):
        # exports show what the buyer paid including postage; the canonical amount is the goods part
        if C.amount_fen in cols and C.shipping_fen in cols:
            net = pl.col(C.amount_fen) - pl.col(C.shipping_fen).fill_null(0)
            amount = pl.when((pl.col(C.amount_fen) > 0) & (net >= 0)).then(net).otherwise(pl.col(C.amount_fen))
        else:
            amount = pl.col(C.amount_fen)
        if "payable_goods_fen" in cols:
            # an unpaid Taobao order shows 0.00 paid: its amount is the goods payable (买家应付货款)
            amount = pl.when(pl.col(C.amount_fen) == 0).then(pl.col("payable_goods_fen")).otherwise(amount)
        if C.amount_fen in cols:
            exprs.append(amount.alias(C.amount_fen))
    if reader.platform == "pinduoduo":
        discounts = [c for c in ("shop_discount_fen", "platform_discount_fen", "pay_discount_fen") if c in cols]
        if discounts and C.discount_fen not in cols:
            exprs.append(pl.sum_horizontal([pl.col(c) for c in discounts]).alias(C.discount_fen))
        if "goods_fen" in cols and C.unit_price_fen not in cols:
            exprs.append(
                pl.when(pl.col(C.quantity) > 0)
                .then(pl.col("goods_fen") // pl.col(C.quantity))
                .otherwise(None)
                .alias(C.unit_price_fen)
            )
        if "seller_code" in cols and "seller_code_item" in cols:
            exprs.append(pl.coalesce([pl.col("seller_code_item"), pl.col("seller_code")]).alias("seller_code"))
    if exprs:
        frame = frame.with_columns(exprs)
    if reader.platform == "pinduoduo" and C.created_at_utc in frame.columns:
        # blank 订单成交时间 for whole batches: the order id's date prefix (yymmdd-…) gives the day
        prefix = frame[C.order_id].str.extract(r"^(\d{6})-", 1)
        day = prefix.str.strptime(pl.Datetime("us"), "%y%m%d", strict=False)
        fill = day.dt.replace_time_zone(reader.tz).dt.convert_time_zone("UTC")
        blank = frame[C.created_at_utc].is_null()
        filled = pl.select(pl.when(blank).then(fill).otherwise(frame[C.created_at_utc])).to_series()
        if C.paid_at_utc in frame.columns:
            filled = pl.select(
                pl.when(blank & frame[C.paid_at_utc].is_not_null()).then(frame[C.paid_at_utc]).otherwise(filled)
            ).to_series()
        frame = frame.with_columns(filled.alias(C.created_at_utc))
    return frame


def _rejects(problems: list[pl.DataFrame], raw: pl.DataFrame, table: RawTable, path: str) -> list[Reject]:
    if not problems:
        return []
    found = pl.concat(problems).sort("_line", maintain_order=True)
    lines = found["_line"].unique().to_list()
    raw_rows = raw.filter(pl.col("_line").is_in(pl.lit(pl.Series(lines, dtype=pl.Int64)).implode()))
    header = table.header
    raw_by_line: dict[int, str] = {}
    for row in raw_rows.iter_rows(named=True):
        doc = {
            (header[i] or f"column {i + 1}"): row[f"c{i}"] for i in range(len(header)) if row.get(f"c{i}") is not None
        }
        raw_by_line[row["_line"]] = json.dumps(doc, ensure_ascii=False)
    return [
        Reject(path, line, column or None, code, reject_message(code, column or None, value), raw_by_line.get(line))
        for line, column, code, value in found.iter_rows()
    ]
