"""Today's figures for leaders, counted on the dossiers' current rows (no history is read).

Each figure is one WHERE clause on `dossiers`; the count on the dashboard and the list behind it use the same
clause, so the two always agree. "Today" is the local day of the portal's time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, func, select, true

from portal.extensions import db
from portal.models import Channel, Dossier, Incident, IncidentState, Procedure, ProcedureVersion, Status

from .access import LeaderScope

# Not ended: submitted, received, in process, waiting for the citizen or for a payment, finished but not returned.
OPEN_STATUSES = (Status.NEW, Status.RECEIVED, Status.IN_PROCESS, Status.SUPPLEMENT, Status.FINANCIAL, Status.FINISHED)
REFUSED_STATUSES = (Status.NOT_ACCEPTED, Status.STOPPED)
CHANNELS = (Channel.ONLINE, Channel.IN_PERSON, Channel.POST)
PAGE_SIZE = 50
MAX_PAGE = 2000


@dataclass(frozen=True)
class Day:
    start: datetime  # UTC
    end: datetime
    now: datetime


def today(now: datetime) -> Day:
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    local = now.astimezone(tz).date()
    start = datetime.combine(local, time(0), tz).astimezone(UTC)
    return Day(start, start + timedelta(days=1), now)


def _open() -> ColumnElement[bool]:
    return and_(Dossier.status.in_(OPEN_STATUSES), Dossier.closed_at.is_(None))


# figure key → (label, WHERE clause for the day)
FIGURES: dict[str, tuple[Any, Callable[[Day], ColumnElement[bool]]]] = {
    "received": (_l("Received today"), lambda d: and_(Dossier.submitted_at >= d.start, Dossier.submitted_at < d.end)),
    "returned": (_l("Returned today"), lambda d: and_(Dossier.returned_at >= d.start, Dossier.returned_at < d.end)),
    "open": (_l("Open now"), lambda d: _open()),
    "due_today": (
        _l("Due today"),
        lambda d: and_(_open(), Dossier.appointment_at >= d.start, Dossier.appointment_at < d.end),
    ),
    "overdue": (
        _l("Overdue now"),
        # While the citizen supplements, the clock stands still: such a dossier is not overdue.
        lambda d: and_(_open(), Dossier.status != Status.SUPPLEMENT, Dossier.appointment_at < d.now),
    ),
    "supplement": (_l("Waiting for the citizen"), lambda d: and_(_open(), Dossier.status == Status.SUPPLEMENT)),
    "refused": (
        _l("Refused or stopped today"),
        lambda d: and_(Dossier.status.in_(REFUSED_STATUSES), Dossier.closed_at >= d.start, Dossier.closed_at < d.end),
    ),
    # Open dossiers an incident holds (a step's code failed, an external system kept failing): they move only
    # once an administrator retries or cancels it (/admin/incidents).
    "incident": (_l("Held by an incident"), lambda d: and_(_open(), Dossier.id.in_(_open_incidents()))),
}


def _open_incidents() -> Select:
    return select(Incident.dossier_id).where(Incident.state == IncidentState.OPEN, Incident.dossier_id.is_not(None))


def _scope_clause(scope: LeaderScope) -> ColumnElement[bool]:
    if scope.agency_ids is None:
        return true()
    return Dossier.agency_id.in_(scope.agency_ids)


def where(scope: LeaderScope, figure: str, day: Day, channel: int | None = None) -> list[ColumnElement[bool]]:
    clauses = [_scope_clause(scope), FIGURES[figure][1](day)]
    if channel is not None:
        clauses.append(Dossier.channel == channel)
    return clauses


@dataclass
class TodayFigures:
    counts: dict[str, int]
    received_by_channel: dict[int, int]
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "figures": self.counts,
            "received_by_channel": {str(k): v for k, v in self.received_by_channel.items()},
        }


def today_figures(scope: LeaderScope, now: datetime) -> TodayFigures:
    day = today(now)
    counts = {}
    for key in FIGURES:
        if key == "received":
            continue
        counts[key] = db.session.scalar(select(func.count()).select_from(Dossier).where(*where(scope, key, day))) or 0
    rows = db.session.execute(
        select(Dossier.channel, func.count()).where(*where(scope, "received", day)).group_by(Dossier.channel)
    ).all()
    by_channel = dict.fromkeys(CHANNELS, 0)
    for channel, n in rows:
        by_channel[channel] = n
    counts = {"received": sum(by_channel.values()), **counts}
    return TodayFigures(counts, by_channel, now)


@dataclass
class DossierRow:
    id: int
    code: str
    agency_id: int
    procedure: str
    status: int
    channel: int
    submitted_at: datetime | None
    appointment_at: datetime | None


@dataclass
class DossierPage:
    rows: list[DossierRow]
    total: int
    page: int
    pages: int


def figure_dossiers(
    scope: LeaderScope,
    figure: str,
    now: datetime,
    channel: int | None = None,
    page: int = 1,
    english: bool = False,
    size: int = PAGE_SIZE,
) -> DossierPage:
    """The dossiers behind one figure, newest first, `size` a page (a download asks for one large page)."""
    clauses = where(scope, figure, today(now), channel)
    total = db.session.scalar(select(func.count()).select_from(Dossier).where(*clauses)) or 0
    pages = max(1, min(MAX_PAGE, -(-total // size)))
    page = max(1, min(page, pages))
    name = func.coalesce(Procedure.name_en, Procedure.name) if english else Procedure.name
    stmt: Select = (
        select(
            Dossier.id,
            Dossier.code,
            Dossier.agency_id,
            name.label("procedure"),
            Dossier.status,
            Dossier.channel,
            Dossier.submitted_at,
            Dossier.appointment_at,
        )
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(*clauses)
        .order_by(Dossier.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    )
    rows = [DossierRow(**r._asdict()) for r in db.session.execute(stmt)]
    return DossierPage(rows, total, page, pages)
