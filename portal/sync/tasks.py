"""Celery jobs of the national portal sync; they take dossier ids and commit through the delivery service."""

from __future__ import annotations

import logging

from celery import shared_task

from portal.core.time import utcnow

log = logging.getLogger(__name__)


@shared_task(name="national_sync.push", ignore_result=True)
def push_dossier(dossier_id: int) -> int:
    """Push this dossier's due rows in order; running it twice (or beside the sweep) sends nothing twice."""
    from .delivery import push

    try:
        return push(int(dossier_id))
    except Exception:  # a database hiccup: the row stays pending/sending and the sweep brings it back
        log.exception("pushing dossier %s to the national portal failed", dossier_id)
        _rollback()
        return 0


@shared_task(name="national_sync.sweep", ignore_result=True)
def sweep() -> int:
    """Push the dossiers whose next row is due for a retry, or was left claimed by a dead worker."""
    from .delivery import due_dossiers
    from .outbox import enqueue

    ids = due_dossiers(utcnow())
    _rollback()
    if ids:
        enqueue(ids)
    return len(ids)


def _rollback() -> None:
    from portal.extensions import db

    db.session.rollback()


@shared_task(name="webhooks.push", ignore_result=True)
def push_webhooks(endpoint_id: int, dossier_id: int) -> int:
    """Deliver this endpoint's due events of the dossier in order."""
    from .webhooks import WEBHOOKS

    try:
        return WEBHOOKS.push((int(endpoint_id), int(dossier_id)))
    except Exception:
        log.exception("webhook deliveries %s/%s failed", endpoint_id, dossier_id)
        _rollback()
        return 0


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep_webhooks() -> int:
    """Queue the webhook deliveries due for a retry, or left claimed by a dead worker."""
    from .webhooks import WEBHOOKS, enqueue

    scopes = WEBHOOKS.due_scopes(utcnow())
    _rollback()
    if scopes:
        enqueue([(s[0], s[1]) for s in scopes])
    return len(scopes)
