"""Service accounts: the clients of the REST API (portal/api/), created by administrators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.time import utcnow
from portal.extensions import Model

from .types import JSONType, UTCDateTime


class ServiceAccount(Model):
    """One API client. Its token is shown once at creation; only its SHA-256 is kept (`token_hash`): a token has
    256 random bits, so a plain hash is enough (no salt or slow hash is needed against guessing)."""

    __tablename__ = "service_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(20))  # the token's first characters, to tell tokens apart
    scopes: Mapped[list] = mapped_column(JSONType, default=list)  # e.g. ["catalogue:read", "dossiers:read"]
    # Whose dossiers the account may read (and, later, submit to): ids of agencies. Empty: no dossier at all.
    agency_ids: Mapped[list] = mapped_column(JSONType, default=list)
    group_ids: Mapped[list] = mapped_column(JSONType, default=list)  # the groups whose tasks `tasks:act` covers
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who the account is when it acts on tasks (`tasks:act`): a user of kind "service", made with the account,
    # so claims, completions and the audit trail name it like any officer (portal/api/tasks.py).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def usable(self, now: datetime) -> bool:
        """Neither revoked nor past its expiry."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def __repr__(self) -> str:
        return f"<ServiceAccount {self.id} {self.name!r}>"


class IdempotencyKey(Model):
    """A POST an account made with an `Idempotency-Key` header, and the answer it got: a retry with the same key
    gets this answer again instead of a second dossier. Written in the transaction of the dossier it created, so
    the key exists exactly when the dossier does; the unique constraint makes a concurrent twin wait and fail."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("service_accounts.id"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the request (method, path, canonical body)
    status: Mapped[int] = mapped_column(SmallInteger, default=0)
    body: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
