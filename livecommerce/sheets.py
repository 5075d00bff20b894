"""Text bound for a spreadsheet (CSV exports opened in Excel or WPS): one guard against formula injection.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by
spreadsheet programs; a product title or a host name coming from a platform export could carry one. Every
CSV the toolkit writes for people (the dashboard's downloads, the API's CSV answers, a plan's CSV) passes its
text cells through :func:`neutralised`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMULA_PREFIXES", "neutralised"]

#: what a spreadsheet reads as the start of a formula
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """Return ``value`` safe for a spreadsheet: text starting with ``=``, ``+``, ``-``, ``@``, tab or
    carriage return gets a leading apostrophe (formula injection); numbers and other text are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
