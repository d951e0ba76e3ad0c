"""Configuration: production refuses to start without its secrets; the embedded default makes its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ProductionConfig, normalize_database_url, shared_ratelimit_store
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


def test_one_overrides_dict_builds_the_same_app_twice(tmp_path: Path) -> None:
    # create_app used to pop ENV out of the caller's dict: a second app from it silently became "development".
    overrides = {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'motcua.db'}"}
    first, second = create_app(overrides), create_app(overrides)
    assert overrides["ENV"] == "testing"
    assert first.testing
    assert second.testing


def test_postgres_urls_use_psycopg_3() -> None:
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"


def _production(monkeypatch: pytest.MonkeyPatch, storage: str) -> None:
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setattr(ProductionConfig, "RATELIMIT_STORAGE_URI", storage)


def test_production_refuses_to_start_without_a_shared_rate_limit_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counters in each worker's memory let 23 of 80 guesses through a "10 per minute" limit."""
    _production(monkeypatch, shared_ratelimit_store(None, ""))
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        create_app(ProductionConfig)


def test_production_takes_the_redis_broker_for_rate_limits_unless_told_otherwise() -> None:
    assert shared_ratelimit_store(None, "redis://cache:6379/0") == "redis://cache:6379/0"
    assert shared_ratelimit_store("", "rediss://cache:6380/2") == "rediss://cache:6380/2"
    assert shared_ratelimit_store(None, "amqp://rabbit//") == ""  # RabbitMQ keeps no counters
    assert shared_ratelimit_store("redis://other:6379/3", "redis://cache:6379/0") == "redis://other:6379/3"
    # An operator who runs a single process may say so explicitly.
    assert shared_ratelimit_store("memory://", "") == "memory://"


def test_production_starts_with_an_explicit_store(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch, "redis://127.0.0.1:6379/6")
    app = create_app(ProductionConfig)
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/6"
