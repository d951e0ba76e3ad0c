"""Incidents: a step whose user code (script, condition, timer, decision table) failed or went past its time or
memory budget. Administrators see them with the procedure, version and element, and retry the step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.time import utcnow
from portal.extensions import Model

from .types import JSONType, UTCDateTime


class IncidentState:
    OPEN = "open"
    RESOLVED = "resolved"


class Incident(Model):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    procedure_version_id: Mapped[int | None] = mapped_column(ForeignKey("procedure_versions.id"))
    element_id: Mapped[str | None] = mapped_column(String(255))
    # "time" or "memory" (a budget was exceeded) or "error" (the code raised).
    kind: Mapped[str] = mapped_column(String(20))
    # What was being done: "submit", "complete_task", "timer", "dry_run", ... (what a retry repeats).
    operation: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    # What a retry needs (task id, actor id, form data) and what was exceeded (limit, unit).
    detail: Mapped[dict | None] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(10), default=IncidentState.OPEN, index=True)
    occurrences: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
