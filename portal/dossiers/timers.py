"""One pass over the dossiers whose BPMN timers are due."""

from __future__ import annotations

import logging
from datetime import datetime

from portal.core.errors import ServiceError
from portal.dossiers.services import due_timer_dossier_ids, fire_timers
from portal.extensions import db

log = logging.getLogger(__name__)


def run_due_timers(limit: int = 500, now: datetime | None = None) -> tuple[int, int]:
    """Fire due timers, committing per dossier so one failure never holds back the others."""
    fired = failed = 0
    for dossier_id in due_timer_dossier_ids(now, limit=limit):
        try:
            if fire_timers(dossier_id, now=now):
                fired += 1
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            failed += 1
            log.error("timer of dossier %s failed: %s", dossier_id, exc.message)
    return fired, failed
