"""Configuration: production refuses to start without its secrets; the embedded default makes its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ProductionConfig, normalize_database_url
from portal import create_app


def test_production_refuses_to_start_without_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_production_refuses_a_short_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "short")
    with pytest.raises(RuntimeError, match="at least 32"):
        create_app(ProductionConfig)


def test_production_needs_a_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "x" * 40)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app(ProductionConfig)


def test_the_sqlite_folder_is_created_on_a_fresh_checkout(tmp_path: Path) -> None:
    database = tmp_path / "not-yet" / "motcua.db"
    create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    assert database.parent.is_dir()


def test_postgres_urls_use_psycopg_3() -> None:
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"
