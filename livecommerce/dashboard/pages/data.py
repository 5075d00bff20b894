"""Data: upload a platform export (loaded by the same ETL as ``livecommerce etl load``), the
ingest runs and the rejected rows with their reasons."""

from __future__ import annotations

from dash import dcc, html

from livecommerce.dashboard import ids
from livecommerce.dashboard.components import picker, section, table, text
from livecommerce.dashboard.data import UPLOAD_MAX_BYTES, Source
from livecommerce.dashboard.i18n import request_language, t

PATH = "/data"
NAME = "nav_data"
ORDER = 4


def layout(source: Source, **_query: str) -> html.Div:
    """Return the data page (runs and rejects are filled by ``callbacks.data``)."""
    lang = request_language()
    mb = UPLOAD_MAX_BYTES // (1024 * 1024)
    return html.Div(
        [
            dcc.Store(id=ids.DATA_RUNS_STORE),
            text("data_title", lang, html.H1),
            html.Div(
                [
                    section(
                        "upload",
                        lang,
                        dcc.Upload(
                            id=ids.DATA_UPLOAD,
                            children=html.Div(t("upload_limit", lang, mb=mb)),
                            max_size=UPLOAD_MAX_BYTES,
                            multiple=False,
                            className="upload",
                        ),
                        dcc.Loading(html.Div(id=ids.DATA_UPLOAD_RESULT, className="upload-result"), type="dot"),
                        wide=True,
                    ),
                    section("runs", lang, table(ids.DATA_RUNS), wide=True),
                    section(
                        "rejects",
                        lang,
                        picker(ids.DATA_RUN_PICK, [], None, t("pick_run", lang)),
                        table(ids.DATA_REJECTS, page_size=20),
                        wide=True,
                    ),
                ],
                className="grid",
            ),
        ],
        className="page",
    )
