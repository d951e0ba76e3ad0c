"""Agencies' signing keys: the PKCS#12 an administrator uploaded for an agency, kept in the database so that every
web host and worker signs with it (no shared file system). One key per agency is active; a replaced key stays as
an inactive row (the history of who installed which certificate, and when)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import Model

from .types import UTCDateTime


class AgencySigningKey(Model):
    """`pkcs12` is the key and its certificates re-encrypted with the portal's DOCUMENT_KEY_PASSPHRASE (the
    administrator's own file password is never stored); `certificates` is the signing certificate and the chain
    that came with it, as PEM (public: the admin page shows them and checks their trust without the key).
    `fingerprint` is the SHA-256 of the signing certificate (DER), in hex."""

    __tablename__ = "agency_signing_keys"
    __table_args__ = (
        Index(
            "uq_agency_signing_keys_active",
            "agency_id",
            unique=True,
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    pkcs12: Mapped[bytes] = mapped_column(LargeBinary)
    certificates: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(500))
    serial: Mapped[str] = mapped_column(String(100))  # the certificate's serial number, hex
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: imported by a command
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency = relationship("Agency")
    uploaded_by = relationship("User")

    def __repr__(self) -> str:
        return f"<AgencySigningKey {self.id} agency={self.agency_id} active={self.active}>"
