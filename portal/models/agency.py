"""Agencies, their departments, groups (a role inside an agency) and working calendars."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import Model, db

from .types import JSONType


class Agency(Model):
    """A public body (cơ quan) that handles procedures; `code` is the unit code used in dossier codes."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    level: Mapped[str] = mapped_column(String(20), default="commune")  # province | commune
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Working periods of a day as [["07:00", "11:30"], ["13:30", "17:00"]]; None means the default.
    work_periods: Mapped[list | None] = mapped_column(JSONType)
    same_day_cutoff: Mapped[time | None] = mapped_column(Time)
    # Bumped whenever the agency's calendar or groups change, so every process knows when its cached
    # calendar and role→group map are stale without asking the database each time.
    config_version: Mapped[int] = mapped_column(Integer, default=1)

    parent: Mapped[Agency | None] = relationship(remote_side=[id])
    departments: Mapped[list[Department]] = relationship(back_populates="agency")
    groups: Mapped[list[Group]] = relationship(back_populates="agency")

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"


class Department(Model):
    """A department (phòng, ban) inside an agency."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("agency_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency] = relationship(back_populates="departments")


class Group(Model):
    """A role inside one agency (reception desk, a department's specialists, leaders…).

    BPMN user tasks name a role code; the task goes to the group with that role in the dossier's agency.
    """

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("agency_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    role: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    is_leadership: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency] = relationship(back_populates="groups")
    department: Mapped[Department | None] = relationship()

    def __repr__(self) -> str:
        return f"<Group {self.role}@{self.agency_id}>"


def touch_config(agency_id: int | None) -> None:
    """Mark an agency's calendar/groups as changed (all agencies when None, e.g. a province-wide day off)."""
    from sqlalchemy import update

    stmt = update(Agency).values(config_version=Agency.config_version + 1)
    if agency_id is not None:
        stmt = stmt.where(Agency.id == agency_id)
    db.session.execute(stmt)


class CalendarException(Model):
    """An agency's extra day off or make-up working day, set by administrators."""

    __tablename__ = "calendar_exceptions"
    __table_args__ = (UniqueConstraint("agency_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None applies to every agency (a province-wide decision, e.g. the Tết bridge days).
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))  # "off" | "work"
    note: Mapped[str | None] = mapped_column(String(255))
    year: Mapped[int] = mapped_column(Integer, index=True)
