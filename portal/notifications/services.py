"""In-app notifications: what a signed-in person sees on /notifications and in the unread badge."""

from __future__ import annotations

from sqlalchemy import func, select, update

from portal.core.errors import NotFound
from portal.core.sql import rows_changed
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Notification, User
from portal.models import NotificationChannel as Ch

PAGE_SIZE = 30


def _mine(user: User):  # a SQL condition
    return (Notification.user_id == user.id) & (Notification.channel == Ch.IN_APP)


def unread_count(user: User) -> int:
    stmt = select(func.count()).select_from(Notification).where(_mine(user), Notification.read_at.is_(None))
    return db.session.scalar(stmt) or 0


def page_of(user: User, page: int = 1) -> tuple[list[Notification], bool]:
    """One page of the user's notifications, newest first, and whether an older page exists."""
    page = max(page, 1)
    stmt = (
        select(Notification)
        .where(_mine(user))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    rows = list(db.session.scalars(stmt))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read; someone else's is 'not found', never revealed."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user.id or row.channel != Ch.IN_APP:
        raise NotFound("no such notification")
    if row.read_at is None:
        row.read_at = utcnow()
    db.session.flush()
    return row


def mark_all_read(user: User) -> int:
    return rows_changed(
        update(Notification)
        .where(_mine(user), Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
