"""What the citizen keeps between visits: application drafts, and the rating of a finished dossier."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.time import utcnow
from portal.extensions import Model

from .types import JSONType, UTCDateTime


class Draft(Model):
    """A half-filled application form, saved as the citizen types: one per person and procedure.

    Kept on the server (not in the browser) so a session time-out loses nothing and the citizen can finish on
    another device.
    """

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("user_id", "procedure_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rating(Model):
    """The citizen's satisfaction with a finished dossier (the three national levels), given once."""

    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 3", name="level_range"),)

    UNSATISFIED = 1
    SATISFIED = 2
    VERY_SATISFIED = 3

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    level: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
