"""Where dossiers wait (process mining) on one procedure version, and who carries the work.

Per user task of the version: dossiers waiting there now (the open task rows, through their index), and, for the
steps that ended in the period, how many, the median and p90 of the working hours spent there (counted in the
agency's working calendar) and the share finished late; per sequence flow of the diagram, how many times it was
taken by the steps started in the period. Per group and officer: open steps now, and steps finished in the period.
Everything about the period is read from the per-day tables portal/stats/steps.py keeps with every step (see there
for the counting rules), so a page costs the same for a month or a year, however busy the procedure: medians and
p90s are given at the resolution of their duration buckets (`STEP_HOUR_EDGES`), by the nearest-rank method.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, func, select

from portal.extensions import db
from portal.models import (
    Agency,
    Dossier,
    FlowDaily,
    Group,
    Procedure,
    ProcedureVersion,
    StepDaily,
    Task,
    TaskState,
    User,
    WorkDaily,
)
from portal.procedures.services import compiled
from portal.sla.services import calendar_for
from portal.stats.steps import UNPLACED, graph_of, quantile_of

from .access import LeaderScope

MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    since: date
    until: date  # inclusive

    def bounds(self) -> tuple[datetime, datetime]:
        tz = ZoneInfo(current_app.config["TIMEZONE"])
        start = datetime.combine(self.since, time(0), tz).astimezone(UTC)
        end = datetime.combine(self.until + timedelta(days=1), time(0), tz).astimezone(UTC)
        return start, end


def period_from(since: str | None, until: str | None, now: datetime) -> Period:
    """The chosen period; anything unreadable falls back to the last 30 days, at most a year."""
    local_today = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()

    def read(text: str | None) -> date | None:
        try:
            value = date.fromisoformat(text or "")
        except ValueError:
            return None
        return value if date(2000, 1, 1) <= value <= date(2100, 1, 1) else None

    end = read(until) or local_today
    start = read(since) or end - timedelta(days=29)
    if start > end:
        start, end = end, start
    if (end - start).days >= MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS - 1)
    return Period(start, end)


# -- the versions a leader may look at ---------------------------------------------------------------------


@dataclass
class VersionChoice:
    id: int
    label: str


def versions_in_scope(scope: LeaderScope, english: bool = False) -> list[VersionChoice]:
    """Published and retired versions (those that have run dossiers) of the procedures of the leader's agencies."""
    stmt = (
        select(ProcedureVersion.id, ProcedureVersion.number, Procedure.name, Procedure.name_en)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(ProcedureVersion.status.in_(("published", "retired")))
        .order_by(Procedure.name, ProcedureVersion.number.desc())
    )
    if scope.agency_ids is not None:
        stmt = stmt.where(Procedure.agency_id.in_(scope.agency_ids))
    return [
        VersionChoice(r.id, f"{(r.name_en if english and r.name_en else r.name)} — v{r.number}")
        for r in db.session.execute(stmt)
    ]


def version_in_scope(scope: LeaderScope, version_id: int | None) -> ProcedureVersion | None:
    if version_id is None or not 0 < version_id < 2**31:
        return None
    version = db.session.get(ProcedureVersion, version_id)
    if version is None or version.status not in ("published", "retired"):
        return None
    if scope.agency_ids is not None and version.procedure.agency_id not in scope.agency_ids:
        return None
    return version


# -- the figures ---------------------------------------------------------------------------------------------


@dataclass
class StepFigures:
    bpmn_id: str
    name: str
    waiting: int = 0
    waiting_overdue: int = 0
    finished: int = 0
    late: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None

    @property
    def late_share(self) -> float | None:
        return self.late / self.finished if self.finished else None

    @property
    def score(self) -> float:
        """How much of a bottleneck: dossiers waiting now, weighted by the time a dossier usually spends there."""
        return self.waiting * (self.median_hours or 0.0) + self.waiting + (self.p90_hours or 0.0) / 100


@dataclass
class FlowFigures:
    id: str
    source: str
    target: str
    name: str
    taken: int


@dataclass
class WaitingView:
    version: ProcedureVersion
    period: Period
    steps: list[StepFigures]  # ranked, worst first
    flows: list[FlowFigures]
    unplaced: int = 0  # transitions that match no path of the diagram
    hours_per_day: float = 8.0
    ranked: list[StepFigures] = field(default_factory=list)


def _scoped(stmt, scope: LeaderScope, column=Dossier.agency_id):  # noqa: ANN001
    return stmt if scope.agency_ids is None else stmt.where(column.in_(scope.agency_ids))


def waiting_view(scope: LeaderScope, version: ProcedureVersion, period: Period, now: datetime) -> WaitingView:
    model = compiled(version).model
    steps = {key: StepFigures(key, spec.name or key) for key, spec in model.steps.items()}

    def step_of(bpmn_id: str) -> StepFigures:
        return steps.setdefault(bpmn_id, StepFigures(bpmn_id, bpmn_id))

    # A waiting step belongs to an open dossier (closing cancels every step still open), so the open dossiers of
    # the version (ix_dossiers_open, a few per cent of the rows) lead to them, however busy the version.
    in_version = and_(
        Task.dossier_id == Dossier.id, Dossier.procedure_version_id == version.id, Dossier.closed_at.is_(None)
    )
    waiting = db.session.execute(
        _scoped(
            select(Task.bpmn_id, func.count(), func.sum(case((Task.due_at < now, 1), else_=0)))
            .join(Dossier, in_version)
            .where(Task.state == TaskState.READY)
            .group_by(Task.bpmn_id),
            scope,
        )
    ).all()
    for bpmn_id, count, overdue in waiting:
        step = step_of(bpmn_id)
        step.waiting += count
        step.waiting_overdue += overdue or 0

    ended = db.session.execute(
        _scoped(
            select(StepDaily.bpmn_id, StepDaily.bucket, func.sum(StepDaily.finished), func.sum(StepDaily.late))
            .where(StepDaily.version_id == version.id, StepDaily.day >= period.since, StepDaily.day <= period.until)
            .group_by(StepDaily.bpmn_id, StepDaily.bucket),
            scope,
            StepDaily.agency_id,
        )
    ).all()
    histograms: dict[str, dict[int, int]] = defaultdict(dict)
    for bpmn_id, bucket, finished, late in ended:
        step = step_of(bpmn_id)
        step.finished += finished or 0
        step.late += late or 0
        histograms[bpmn_id][bucket] = finished or 0
    for bpmn_id, histogram in histograms.items():
        steps[bpmn_id].median_hours = quantile_of(histogram, 0.5)
        steps[bpmn_id].p90_hours = quantile_of(histogram, 0.9)

    flows, unplaced = _flows_taken(scope, version, period)
    ordered = [steps[k] for k in model.steps] + [s for k, s in steps.items() if k not in model.steps]
    ranked = sorted((s for s in ordered if s.waiting or s.finished), key=lambda s: s.score, reverse=True)
    agency = version.procedure.agency
    return WaitingView(version, period, ordered, flows, unplaced, calendar_for(agency).hours_per_day, ranked)


def _flows_taken(scope: LeaderScope, version: ProcedureVersion, period: Period) -> tuple[list[FlowFigures], int]:
    """How many times each sequence flow was taken by the steps that started in the period."""
    graph = graph_of(version)
    rows = db.session.execute(
        _scoped(
            select(FlowDaily.flow_id, func.sum(FlowDaily.taken))
            .where(FlowDaily.version_id == version.id, FlowDaily.day >= period.since, FlowDaily.day <= period.until)
            .group_by(FlowDaily.flow_id),
            scope,
            FlowDaily.agency_id,
        )
    ).all()
    taken = {flow_id: int(n or 0) for flow_id, n in rows}
    flows = [
        FlowFigures(fid, graph.names.get(s) or s, graph.names.get(t) or t, name, taken.get(fid, 0))
        for fid, (s, t, name) in graph.flows.items()
    ]
    return flows, taken.get(UNPLACED, 0)


# -- workload --------------------------------------------------------------------------------------------------


@dataclass
class Load:
    label: str
    agency: str
    open: int = 0
    unassigned: int = 0
    overdue: int = 0
    finished: int = 0


def workload(scope: LeaderScope, period: Period, now: datetime, english: bool = False) -> tuple[list[Load], list[Load]]:
    """Per group and per officer of the leader's agencies: open tasks, overdue, finished in the period."""
    group_stmt = (
        select(Group.id, Group.name, Group.name_en, Agency.name.label("agency"))
        .join(Agency, Agency.id == Group.agency_id)
        .where(Group.active)
    )
    if scope.agency_ids is not None:
        group_stmt = group_stmt.where(Group.agency_id.in_(scope.agency_ids))
    groups = {
        g.id: Load((g.name_en if english and g.name_en else g.name), g.agency) for g in db.session.execute(group_stmt)
    }
    if not groups:
        return [], []
    ids = list(groups)
    people: dict[int, Load] = {}

    def person(user_id: int, agency: str) -> Load:
        if user_id not in people:
            people[user_id] = Load("", agency)
        return people[user_id]

    open_rows = db.session.execute(
        select(Task.group_id, Task.assignee_id, func.count(), func.sum(case((Task.due_at < now, 1), else_=0)))
        .where(Task.group_id.in_(ids), Task.state == TaskState.READY)
        .group_by(Task.group_id, Task.assignee_id)
    ).all()
    for group_id, assignee_id, n, late in open_rows:
        load = groups[group_id]
        load.open += n
        load.overdue += late or 0
        if assignee_id is None:
            load.unassigned += n
        else:
            officer = person(assignee_id, load.agency)
            officer.open += n
            officer.overdue += late or 0
    done_rows = db.session.execute(
        select(WorkDaily.group_id, WorkDaily.user_id, func.sum(WorkDaily.finished))
        .where(WorkDaily.group_id.in_(ids), WorkDaily.day >= period.since, WorkDaily.day <= period.until)
        .group_by(WorkDaily.group_id, WorkDaily.user_id)
    ).all()
    for group_id, user_id, n in done_rows:
        groups[group_id].finished += n or 0
        if user_id:
            person(user_id, groups[group_id].agency).finished += n or 0
    if people:
        for user_id, name in db.session.execute(select(User.id, User.full_name).where(User.id.in_(list(people)))):
            people[user_id].label = name
    by_work = sorted(groups.values(), key=lambda g: (-g.overdue, -g.open, g.label))
    officers = sorted(people.values(), key=lambda p: (-p.overdue, -p.open, p.label))
    return by_work, officers
