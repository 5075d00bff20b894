"""Raw tables out of files: CSV (any supported encoding), XLSX sheets, Parquet and JSON-lines.

Every cell comes out as text (or None when empty), in batches of a bounded number of rows, each
row with the line number a text editor or spreadsheet shows for it (header included). The
header row is found by scoring the first rows against the known header names, so a settlement
bill with a title above its header reads like any other export.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from etl.extract.sniff import header_key, scan_file, sniff_encoding

__all__ = ["RawBatch", "RawTable", "open_tables"]

BATCH_ROWS = 100_000
_SCAN_ROWS = 30
_SUMMARY = {"合计", "总计", "整体", "合计:", "总计:", "total", "sum"}


@dataclass
class RawBatch:
    """Rows of a raw table: text cells in columns ``c0..cN`` plus ``_line`` (1-based line number)."""

    frame: pl.DataFrame


@dataclass
class RawTable:
    """One table in a file (a CSV, or one sheet of a workbook) with its header found."""

    path: Path
    sheet: str | None
    encoding: str | None
    header: list[str]
    header_line: int
    _batches: Callable[[], Iterator[RawBatch]] = field(repr=False)

    @property
    def keys(self) -> list[str]:
        """Return the header cells in comparable form (see :func:`header_key`)."""
        return [header_key(h) for h in self.header]

    def batches(self) -> Iterator[RawBatch]:
        """Yield the data rows in batches of at most ``BATCH_ROWS`` rows."""
        return self._batches()


def _cell_text(value: object) -> str | None:
    """Return a spreadsheet cell as the text an export would have carried."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if abs(value) >= 1e15:
            # an id Excel stored as a number: its last digits are gone, show it as Excel does
            return f"{value:.5E}".replace("E+", "E+")
        return repr(value)
    text = str(value)
    return text if text.strip() != "" else None


def _header_index(rows: list[list[str | None]], known: set[str]) -> int:
    """Return the index of the row that looks most like a header (most known names)."""
    best, best_score = 0, -1
    for i, row in enumerate(rows):
        cells = [header_key(c) for c in row if c is not None and str(c).strip()]
        if not cells:
            continue
        score = sum(1 for c in cells if c in known)
        if score > best_score:
            best, best_score = i, score
    if best_score <= 0:  # nothing known: the first non-empty row
        for i, row in enumerate(rows):
            if any(c is not None and str(c).strip() for c in row):
                return i
    return best


def _frame(rows: list[list[str | None]], lines: list[int], width: int) -> pl.DataFrame:
    fixed = [r if len(r) == width else (r + [None] * (width - len(r)))[:width] for r in rows]
    frame = pl.DataFrame(fixed, schema={f"c{i}": pl.String for i in range(width)}, orient="row")
    return frame.with_columns(pl.Series("_line", lines, dtype=pl.Int64))


def _csv_tables(path: Path, known: set[str]) -> list[RawTable]:
    encoding = sniff_encoding(path)

    def rows_with_lines() -> Iterator[tuple[int, list[str | None]]]:
        with path.open("r", encoding=encoding, errors="strict", newline="") as fh:
            reader = csv.reader(fh)
            start = 1
            for row in reader:
                cells = [c if c.strip() != "" else None for c in row]
                yield start, cells
                start = reader.line_num + 1

    head: list[tuple[int, list[str | None]]] = []
    for item in rows_with_lines():
        head.append(item)
        if len(head) >= _SCAN_ROWS:
            break
    if not head:
        return []
    idx = _header_index([r for _, r in head], known)
    header_line, header_cells = head[idx]
    header = [c or "" for c in header_cells]
    width = len(header)
    fast = _polars_batches(path, encoding, header_line, width)
    if fast is not None:
        return [RawTable(path, None, encoding, header, header_line, fast)]

    def batches() -> Iterator[RawBatch]:
        rows: list[list[str | None]] = []
        lines: list[int] = []
        for line, cells in rows_with_lines():
            if line <= header_line or not any(c is not None for c in cells):
                continue
            rows.append(cells)
            lines.append(line)
            if len(rows) >= BATCH_ROWS:
                yield RawBatch(_frame(rows, lines, width))
                rows, lines = [], []
        if rows:
            yield RawBatch(_frame(rows, lines, width))

    return [RawTable(path, None, encoding, header, header_line, batches)]


def _one_record_per_line(path: Path, skip: int) -> bool:
    """Return True when, after its first ``skip`` lines, every line of the file is one whole CSV
    record: no blank line, and no line with an odd number of quote characters (which would open a
    quoted field running into the next line). Streams the file a few MB at a time (a count by polars
    mapped the whole file into memory: a 2.9 GB file showed as 2.9 GB resident); the file is read
    once for this, its encoding and its hash (:func:`scan_file`)."""
    with path.open("rb") as fh:
        for _ in range(skip):
            fh.readline()
        first = fh.tell()
    return scan_file(path).last_bad_line < first


def _polars_batches(path: Path, encoding: str, header_line: int, width: int) -> Callable[[], Iterator[RawBatch]] | None:
    """Return a batch reader on polars' CSV parser when its row numbers are certain, else None.

    Only for UTF-8 files in which every record is one physical line (no quoted line breaks, no
    blank lines): then the record after the header is line ``header_line + 1 + i``. Anything else
    takes the ``csv`` module path, which tracks line numbers itself.
    """
    if encoding not in ("utf-8", "utf-8-sig") or path.stat().st_size < (1 << 20):
        return None

    def scan() -> pl.LazyFrame:
        return pl.scan_csv(
            path,
            has_header=False,
            skip_lines=header_line,
            infer_schema=False,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )

    if not _one_record_per_line(path, header_line):
        return None
    try:
        columns = len(scan().collect_schema())
    except pl.exceptions.PolarsError:
        return None
    if columns > width:
        return None

    schema = {f"c{i}": pl.String for i in range(columns)}

    def batches() -> Iterator[RawBatch]:
        offset = header_line + 1
        for block in _line_blocks(path, header_line, BATCH_ROWS):
            frame = pl.read_csv(
                block, has_header=False, schema=schema, truncate_ragged_lines=True, raise_if_empty=False
            )
            missing = [pl.lit(None, dtype=pl.String).alias(f"c{i}") for i in range(frame.width, width)]
            frame = frame.with_columns(missing) if missing else frame
            frame = frame.with_columns(pl.int_range(offset, offset + frame.height, dtype=pl.Int64).alias("_line"))
            offset += frame.height
            yield RawBatch(frame)

    return batches


def _line_blocks(path: Path, skip: int, lines: int) -> Iterator[bytes]:
    """Yield the file after its first ``skip`` lines in blocks of ``lines`` whole lines.

    Read only when asked for (polars' batched collect read ahead on its own threads and buffered
    most of a big file while the load was still writing the first batches): memory stays a block."""
    with path.open("rb") as fh:
        for _ in range(skip):
            fh.readline()
        while block := b"".join(itertools.islice(fh, lines)):
            yield block


def _xlsx_tables(path: Path, known: set[str]) -> list[RawTable]:
    from openpyxl import load_workbook

    tables: list[RawTable] = []
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        names = list(workbook.sheetnames)
        for name in names:
            sheet = workbook[name]
            head = []
            for i, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                head.append((i, [_cell_text(v) for v in row]))
                if len(head) >= _SCAN_ROWS:
                    break
            if not head:
                continue
            idx = _header_index([r for _, r in head], known)
            header_line, header_cells = head[idx]
            header = [c or "" for c in header_cells]
            while header and header[-1] == "":
                header.pop()
            if not header:
                continue
            tables.append(
                RawTable(path, name, None, header, header_line, _xlsx_batches(path, name, header_line, len(header)))
            )
    finally:
        workbook.close()
    return tables


def _xlsx_batches(path: Path, sheet: str, header_line: int, width: int) -> Callable[[], Iterator[RawBatch]]:
    def batches() -> Iterator[RawBatch]:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            rows: list[list[str | None]] = []
            lines: list[int] = []
            for line, row in enumerate(workbook[sheet].iter_rows(values_only=True), start=1):
                if line <= header_line:
                    continue
                cells = [_cell_text(v) for v in row[:width]]
                if not any(c is not None for c in cells):
                    continue
                rows.append(cells)
                lines.append(line)
                if len(rows) >= BATCH_ROWS:
                    yield RawBatch(_frame(rows, lines, width))
                    rows, lines = [], []
            if rows:
                yield RawBatch(_frame(rows, lines, width))
        finally:
            workbook.close()

    return batches


def _typed_tables(path: Path, suffix: str) -> list[RawTable]:
    if suffix == ".parquet":
        schema = pl.read_parquet_schema(path)
        header = list(schema)

        def scan() -> pl.LazyFrame:
            return pl.scan_parquet(path)

        encoding = None
    else:
        try:
            header = list(pl.read_ndjson(path, n_rows=1000, infer_schema_length=1000).columns)
        except pl.exceptions.PolarsError:
            # a line that is no JSON object: name the columns from the lines that are (a reader that
            # reads line by line, like the session log's, then reports the bad line; others refuse the file)
            header = _ndjson_keys(path)

        def scan() -> pl.LazyFrame:
            return pl.scan_ndjson(path, infer_schema_length=1000)

        encoding = "utf-8"

    def batches() -> Iterator[RawBatch]:
        lazy = scan()
        total = lazy.select(pl.len()).collect().item()
        for start in range(0, total, BATCH_ROWS):
            part = lazy.slice(start, BATCH_ROWS).collect()
            cols = []
            for i, name in enumerate(header):
                col = pl.col(name)
                dtype = part.schema[name]
                if isinstance(dtype, pl.Datetime):
                    col = col.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f%z" if dtype.time_zone else "%Y-%m-%dT%H:%M:%S%.6f")
                cols.append(col.cast(pl.String).alias(f"c{i}"))
            frame = part.select(cols).with_columns(
                pl.Series("_line", range(start + 2, start + 2 + part.height), dtype=pl.Int64)
            )
            yield RawBatch(frame)

    # a JSON-lines file has no header line: line n holds record n, shown as line n; Parquet rows
    # are numbered the same way (header counted as line 1 for CSV-like numbering)
    return [RawTable(path, None, encoding, header, 1, batches)]


def _ndjson_keys(path: Path, lines: int = 1000) -> list[str]:
    """Return the keys of the JSON objects among the first ``lines`` lines, in first-seen order."""
    import json

    keys: dict[str, None] = {}
    with path.open("r", encoding="utf-8-sig") as fh:
        for _, text in zip(range(lines), fh, strict=False):
            try:
                doc = json.loads(text)
            except ValueError:
                continue
            if isinstance(doc, dict):
                keys.update(dict.fromkeys(doc))
    return list(keys)


def open_tables(path: Path, known: set[str]) -> list[RawTable]:
    """Return the raw tables in ``path`` (one per CSV, one per non-empty sheet of a workbook).

    ``known`` is the set of header keys the registry knows; it is used to find the header row.
    Raises :class:`~etl.extract.sniff.EncodingRefused` for undecodable text files.
    """
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_tables(path, known)
    if suffix in (".parquet", ".jsonl", ".ndjson"):
        return _typed_tables(path, suffix)
    return _csv_tables(path, known)


def is_summary_cell(value: str | None) -> bool:
    """Return True when a cell marks a total row (合计, 总计, 整体)."""
    return value is not None and header_key(value).rstrip(":：") in _SUMMARY
