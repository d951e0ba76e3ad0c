"""Counting the SQL statements a piece of code sends, for the statement budgets (tests/test_statement_budgets.py).

    with count_statements() as counted:
        client.get("/inbox/")
    counted.assert_within(12, "inbox")

Counted with SQLAlchemy's `before_cursor_execute` on the application's engine: the same number on any machine,
unlike a timing. Savepoints (SAVEPOINT / RELEASE / ROLLBACK TO) are the test harness's or the unit of work's
plumbing and are not counted; an `executemany` counts as one statement (one round trip of a batch).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from portal.extensions import db

IGNORED = ("SAVEPOINT", "RELEASE", "ROLLBACK TO")
SHOWN = 120  # characters of each statement in a failure message


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        """The statements, each once in the order first sent, with how many times it was sent: an N+1 stands out."""
        times = Counter(self.statements)
        lines = []
        for statement in dict.fromkeys(self.statements):
            repeated = f"{times[statement]:>4}× " if times[statement] > 1 else "      "
            lines.append(repeated + statement[:SHOWN])
        return "\n".join(lines)

    def assert_within(self, budget: int, name: str) -> None:
        assert self.count <= budget, (
            f"{name}: {self.count} SQL statements, over its budget of {budget}:\n{self.report()}"
        )


def _one_line(statement: str) -> str:
    return " ".join(statement.split())


@contextmanager
def count_statements() -> Iterator[Counted]:
    """Count the statements sent on `db.engine` (the current application's) inside the block."""
    counted = Counted()
    engine = db.engine

    def before_cursor_execute(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        text = _one_line(statement)
        if not text.upper().startswith(IGNORED):
            counted.statements.append(text)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)
