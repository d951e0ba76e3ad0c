"""Human tasks: one row per user task of a dossier, waiting or done."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import Model

from .types import UTCDateTime

if TYPE_CHECKING:
    from .agency import Group
    from .dossier import Dossier
    from .user import User


class TaskState:
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Task(Model):
    __tablename__ = "tasks"
    __table_args__ = (
        # The inbox: open tasks of my groups by due date; my claimed tasks.
        Index("ix_tasks_group_state_due", "group_id", "state", "due_at"),
        Index("ix_tasks_assignee_state", "assignee_id", "state"),
        Index("ix_tasks_dossier_state", "dossier_id", "state"),
        Index("ix_tasks_group_state_completed", "group_id", "state", "completed_at"),  # the finished tab
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str | None] = mapped_column(String(20))
    # None for the applicant's own steps (the citizen of the dossier does them).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(10), default=TaskState.READY)
    round: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(30))
    # What the citizen is told (the consolidated list of missing documents, why it was refused) is kept apart
    # from the officer's comment, which may be internal.
    reason: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    timeliness: Mapped[str | None] = mapped_column(String(10))

    dossier: Mapped[Dossier] = relationship()
    group: Mapped[Group | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])

    @property
    def is_open(self) -> bool:
        return self.state == TaskState.READY

    def __repr__(self) -> str:
        return f"<Task {self.bpmn_id} of {self.dossier_id} {self.state}>"
