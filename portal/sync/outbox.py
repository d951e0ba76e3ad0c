"""Writing the national portal's outbox in the transaction of the status change, pushing it after the commit.

After every flush, `_remember_flushed` notes the new timeline entries that set a status ("submitted": status 1,
"status": its `to_status`). Just before the commit, `_write_rows` turns them into NationalSync rows, one per
entry in timeline order, numbered after the dossier's last row: the payload is the dossier as the transaction
leaves it, so dates set after the status entry in the same step (the return time of status 10) are included.
Once the commit succeeded, the dossiers that got rows are handed to the `national_sync.push` job; a rolled-back
change leaves no row and pushes nothing. The dossier's optimistic lock (lock_version) serialises writers of one
dossier, and the unique (dossier_id, seq) catches any that slipped through.

With NATIONAL_PORTAL_URL empty nothing is written at all (docs/SYNC.md). The same entries become webhook
deliveries for the active endpoints subscribed to them (`webhooks`), pushed after the commit the same way.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.core import background, session_hooks
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Dossier, DossierEvent, NationalSync, Status, SyncState, WebhookDelivery

from . import webhooks
from .payload import build

log = logging.getLogger(__name__)

EVENTS = "motcua_national_sync_events"
TO_PUSH = "motcua_national_sync_dossiers"
WEBHOOKS_TO_PUSH = "motcua_webhook_scopes"
STATUS_KINDS = ("submitted", "status")


def enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("NATIONAL_PORTAL_URL"))


def idempotency_key(dossier: Dossier, seq: int) -> str:
    return f"{dossier.code}.{seq}"


def _remember_flushed(session: Session, _context: Any) -> None:
    for obj in session.new:
        if isinstance(obj, DossierEvent) and obj.kind in STATUS_KINDS:
            status = Status.NEW if obj.kind == "submitted" else obj.to_status
            if status is not None:
                entry = (obj.id, obj.dossier_id, obj.kind, obj.from_status, status, obj.at)
                session.info.setdefault(EVENTS, []).append(entry)
        elif isinstance(obj, NationalSync):
            session.info.setdefault(TO_PUSH, set()).add(obj.dossier_id)
        elif isinstance(obj, WebhookDelivery):
            session.info.setdefault(WEBHOOKS_TO_PUSH, set()).add((obj.endpoint_id, obj.dossier_id))


def _write_rows(session: Session) -> None:
    entries = session.info.pop(EVENTS, None)
    if not entries:
        return
    national, endpoints = enabled(), webhooks.subscribed()
    if not national and not endpoints:
        return
    by_dossier: dict[int, list[tuple[int, str, int | None, int, datetime]]] = {}
    for event_id, dossier_id, kind, from_status, status, at in sorted(entries):
        by_dossier.setdefault(dossier_id, []).append((event_id, kind, from_status, status, at))
    now = utcnow()
    for dossier_id, items in sorted(by_dossier.items()):
        dossier = session.get(Dossier, dossier_id)
        if dossier is None:
            continue
        if national:
            _write_national(session, dossier, [(e, s, a) for e, _k, _f, s, a in items], now)
        for _event_id, kind, from_status, status, at in items:
            webhooks.write_deliveries(session, endpoints, dossier, kind, from_status, status, at, now)


def _write_national(session: Session, dossier: Dossier, items: list[tuple[int, int, datetime]], now: datetime) -> None:
    last = session.scalar(select(func.max(NationalSync.seq)).where(NationalSync.dossier_id == dossier.id)) or 0
    for event_id, status, at in items:
        last += 1
        key = idempotency_key(dossier, last)
        session.add(
            NationalSync(
                dossier_id=dossier.id,
                seq=last,
                idempotency_key=key,
                status=status,
                event_id=event_id,
                payload=build(dossier, status, at, last, key),
                state=SyncState.PENDING,
                next_attempt_at=now,
                created_at=now,
            )
        )


def _push_after_commit(session: Session) -> None:
    dossier_ids = session.info.pop(TO_PUSH, None)
    if dossier_ids:
        enqueue(sorted(dossier_ids))
    scopes = session.info.pop(WEBHOOKS_TO_PUSH, None)
    if scopes:
        webhooks.enqueue(sorted(scopes))


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(EVENTS, None)
    session.info.pop(TO_PUSH, None)
    session.info.pop(WEBHOOKS_TO_PUSH, None)


def enqueue(dossier_ids: list[int]) -> None:
    """Queue a push per dossier (with no broker: in the background during a request, else at once). Never
    raises: what could not be queued stays pending in the table and the sweep pushes it."""
    from .tasks import push_dossier

    for dossier_id in dossier_ids:
        try:
            background.submit(push_dossier, dossier_id)
        except Exception:
            log.exception("could not queue the national portal push of dossier %s; the sweep will", dossier_id)


# Its before_commit runs before the change feed's (portal/core/session_hooks.py says why).
session_hooks.register(
    session_hooks.Stage.NATIONAL_SYNC,
    after_flush=_remember_flushed,
    before_commit=_write_rows,
    after_commit=_push_after_commit,
    after_rollback=_forget,
)


def push_after_commit(dossier_id: int) -> None:
    """Have the dossier pushed once the current transaction has committed (an administrator's retry)."""
    db.session.info.setdefault(TO_PUSH, set()).add(dossier_id)


def push_webhook_after_commit(endpoint_id: int, dossier_id: int) -> None:
    """Have this endpoint's deliveries of the dossier pushed once the transaction has committed (a redelivery)."""
    db.session.info.setdefault(WEBHOOKS_TO_PUSH, set()).add((endpoint_id, dossier_id))
