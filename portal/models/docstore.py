"""The citizen's document store ("Kho dữ liệu cá nhân"): documents a citizen can reuse in later applications, and
the log of which dossier used which of them (docs/DOCUMENTS.md, "The citizen's document store")."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import Model

from .types import UTCDateTime


class StoredSource:
    """Where a stored document came from."""

    ATTACHMENT = "attachment"  # an attachment of a dossier the desk accepted (verified by that officer)
    RESULT = "result"  # a result document the portal issued (kept as the law on records requires)
    UPLOAD = "upload"  # uploaded by the citizen to the store (not verified)
    ALL = (ATTACHMENT, RESULT, UPLOAD)


class StoredDocument(Model):
    """One document in a citizen's store. The bytes are the object `storage_key` in the storage interface: for an
    accepted attachment and an issued result the very object of that attachment or document (shared, never
    copied and never removed through the store); for a citizen's upload an object of its own."""

    __tablename__ = "stored_documents"
    __table_args__ = (Index("ix_stored_documents_owner_live", "owner_id", "deleted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(100))  # the form field / required-document key, or "result"
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), index=True)
    source: Mapped[str] = mapped_column(String(20))
    source_dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"))
    # The attachment it was taken from (no foreign key: attachments.stored_document_id points the other way).
    source_attachment_id: Mapped[int | None] = mapped_column(Integer)
    issued_document_id: Mapped[int | None] = mapped_column(ForeignKey("issued_documents.id"))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verifier: Mapped[str | None] = mapped_column(String(255))  # who verified, as shown (officer or agency)
    legally_kept: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner = relationship("User", foreign_keys=[owner_id])
    verified_by = relationship("User", foreign_keys=[verified_by_id])
    source_dossier = relationship("Dossier", foreign_keys=[source_dossier_id])
    issued_document = relationship("IssuedDocument")
    uses: Mapped[list[StoredDocumentUse]] = relationship(
        back_populates="document", order_by="StoredDocumentUse.used_at.desc()"
    )

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def valid_on(self, day: date) -> bool:
        """Usable on `day`: not deleted, and within its validity dates when it has any."""
        if self.deleted_at is not None:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until

    def __repr__(self) -> str:
        return f"<StoredDocument {self.id} {self.source} owner={self.owner_id}>"


class StoredDocumentUse(Model):
    """One use of a stored document: the dossier it was attached to, when and by whom."""

    __tablename__ = "stored_document_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_document_id: Mapped[int] = mapped_column(ForeignKey("stored_documents.id"), index=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    document: Mapped[StoredDocument] = relationship(back_populates="uses")
    dossier = relationship("Dossier")
