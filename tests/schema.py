"""Build an empty schema with the real migrations (shared by the test suite and the benchmarks)."""

from __future__ import annotations

from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import text

from portal.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def fresh_schema() -> None:
    """Inside an app context: drop whatever the database holds (PostgreSQL's public schema; a SQLite file is
    expected to be new) and migrate to the latest revision, the way production builds its schema."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(directory=str(MIGRATIONS))
