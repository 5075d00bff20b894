"""Vectorised text building: ``fmt("a{}b{}", x, y)`` as a polars expression (braces are literal)."""

from __future__ import annotations

import polars as pl

__all__ = ["fmt"]


def fmt(template: str, *args: pl.Expr | pl.Series | str) -> pl.Expr:
    """Return an expression filling each ``{}`` in ``template`` with the next argument (column names
    given as strings); other braces are kept literally. A null argument gives a null result."""
    parts = template.split("{}")
    if len(parts) != len(args) + 1:
        raise ValueError(f"{template!r} has {len(parts) - 1} placeholders, got {len(args)} arguments")
    exprs: list[pl.Expr] = []
    for i, a in enumerate(args):
        if parts[i]:
            exprs.append(pl.lit(parts[i]))
        e = pl.col(a) if isinstance(a, str) else (pl.lit(a) if isinstance(a, pl.Series) else a)
        exprs.append(e.cast(pl.Utf8))
    if parts[-1]:
        exprs.append(pl.lit(parts[-1]))
    return pl.concat_str(exprs)
