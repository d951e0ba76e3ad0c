"""Webhooks: endpoints administrators subscribe to dossier events, and the outbox of signed deliveries to them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import Model

from .national_sync import SyncState
from .types import JSONType, UTCDateTime

if TYPE_CHECKING:
    from .dossier import Dossier

WEBHOOK_EVENTS = ("dossier.submitted", "dossier.status_changed")


class WebhookEndpoint(Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(255), default="")
    # The shared secret the receiver checks signatures with (HMAC needs it in clear on both sides).
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} {self.url}>"


class WebhookDelivery(Model):
    """One event for one endpoint; delivered in id order per endpoint and dossier, like the national sync."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_state_next_attempt", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
        Index("ix_webhook_deliveries_endpoint_dossier", "endpoint_id", "dossier_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    event: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)  # the delivery id, kept on redelivery
    payload: Mapped[dict] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(10), default=SyncState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redelivered: Mapped[int] = mapped_column(Integer, default=0)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    dossier: Mapped[Dossier] = relationship()
