"""Where dossiers wait (process mining) on one procedure version, and who carries the work.

Per user task of the version: dossiers waiting there now, median and p90 of the working hours spent there by the
steps that ended in the period (counted in the agency's working calendar), the share of those finished late; per
sequence flow of the diagram, how many times it was taken by the steps started in the period (the path between
two consecutive steps of a dossier, read from its task rows). Read from the tasks of the version's dossiers in
the period: the period aggregates of portal/stats/ are the place for figures over the whole history.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, func, select

from portal.core.cache import ProcessCache
from portal.core.time import as_utc
from portal.extensions import db
from portal.models import Agency, Dossier, Group, Procedure, ProcedureVersion, Task, TaskState, User
from portal.procedures.services import compiled
from portal.sla.services import calendar_for
from workflows.bpmn_model import NSMAP, parse_xml

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


# -- the diagram's graph -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Graph:
    flows: dict[str, tuple[str, str, str]]  # flow id → (source, target, name)
    outgoing: dict[str, tuple[str, ...]]  # node id → flow ids
    starts: tuple[str, ...]
    ends: tuple[str, ...]
    names: dict[str, str]  # node id → its name in the diagram (events and gateways too)


_graphs: ProcessCache[Graph] = ProcessCache(max_entries=256)


def graph_of(version: ProcedureVersion) -> Graph:
    return _graphs.get_or_build(version.checksum, lambda: _read_graph(version.bpmn_xml.encode("utf-8")))


def _read_graph(xml: bytes) -> Graph:
    root = parse_xml(xml)
    flows: dict[str, tuple[str, str, str]] = {}
    outgoing: dict[str, list[str]] = defaultdict(list)
    for flow in root.iterfind(".//bpmn:sequenceFlow", NSMAP):
        fid, source, target = flow.get("id"), flow.get("sourceRef"), flow.get("targetRef")
        if fid and source and target:
            flows[fid] = (source, target, flow.get("name") or "")
            outgoing[source].append(fid)
    starts = tuple(e.get("id") or "" for e in root.iterfind(".//bpmn:process/bpmn:startEvent", NSMAP))
    ends = tuple(e.get("id") or "" for e in root.iterfind(".//bpmn:process/bpmn:endEvent", NSMAP))
    names = {
        node.get("id") or "": node.get("name") or ""
        for node in root.iter()
        if isinstance(node.tag, str) and node.get("id") and node.get("name") and not node.tag.endswith("sequenceFlow")
    }
    return Graph(flows, {k: tuple(v) for k, v in outgoing.items()}, starts, ends, names)


def path(graph: Graph, sources: tuple[str, ...], targets: set[str], steps: set[str]) -> list[str]:
    """The shortest chain of sequence flows from one of `sources` to one of `targets` that passes through no
    other step (gateways and events only); [] when there is none."""
    queue: deque[tuple[str, list[str]]] = deque((s, []) for s in sources)
    seen = set(sources)
    while queue:
        node, flows = queue.popleft()
        for fid in graph.outgoing.get(node, ()):
            target = graph.flows[fid][1]
            if target in targets:
                return [*flows, fid]
            if target in seen or target in steps:
                continue
            seen.add(target)
            queue.append((target, [*flows, fid]))
    return []


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


def quantile(values: list[float], q: float) -> float | None:
    """The q-quantile by the nearest-rank method (the median of [1, 2, 3, 4] is 2)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def _scoped(stmt, scope: LeaderScope):  # noqa: ANN001
    return stmt if scope.agency_ids is None else stmt.where(Dossier.agency_id.in_(scope.agency_ids))


def waiting_view(scope: LeaderScope, version: ProcedureVersion, period: Period, now: datetime) -> WaitingView:
    model = compiled(version).model
    steps = {key: StepFigures(key, spec.name or key) for key, spec in model.steps.items()}
    start, end = period.bounds()
    in_version = and_(Task.dossier_id == Dossier.id, Dossier.procedure_version_id == version.id)

    waiting = db.session.execute(
        _scoped(select(Task.bpmn_id, Task.due_at).join(Dossier, in_version).where(Task.state == TaskState.READY), scope)
    ).all()
    for bpmn_id, due_at in waiting:
        step = steps.setdefault(bpmn_id, StepFigures(bpmn_id, bpmn_id))
        step.waiting += 1
        if due_at is not None and as_utc(due_at) < now:
            step.waiting_overdue += 1

    calendars: dict[int, object] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    done = db.session.execute(
        _scoped(
            select(Task.bpmn_id, Task.created_at, Task.completed_at, Task.due_at, Task.timeliness, Dossier.agency_id)
            .join(Dossier, in_version)
            .where(Task.state == TaskState.COMPLETED, Task.completed_at >= start, Task.completed_at < end),
            scope,
        )
    ).all()
    for bpmn_id, created_at, completed_at, due_at, timeliness, agency_id in done:
        step = steps.setdefault(bpmn_id, StepFigures(bpmn_id, bpmn_id))
        step.finished += 1
        finished_at = as_utc(completed_at)
        if timeliness == "late" or (timeliness is None and due_at is not None and finished_at > as_utc(due_at)):
            step.late += 1
        if agency_id not in calendars:
            calendars[agency_id] = calendar_for(db.session.get(Agency, agency_id))  # type: ignore[arg-type]
        calendar = calendars[agency_id]
        durations[bpmn_id].append(calendar.working_hours_between(as_utc(created_at), finished_at))  # type: ignore[attr-defined]
    for bpmn_id, values in durations.items():
        steps[bpmn_id].median_hours = quantile(values, 0.5)
        steps[bpmn_id].p90_hours = quantile(values, 0.9)

    submit = model.submit_step.id if model.submit_step else None
    flows, unplaced = _flows_taken(scope, version, start, end, set(model.steps), model.end_statuses, submit)
    ordered = [steps[k] for k in model.steps] + [s for k, s in steps.items() if k not in model.steps]
    ranked = sorted((s for s in ordered if s.waiting or s.finished), key=lambda s: s.score, reverse=True)
    agency = version.procedure.agency
    return WaitingView(version, period, ordered, flows, unplaced, calendar_for(agency).hours_per_day, ranked)


def _flows_taken(
    scope: LeaderScope,
    version: ProcedureVersion,
    start: datetime,
    end: datetime,
    steps: set[str],
    ends: dict[str, int],
    submit: str | None,
) -> tuple[list[FlowFigures], int]:
    """How many times each sequence flow was taken by the steps that started in the period."""
    graph = graph_of(version)
    rows = db.session.execute(
        _scoped(
            select(
                Task.dossier_id,
                Task.id,
                Task.bpmn_id,
                Task.state,
                Task.created_at,
                Task.completed_at,
                Dossier.closed_at,
                Dossier.status,
            )
            .join(Dossier, Dossier.id == Task.dossier_id)
            .where(Dossier.procedure_version_id == version.id, Task.created_at >= start, Task.created_at < end),
            scope,
        ).order_by(Task.dossier_id, Task.created_at, Task.id)
    ).all()
    by_dossier: dict[int, list] = defaultdict(list)
    for row in rows:
        by_dossier[row.dossier_id].append(row)
    taken: Counter[str] = Counter()
    unplaced = 0
    for tasks in by_dossier.values():
        finished_at: dict[datetime, list[tuple[int, str]]] = defaultdict(list)
        for t in tasks:
            if t.state == TaskState.COMPLETED and t.completed_at is not None:
                finished_at[as_utc(t.completed_at)].append((t.id, t.bpmn_id))
        for index, t in enumerate(tasks):
            # The steps that ended at the moment this one started led to it (the submit step starts and ends at once).
            before = [bpmn_id for task_id, bpmn_id in finished_at.get(as_utc(t.created_at), []) if task_id != t.id]
            through = steps
            if before:
                sources = tuple(dict.fromkeys(before))
            elif index == 0:
                # The applicant's submit step is done with the submission itself and leaves no task row.
                sources, through = graph.starts, steps - {submit} if submit else steps
            else:
                continue  # a step opened by a timer or a parallel branch: no single step led to it
            chain = path(graph, sources, {t.bpmn_id}, through)
            if chain:
                taken.update(chain)
            else:
                unplaced += 1
        last = tasks[-1]
        if (
            last.closed_at is not None
            and last.completed_at is not None
            and as_utc(last.closed_at) == as_utc(last.completed_at)
        ):
            wanted = {e for e, status in ends.items() if status == last.status} or set(graph.ends)
            chain = path(graph, (last.bpmn_id,), wanted, steps) or path(graph, (last.bpmn_id,), set(graph.ends), steps)
            if chain:
                taken.update(chain)
            else:
                unplaced += 1
    flows = [
        FlowFigures(fid, graph.names.get(s) or s, graph.names.get(t) or t, name, taken.get(fid, 0))
        for fid, (s, t, name) in graph.flows.items()
    ]
    return flows, unplaced


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
    start, end = period.bounds()
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
        select(Task.group_id, Task.completed_by_id, func.count())
        .where(
            Task.group_id.in_(ids),
            Task.state == TaskState.COMPLETED,
            Task.completed_at >= start,
            Task.completed_at < end,
        )
        .group_by(Task.group_id, Task.completed_by_id)
    ).all()
    for group_id, user_id, n in done_rows:
        groups[group_id].finished += n
        if user_id is not None:
            person(user_id, groups[group_id].agency).finished += n
    if people:
        for user_id, name in db.session.execute(select(User.id, User.full_name).where(User.id.in_(list(people)))):
            people[user_id].label = name
    by_work = sorted(groups.values(), key=lambda g: (-g.overdue, -g.open, g.label))
    officers = sorted(people.values(), key=lambda p: (-p.overdue, -p.open, p.label))
    return by_work, officers
