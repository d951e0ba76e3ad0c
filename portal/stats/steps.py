"""Where dossiers wait, kept current: the per-day tables the waiting view reads (portal/models/step_stats.py).

What is counted (the rules the waiting view has always used, now applied once, when a step happens):

- A step that ended: on the local day it ended, per version, agency and step, in the bucket of its duration
  (working hours from its start to its end, in the agency's calendar), and whether it was late (its own
  timeliness, or, without one, ended after its due moment). Per group and officer who finished it, for the
  workload.
- A step that started: the sequence flows along the shortest path that leads to it, on the day it started. The
  steps of the dossier that ended at the moment it started led to it (the path may pass through gateways and
  events, never through another step); the dossier's first step came from the start event through the
  submission (which leaves no task row); a step that nothing ended at its start (a timer, a parallel branch)
  counts nothing. A transition no path of the diagram explains is counted under the flow "".
- A dossier that ended at the moment its last step ended: the path from that step to the end event of the
  dossier's status (any end event if none matches), on the day that last step started.

`_after_flush` applies these to the steps, tasks and dossiers of each flush, in the same transaction, with
`INSERT … ON CONFLICT DO UPDATE` in key order (as portal/stats/aggregates.py does): the figures are never more
than a commit old. `rebuild()` recomputes all three tables from the task rows with the same rules; it is part of
`flask --app wsgi stats rebuild`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Table, delete, event, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, attributes

from portal.core.cache import ProcessCache
from portal.core.time import as_utc
from portal.extensions import db
from portal.models import Agency, Dossier, FlowDaily, ProcedureVersion, StepDaily, Task, TaskState, WorkDaily
from portal.models.step_stats import STEP_HOUR_EDGES
from workflows.bpmn_model import NSMAP, parse_xml

STEPS = cast("Table", StepDaily.__table__)
FLOWS = cast("Table", FlowDaily.__table__)
WORK = cast("Table", WorkDaily.__table__)
UNPLACED = ""  # the flow id under which transitions that fit no path are counted


# -- the diagram ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Graph:
    flows: dict[str, tuple[str, str, str]]  # flow id → (source, target, name)
    outgoing: dict[str, tuple[str, ...]]  # node id → flow ids
    starts: tuple[str, ...]
    ends: tuple[str, ...]
    names: dict[str, str]  # node id → its name in the diagram (events and gateways too)


@dataclass(frozen=True)
class Process:
    """What the counting needs of a version: its graph, its user steps, end events → statuses, the submit step."""

    graph: Graph
    steps: frozenset[str]
    end_statuses: Mapping[str, int]
    submit: str | None


_graphs: ProcessCache[Graph] = ProcessCache(max_entries=256)
_processes: ProcessCache[Process] = ProcessCache(max_entries=256)


def graph_of(version: ProcedureVersion) -> Graph:
    return _graphs.get_or_build(version.checksum, lambda: read_graph(version.bpmn_xml.encode("utf-8")))


def process_of(version: ProcedureVersion) -> Process:
    def build() -> Process:
        from portal.procedures.services import compiled

        model = compiled(version).model
        submit = model.submit_step.id if model.submit_step else None
        return Process(graph_of(version), frozenset(model.steps), dict(model.end_statuses), submit)

    return _processes.get_or_build(version.checksum, build)


def read_graph(xml: bytes) -> Graph:
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


def path(graph: Graph, sources: tuple[str, ...], targets: set[str], steps: Iterable[str]) -> list[str]:
    """The shortest chain of sequence flows from one of `sources` to one of `targets` that passes through no
    other step (gateways and events only); [] when there is none."""
    blocked = set(steps)
    queue: deque[tuple[str, list[str]]] = deque((s, []) for s in sources)
    seen = set(sources)
    while queue:
        node, flows = queue.popleft()
        for fid in graph.outgoing.get(node, ()):
            target = graph.flows[fid][1]
            if target in targets:
                return [*flows, fid]
            if target in seen or target in blocked:
                continue
            seen.add(target)
            queue.append((target, [*flows, fid]))
    return []


def into_step(process: Process, before: Iterable[str], first: bool, target: str) -> list[str] | None:
    """The flows taken to reach step `target`: from the steps that ended as it started (`before`), or from the
    start event for the dossier's first step. [] when no path explains it; None when nothing led to it."""
    sources = tuple(dict.fromkeys(before))
    through: Iterable[str] = process.steps
    if not sources:
        if not first:
            return None
        sources = process.graph.starts
        through = process.steps - {process.submit} if process.submit else process.steps
    return path(process.graph, sources, {target}, through)


def out_of_step(process: Process, last: str, status: int) -> list[str]:
    """The flows from the dossier's last step to the end event of its status (any end event if none matches)."""
    graph = process.graph
    wanted = {e for e, s in process.end_statuses.items() if s == status} or set(graph.ends)
    return path(graph, (last,), wanted, process.steps) or path(graph, (last,), set(graph.ends), process.steps)


# -- durations -------------------------------------------------------------------------------------------------


def bucket_of(hours: float) -> int:
    for index, edge in enumerate(STEP_HOUR_EDGES):
        if hours <= edge:
            return index
    return len(STEP_HOUR_EDGES)


def quantile_of(histogram: Mapping[int, int], q: float) -> float | None:
    """The q-quantile by the nearest-rank method (the median of 1, 2, 3, 4 is the 2nd), at the resolution of the
    buckets: the upper edge of the bucket that holds that rank (past the last edge, the last edge: at least that)."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return float(STEP_HOUR_EDGES[min(bucket, len(STEP_HOUR_EDGES) - 1)])
    return float(STEP_HOUR_EDGES[-1])  # pragma: no cover - the loop always returns


def is_late(timeliness: str | None, due_at: datetime | None, completed_at: datetime) -> bool:
    return timeliness == "late" or (timeliness is None and due_at is not None and as_utc(completed_at) > as_utc(due_at))


# -- counting ---------------------------------------------------------------------------------------------------


class Tally:
    """Additions to the three tables, gathered before they are written."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.steps: Counter[tuple[int, date, int, str, int]] = Counter()
        self.late: Counter[tuple[int, date, int, str, int]] = Counter()
        self.flows: Counter[tuple[int, date, int, str]] = Counter()
        self.work: Counter[tuple[int, date, int]] = Counter()

    def day(self, moment: datetime) -> date:
        return as_utc(moment).astimezone(self.tz).date()

    def ended(
        self,
        version_id: int,
        agency_id: int,
        bpmn_id: str,
        completed_at: datetime,
        hours: float,
        late: bool,
        group_id: int | None,
        user_id: int | None,
    ) -> None:
        key = (version_id, self.day(completed_at), agency_id, bpmn_id, bucket_of(hours))
        self.steps[key] += 1
        if late:
            self.late[key] += 1
        if group_id is not None:
            self.work[(group_id, key[1], user_id or 0)] += 1

    def taken(self, version_id: int, agency_id: int, started_at: datetime, chain: list[str] | None) -> None:
        if chain is None:
            return
        day = self.day(started_at)
        for fid in chain or [UNPLACED]:
            self.flows[(version_id, day, agency_id, fid)] += 1

    def rows(self) -> Iterator[tuple[Table, list[dict[str, Any]]]]:
        yield (
            STEPS,
            [
                {
                    "version_id": k[0],
                    "day": k[1],
                    "agency_id": k[2],
                    "bpmn_id": k[3],
                    "bucket": k[4],
                    "finished": n,
                    "late": self.late[k],
                }
                for k, n in sorted(self.steps.items())
            ],
        )
        yield (
            FLOWS,
            [
                {"version_id": k[0], "day": k[1], "agency_id": k[2], "flow_id": k[3], "taken": n}
                for k, n in sorted(self.flows.items())
            ],
        )
        yield (
            WORK,
            [{"group_id": k[0], "day": k[1], "user_id": k[2], "finished": n} for k, n in sorted(self.work.items())],
        )

    def write_fresh(self, session: Session, chunk: int = 5000) -> None:
        """Insert the rows into empty tables (the rebuild)."""
        for table, rows in self.rows():
            for start in range(0, len(rows), chunk):
                session.execute(insert(table), rows[start : start + chunk])

    def write(self, session: Session) -> None:
        """Add to the rows, creating them (the incremental path): one statement per table, rows in key order."""
        for table, rows in self.rows():
            if rows:
                session.execute(_upsert(session, table), rows)


_upserts: dict[tuple[str, str], Any] = {}


def _upsert(session: Session, table: Table) -> Any:
    """`INSERT … ON CONFLICT (key) DO UPDATE SET n = n + excluded.n` for every count of the table (built once)."""
    key = (session.get_bind().dialect.name, table.name)
    if key not in _upserts:
        statement = _insert_for(session)(table)
        counts = [c.name for c in table.columns if not c.primary_key]
        _upserts[key] = statement.on_conflict_do_update(
            index_elements=[c.name for c in table.primary_key.columns],
            set_={name: table.c[name] + statement.excluded[name] for name in counts},
        )
    return _upserts[key]


def _insert_for(session: Session) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"step statistics need INSERT … ON CONFLICT, which {name} lacks")  # pragma: no cover


class Calendars:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[int, Any] = {}

    def hours(self, agency_id: int, start: datetime, end: datetime) -> float:
        if agency_id not in self.known:
            from portal.sla.services import calendar_for

            self.known[agency_id] = calendar_for(cast("Agency", self.session.get(Agency, agency_id)))
        return float(self.known[agency_id].working_hours_between(as_utc(start), as_utc(end)))


# -- the incremental path ------------------------------------------------------------------------------------


def _became(obj: object, name: str, value: object | None, *, new: bool) -> bool:
    """The attribute was set to `value` (any non-None value when None) in this flush."""
    current = getattr(obj, name)
    if (current is None) if value is None else (current != value):
        return False
    if new:
        return True
    history = attributes.get_history(obj, name)
    if not history.added:
        return False
    return not history.deleted or ((history.deleted[0] is None) if value is None else history.deleted[0] != value)


def _after_flush(session: Session, _context: Any) -> None:
    started: list[Task] = []
    ended: list[Task] = []
    closed: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Task):
            started.append(obj)
            if obj.state == TaskState.COMPLETED and obj.completed_at is not None:
                ended.append(obj)
        elif isinstance(obj, Dossier) and obj.closed_at is not None:
            closed.add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, Task) and _became(obj, "state", TaskState.COMPLETED, new=False):
            if obj.completed_at is not None:
                ended.append(obj)
        elif isinstance(obj, Dossier) and _became(obj, "closed_at", None, new=False):
            closed.add(obj.id)
    # A dossier's end is looked at when it closes, and when a step of an already closed dossier ends.
    closed |= {t.dossier_id for t in ended}
    if not (started or ended or closed):
        return
    with session.no_autoflush:
        _update(session, started, ended, closed)


def _update(session: Session, started: list[Task], ended: list[Task], closed: set[int]) -> None:
    tally = Tally(ZoneInfo(current_app.config["TIMEZONE"]))
    calendars = Calendars(session)
    dossiers: dict[int, Dossier | None] = {}

    def dossier_of(dossier_id: int) -> Dossier | None:
        if dossier_id not in dossiers:
            dossiers[dossier_id] = session.get(Dossier, dossier_id)
        return dossiers[dossier_id]

    for task in sorted(ended, key=lambda t: t.id):
        dossier = dossier_of(task.dossier_id)
        if dossier is None or task.completed_at is None:
            continue
        hours = calendars.hours(dossier.agency_id, task.created_at, task.completed_at)
        late = is_late(task.timeliness, task.due_at, task.completed_at)
        tally.ended(
            dossier.procedure_version_id,
            dossier.agency_id,
            task.bpmn_id,
            task.completed_at,
            hours,
            late,
            task.group_id,
            task.completed_by_id,
        )
    # Every task row of the dossiers concerned, in one query: what ended as a step started, which step came
    # first, which came last.
    wanted = sorted({t.dossier_id for t in started} | closed)
    rows: dict[int, list[Any]] = defaultdict(list)
    if wanted:
        for row in session.execute(
            select(Task.id, Task.dossier_id, Task.bpmn_id, Task.state, Task.created_at, Task.completed_at)
            .where(Task.dossier_id.in_(wanted))
            .order_by(Task.dossier_id, Task.created_at, Task.id)
        ):
            rows[row.dossier_id].append(row)
    for task in sorted(started, key=lambda t: t.id):
        dossier = dossier_of(task.dossier_id)
        tasks = rows.get(task.dossier_id)
        if dossier is None or not tasks:
            continue
        moment = as_utc(task.created_at)
        before = [
            t.bpmn_id
            for t in tasks
            if t.state == TaskState.COMPLETED and t.completed_at is not None and as_utc(t.completed_at) == moment
            and t.id != task.id
        ]  # fmt: skip
        process = process_of(_version(session, dossier.procedure_version_id))
        chain = into_step(process, before, tasks[0].id == task.id, task.bpmn_id)
        tally.taken(dossier.procedure_version_id, dossier.agency_id, task.created_at, chain)
    for dossier_id in sorted(closed):
        dossier = dossier_of(dossier_id)
        tasks = rows.get(dossier_id)
        if dossier is None or dossier.closed_at is None or not tasks:
            continue
        last = tasks[-1]
        if last.state != TaskState.COMPLETED or last.completed_at is None:
            continue
        if as_utc(last.completed_at) != as_utc(dossier.closed_at):
            continue
        # Counted in the flush that brought the end about (the dossier closed, or its last step ended, just now).
        process = process_of(_version(session, dossier.procedure_version_id))
        chain = out_of_step(process, last.bpmn_id, dossier.status)
        tally.taken(dossier.procedure_version_id, dossier.agency_id, last.created_at, chain)
    tally.write(session)


def _version(session: Session, version_id: int) -> ProcedureVersion:
    return cast("ProcedureVersion", session.get(ProcedureVersion, version_id))


def connect() -> None:
    """Listen to every session's flushes (once per process, however many apps it builds)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


# -- the rebuild ------------------------------------------------------------------------------------------------


def task_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Task)) or 0


def rebuild(session: Session, batch: int = 2000) -> Iterator[int]:
    """Replace the three tables with what the task rows say; yields the number of task rows read after each batch
    of dossiers. The caller commits; run twice, it gives the same rows."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(db.text("LOCK TABLE stats_step_daily, stats_flow_daily, stats_work_daily IN EXCLUSIVE MODE"))
    for table in (STEPS, FLOWS, WORK):
        session.execute(delete(table))
    tally = Tally(ZoneInfo(current_app.config["TIMEZONE"]))
    calendars = Calendars(session)
    versions: dict[int, Process] = {}
    chains: dict[tuple, list[str] | None] = {}
    last_id, done = 0, 0
    while True:
        heads = session.execute(
            select(Dossier.id, Dossier.procedure_version_id, Dossier.agency_id, Dossier.status, Dossier.closed_at)
            .where(Dossier.id > last_id)
            .order_by(Dossier.id)
            .limit(batch)
        ).all()
        if not heads:
            break
        rows = session.execute(
            select(
                Task.id,
                Task.dossier_id,
                Task.bpmn_id,
                Task.state,
                Task.created_at,
                Task.completed_at,
                Task.due_at,
                Task.timeliness,
                Task.group_id,
                Task.completed_by_id,
            )
            .where(Task.dossier_id >= heads[0].id, Task.dossier_id <= heads[-1].id)
            .order_by(Task.dossier_id, Task.created_at, Task.id)
        ).all()
        by_dossier: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            by_dossier[row.dossier_id].append(row)
        for head in heads:
            tasks = by_dossier.get(head.id)
            if not tasks:
                continue
            if head.procedure_version_id not in versions:
                versions[head.procedure_version_id] = process_of(_version(session, head.procedure_version_id))
            process = versions[head.procedure_version_id]
            _count_dossier(tally, calendars, chains, process, head, tasks)
        done += len(rows)
        last_id = heads[-1].id
        yield done
    tally.write_fresh(session)


def _count_dossier(tally: Tally, calendars: Calendars, chains: dict, process: Process, head: Any, tasks: list) -> None:
    version_id, agency_id = head.procedure_version_id, head.agency_id
    ended_at: dict[datetime, list[tuple[int, str]]] = defaultdict(list)
    for t in tasks:
        if t.state == TaskState.COMPLETED and t.completed_at is not None:
            moment = as_utc(t.completed_at)
            ended_at[moment].append((t.id, t.bpmn_id))
            hours = calendars.hours(agency_id, t.created_at, t.completed_at)
            tally.ended(
                version_id,
                agency_id,
                t.bpmn_id,
                t.completed_at,
                hours,
                is_late(t.timeliness, t.due_at, t.completed_at),
                t.group_id,
                t.completed_by_id,
            )
    for index, t in enumerate(tasks):
        before = tuple(b for task_id, b in ended_at.get(as_utc(t.created_at), []) if task_id != t.id)
        key = (version_id, before, index == 0 and not before, t.bpmn_id)
        if key not in chains:
            chains[key] = into_step(process, before, index == 0, t.bpmn_id)
        tally.taken(version_id, agency_id, t.created_at, chains[key])
    last = tasks[-1]
    if (
        head.closed_at is not None
        and last.state == TaskState.COMPLETED
        and last.completed_at is not None
        and as_utc(last.completed_at) == as_utc(head.closed_at)
    ):
        key = ("end", version_id, last.bpmn_id, head.status)
        if key not in chains:
            chains[key] = out_of_step(process, last.bpmn_id, head.status)
        tally.taken(version_id, agency_id, last.created_at, chains[key])
