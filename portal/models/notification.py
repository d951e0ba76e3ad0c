"""Notifications (an outbox: one row per message to one person on one channel) and deadline reminders."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import Model

from .types import UTCDateTime

if TYPE_CHECKING:
    from .dossier import Dossier
    from .task import Task
    from .user import User


class NotificationChannel:
    EMAIL = "email"
    SMS = "sms"
    IN_APP = "in_app"


class DeliveryStatus:
    PENDING = "pending"  # waiting for its first or next attempt (next_attempt_at)
    SENDING = "sending"  # claimed by a worker (claim_token, claimed_at); reclaimed when the lease runs out
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; kept with last_error, retried only by hand


class Notification(Model):
    """One message to one person on one channel, written in the same transaction as what it reports.

    The row is the outbox: a worker claims it (status `sending`, committed) before it talks to the mail server,
    and marks it `sent` afterwards, so a retried job never sends it twice (see docs in portal/notifications).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        # The unread badge and the notifications page: my in-app messages, newest first.
        Index("ix_notifications_user_channel_read", "user_id", "channel", "read_at"),
        # The sweeper: messages waiting for their next attempt, or claimed too long ago.
        Index("ix_notifications_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(30))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    # Where the message goes (email address or phone number), fixed when the message is written.
    address: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Unique: the same fact is never written twice for one person and channel; also the email's Message-ID.
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    dossier: Mapped[Dossier | None] = relationship()
    task: Mapped[Task | None] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} {self.channel} to {self.user_id} {self.status}>"


class ReminderKind:
    REMINDER = "reminder"  # the step has used its configured share of its allowance
    ESCALATION = "escalation"  # the step is overdue: the agency's leaders are told


class Reminder(Model):
    """A deadline warning planned when a step opens; sent at most once per step and kind.

    Planned rows make the periodic job an index range scan on (state, due_at) over the warnings that are due,
    never a scan of all open steps; the working-time arithmetic is done once, when the step starts.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("task_id", "kind", name="uq_reminders_task_id_kind"),
        Index("ix_reminders_state_due_at", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    kind: Mapped[str] = mapped_column(String(12))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | skipped
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    task: Mapped[Task] = relationship()
