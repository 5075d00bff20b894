"""Output files written in chunks, with optional fault injection (``--defects``).

A sink receives text frames (every cell already formatted as the file shows it), injects faults
at the requested rate into data rows, writes them and records each fault with the 1-based line
number a text editor (CSV: header = line 1) or a spreadsheet (XLSX: row number) shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

from livecommerce.schemas import DEFECT_KINDS
from livecommerce.simulate._xlsx import XlsxSheetWriter

__all__ = ["DefectPlan", "Sink"]

_BAD_DATES = ("2024-13-45 25:61:00", "昨天 20:15", "0000-00-00 00:00:00", "2024/02/30 10:00", "待更新")
_BAD_DATES_ISO = ("2024-13-45T25:61:00Z", "not-a-date", "0000-00-00T00:00:00Z", "2024-02-30T10:00:00Z")


@dataclass
class DefectPlan:
    """Which faults a file can carry, and in which column (by header name)."""

    id_col: str | None = None  # excel_mangled_id, wrapped_id, missing_required
    money_col: str | None = None  # money_format (repairable)
    required_money_col: str | None = None  # missing_required (empty amount)
    date_col: str | None = None  # bad_date, future_timestamp
    date_fmt: str = "%Y-%m-%d %H:%M:%S"
    qty_col: str | None = None  # negative_quantity
    product_col: str | None = None  # unknown_product
    end_col: tuple[str, str] | None = None  # session_end_before_start: (start column, end column)
    duplicates: bool = True
    total: tuple[str, list[str]] | None = None  # (label column, money columns summed)
    mangle: bool = True  # ids are long digit strings Excel would mangle
    wrap: bool = True

    def kinds(self) -> list[str]:
        """Return the defect kinds this file can carry (except ``total_row``, added at the end)."""
        k: list[str] = []
        if self.id_col and self.mangle:
            k.append("excel_mangled_id")
        if self.id_col and self.wrap:
            k.append("wrapped_id")
        if self.money_col:
            k.append("money_format")
        if self.date_col:
            k += ["bad_date", "future_timestamp"]
        if self.qty_col:
            k.append("negative_quantity")
        if self.product_col:
            k.append("unknown_product")
        if self.duplicates:
            k.append("duplicate_row")
        if self.id_col or self.required_money_col:
            k.append("missing_required")
        if self.end_col:
            k.append("session_end_before_start")
        return k


@dataclass
class Sink:
    """One output file: CSV (``encoding`` utf-8, utf-8-sig or gb18030) or XLSX."""

    root: Path
    rel: str
    header: list[str]
    encoding: str = "utf-8"
    plan: DefectPlan | None = None
    rate: float = 0.0
    rng: np.random.Generator | None = None
    future_base: datetime | None = None  # a year after the world's end
    numeric: set[str] = field(default_factory=set)  # XLSX numeric columns
    defects: list[dict[str, object]] = field(default_factory=list)
    rows: int = 0  # data rows written (incl. injected duplicate / total rows)
    _sums: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.path = self.root / self.rel
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.xlsx = self.rel.endswith(".xlsx")
        if self.xlsx:
            self._x = XlsxSheetWriter(self.path, "订单列表", self.header, self.numeric)
        else:
            self._f = self.path.open("wb")
            if self.encoding == "utf-8-sig":
                self._f.write(b"\xef\xbb\xbf")
            self._f.write(self._csv(pl.DataFrame({h: [h] for h in self.header})))

    def _csv(self, df: pl.DataFrame) -> bytes:
        df = df.with_columns(pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in df.columns)
        text = df.write_csv(include_header=False, line_terminator="\r\n" if self.encoding == "gb18030" else "\n")
        return text.encode("gb18030" if self.encoding == "gb18030" else "utf-8")

    def write(self, df: pl.DataFrame) -> None:
        """Write the text frame ``df`` (columns = header), injecting faults if a rate is set."""
        df = df.select(self.header)
        if self.plan is not None and self.plan.total:
            for c in self.plan.total[1]:
                fen = (df[c].cast(pl.Float64) * 100).round(0).cast(pl.Int64).sum()
                self._sums[c] = self._sums.get(c, 0) + int(fen or 0)
        if self.rate > 0 and self.plan is not None and df.height:
            df = self._inject(df)
        if self.xlsx:
            self._x.write(df)
        else:
            self._f.write(self._csv(df))
        self.rows += df.height

    def _record(self, line: int, kind: str, column: str | None, original: object) -> None:
        self.defects.append(
            {
                "file": self.rel,
                "line": int(line),
                "kind": kind,
                "column": column,
                "code": DEFECT_KINDS[kind],
                "original": original,
            }
        )

    def _inject(self, df: pl.DataFrame) -> pl.DataFrame:
        assert self.plan is not None and self.rng is not None
        rng, plan = self.rng, self.plan
        kinds = plan.kinds()
        n = df.height
        hit = np.flatnonzero(rng.random(n) < self.rate)
        if not len(hit) or not kinds:
            return df
        pick = rng.integers(0, len(kinds), len(hit))
        cols = {c: df[c].to_list() for c in df.columns}
        dup_after: set[int] = set()
        for i, k in zip(hit.tolist(), pick.tolist(), strict=False):
            kind = kinds[k]
            col, orig = self._mutate(cols, i, kind)
            if col is None and kind != "duplicate_row":
                continue
            if kind == "duplicate_row":
                dup_after.add(i)
            cols.setdefault("__defect", [None] * n)
            cols["__defect"][i] = (kind, col, orig)
        marks = cols.pop("__defect", [None] * n)
        # assemble with duplicates, compute line numbers
        order: list[int] = []
        for i in range(n):
            order.append(i)
            if i in dup_after:
                order.append(i)
        first_line = self._first_data_line() + self.rows
        seen: set[int] = set()
        for pos, i in enumerate(order):
            m = marks[i]
            if m is None:
                continue
            kind, col, orig = m
            if kind == "duplicate_row":
                if i in seen:  # the copy is the faulty line
                    self._record(first_line + pos, kind, None, None)
                seen.add(i)
            else:
                self._record(first_line + pos, kind, col, orig)
        out = {c: [cols[c][i] for i in order] for c in df.columns}
        return pl.DataFrame(out, schema={c: pl.Utf8 for c in df.columns})

    def _first_data_line(self) -> int:
        return 2  # header is line / row 1

    def _mutate(self, cols: dict[str, list], i: int, kind: str) -> tuple[str | None, object]:
        plan, rng = self.plan, self.rng
        assert plan is not None and rng is not None
        if kind in ("excel_mangled_id", "wrapped_id") or (kind == "missing_required" and plan.id_col):
            col = plan.id_col
            assert col is not None
            v = cols[col][i]
            if not v:
                return None, None
            if kind == "excel_mangled_id":
                if not v.isdigit() or len(v) < 12:
                    return None, None
                cols[col][i] = f"{int(v):.5E}"
            elif kind == "wrapped_id":
                style = int(rng.integers(0, 3))
                cols[col][i] = (f'="{v}"', f"'{v}", f"{v}\t")[style]
            else:
                if plan.required_money_col and rng.random() < 0.5:
                    col = plan.required_money_col
                    v = cols[col][i]
                cols[col][i] = ""
            return col, v
        if kind == "missing_required":
            col = plan.required_money_col
            assert col is not None
            v, cols[col][i] = cols[col][i], ""
            return col, v
        if kind == "money_format":
            col = plan.money_col
            assert col is not None
            v = cols[col][i]
            if not v:
                return None, None
            y = Decimal(v)
            style = int(rng.integers(0, 3))
            if y >= 10000:
                text = f"{(y / 10000).normalize():f}万"
            elif style == 0:
                text = f"¥{y:,.2f}"
            elif style == 1:
                text = f"￥{y:,.2f}"
            else:
                text = f"{y:.2f}元"
            cols[col][i] = text
            return col, v
        if kind == "bad_date":
            col = plan.date_col
            assert col is not None
            pool = _BAD_DATES_ISO if plan.date_fmt.endswith("Z") else _BAD_DATES
            v = cols[col][i]
            cols[col][i] = pool[int(rng.integers(0, len(pool)))]
            return col, v
        if kind == "future_timestamp":
            col = plan.date_col
            assert col is not None and self.future_base is not None
            v = cols[col][i]
            t = self.future_base + timedelta(seconds=int(rng.integers(0, 30 * 86400)))
            cols[col][i] = t.strftime(plan.date_fmt)
            return col, v
        if kind == "negative_quantity":
            col = plan.qty_col
            assert col is not None
            v = cols[col][i]
            cols[col][i] = f"-{v}"
            return col, v
        if kind == "unknown_product":
            col = plan.product_col
            assert col is not None
            v = cols[col][i]
            cols[col][i] = f"unlisted-{int(rng.integers(1000, 9999))}"
            return col, v
        if kind == "session_end_before_start":
            assert plan.end_col is not None
            s_col, e_col = plan.end_col
            v = cols[e_col][i]
            start = datetime.strptime(cols[s_col][i], "%Y-%m-%dT%H:%M:%SZ")
            cols[e_col][i] = (start - timedelta(minutes=int(rng.integers(1, 60)))).strftime("%Y-%m-%dT%H:%M:%SZ")
            return e_col, v
        if kind == "duplicate_row":
            return None, None
        raise ValueError(kind)  # pragma: no cover

    def close(self) -> None:
        """Append the total row if planned, then close the file."""
        if self.rate > 0 and self.plan is not None and self.plan.total and self.rows:
            label, money = self.plan.total
            row = {h: "" for h in self.header}
            row[label] = "合计"
            for c in money:
                row[c] = f"{Decimal(self._sums.get(c, 0)) / 100:.2f}"
            df = pl.DataFrame({h: [row[h]] for h in self.header}, schema={h: pl.Utf8 for h in self.header})
            line = self._first_data_line() + self.rows
            if self.xlsx:
                self._x.write(df)
            else:
                self._f.write(self._csv(df))
            self.rows += 1
            self._record(line, "total_row", label, None)
        if self.xlsx:
            self._x.close()
        else:
            self._f.close()
