"""The dashboard's pages: one module per page, each with ``PATH``, ``NAME`` (nav string key),
``ORDER`` and ``layout(source, **query)``. Layout only — the callbacks live in ``callbacks/``.

``PAGES`` lists them in nav order; :func:`livecommerce.dashboard.create_app` registers each
explicitly (the Plan page of issue 10 slots in by adding its module here).
"""

from __future__ import annotations

from livecommerce.dashboard.pages import county, data, host, overview, plan, product

__all__ = ["PAGES"]

PAGES = (overview, host, county, product, plan, data)
