"""Numbering dossier changes in commit order, for the change feed (GET /api/v1/dossiers/changes).

After every flush, `_remember_flushed` notes the dossiers the transaction changed: a dossier inserted or updated
(a real column change), or a task, file or timeline entry of a dossier inserted, updated or deleted. Just before
the commit, `_number_changes` takes the next number from the one-row counter (`dossier_change_counter`) and writes
it to all those dossiers' `change_seq`: two statements, and none for a transaction that changed no dossier.

Why not a sequence or a timestamp: on PostgreSQL those are taken when a row is written, and transactions commit
in another order, so a client that has read up to number 12 could later miss a 11 committed after it. The
counter's row lock, taken by the increment and held until the commit, makes transactions that changed dossiers
take their numbers one after the other, in the order they commit: once a client sees number n, no transaction can
still commit a number below n. On PostgreSQL the numbering statement locks the changed dossiers' rows before the
counter (see `_next_number`), so that it cannot deadlock with a transaction that updated one of those dossiers.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Insert, Table, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.core import session_hooks
from portal.models import Attachment, Dossier, DossierChangeCounter, DossierEvent, Task

CHANGED = "motcua_changed_dossiers"
COUNTER_ID = 1


def _remember_flushed(session: Session, _context: Any) -> None:
    # In after_flush, new/dirty/deleted and the attributes' history still show what this flush wrote.
    changed: set[int] = session.info.setdefault(CHANGED, set())
    for obj in session.new:
        if isinstance(obj, Dossier):
            changed.add(obj.id)
        elif isinstance(obj, (Task, Attachment, DossierEvent)) and obj.dossier_id is not None:
            changed.add(obj.dossier_id)
    for obj in session.dirty:
        if isinstance(obj, (Dossier, Task, Attachment, DossierEvent)) and session.is_modified(
            obj, include_collections=False
        ):
            dossier_id = obj.id if isinstance(obj, Dossier) else obj.dossier_id
            if dossier_id is not None:
                changed.add(dossier_id)
    for obj in session.deleted:
        if isinstance(obj, (Task, Attachment, DossierEvent)) and obj.dossier_id is not None:
            changed.add(obj.dossier_id)
    if not changed:
        session.info.pop(CHANGED, None)


def _next_number(session: Session, dossier_ids: list[int]) -> int:
    """counter + 1, creating the row when missing (a fresh test database): one statement, and the counter row
    stays locked until the commit.

    On PostgreSQL the same statement first locks the dossiers' rows (in id order), and only then the counter: a
    transaction that changed a dossier's task or timeline but not the dossier's row must not hold the counter
    while it waits for that row, which another transaction may hold while it waits for the counter (a deadlock).
    The count(*) consumes the locking subquery before the INSERT runs, so the order is certain."""
    table = cast(Table, DossierChangeCounter.__table__)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        locked = (
            select(Dossier.id)
            .where(Dossier.id.in_(dossier_ids))
            .order_by(Dossier.id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE, as the UPDATE that follows takes
            .subquery()
        )
        source = select(literal(COUNTER_ID), literal(1)).select_from(
            select(func.count()).select_from(locked).subquery()
        )
        stmt: Insert = postgresql.insert(table).from_select(["id", "value"], source)
    elif dialect == "sqlite":  # one writer at a time: no row locks to order
        stmt = sqlite.insert(table).values(id=COUNTER_ID, value=1)
    else:
        number = session.execute(
            update(table).where(table.c.id == COUNTER_ID).values(value=table.c.value + 1).returning(table.c.value)
        ).scalar()
        if number is None:
            session.execute(table.insert().values(id=COUNTER_ID, value=1))
            number = 1
        return int(number)
    upsert = cast(Any, stmt).on_conflict_do_update(index_elements=[table.c.id], set_={"value": table.c.value + 1})
    return int(session.execute(upsert.returning(table.c.value)).scalar_one())


def _number_changes(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer commit numbers what it changed
    if session.new or session.dirty or session.deleted:
        session.flush()  # what the commit would flush next, so that it is counted too
    changed = session.info.pop(CHANGED, None)
    if not changed:
        return
    dossier_ids = sorted(changed)
    number = _next_number(session, dossier_ids)
    session.execute(
        update(Dossier)
        .where(Dossier.id.in_(dossier_ids))
        .values(change_seq=number)
        .execution_options(synchronize_session=False)
    )


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(CHANGED, None)


# Its before_commit runs after the national sync outbox's, so that what the outbox adds is counted
# (portal/core/session_hooks.py says why).
session_hooks.register(
    session_hooks.Stage.CHANGE_FEED,
    after_flush=_remember_flushed,
    before_commit=_number_changes,
    after_rollback=_forget,
)
