"""`X-SQL-Statements` on every answer: how many SQL statements the request ran, for bench/lifecycle.py.

Off unless SQL_COUNT_HEADER is set (an operator measuring a deployment may turn it on; it tells nothing of the
data). Counted with SQLAlchemy's `before_cursor_execute` on the portal's engine, per request in `g`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, has_request_context
from sqlalchemy import event

from portal.extensions import db


def _count(*_args: Any) -> None:
    if has_request_context():
        g.sql_statements = g.get("sql_statements", 0) + 1


def install(app: Flask) -> None:
    if not app.config.get("SQL_COUNT_HEADER"):
        return
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _count)

    @app.after_request
    def sql_header(response: Response) -> Response:
        response.headers["X-SQL-Statements"] = str(g.get("sql_statements", 0))
        return response
