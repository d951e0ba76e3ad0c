"""Fixtures: an application on a database built by the real migrations, cleaned after every test.

The suite runs on a fresh SQLite file by default, and on PostgreSQL when TEST_DATABASE_URL is set
(`.ci/run` does both).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Integer, Table, select, text

from config import normalize_database_url
from portal import create_app
from portal.core.cache import clear_all
from portal.extensions import db
from portal.models import User
from tests.schema import fresh_schema

pytest_plugins = ["tests.browser"]  # live_server and browser fixtures


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalize_database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def _schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build the schema once per run, the way production does: with the migrations."""
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        fresh_schema()
        db.engine.dispose()
    return database_url


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


class FreshContextClient(FlaskClient):
    """Each request in its own application context, as in production: a fresh `g` (Flask-Login's cached user,
    Flask-WTF's token) and its own database session. The test's session then forgets what it had loaded, so
    the test reads what the request committed."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    def _add_cookies_to_wsgi(self, environ) -> None:
        """A `Cookie` header given to one request is sent along with the client's cookies (Werkzeug's client
        would drop it), as a browser that holds that cookie: `headers=EN` is a person who chose English."""
        given = environ.get("HTTP_COOKIE")
        super()._add_cookies_to_wsgi(environ)
        if given:
            environ["HTTP_COOKIE"] = "; ".join(filter(None, (environ.get("HTTP_COOKIE"), given)))


@pytest.fixture
def app(_schema: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": _schema,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "WTF_CSRF_ENABLED": True,
        }
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        try:
            yield app
        finally:
            db.session.rollback()
            _empty_tables()
            clear_all()  # ids repeat in the next test's database
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


_Rows = list[tuple[Table, list[dict[str, Any]]]]
_demo_rows: _Rows | None = None


@pytest.fixture
def demo(app: Flask) -> Flask:
    """The demo agency, groups, people and bundled procedures, as `flask seed-demo` loads them.

    Loaded for real once per run (tests/test_cli.py checks the command itself); every later test that starts
    from an empty database gets a copy of the rows it wrote, which is what loading them again would write, in a
    tenth of the time (the load validates three BPMN files and deploys them)."""
    global _demo_rows
    from portal.demo import seed_demo

    if _demo_rows is not None and _database_is_empty():
        _insert_rows(_demo_rows)
        return app
    first = _demo_rows is None and _database_is_empty()
    list(seed_demo())
    db.session.commit()
    if first:
        _demo_rows = _table_rows()
    return app


def _database_is_empty() -> bool:
    return all(db.session.execute(select(table).limit(1)).first() is None for table in db.metadata.sorted_tables)


def _table_rows() -> _Rows:
    return [
        (table, [dict(row._mapping) for row in db.session.execute(select(table))])
        for table in db.metadata.sorted_tables
    ]


def _insert_rows(snapshot: _Rows) -> None:
    for table, rows in snapshot:
        if rows:
            db.session.execute(table.insert(), rows)
    if db.engine.dialect.name == "postgresql":  # the sequences restart at 1 after each test's TRUNCATE
        for table, rows in snapshot:
            for column in table.primary_key.columns:
                if rows and column.autoincrement is not False and isinstance(column.type, Integer):
                    top = max(row[column.name] for row in rows)
                    db.session.execute(
                        text("SELECT setval(pg_get_serial_sequence(:table, :column), :top)"),
                        {"table": table.name, "column": column.name, "top": top},
                    )
    db.session.commit()


def user(email: str) -> User:
    found = db.session.scalar(db.select(User).where(User.email == email))
    assert found is not None, email
    return found


@pytest.fixture
def smtp(app: Flask) -> Iterator:
    """A real SMTP server on a free loopback port; the app sends its mail there."""
    from tests.smtp import start_smtp

    controller, inbox = start_smtp()
    app.config.update(MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port)
    try:
        yield inbox
    finally:
        controller.stop()
