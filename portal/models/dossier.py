"""Dossiers (hồ sơ), their attachments, timeline and the per-day code counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import Model

from .types import JSONType, UTCDateTime

if TYPE_CHECKING:
    from .agency import Agency
    from .procedure import ProcedureVersion
    from .user import User


# Timeline entries that carry a reason given to the citizen (the partial index below covers these only).
REASON_EVENTS = "note IS NOT NULL AND note <> '' AND kind IN ('status', 'step_completed')"


class Status:
    """Dossier status codes of the national public service portal."""

    NEW = 1
    RECEIVED = 2
    NOT_ACCEPTED = 3
    IN_PROCESS = 4
    SUPPLEMENT = 5
    FINANCIAL = 6
    WITHDRAWN = 7
    STOPPED = 8
    FINISHED = 9
    RETURNED = 10

    # While the dossier waits for the citizen, the deadline clock stands still.
    CLOCK_PAUSED = frozenset({SUPPLEMENT})
    ALL = tuple(range(1, 11))


class Channel:
    IN_PERSON = 1
    ONLINE = 2
    POST = 3


class Origin:
    """Which system filed a dossier (Dossier.origin); None is this portal (its pages or its desk)."""

    NATIONAL_PORTAL = "national_portal"  # forwarded by the national public service portal (through the API)
    API = "api"  # another back-office system, through the API


class Dossier(Model):
    __tablename__ = "dossiers"
    __table_args__ = (
        Index("ix_dossiers_applicant_created", "applicant_id", "created_at"),
        Index("ix_dossiers_agency_status", "agency_id", "status"),
        Index("ix_dossiers_agency_status_paused", "agency_id", "status", "sla_paused_at"),  # supplement tab
        # The operations centre (bench/dashboard.py): the open dossiers alone (a few per cent of the rows) for
        # today's open / due / overdue / waiting-for-the-citizen figures and where dossiers wait now; the moments
        # of today's received / returned / refused figures (a day's rows, whatever the agency).
        Index(
            "ix_dossiers_open",
            "agency_id",
            "status",
            "appointment_at",
            "procedure_version_id",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
        Index("ix_dossiers_submitted_at", "submitted_at"),
        Index("ix_dossiers_returned_at", "returned_at"),
        Index("ix_dossiers_closed_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    tracking_secret: Mapped[str] = mapped_column(String(16))
    procedure_version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[int] = mapped_column(SmallInteger, default=Status.NEW)
    channel: Mapped[int] = mapped_column(SmallInteger, default=Channel.ONLINE)
    # Which system filed it (Origin); None: this portal. The national portal's dossiers are also channel online.
    origin: Mapped[str | None] = mapped_column(String(30))
    form_data: Mapped[dict] = mapped_column(JSONType, default=dict)
    workflow_state: Mapped[str] = mapped_column(Text, default="")
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    # Optimistic lock: every UPDATE checks and bumps lock_version, so a stale writer fails instead of
    # overwriting (SQLite has no SELECT … FOR UPDATE; PostgreSQL gets both).
    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the process is over, whatever the outcome
    # SLA clock: when it was paused (status 5) and the working hours waited so far.
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_hours: Mapped[float] = mapped_column(Float, default=0.0)
    timeliness: Mapped[str | None] = mapped_column(String(10))  # early | on_time | late, when ended
    fee: Mapped[int | None] = mapped_column(BigInteger)
    # How many times each step has been entered, to enforce the procedure's max_rounds without a query.
    step_rounds: Mapped[dict] = mapped_column(JSONType, default=dict)
    # Position in the change feed (GET /api/v1/dossiers/changes): set at each commit that changed the dossier, its
    # tasks, files or timeline, in commit order (portal/dossiers/changes.py). Never set through the ORM.
    change_seq: Mapped[int | None] = mapped_column(BigInteger, index=True)

    version: Mapped[ProcedureVersion] = relationship()
    agency: Mapped[Agency] = relationship()
    applicant: Mapped[User] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="dossier")
    events: Mapped[list[DossierEvent]] = relationship(back_populates="dossier", order_by="DossierEvent.id")

    @property
    def is_ended(self) -> bool:
        """The process is over (status 9 alone is not: the result may still wait to be returned)."""
        return self.closed_at is not None

    def __repr__(self) -> str:
        return f"<Dossier {self.code} status={self.status}>"


class Attachment(Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    field: Mapped[str | None] = mapped_column(String(100))  # form field or required-document key
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Taken from the citizen's document store (portal/docstore): the stored document it is a copy of.
    stored_document_id: Mapped[int | None] = mapped_column(ForeignKey("stored_documents.id"))

    dossier: Mapped[Dossier | None] = relationship(back_populates="attachments")
    stored_document = relationship("StoredDocument", foreign_keys=[stored_document_id])


class DossierEvent(Model):
    """One line of a dossier's timeline: who did what, when, at which step, and how the status moved."""

    __tablename__ = "dossier_events"
    __table_args__ = (
        # The reasons given to the citizen (refusals, stops, withdrawals, supplements): the last one of a dossier
        # is kept on the dossier's statistics facts when it ends (portal/stats/aggregates.py, REASON_KINDS must match).
        Index(
            "ix_dossier_events_reasons",
            "dossier_id",
            "at",
            "id",
            postgresql_include=["note"],
            postgresql_where=text(REASON_EVENTS),
            sqlite_where=text(REASON_EVENTS),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30))
    step: Mapped[str | None] = mapped_column(String(100))
    step_name: Mapped[str | None] = mapped_column(String(255))
    from_status: Mapped[int | None] = mapped_column(SmallInteger)
    to_status: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSONType)

    dossier: Mapped[Dossier] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class DossierCodeCounter(Model):
    """The last sequence number handed out for one code prefix on one day.

    Incremented with a single UPDATE … RETURNING, so concurrent submissions never share a number.
    """

    __tablename__ = "dossier_code_counters"

    prefix: Mapped[str] = mapped_column(String(60), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class DossierChangeCounter(Model):
    """One row (id 1): the last number handed out to the change feed (Dossier.change_seq).

    Incremented once per committing transaction that changed dossiers, just before the commit: the row lock is
    held until the commit, so numbers are taken in commit order (portal/dossiers/changes.py).
    """

    __tablename__ = "dossier_change_counter"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
