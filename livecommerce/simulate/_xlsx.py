"""A minimal, deterministic XLSX writer: one sheet, inline strings, numbers where a cell is numeric.

openpyxl stamps creation times into workbooks; this writer stores none, and every zip entry gets
the same fixed date, so the same rows give the same bytes.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl

from livecommerce.simulate._text import fmt

__all__ = ["XlsxSheetWriter", "column_letter"]

_FIXED = (1980, 1, 1, 0, 0, 0)
_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)


def _workbook(sheet: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def column_letter(i: int) -> str:
    """Return the spreadsheet column letter for 0-based column ``i`` (0 -> A, 26 -> AA)."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _esc(e: pl.Expr) -> pl.Expr:
    return (
        e.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


class XlsxSheetWriter:
    """Stream rows of text into a one-sheet workbook; cells in ``numeric`` columns that look like
    numbers are stored as numbers, everything else as inline strings."""

    def __init__(self, path: Path, sheet: str, header: list[str], numeric: set[str]) -> None:
        self.path = path
        self.header = header
        self.numeric = numeric
        self.row = 0
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        for name, text in (
            ("[Content_Types].xml", _CT),
            ("_rels/.rels", _RELS),
            ("xl/workbook.xml", _workbook(sheet)),
            ("xl/_rels/workbook.xml.rels", _WB_RELS),
        ):
            self._zip.writestr(self._info(name), text)
        self._sheet = self._zip.open(self._info("xl/worksheets/sheet1.xml"), "w", force_zip64=True)
        self._sheet.write(
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        )
        self.write(pl.DataFrame({h: [h] for h in header}), numeric_ok=False)

    @staticmethod
    def _info(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_FIXED)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        return info

    def write(self, df: pl.DataFrame, numeric_ok: bool = True) -> None:
        """Append the rows of ``df`` (text columns in header order)."""
        n = df.height
        if n == 0:
            return
        rows = pl.Series("r", range(self.row + 1, self.row + n + 1), dtype=pl.Int64).cast(pl.Utf8)
        cells = []
        for i, name in enumerate(self.header):
            v = pl.col(name).fill_null("")
            ref = pl.lit(column_letter(i)) + pl.col("__r")
            text = fmt('<c r="{}" t="inlineStr"><is><t xml:space="preserve">{}</t></is></c>', ref, _esc(v))
            if numeric_ok and name in self.numeric:
                num = fmt('<c r="{}"><v>{}</v></c>', ref, v)
                text = pl.when(v.str.contains(r"^-?\d+(\.\d+)?$")).then(num).otherwise(text)
            empty = pl.when(v == "").then(pl.lit("")).otherwise(text)
            cells.append(empty)
        xml = (
            df.with_columns(rows.alias("__r"))
            .select(fmt('<row r="{}">', pl.col("__r")).alias("a"), pl.concat_str(cells).alias("b"))
            .select(pl.concat_str(["a", "b", pl.lit("</row>")]).alias("x"))
        )
        self._sheet.write(("".join(xml["x"].to_list())).encode("utf-8"))
        self.row += n

    def close(self) -> None:
        """Finish the sheet and the zip file."""
        self._sheet.write(b"</sheetData></worksheet>")
        self._sheet.close()
        self._zip.close()
