"""The BPMN external-task topic `national-portal.sync`: go on once the national portal has the dossier's statuses.

Status changes are pushed by the outbox anyway (docs/SYNC.md); a procedure that must not go further before the
national portal has them (e.g. before returning the result) puts a service task with this topic there. The handler
only reads: when every status change of the dossier was delivered it answers at once, else it fails the attempt
and the task's retry cycle (`camunda:failedJobRetryTimeCycle`) tries again while the outbox delivers; a change that
failed for good opens an incident. With the sync off it answers at once (`national_portal_synced: false`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from portal.extensions import db
from portal.external.registry import ExternalCall, HandlerError, register
from portal.models import NationalSync, SyncState

TOPIC = "national-portal.sync"


def national_portal_sync(call: ExternalCall) -> Mapping[str, Any]:
    if not call.config.get("NATIONAL_PORTAL_URL"):
        return {"national_portal_synced": False}
    rows = select(NationalSync.state, func.count()).where(NationalSync.dossier_id == call.dossier_id)
    counts: dict[str, int] = {row[0]: row[1] for row in db.session.execute(rows.group_by(NationalSync.state))}
    waiting = sum(n for state, n in counts.items() if state != SyncState.SENT)
    if counts.get(SyncState.FAILED):
        raise HandlerError("a status change failed for good; an administrator must retry it", retry=False)
    if waiting:
        raise HandlerError(f"{waiting} status change(s) not delivered to the national portal yet")
    last = db.session.scalar(select(func.max(NationalSync.sent_at)).where(NationalSync.dossier_id == call.dossier_id))
    return {"national_portal_synced": True, "national_portal_synced_at": last.isoformat() if last else None}


def register_topic() -> None:
    register(TOPIC, national_portal_sync)
