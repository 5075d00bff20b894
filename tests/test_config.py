"""Settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from livecommerce.config import load_settings


def test_default_is_a_sqlite_file_under_data(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.db_url == f"sqlite:///{tmp_path / 'data' / 'livecommerce.db'}"
    assert settings.after_sale_window_days == 15 and settings.timezone == "Asia/Shanghai"


def test_environment_overrides_and_db_option_overrides_environment() -> None:
    env = {"LIVECOMMERCE_DB_URL": "postgresql+psycopg://u:secret@h/db", "LIVECOMMERCE_AFTER_SALE_DAYS": "7"}
    settings = load_settings(env)
    assert settings.db_url.endswith("@h/db") and settings.after_sale_window_days == 7
    assert settings.with_db("sqlite://").db_url == "sqlite://"
    assert settings.with_db(None) is settings


def test_bad_window_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="LIVECOMMERCE_AFTER_SALE_DAYS"):
        load_settings({"LIVECOMMERCE_AFTER_SALE_DAYS": "two weeks"})


def test_default_file_is_created_on_first_use(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from livecommerce.warehouse import connect, init

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIVECOMMERCE_DB_URL", raising=False)
    monkeypatch.delenv("LIVECOMMERCE_DB_SCHEMA", raising=False)
    engine = connect()
    init(engine)
    engine.dispose()
    assert Path(tmp_path / "data" / "livecommerce.db").stat().st_size > 0
