"""Database helpers the type checker can follow."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult
from sqlalchemy.sql.dml import UpdateBase

from portal.extensions import db


def rows_changed(statement: UpdateBase) -> int:
    """Run an UPDATE, DELETE or INSERT in the request's session and say how many rows it changed.

    Session.execute is typed to return a plain Result, but for these statements it returns a CursorResult, which
    has rowcount; SQLAlchemy's documentation suggests exactly this cast.
    """
    return cast("CursorResult[Any]", db.session.execute(statement)).rowcount
