"""Reading the audit trail: filter by action, actor, date range; newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, func, or_, select

from portal.extensions import db
from portal.models import AuditLog, User

PAGE_SIZE = 50


@dataclass
class AuditFilter:
    action: str = ""
    actor: str = ""  # part of a name or email
    since: date | None = None  # Vietnam's calendar days, both ends included
    until: date | None = None


@dataclass
class AuditPage:
    rows: list[tuple[AuditLog, User | None]]
    page: int
    pages: int
    total: int


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


def _filtered(stmt: Select, wanted: AuditFilter) -> Select:
    if wanted.action:
        stmt = stmt.where(AuditLog.action.like(f"{wanted.action.strip()}%"))
    if wanted.actor:
        like = f"%{wanted.actor.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.full_name).like(like), func.lower(User.email).like(like)))
    if wanted.since:
        stmt = stmt.where(AuditLog.at >= _local_midnight(wanted.since))
    if wanted.until:
        stmt = stmt.where(AuditLog.at < _local_midnight(wanted.until + timedelta(days=1)))
    return stmt


def search(wanted: AuditFilter, page: int = 1) -> AuditPage:
    base = select(AuditLog, User).outerjoin(User, User.id == AuditLog.actor_id)
    stmt = _filtered(base, wanted)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return AuditPage([(log, actor) for log, actor in rows], page, pages, total)


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
