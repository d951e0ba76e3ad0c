"""An administrator's dry run of a procedure version: an in-memory workflow driven step by step with sample
data. Only the engine state and the steps done are kept here, never a Dossier: nothing reaches officers,
citizens, codes or deadlines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.time import utcnow
from portal.extensions import Model

from .types import JSONType, UTCDateTime


class DryRun(Model):
    __tablename__ = "admin_dry_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"), index=True)
    state: Mapped[str] = mapped_column(Text)  # workflows.engine.Instance.dump()
    # [{"step": bpmn id, "name": step name, "data": {...}}] in the order the admin completed them.
    log: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
