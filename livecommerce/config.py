"""Settings read from the environment, with safe defaults.

``LIVECOMMERCE_DB_URL`` comes first; without it the warehouse is an embedded SQLite file
under ``./data/livecommerce.db`` (created on first use).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["DEFAULT_DB_PATH", "LOCAL_TZ", "Settings", "load_settings"]

DEFAULT_DB_PATH = Path("data") / "livecommerce.db"
LOCAL_TZ = "Asia/Shanghai"


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one deployment; immutable, built by :func:`load_settings`."""

    db_url: str
    db_schema: str | None = None
    after_sale_window_days: int = 15
    timezone: str = LOCAL_TZ
    secret_key: str | None = None

    def with_db(self, db_url: str | None) -> Settings:
        """Return a copy pointing at ``db_url`` (unchanged when ``db_url`` is None)."""
        return self if not db_url else replace(self, db_url=db_url)


def _default_db_url(cwd: Path | None = None) -> str:
    path = (cwd or Path.cwd()) / DEFAULT_DB_PATH
    return f"sqlite:///{path}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Return the settings from ``env`` (default: ``os.environ``).

    Variables: ``LIVECOMMERCE_DB_URL``, ``LIVECOMMERCE_DB_SCHEMA`` (PostgreSQL schema),
    ``LIVECOMMERCE_AFTER_SALE_DAYS``, ``LIVECOMMERCE_SECRET_KEY``.
    """
    env = os.environ if env is None else env
    window = env.get("LIVECOMMERCE_AFTER_SALE_DAYS", "15")
    try:
        window_days = int(window)
    except ValueError as exc:
        raise ValueError(
            f"LIVECOMMERCE_AFTER_SALE_DAYS must be a whole number of days, got {window!r} / "
            f"售后窗口天数必须是整数，当前为 {window!r}"
        ) from exc
    return Settings(
        db_url=env.get("LIVECOMMERCE_DB_URL") or _default_db_url(),
        db_schema=env.get("LIVECOMMERCE_DB_SCHEMA") or None,
        after_sale_window_days=window_days,
        secret_key=env.get("LIVECOMMERCE_SECRET_KEY") or None,
    )
