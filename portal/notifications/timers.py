"""The periodic BPMN timer pass, shaped for several workers.

The pass reads the due dossiers from the index on `next_timer_at` (never the others), fires each under its
lock in its own transaction, and hands any surplus to other workers in batches. On PostgreSQL a dossier another
worker is firing is skipped (`FOR UPDATE SKIP LOCKED`) instead of waited for; `fire_timers` re-checks under the
lock that the timer is still due, so a dossier that two passes both picked is fired once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm.exc import StaleDataError

from portal.core.errors import ServiceError
from portal.core.time import utcnow
from portal.core.web import unit_of_work
from portal.dossiers.services import due_timer_dossier_ids, fire_timers
from portal.extensions import db
from portal.models import Dossier

log = logging.getLogger(__name__)

PASS_LIMIT = 5000
BATCH = 100


def due_batches(now: datetime | None = None, limit: int = PASS_LIMIT) -> list[list[int]]:
    ids = due_timer_dossier_ids(now, limit=limit)
    db.session.rollback()  # end the read before the per-dossier transactions
    return [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]


def fire_batch(dossier_ids: list[int], now: datetime | None = None) -> tuple[int, int]:
    """Fire the due timers of these dossiers, one transaction each. Returns (fired, failed)."""
    fired = failed = 0
    for dossier_id in dossier_ids:
        try:
            # A timer whose procedure code fails or runs past its budget rolls back and becomes an incident.
            with unit_of_work():
                moved = _take(dossier_id, now) and fire_timers(dossier_id, now=now)
        except (ServiceError, StaleDataError) as exc:
            failed += 1
            log.error("timer of dossier %s failed: %s", dossier_id, getattr(exc, "detail", None) or exc)
        else:
            fired += int(moved)
    return fired, failed


def _take(dossier_id: int, now: datetime | None) -> bool:
    """Lock the dossier if it is still due and nobody else holds it (a no-op lock on SQLite).

    On PostgreSQL the transaction commits without waiting for its WAL flush (`synchronous_commit off`): the
    disk flush is most of a firing's cost. It is safe here: if the server crashed before the flush, the dossier
    would still be due and the next pass would fire it again; and nothing it caused reaches anyone before a
    later, ordinary commit (the worker's claim of a notification, an officer's action) has flushed the log
    past it, since PostgreSQL writes its log in order.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    stmt = (
        select(Dossier.id)
        .where(Dossier.id == dossier_id, Dossier.next_timer_at <= (now or utcnow()))
        .with_for_update(skip_locked=True)
    )
    return db.session.scalar(stmt) is not None
