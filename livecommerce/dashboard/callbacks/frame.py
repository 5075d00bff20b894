"""The frame's callbacks: switching the language rewrites every translated text node and remembers
the choice in a cookie (so pages laid out later start in it)."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State

from livecommerce.dashboard import ids
from livecommerce.dashboard.callbacks._wiring import callback
from livecommerce.dashboard.data import Source
from livecommerce.dashboard.i18n import COOKIE, LANGS, t
from livecommerce.schemas import PLATFORMS


def translated(lang: str, text_ids: list[dict[str, str]]) -> list[str]:
    """Return the strings of the translated text nodes ``text_ids`` in ``lang``."""
    return [t(i["key"], lang) for i in text_ids]


def platform_options(lang: str) -> list[dict[str, str]]:
    """Return the platform filter's options labelled in ``lang``."""
    return [{"label": en if lang == "en" else zh, "value": pid} for pid, (zh, en, _live) in PLATFORMS.items()]


def register(app: dash.Dash, source: Source) -> None:
    """Register the frame's callbacks on ``app``."""

    @callback(
        app,
        Output({"type": ids.TEXT, "key": ALL}, "children"),
        Output(ids.PLATFORM, "options"),
        Output(ids.PLATFORM, "placeholder"),
        Input(ids.LANG, "value"),
        State({"type": ids.TEXT, "key": ALL}, "id"),
    )
    def switch_language(lang: str, text_ids: list[dict[str, str]]) -> tuple[Any, ...]:
        lang = lang if lang in LANGS else "zh"
        response = dash.callback_context.response
        if response is not None:
            response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return translated(lang, text_ids), platform_options(lang), t("all_platforms", lang)
