"""Time limits of PostgreSQL sessions, so no request can hold a connection, its locks or a worker for long.

Every connection the portal opens to PostgreSQL carries `statement_timeout` (a statement running longer is
cancelled: the request gets an error and rolls back) and `idle_in_transaction_session_timeout` (a transaction
left open without doing anything, e.g. by a stuck worker, is ended by the server and its locks released).
They are libpq startup options, so they hold from the first statement, on every pooled connection; SQLite is
left as it is. Migrations lift them for their own session (migrations/env.py): a schema change may be long.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event


def session_options(app: Flask) -> str:
    """The libpq `options` string for the configured limits ("" when both are off)."""
    parts = []
    statement = int(app.config.get("DB_STATEMENT_TIMEOUT_MS") or 0)
    idle = int(app.config.get("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS") or 0)
    if statement > 0:
        parts.append(f"-c statement_timeout={statement}")
    if idle > 0:
        parts.append(f"-c idle_in_transaction_session_timeout={idle}")
    return " ".join(parts)


def limit_session_time(app: Flask) -> None:
    """Add the limits to the connect options of every PostgreSQL engine of the app."""
    from portal.extensions import db

    options = session_options(app)
    if not options:
        return

    def add_options(dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        if dialect.name == "postgresql":
            given = params.get("options")
            params["options"] = f"{given} {options}" if given else options

    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "postgresql":
                event.listen(engine, "do_connect", add_options)
