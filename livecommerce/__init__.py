"""livecommerce: livestream commerce and producer analytics for rural e-commerce.

The Python API face. Submodules: ``warehouse`` (schema, engine, upsert), ``money``,
``schemas``, ``config``; later ``simulate``, ``metrics``, ``queries``, ``forecast``,
``pricing``, ``inventory``, ``planner`` and ``dashboard``.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "connect", "init"]


def connect(url: str | None = None):  # type: ignore[no-untyped-def]
    """Return an Engine for ``url`` or the configured warehouse (see ``livecommerce.config``)."""
    from livecommerce.warehouse import connect as _connect

    return _connect(url)


def init(engine) -> str | None:  # type: ignore[no-untyped-def]
    """Create or upgrade the warehouse schema; return its revision."""
    from livecommerce.warehouse import init as _init

    return _init(engine)
