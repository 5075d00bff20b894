"""Encoding sniffing and header-name normalisation.

Encodings are tried in a fixed order: a byte-order mark, then strict UTF-8, then GB18030 (a
superset of GBK and GB2312). Nothing is ever decoded with errors ignored: a file that is none of
them is refused whole with :class:`EncodingRefused`.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

__all__ = ["EncodingRefused", "header_key", "sniff_encoding"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHUNK = 1 << 20
_SPACES = re.compile(r"\s+")


class EncodingRefused(ValueError):
    """A text file that is neither UTF-8 (with or without BOM) nor GB18030/GBK."""


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
        if _decodes(path, "utf-8"):
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
