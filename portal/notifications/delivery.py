"""Delivering the outbox exactly once, as far as SMTP allows.

1. Claim: one UPDATE moves the row from `pending` (or from `sending` whose lease ran out: its worker died)
   to `sending` with a fresh claim token, and the claim is committed before anything is sent. A second job for
   the same row (a retried or re-delivered Celery message, the sweep) finds nothing to claim and stops.
2. Send over SMTP (or the SMS gateway).
3. Mark `sent` (only if the claim token is still ours) and commit.

The duplicate window: if the worker dies after the mail server accepted the message and before step 3
commits, the row stays `sending`; when the lease (NOTIFY_CLAIM_LEASE) runs out the sweep sends it again. We
accept that rare duplicate rather than risk losing a message (a citizen must not miss a supplement request).
Both copies carry the same Message-ID, derived from the row's idempotency key, so mail systems that drop
duplicates by Message-ID show it once. A failed send goes back to `pending` with an exponential backoff and is
kept as `failed` (with its last error) after NOTIFY_MAX_ATTEMPTS attempts: never dropped silently.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from portal.core.mail import build_message, send_message
from portal.core.sql import rows_changed
from portal.core.time import utcnow
from portal.core.web import unit_of_work
from portal.extensions import db
from portal.models import DeliveryStatus, Notification
from portal.models import NotificationChannel as Ch

from .attachments import attachments_for
from .sms import gateway

log = logging.getLogger(__name__)


def _lease_cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=current_app.config["NOTIFY_CLAIM_LEASE"])


def claim(notification_id: int, now: datetime) -> str | None:
    """Take the row for this worker; the caller commits. None when it is sent, failed or held by another."""
    token = secrets.token_hex(16)
    claimable = or_(
        Notification.status == DeliveryStatus.PENDING,
        and_(Notification.status == DeliveryStatus.SENDING, Notification.claimed_at < _lease_cutoff(now)),
    )
    changed = rows_changed(
        update(Notification)
        .where(Notification.id == notification_id, Notification.channel != Ch.IN_APP, claimable)
        .values(
            status=DeliveryStatus.SENDING,
            claim_token=token,
            claimed_at=now,
            attempts=Notification.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return token if changed == 1 else None


def deliver(notification_id: int) -> bool:
    """Claim, send and record one notification, committing each stage. True when this call sent it."""
    with unit_of_work():
        token = claim(notification_id, utcnow())
    if token is None:
        return False
    _test_pause()
    row = db.session.get(Notification, notification_id, populate_existing=True)
    if row is None:  # cannot happen after a successful claim, but never crash a worker over it
        return False
    try:
        _send(row)
    except Exception as exc:  # SMTP and gateway errors come in many types; all mean "try again later"
        db.session.rollback()
        with unit_of_work():
            _record_failure(notification_id, token, f"{type(exc).__name__}: {exc}")
        return False
    with unit_of_work():
        _record(notification_id, token, status=DeliveryStatus.SENT, sent_at=utcnow(), last_error=None)
    return True


def _test_pause() -> None:
    delay = current_app.config.get("NOTIFY_TEST_SEND_DELAY") or 0
    if current_app.testing and delay:
        time.sleep(float(delay))


def message_id(row: Notification) -> str:
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@motcua.notifications>"


def _send(row: Notification) -> None:
    if row.channel == Ch.EMAIL:
        message = build_message(row.address or "", row.subject, row.body, row.body_html)
        message["Message-ID"] = message_id(row)
        for item in attachments_for(row):
            maintype, _, subtype = item.mimetype.partition("/")
            message.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
        send_message(message)
    elif row.channel == Ch.SMS:
        gateway().send(row.address or "", row.body, message_id(row))
    else:
        raise ValueError(f"nothing to deliver on channel {row.channel}")


def _record(notification_id: int, token: str, **values: object) -> bool:
    changed = rows_changed(
        update(Notification)
        .where(Notification.id == notification_id, Notification.claim_token == token)
        .values(claim_token=None, **values)
        .execution_options(synchronize_session=False)
    )
    if changed != 1:
        log.warning("notification %s was taken over by another worker while this one sent it", notification_id)
    return changed == 1


def _record_failure(notification_id: int, token: str, error: str) -> None:
    config = current_app.config
    attempts = db.session.scalar(select(Notification.attempts).where(Notification.id == notification_id)) or 1
    if attempts >= config["NOTIFY_MAX_ATTEMPTS"]:
        log.error("notification %s failed for good after %s attempts: %s", notification_id, attempts, error)
        _record(notification_id, token, status=DeliveryStatus.FAILED, last_error=error[:2000])
        return
    backoff = config["NOTIFY_RETRY_BASE"] * 2 ** (attempts - 1)
    log.warning("notification %s failed (attempt %s), retrying in %ss: %s", notification_id, attempts, backoff, error)
    _record(
        notification_id,
        token,
        status=DeliveryStatus.PENDING,
        last_error=error[:2000],
        next_attempt_at=utcnow() + timedelta(seconds=backoff),
    )


def due_for_retry(now: datetime, limit: int = 500) -> list[int]:
    """Rows the sweep queues again: waiting for their next attempt, or claimed by a worker that died."""
    waiting = select(Notification.id).where(
        Notification.status == DeliveryStatus.PENDING, Notification.next_attempt_at <= now
    )
    abandoned = select(Notification.id).where(
        Notification.status == DeliveryStatus.SENDING, Notification.claimed_at < _lease_cutoff(now)
    )
    ids = list(db.session.scalars(waiting.order_by(Notification.next_attempt_at).limit(limit)))
    ids += db.session.scalars(abandoned.limit(limit))
    return ids


def retry_failed(limit: int = 1000) -> list[int]:
    """Give failed messages another round of attempts (an administrator's command)."""
    ids = list(
        db.session.scalars(select(Notification.id).where(Notification.status == DeliveryStatus.FAILED).limit(limit))
    )
    if ids:
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_(ids))
            .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return ids
