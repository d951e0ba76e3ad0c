"""Configuration: production refuses to start without its secrets; the embedded default makes its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import DEFAULT_BASE_URL, ProductionConfig, normalize_database_url, shared_ratelimit_store
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
    monkeypatch.setattr(ProductionConfig, "PORTAL_BASE_URL", "https://dichvucong.example.gov.vn")
    monkeypatch.setattr(ProductionConfig, "MAIL_SERVER", "smtp.example.gov.vn")


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


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("PORTAL_BASE_URL", DEFAULT_BASE_URL, "PORTAL_BASE_URL must be set"),
        ("PORTAL_BASE_URL", "dichvucong.example.gov.vn", "absolute http"),
        ("PORTAL_BASE_URL", "http://dichvucong.example.gov.vn", "must use https"),
        ("MAIL_SERVER", "", "MAIL_SERVER must be set"),
        ("STORAGE_BACKEND", "s3", "S3_BUCKET"),
    ],
)
def test_production_refuses_development_defaults_that_would_fail_silently(
    monkeypatch: pytest.MonkeyPatch, setting: str, value: str, message: str
) -> None:
    """Left at their defaults these start fine and then send every link to a developer's machine, or no mail."""
    _production(monkeypatch, "redis://127.0.0.1:6379/6")
    monkeypatch.setattr(ProductionConfig, "S3_BUCKET", "")
    monkeypatch.setattr(ProductionConfig, setting, value)
    with pytest.raises(RuntimeError, match=message):
        create_app(ProductionConfig)


def test_production_runs_without_mail_only_when_told(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch, "redis://127.0.0.1:6379/6")
    monkeypatch.setattr(ProductionConfig, "MAIL_SERVER", "")
    monkeypatch.setattr(ProductionConfig, "MAIL_TO_LOG", True)
    monkeypatch.setattr(ProductionConfig, "PORTAL_BASE_URL", "http://127.0.0.1:8000")  # loopback: plain HTTP is fine
    assert create_app(ProductionConfig).config["MAIL_TO_LOG"] is True
