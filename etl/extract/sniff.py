"""Encoding sniffing and header-name normalisation.

Encodings are tried in a fixed order: a byte-order mark, then strict UTF-8, then GB18030 (a
superset of GBK and GB2312). Nothing is ever decoded with errors ignored: a file that is none of
them is refused whole with :class:`EncodingRefused`.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

__all__ = ["EncodingRefused", "FileScan", "header_key", "scan_file", "scans_kept", "sniff_encoding"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHUNK = 1 << 20
_SPACES = re.compile(r"\s+")


class EncodingRefused(ValueError):
    """A text file that is neither UTF-8 (with or without BOM) nor GB18030/GBK."""


@dataclass(frozen=True)
class FileScan:
    """What one read of a file tells: its SHA-256 (hex), whether every byte is UTF-8 (a BOM
    included), and the byte offset at which the last line that is not one whole CSV record starts
    (a blank line, or one with an odd number of quote characters: -1 when there is none)."""

    sha256: str
    utf8: bool
    last_bad_line: int


_SCAN_CHUNK = 1 << 23
_SCANS: dict[tuple[str, int, int, int], FileScan] | None = None


@contextmanager
def scans_kept() -> Iterator[None]:
    """Within the block, :func:`scan_file` reads each file once (per path, inode, size and
    modification time): one load's detection, encoding sniffer and manifest share one read of a big
    file. Outside it nothing is kept, so a file rewritten within the clock's resolution is read anew."""
    global _SCANS
    saved, _SCANS = _SCANS, {} if _SCANS is None else _SCANS
    try:
        yield
    finally:
        _SCANS = saved


def scan_file(path: Path) -> FileScan:
    """Return the :class:`FileScan` of ``path``, reading it once (a few MB at a time, the hash on a
    second thread while this one checks UTF-8 and the records)."""
    if _SCANS is None:
        return _scanned(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key not in _SCANS:
        _SCANS[key] = _scanned(path)
    return _SCANS[key]


def _scanned(path: Path) -> FileScan:
    digest = hashlib.sha256()
    utf8, last_bad, offset, carry = True, -1, 0, b""
    with ThreadPoolExecutor(1) as pool, path.open("rb") as fh:
        hashing: Future[None] | None = None
        while chunk := fh.read(_SCAN_CHUNK):
            if hashing is not None:
                hashing.result()
            hashing = pool.submit(digest.update, chunk)  # hashlib lets go of the GIL on big buffers
            data = carry + chunk
            cut = data.rfind(b"\n") + 1  # whole lines: a cut never splits a UTF-8 (or GBK) character
            whole, carry = data[:cut], data[cut:]
            utf8 = utf8 and _is_utf8(whole)
            bad = _last_bad_line(whole)
            if bad >= 0:
                last_bad = offset + bad
            offset += cut
        if hashing is not None:
            hashing.result()
    if carry:  # a last line without a line break
        utf8 = utf8 and _is_utf8(carry)
        if carry.count(b'"') % 2:
            last_bad = offset
    return FileScan(digest.hexdigest(), utf8, last_bad)


def _is_utf8(data: bytes) -> bool:
    """True when ``data`` is strict UTF-8 (polars validates it without holding the GIL)."""
    try:
        pl.Series([data], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:  # ComputeError: invalid utf8
        return False
    return True


def _last_bad_line(block: bytes) -> int:
    """The offset in ``block`` (whole lines) at which its last blank or odd-quoted line starts, or -1."""
    bad = -1
    if block[:1] == b"\n" or block[:2] == b"\r\n":
        bad = 0
    # a line break right after a line break (or after one and a CR) is a blank line: vectorised,
    # since a substring search for two line breaks crawls through text with a break on every line
    raw = np.frombuffer(block, dtype=np.uint8)
    breaks = raw == 10
    blank = breaks[1:] & breaks[:-1]
    if b"\r" in block:
        blank[:-1] |= breaks[:-2] & (raw[1:-1] == 13) & breaks[2:]
    ends = np.flatnonzero(blank)
    if ends.size:
        bad = max(bad, int(ends[-1]) + 1)  # the blank line starts after the first break
    if b'"' in block:
        start = 0
        for line in block.split(b"\n"):
            if line.count(b'"') % 2:
                bad = max(bad, start)
            start += len(line) + 1
    return bad


def _decodes(path: Path, encoding: str, skip: int = 0) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with path.open("rb") as fh:
        fh.seek(skip)
        try:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def sniff_encoding(path: Path) -> str:
    """Return the Python codec name that decodes ``path`` strictly.

    Order: BOM (``utf-8-sig``/``utf-16``), strict ``utf-8``, then ``gb18030``. Reads the file in
    1 MB chunks (memory stays bounded). Raises :class:`EncodingRefused` with a bilingual message
    when no encoding decodes every byte.
    """
    with path.open("rb") as fh:
        head = fh.read(4)
    for bom, name in _BOMS:
        if head.startswith(bom):
            if _decodes(path, name):
                return name
            break
    else:
        if scan_file(path).utf8:
            return "utf-8"
        if _decodes(path, "gb18030"):
            return "gb18030"
    raise EncodingRefused(
        f"{path}: the file is not text in UTF-8 or GBK/GB18030 (some bytes fit neither); nothing was loaded. "
        "Open it in Excel or WPS and save it again as 'CSV UTF-8', or export it again from the platform. / "
        f"{path}：文件既不是 UTF-8 也不是 GBK/GB18030 编码的文本，未导入任何数据。"
        "请用 Excel 或 WPS 另存为“CSV UTF-8”，或从平台重新导出。"
    )


def header_key(text: object) -> str:
    """Return the comparable form of a header cell: NFKC, no spaces, lower case, no BOM.

    ``商品总价（元） `` and ``商品总价(元)`` give the same key.
    """
    if text is None:
        return ""
    value = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return _SPACES.sub("", value).strip().lower()
