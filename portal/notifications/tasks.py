"""Celery jobs. Each takes ids (never ORM objects), calls a service, and commits (services only flush).

They run inside an app context (portal.tasks.FlaskTask): in a worker, or in-process when no broker is set.
"""

from __future__ import annotations

import logging

from celery import shared_task

from portal.core.time import utcnow

log = logging.getLogger(__name__)


@shared_task(name="notifications.send", ignore_result=True)
def send_notifications(ids: list[int]) -> int:
    """Deliver these outbox rows; each is claimed first, so running this twice sends nothing twice."""
    from .delivery import deliver

    sent = 0
    for notification_id in ids:
        try:
            sent += deliver(int(notification_id))
        except Exception:  # a database hiccup: the row stays pending/sending and the sweep brings it back
            log.exception("delivering notification %s failed", notification_id)
            _rollback()
    return sent


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep_notifications() -> int:
    """Queue again what is waiting for a retry or was abandoned by a dead worker."""
    from .delivery import due_for_retry
    from .outbox import enqueue

    ids = due_for_retry(utcnow())
    _rollback()
    if ids:
        enqueue(ids)
    return len(ids)


@shared_task(name="notifications.reminders", ignore_result=True)
def send_reminders() -> int:
    from .reminders import send_due_reminders

    return send_due_reminders()


@shared_task(name="timers.tick", ignore_result=True)
def timers_tick() -> int:
    """Find the due BPMN timers; fire the first batch here and hand the rest to other workers."""
    from .timers import due_batches, fire_batch

    batches = due_batches()
    for batch in batches[1:]:
        fire_timer_batch.delay(batch)
    if batches:
        return fire_batch(batches[0])[0]
    return 0


@shared_task(name="timers.fire", ignore_result=True)
def fire_timer_batch(dossier_ids: list[int]) -> int:
    from .timers import fire_batch

    return fire_batch([int(i) for i in dossier_ids])[0]


def _rollback() -> None:
    from portal.extensions import db

    db.session.rollback()
