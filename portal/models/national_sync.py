"""The national public service portal's outbox: one row per status change of a dossier, pushed in order."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import Model

from .types import JSONType, UTCDateTime

if TYPE_CHECKING:
    from .dossier import Dossier


class SyncState:
    PENDING = "pending"  # waiting for its first or next attempt, or for an earlier row of its dossier
    SENDING = "sending"  # claimed by a worker (claim_token, claimed_at); reclaimed when the lease runs out
    SENT = "sent"  # the national portal answered 2xx
    FAILED = "failed"  # gave up after the last attempt; kept with last_error until an administrator retries


class NationalSync(Model):
    """One status change of one dossier to push to the national portal, written in the change's transaction.

    `seq` counts a dossier's rows from 1; a row is sent only once every earlier row of its dossier was sent.
    `idempotency_key` goes out in the Idempotency-Key header: a retried push carries the same key.
    """

    __tablename__ = "national_sync"
    __table_args__ = (
        UniqueConstraint("dossier_id", "seq", name="uq_national_sync_dossier_id_seq"),
        Index("ix_national_sync_state_next_attempt", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[int] = mapped_column(SmallInteger)  # TrangThaiHoSo, 1–10
    event_id: Mapped[int | None] = mapped_column(ForeignKey("dossier_events.id"))
    payload: Mapped[dict] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(10), default=SyncState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    dossier: Mapped[Dossier] = relationship()

    def __repr__(self) -> str:
        return f"<NationalSync {self.idempotency_key} status={self.status} {self.state}>"
