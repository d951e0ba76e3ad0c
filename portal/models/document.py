"""Issued documents: one row per signed PDF the portal issued (a receipt, a supplement request, a refusal slip, a
process-control slip). The PDF in the store and its row are never rewritten: only a revocation is recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import Model

from .types import UTCDateTime


class DocumentKind:
    RECEIPT = "receipt"
    SUPPLEMENT_REQUEST = "supplement_request"
    REFUSAL = "refusal"
    PROCESS_CONTROL = "process_control"
    RESULT = "result"  # the procedure's result (its version's template), issued when the result is approved
    APOLOGY = "apology"  # apology and new appointment, issued when an officer moves the appointment
    ALL = (RECEIPT, SUPPLEMENT_REQUEST, REFUSAL, PROCESS_CONTROL, RESULT, APOLOGY)


class IssuedDocument(Model):
    """A signed PDF: `code` is the short code printed on it (and in its QR code, /verify/<code>); `sha256` is the
    hash of the exact bytes stored under `storage_key`. `basis` says what it was issued for (e.g. "received", or
    "task:<id>" for a decision), so the same document is not issued twice for one event."""

    __tablename__ = "issued_documents"
    __table_args__ = (UniqueConstraint("dossier_id", "kind", "basis", name="uq_issued_documents_basis"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    basis: Mapped[str] = mapped_column(String(60))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    signer_subject: Mapped[str] = mapped_column(String(255))  # the certificate's subject, as signed
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    dossier = relationship("Dossier")
    agency = relationship("Agency")
    revoked_by = relationship("User")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def __repr__(self) -> str:
        return f"<IssuedDocument {self.code} {self.kind}>"


MUTABLE = frozenset({"revoked_at", "revoked_reason", "revoked_by_id", "revoked_by"})


@event.listens_for(IssuedDocument, "before_update")
def _immutable(_mapper: object, _connection: object, target: IssuedDocument) -> None:
    """What was issued stays as issued: only the revocation columns may change, once."""
    state = inspect(target)
    for attr in state.attrs:
        if attr.key in MUTABLE or attr.key in ("dossier", "agency"):
            continue
        if attr.history.has_changes():
            raise ValueError(f"an issued document is immutable: {attr.key} cannot change")
    revoked = state.attrs.revoked_at.history
    if revoked.deleted and revoked.deleted[0] is not None:
        raise ValueError("an issued document's revocation cannot be changed")
