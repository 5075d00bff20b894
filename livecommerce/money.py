"""Money: integer fen (分) inside, ¥ at the edges. Pure functions, one place.

Amounts are stored and computed as integer fen, never floats. Text from exports is parsed
with :func:`parse_fen`; numbers are shown with :func:`format_yuan` (``¥58,920.00``, or
``¥5.89万`` in Chinese).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["MoneyError", "fen_to_yuan", "format_yuan", "parse_fen", "yuan_to_fen"]

_WAN = Decimal(10_000)
_YI = Decimal(100_000_000)
_EMPTY = {"", "-", "—", "–", "--", "/", "无", "null", "none", "nan"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class MoneyError(ValueError):
    """A text that is not an amount of money; ``str()`` explains it in Chinese and English."""


def yuan_to_fen(yuan: Decimal | int | str) -> int:
    """Return the whole number of fen for ``yuan``, rounded half up to the nearest fen."""
    value = Decimal(str(yuan)) * 100
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fen_to_yuan(fen: int) -> Decimal:
    """Return ``fen`` as an exact Decimal number of yuan with two places."""
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def parse_fen(text: object, *, empty: int | None = None) -> int | None:
    """Return the amount in ``text`` as integer fen.

    Accepts ``¥58,920.00``, ``￥58920``, ``58920``, ``2.3万``, ``1.2亿``, ``(12.50)`` style
    negatives and numbers; ``-``, ``—`` and empty text give ``empty`` (None by default).
    Raises :class:`MoneyError` for anything else (never guesses).
    """
    if text is None:
        return empty
    if isinstance(text, bool):
        raise MoneyError(f"not an amount: {text!r} / 不是金额：{text!r}")
    if isinstance(text, int):
        return text * 100
    if isinstance(text, float):
        if text != text:  # NaN
            return empty
        return yuan_to_fen(Decimal(repr(text)))
    if isinstance(text, Decimal):
        return yuan_to_fen(text)
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    if raw.lower() in _EMPTY:
        return empty
    s = raw.replace(",", "").replace("¥", "").replace("￥", "").replace(" ", "")
    s = s.removesuffix("元")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
    scale = Decimal(1)
    if s.endswith("万"):
        scale, s = _WAN, s[:-1]
    elif s.endswith("亿"):
        scale, s = _YI, s[:-1]
    if not _NUMBER.match(s):
        raise MoneyError(
            f"not an amount of money: {raw!r}; write it like 58920.00 or ¥58,920.00 / "
            f"不是金额：{raw!r}，请写成 58920.00 或 ¥58,920.00"
        )
    try:
        value = Decimal(s) * scale
    except InvalidOperation as exc:  # pragma: no cover - regex guards this
        raise MoneyError(f"not an amount: {raw!r} / 不是金额：{raw!r}") from exc
    fen = yuan_to_fen(value)
    return -fen if negative else fen


def format_yuan(fen: int | float | None, *, lang: str = "zh", wan: bool = True) -> str:
    """Return ``fen`` as display text: ``¥1,234.50``; in Chinese ``¥5.89万`` from 10,000 yuan up.

    ``None`` gives ``—``. ``wan=False`` keeps the full figure in Chinese too.
    """
    if fen is None or (isinstance(fen, float) and fen != fen):
        return "—"
    if type(fen) is int:  # whole fen (most money here): the same text in integer arithmetic, no Decimal
        sign, n = ("-" if fen < 0 else ""), abs(fen)
        if lang.startswith("zh") and wan and n >= 1_000_000:
            unit, word = (10**10, "亿") if n >= 10**10 else (10**6, "万")
            hundredths, rest = divmod(n, unit // 100)
            hundredths += 2 * rest >= unit // 100  # half up
            return f"{sign}¥{hundredths // 100}.{hundredths % 100:02d}{word}"
        return f"{sign}¥{n // 100:,}.{n % 100:02d}"
    yuan = Decimal(str(fen)) / 100
    sign = "-" if yuan < 0 else ""
    yuan = abs(yuan)
    if lang.startswith("zh") and wan:
        if yuan >= _YI:
            return f"{sign}¥{(yuan / _YI).quantize(Decimal('0.01'), ROUND_HALF_UP)}亿"
        if yuan >= _WAN:
            return f"{sign}¥{(yuan / _WAN).quantize(Decimal('0.01'), ROUND_HALF_UP)}万"
    return f"{sign}¥{yuan.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
