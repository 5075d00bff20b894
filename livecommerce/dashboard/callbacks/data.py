"""Data page callbacks: upload exports into the warehouse with the same ETL as ``livecommerce etl
load``, list the ingest runs and the rejected rows of a run.

Layering: ``livecommerce.*`` never imports ``etl`` at import time. This module is the dashboard's
one wiring point to it (as the CLI command is for the command line): ``etl`` is imported inside
the functions that load files or read ingest runs.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, html
from sqlalchemy.engine import Engine

from livecommerce.dashboard import ids
from livecommerce.dashboard.callbacks._wiring import callback
from livecommerce.dashboard.components import columns
from livecommerce.dashboard.data import UPLOAD_MAX_BYTES, Source, records
from livecommerce.dashboard.i18n import LANGS, local_time, t
from livecommerce.scratch import new_scratch

RUN_COLUMNS = (
    ("run_id", "col_run", "count"),
    ("file", "col_file", "text"),
    ("format", "col_format", "text"),
    ("status", "col_status", "text"),
    ("rows_read", "col_rows", "count"),
    ("inserted", "col_inserted", "count"),
    ("updated", "col_updated", "count"),
    ("rejected", "col_rejected", "count"),
    ("finished", "col_finished", "text"),
)
REJECT_COLUMNS = (
    ("line", "col_line", "count"),
    ("column", "col_column", "text"),
    ("code", "col_code", "text"),
    ("message", "col_message", "text"),
    ("value", "col_value", "text"),
)
_UNSAFE = re.compile(r"[^\w.\-]+")


def safe_name(name: str | None, index: int) -> str:
    """Return a file name safe to create in a fresh folder: the last part of ``name`` with anything
    but letters, digits, ``.``, ``-`` and ``_`` replaced (never a path), or ``upload-<index>``."""
    base = _UNSAFE.sub("_", Path(str(name or "")).name).strip("._")[:120]
    return base or f"upload-{index}"


def _first(row: dict[str, Any], *names: str) -> Any:
    for n in names:
        if row.get(n) is not None:
            return row[n]
    return None


def runs(engine: Engine, limit: int = 200) -> list[dict[str, Any]]:
    """Return the latest ingest runs (``etl.jobs.runs``), newest first, as table rows."""
    from etl.jobs import runs as ingest_runs  # the dashboard's one wiring point to etl (see module doc)

    out = []
    for row in records_of(ingest_runs(engine, limit=limit)):
        out.append(
            {
                "run_id": row.get("run_id"),
                "file": Path(str(_first(row, "path", "file_name", "source_path") or "")).name,
                "format": row.get("format"),
                "status": row.get("status"),
                "rows_read": row.get("rows_read"),
                "inserted": row.get("inserted"),
                "updated": row.get("updated"),
                "rejected": row.get("rejected"),
                "finished": local_time(_first(row, "finished_at_utc", "started_at_utc")),
            }
        )
    return out


def records_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return plain dict rows JSON-ready (times as ISO text)."""
    import polars as pl

    return records(pl.DataFrame(rows, infer_schema_length=None)) if rows else []


def rejects(engine: Engine, run_id: int | None, limit: int = 1000) -> list[dict[str, Any]]:
    """Return the rejected rows of ``run_id`` (``etl.jobs.rejects``) as table rows (bilingual reasons)."""
    if run_id is None:
        return []
    from etl.jobs import rejects as rejected_rows  # the dashboard's one wiring point to etl

    return [
        {
            "line": r.get("line"),
            "column": r.get("column"),
            "code": r.get("code"),
            "message": r.get("message"),
            "value": None if r.get("raw") is None else str(r.get("raw")),
        }
        for r in records_of(rejected_rows(engine, run_id=run_id, limit=limit))
    ]


def upload(
    engine: Engine, contents: list[str], names: list[str], *, max_bytes: int = UPLOAD_MAX_BYTES
) -> list[dict[str, Any]]:
    """Load uploaded files (``dcc.Upload`` data URLs) with ``etl.jobs.load_paths`` — together, so a
    Taobao item report finds its order report — and return one summary per file: ``name``,
    ``status`` (``loaded``, ``refused``, ``too_big``, ``bad_type``, …), counts and ``message``.
    Files over ``max_bytes`` or of an unsupported type are not written at all."""
    from etl.jobs import SUPPORTED_SUFFIXES, LoadRefused, load_paths  # the dashboard's one wiring point to etl

    results: list[dict[str, Any]] = []
    with new_scratch("upload") as folder:
        written: dict[str, str] = {}
        for i, (content, name) in enumerate(zip(contents, names, strict=False)):
            shown = Path(str(name or "")).name or f"upload-{i}"
            suffix = Path(shown).suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                results.append({"name": shown, "status": "bad_type", "suffix": suffix or "—"})
                continue
            try:
                payload = base64.b64decode(content.partition(",")[2], validate=True)
            except (binascii.Error, ValueError):
                results.append({"name": shown, "status": "refused", "message": "not base64 / 上传内容无法解码"})
                continue
            if len(payload) > max_bytes:
                results.append({"name": shown, "status": "too_big"})
                continue
            target = Path(folder) / safe_name(shown, i)
            if target.name in written.values():
                target = target.with_name(f"{i}-{target.name}")
            target.write_bytes(payload)
            written[str(target)] = shown
        if written:
            try:
                reports = load_paths(engine, [Path(p) for p in written])
            except LoadRefused as exc:
                return [*results, {"name": ", ".join(written.values()), "status": "refused", "message": str(exc)}]
            for report in reports:
                doc = report.as_json()
                results.append(
                    {
                        "name": written.get(doc["path"], Path(doc["path"]).name),
                        "status": doc["status"],
                        "rows_read": doc["rows_read"],
                        "inserted": doc["inserted"],
                        "updated": doc["updated"],
                        "rejected": doc["rejected"],
                        "message": doc.get("message"),
                    }
                )
    return results


def view_upload(results: list[dict[str, Any]], lang: str) -> list[html.Li]:
    """Return one line per uploaded file saying what happened, in ``lang`` (messages as text)."""
    mb = UPLOAD_MAX_BYTES // (1024 * 1024)
    lines = []
    for r in results:
        if r["status"] == "too_big":
            text = f"{r['name']}: {t('upload_too_big', lang, mb=mb)}"
        elif r["status"] == "bad_type":
            text = f"{r['name']}: {t('upload_bad_type', lang, suffix=r['suffix'])}"
        elif "rows_read" in r:
            text = t(
                "upload_done",
                lang,
                name=r["name"],
                status=r["status"],
                rows=r["rows_read"],
                inserted=r["inserted"],
                updated=r["updated"],
                rejected=r["rejected"],
            )
            if r.get("message"):
                text += f" — {r['message']}"
        else:
            text = f"{r['name']}: {r['status']} — {r.get('message') or ''}"
        lines.append(html.Li(text))
    return lines


def chosen_run(options: list[dict[str, Any]] | None, current: int | None) -> int | None:
    """Return the run whose rejects to show among the picker's ``options`` (labels end with the
    rejected count in brackets): ``current`` if offered, else the newest run with rejected rows,
    else the newest run; None without runs."""
    options = options or []
    values = [o["value"] for o in options]
    if current in values:
        return current
    with_rejects = [o["value"] for o in options if o.get("rejected")]
    return (with_rejects or values or [None])[0]


def register(app: dash.Dash, source: Source) -> None:
    """Register the data page's callbacks on ``app``."""

    @callback(
        app,
        Output(ids.DATA_UPLOAD_RESULT, "children"),
        Input(ids.DATA_UPLOAD, "contents"),
        State(ids.DATA_UPLOAD, "filename"),
        State(ids.LANG, "value"),
        prevent_initial_call=True,
    )
    def upload_export(contents: Any, names: Any, lang: str) -> list[html.Li]:
        if not contents:
            return []
        contents = contents if isinstance(contents, list) else [contents]
        names = names if isinstance(names, list) else [names]
        return view_upload(upload(source.engine, contents, names), lang if lang in LANGS else "zh")

    @callback(app, Output(ids.DATA_RUNS_STORE, "data"), Input(ids.DATA_UPLOAD_RESULT, "children"))
    def load_runs(_result: Any) -> list[dict[str, Any]]:
        return runs(source.engine)

    @callback(
        app,
        Output(ids.DATA_RUNS, "data"),
        Output(ids.DATA_RUNS, "columns"),
        Output(ids.DATA_RUN_PICK, "options"),
        Output(ids.DATA_REJECTS, "columns"),
        Input(ids.DATA_RUNS_STORE, "data"),
        Input(ids.LANG, "value"),
    )
    def render_runs(rows: list[dict[str, Any]] | None, lang: str) -> tuple[Any, ...]:
        rows = rows or []
        options = [
            {
                "label": f"#{r['run_id']} {r['file']} ({r['rejected'] or 0})",
                "value": r["run_id"],
                "rejected": r["rejected"],
            }
            for r in rows
        ]
        return rows, columns(list(RUN_COLUMNS), lang), options, columns(list(REJECT_COLUMNS), lang)

    @callback(
        app,
        Output(ids.DATA_RUN_PICK, "value"),
        Input(ids.DATA_RUN_PICK, "options"),
        State(ids.DATA_RUN_PICK, "value"),
    )
    def pick_run(options: list[dict[str, Any]] | None, current: int | None) -> Any:
        choice = chosen_run(options, current)
        return dash.no_update if choice == current else choice

    @callback(app, Output(ids.DATA_REJECTS, "data"), Input(ids.DATA_RUN_PICK, "value"))
    def load_rejects(run_id: int | None) -> list[dict[str, Any]]:
        return rejects(source.engine, run_id)
