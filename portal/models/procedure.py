"""Procedures (the catalogue) and their BPMN versions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import Model

from .types import JSONType, UTCDateTime

if TYPE_CHECKING:
    from .agency import Agency

SERVICE_LEVELS = ("public_service", "partial_online", "full_online")


class Procedure(Model):
    """An administrative procedure (thủ tục hành chính) in the catalogue."""

    __tablename__ = "procedures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # the BPMN process id
    code: Mapped[str] = mapped_column(String(40), index=True)  # national catalogue code
    name: Mapped[str] = mapped_column(String(500))
    name_en: Mapped[str | None] = mapped_column(String(500))
    field: Mapped[str | None] = mapped_column(String(255), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    service_level: Mapped[str] = mapped_column(String(20), default="partial_online")
    deadline: Mapped[str] = mapped_column(String(20))  # "15d", "4h", "same-day"
    deadline_kind: Mapped[str] = mapped_column(String(10), default="working")  # working | calendar
    fee: Mapped[int] = mapped_column(BigInteger, default=0)  # VND
    documents: Mapped[list] = mapped_column(JSONType, default=list)
    max_rounds: Mapped[int] = mapped_column(Integer, default=30)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    # Name, English name, code and field without diacritics, lowercased ("dang ky khai sinh"): what the
    # catalogue search matches, so a search typed without accents finds the procedure. See portal.catalogue.text.
    search_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship()
    versions: Mapped[list[ProcedureVersion]] = relationship(
        back_populates="procedure", order_by="ProcedureVersion.number"
    )

    def __repr__(self) -> str:
        return f"<Procedure {self.key}>"


class ProcedureVersion(Model):
    """One deployed BPMN of a procedure. Published versions never change; dossiers keep theirs."""

    __tablename__ = "procedure_versions"
    __table_args__ = (UniqueConstraint("procedure_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | published | retired
    process_id: Mapped[str] = mapped_column(String(100))
    # The large columns load only when asked for: running dossiers need just the checksum (the spec is cached).
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    # Decision tables deployed with this version: [{"name": "fees.dmn", "xml": "..."}]
    dmn_files: Mapped[list] = mapped_column(JSONType, default=list, deferred=True)
    checksum: Mapped[str] = mapped_column(String(64), index=True)
    # What the portal reads of the BPMN (steps, roles, forms, statuses), stored so pages never re-parse XML.
    model: Mapped[dict] = mapped_column(JSONType, deferred=True)
    # The result document's body (Jinja, rendered in a sandbox: portal/documents/results.py); None: no result PDF.
    result_template: Mapped[str | None] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    procedure: Mapped[Procedure] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<ProcedureVersion {self.process_id} v{self.number} {self.status}>"
