"""Readers and their registry: which export a table is, found from its header names.

A :class:`Reader` is data, not code: the canonical fields it fills, the header names (aliases)
each field may carry in real exports, the fields that must be present for the reader to match,
and what kind of rows it yields (dimensions, order lines, after-sale cases; sessions, schedules
and minute logs slot in the same way). A new export variant is a new alias or a new entry in
:data:`READERS`; a user can describe an unknown export with a mapping file (:func:`mapped_reader`).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from etl.extract.sniff import EncodingRefused, header_key, sniff_encoding
from etl.extract.tables import RawBatch, RawTable, open_tables

__all__ = [
    "KIND_ORDER",
    "READERS",
    "EncodingRefused",
    "MappingError",
    "RawBatch",
    "RawTable",
    "Reader",
    "detect",
    "header_key",
    "known_headers",
    "mapped_reader",
    "open_tables",
    "register",
    "resolved_columns",
    "sniff_encoding",
]

#: load order of kinds when a folder is loaded: dimensions first, then facts, then corrections
KIND_ORDER: dict[str, int] = {
    "counties": 0,
    "hosts": 1,
    "products": 2,
    "product_aliases": 3,
    "sessions": 3,
    "compass": 3,
    "session_log": 3,
    "schedule": 3,
    "schedule_wide": 3,
    "orders": 4,
    "order_items": 4,
    "order_headers": 4,
    "after_sale": 5,
}

#: kinds the loader does not handle yet: recognised, then skipped with a clear word (none since issue 5)
PENDING_KINDS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reader:
    """What one export looks like and what it yields.

    ``columns`` maps a canonical field to the header names it appears under; ``required``
    fields must all be found for the reader to match. ``tz`` is the zone of naive times
    (``Asia/Shanghai`` for platform exports, ``UTC`` for canonical files). ``money`` is
    ``yuan`` (text like ``¥58.90``) or ``fen`` (integers). ``companion`` names the reader of
    a table that must be joined with this one (Taobao's item report, Qianniu's line sheet).
    ``row_required`` fields must not be empty in a row (beyond what every row of the kind needs),
    e.g. the Taobao report's 总金额.
    """

    name: str
    kind: str
    platform: str | None
    columns: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    tz: str = "Asia/Shanghai"
    money: str = "yuan"
    companion: str | None = None
    notes: tuple[str, ...] = ()
    row_required: tuple[str, ...] = ()
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "keys", {f: tuple(header_key(a) for a in aliases) for f, aliases in self.columns.items()}
        )


READERS: dict[str, Reader] = {}


def register(reader: Reader) -> Reader:
    """Add ``reader`` to the registry (replacing one of the same name) and return it."""
    READERS[reader.name] = reader
    return reader


def known_headers() -> set[str]:
    """Return every header key any registered reader knows (used to find header rows)."""
    return {k for r in READERS.values() for keys in r.keys.values() for k in keys}


def resolved_columns(reader: Reader, header_keys: list[str]) -> dict[str, int]:
    """Return field -> column index for the fields of ``reader`` found in ``header_keys``.

    For each field the first alias present wins; a column is used by one field only.
    """
    position: dict[str, int] = {}
    for i, key in enumerate(header_keys):
        position.setdefault(key, i)
    found: dict[str, int] = {}
    used: set[int] = set()
    for fld, aliases in reader.keys.items():
        for alias in aliases:
            idx = position.get(alias)
            if idx is not None and idx not in used:
                found[fld] = idx
                used.add(idx)
                break
    return found


def detect(table: RawTable, *, only: str | None = None, extra: tuple[Reader, ...] = ()) -> Reader | None:
    """Return the reader whose required fields are all in ``table``'s header (the best match).

    With ``only`` (a reader name, from ``--format``) just that reader is tried. Among matches
    the one that recognises the most columns wins. Returns None when nothing matches.
    """
    candidates = list(extra) + list(READERS.values())
    if only is not None:
        candidates = [r for r in candidates if r.name == only]
    keys = table.keys
    best: tuple[int, Reader] | None = None
    for reader in candidates:
        found = resolved_columns(reader, keys)
        if not all(f in found for f in reader.required):
            continue
        score = len(found) * 1000 + len(reader.required)
        if best is None or score > best[0]:
            best = (score, reader)
    return best[1] if best else None


class MappingError(ValueError):
    """A ``--mapping`` file that cannot be used; the message says why in Chinese and English."""


def mapped_reader(path: Path) -> Reader:
    """Return a reader described by a user's mapping file (YAML, JSON or TOML).

    The file names the canonical field each of the user's headers fills, and optionally the
    kind (``orders`` by default), the platform and the base reader whose other aliases still
    apply::

        platform: douyin
        kind: orders
        columns:
          order_id: 单号
          amount_fen: 实收（元）
          created_at_utc: 下单时间
    """
    text = path.read_text(encoding=sniff_encoding(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            doc = json.loads(text)
        elif suffix == ".toml":
            doc = tomllib.loads(text)
        else:
            import yaml

            doc = yaml.safe_load(text)
    except Exception as exc:  # the parsers raise many types; all mean "not readable"
        raise MappingError(
            f"{path}: cannot read the mapping file ({exc}); write it as YAML, JSON or TOML / "
            f"{path}：无法读取映射文件，请使用 YAML、JSON 或 TOML 格式"
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("columns"), dict):
        raise MappingError(
            f"{path}: the mapping needs a 'columns' table (canonical field: your header) / "
            f"{path}：映射文件需要 columns 表（标准字段: 你的表头）"
        )
    kind = str(doc.get("kind", "orders"))
    base_name = doc.get("base")
    base = READERS.get(str(base_name)) if base_name else None
    if base_name and base is None:
        raise MappingError(f"{path}: unknown base format {base_name!r} / 未知的基础格式 {base_name!r}")
    if base is None:
        base = next((r for r in READERS.values() if r.kind == kind and r.name.startswith("canonical")), None)
    if base is None:
        raise MappingError(f"{path}: unknown kind {kind!r} / 未知的数据类型 {kind!r}")
    columns = dict(base.columns)
    for fld, header in doc["columns"].items():
        if fld not in columns:
            raise MappingError(
                f"{path}: {fld!r} is not a field of {kind}; use one of {sorted(columns)} / "
                f"{path}：{fld!r} 不是 {kind} 的字段"
            )
        headers = header if isinstance(header, list) else [header]
        columns[fld] = (*[str(h) for h in headers], *columns[fld])
    platform = doc.get("platform", base.platform)
    tz = str(doc.get("timezone", "Asia/Shanghai"))
    money = str(doc.get("money", "yuan" if base.name.startswith("canonical") else base.money))
    required = tuple(f for f in doc["columns"] if f in columns)
    return replace(
        base, name=f"mapping:{path.stem}", columns=columns, required=required, platform=platform, tz=tz, money=money
    )


# the built-in formats register themselves
from etl.extract import formats as _formats  # noqa: E402,F401
