"""One pass over the dossiers whose BPMN timers are due."""

from __future__ import annotations

import logging
from datetime import datetime

from portal.core.errors import ServiceError
from portal.core.web import unit_of_work
from portal.dossiers.services import due_timer_dossier_ids, fire_timers

log = logging.getLogger(__name__)


def run_due_timers(limit: int = 500, now: datetime | None = None) -> tuple[int, int]:
    """Fire due timers, committing per dossier so one failure never holds back the others."""
    fired = failed = 0
    for dossier_id in due_timer_dossier_ids(now, limit=limit):
        try:
            with unit_of_work():  # a failure rolls back; one of the procedure's code becomes an incident
                moved = fire_timers(dossier_id, now=now)
        except ServiceError as exc:
            failed += 1
            log.error("timer of dossier %s failed: %s", dossier_id, getattr(exc, "detail", None) or exc.message)
        else:
            fired += int(moved)
    return fired, failed
