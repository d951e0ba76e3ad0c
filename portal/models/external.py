"""External jobs: one row per BPMN service task (`camunda:type="external"`) a dossier reached, run by the topic's
handler after the step's commit, retried per `camunda:failedJobRetryTimeCycle`, an incident when retries run out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.time import utcnow
from portal.extensions import Model

from .types import UTCDateTime


class JobState:
    PENDING = "pending"  # waiting for its (next) attempt at next_attempt_at
    DONE = "done"  # the handler ran and the service task completed with its outputs
    INCIDENT = "incident"  # retries used up: an incident is open; an administrator retries or cancels it
    CANCELLED = "cancelled"  # the dossier left the step (withdrawn, a boundary event), or an administrator cancelled
    WAITING = (PENDING, INCIDENT)


class ExternalJob(Model):
    __tablename__ = "external_jobs"
    # The beat pass reads due jobs by this index only.
    __table_args__ = (Index("ix_external_jobs_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    procedure_version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"))
    element_id: Mapped[str] = mapped_column(String(255))  # the service task's BPMN id
    element_name: Mapped[str] = mapped_column(String(255))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    topic: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(10), default=JobState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
