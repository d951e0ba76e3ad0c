"""Writing notifications: in the same transaction as the change they report, sent only after it commits.

`notify()` adds Notification rows (the outbox). Session hooks remember which rows were flushed and, once the
transaction has committed, hand their ids to the `notifications.send` job; after a rollback they are forgotten
with the rows. Nothing is sent from inside a transaction, so a rolled-back change never sends a message, and a
message never reaches a worker before its row is visible to it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import background, session_hooks
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import DeliveryStatus, Dossier, Group, Membership, Notification, Task, User
from portal.models import NotificationChannel as Ch
from portal.models.user import SERVICE_KIND

from .content import Content, render

log = logging.getLogger(__name__)

PENDING_IDS = "motcua_notifications_to_send"
SEND_CHUNK = 50
CITIZEN_CHANNELS = (Ch.IN_APP, Ch.EMAIL, Ch.SMS)
OFFICER_CHANNELS = (Ch.IN_APP, Ch.EMAIL)


def notify(
    user: User,
    kind: str,
    build: Callable[[], Content],
    *,
    dossier: Dossier | None = None,
    task: Task | None = None,
    channels: Iterable[str] = OFFICER_CHANNELS,
    key: str | None = None,
) -> list[Notification]:
    """Write `kind` for `user` on each channel they can be reached on; `key` makes it once-only.

    `build` makes the message's content; it is called in the user's language.
    """
    if user.kind == SERVICE_KIND:  # a service account's user (portal/api/tasks.py) reads no messages
        return []
    rendered = render(user, build)
    base = key or f"{kind}.{uuid.uuid4().hex}"
    now = utcnow()
    rows = []
    for channel in channels:
        address = {Ch.EMAIL: user.email, Ch.SMS: user.phone, Ch.IN_APP: None}[channel]
        if channel != Ch.IN_APP and not address:
            continue
        row = Notification(
            user=user,
            channel=channel,
            kind=kind,
            dossier_id=dossier.id if dossier is not None else None,
            task=task,
            address=address,
            subject=rendered.subject[:255],
            body={Ch.EMAIL: rendered.text, Ch.SMS: rendered.sms, Ch.IN_APP: rendered.summary}[channel],
            body_html=rendered.html if channel == Ch.EMAIL else None,
            idempotency_key=f"{base}.u{user.id}.{channel}",
            created_at=now,
        )
        if channel == Ch.IN_APP:  # shown by the portal itself: nothing to deliver
            row.status, row.sent_at = DeliveryStatus.SENT, now
        else:
            # The job is queued at commit; the sweep only steps in if that job never ran.
            row.status = DeliveryStatus.PENDING
            row.next_attempt_at = now + timedelta(seconds=current_app.config["NOTIFY_RETRY_BASE"])
        db.session.add(row)
        rows.append(row)
    return rows


def group_members(group_ids: Iterable[int], exclude: int | None = None) -> list[User]:
    ids = list(group_ids)
    if not ids:
        return []
    stmt = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id.in_(ids), User.active)
        .distinct()
        .order_by(User.id)
    )
    return [u for u in db.session.scalars(stmt) if u.id != exclude]


def leaders_of(agency_id: int) -> list[User]:
    groups = select(Group.id).where(Group.agency_id == agency_id, Group.is_leadership, Group.active)
    return group_members(db.session.scalars(groups))


# -- after commit --------------------------------------------------------------------------------------------


def _remember_flushed(session: Session, _context: Any) -> None:
    ids = [o.id for o in session.new if isinstance(o, Notification) and o.channel != Ch.IN_APP]
    if ids:
        session.info.setdefault(PENDING_IDS, []).extend(ids)


def _send_after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING_IDS, None)
    if ids:
        enqueue(ids)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING_IDS, None)


def enqueue(ids: list[int]) -> None:
    """Queue sending jobs (with no broker: on the background thread during a request, else at once; see
    portal/core/background.py). Never raises: whatever could not be queued stays pending in the table and the
    periodic sweep queues it again."""
    from .tasks import send_notifications

    for start in range(0, len(ids), SEND_CHUNK):
        chunk = sorted(ids[start : start + SEND_CHUNK])
        try:
            background.submit(send_notifications, chunk)
        except Exception:
            log.exception("could not queue notifications %s; the sweep will retry them", chunk)


session_hooks.register(
    session_hooks.Stage.NOTIFICATIONS,
    after_flush=_remember_flushed,
    after_commit=_send_after_commit,
    after_rollback=_forget,
)
