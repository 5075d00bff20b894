"""Callbacks, one module per page plus the frame's: short glue over ``queries`` and ``figures``.

Each module has plain functions that load (query → JSON-ready dict for a ``dcc.Store``) and view
(stored dict + language → components and figures) — unit-tested without a browser — and a
``register(app, source)`` that wires them to component ids through :func:`_wiring.callback`.
Loading happens once per input change; switching the language only re-renders from the stores.
"""

from __future__ import annotations

import dash

from livecommerce.dashboard.callbacks import county, data, frame, host, overview, plan, product
from livecommerce.dashboard.data import Source

__all__ = ["register_all"]


def register_all(app: dash.Dash, source: Source) -> None:
    """Register every callback of the dashboard on ``app``, reading through ``source``."""
    for module in (frame, overview, host, county, product, plan, data):
        module.register(app, source)
