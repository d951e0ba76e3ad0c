"""The inbox: which tasks an officer sees on each tab, filtered, sorted and paged on the tasks' indexes.

Every query starts from the officer's groups and the steps that name them (`Scope`), so a task of another group
never appears. The tabs map
to the national one-stop-shop queues: new (reception), in process, supplement requested (read-only while the
citizen answers), due soon, overdue, finished; leaders also get their agency's open tasks, to reassign them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context
from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.orm import aliased

from portal.core.cache import ProcessCache
from portal.core.time import utcnow
from portal.dossiers.access import NAMED_ROLE
from portal.extensions import db
from portal.models import Agency, Dossier, Group, Membership, Procedure, ProcedureVersion, Status, Task, TaskState, User
from portal.sla.services import calendar_for
from workflows.bpmn_model import read_model

from .timeleft import TimeLeft, time_left

TABS = ("new", "in_process", "supplement", "due_soon", "overdue", "finished")
LEADER_TABS = ("agency",)
SORTS = ("due", "-due", "created", "-created", "received", "-received")
MAX_PAGE = 2000  # offset pagination: deeper pages are better reached with a filter
RECEPTION = "reception"


@dataclass(frozen=True)
class Scope:
    """What an officer may see: their groups, those groups' agencies, the agencies they lead, and the steps
    that name them (camunda:assignee, camunda:candidateUsers) as (procedure version id, BPMN step id)."""

    user_id: int
    group_ids: tuple[int, ...]
    agency_ids: tuple[int, ...]
    leader_agency_ids: tuple[int, ...]
    named_steps: tuple[tuple[int, str], ...] = ()
    holds_named: bool = False  # a leader handed me a step of named officers (it names someone else)

    @property
    def is_leader(self) -> bool:
        return bool(self.leader_agency_ids)


# (user id, email, newest version id, number of versions) -> the steps naming that officer. Versions never change
# once stored, so a new upload (a new newest id or count) is the only thing that can make an entry stale.
_named_steps: ProcessCache[tuple[tuple[int, str], ...]] = ProcessCache()


def named_steps(user: User, versions: tuple[int | None, int]) -> tuple[tuple[int, str], ...]:
    """(version id, step id) of every step whose camunda:assignee or camunda:candidateUsers names the officer;
    `versions` is (newest version id, number of versions), read by the caller."""
    email = (user.email or "").strip().lower()
    if not email or not user.is_officer:
        return ()
    newest, count = versions
    return _named_steps.get_or_build((user.id, email, newest, count), lambda: _find_named_steps(email))


def _find_named_steps(email: str) -> tuple[tuple[int, str], ...]:
    # Only files that name people at all are read (the words are those of the Camunda and Activiti attributes).
    naming = or_(ProcedureVersion.bpmn_xml.contains("ssignee"), ProcedureVersion.bpmn_xml.contains("andidateUsers"))
    found = []
    for version_id, xml in db.session.execute(select(ProcedureVersion.id, ProcedureVersion.bpmn_xml).where(naming)):
        model = read_model(xml.encode("utf-8"))
        found += [(version_id, step.id) for step in model.steps.values() if step.names(email)]
    return tuple(sorted(found))


def scope_of(user: User) -> Scope:
    """The officer's scope, read once per request (the task and dossier pages ask several times)."""
    if not has_request_context():
        return _read_scope(user)
    scopes: dict[int, Scope] = g.setdefault("inbox_scopes", {})
    if user.id not in scopes:
        scopes[user.id] = _read_scope(user)
    return scopes[user.id]


def _read_scope(user: User) -> Scope:
    rows: list[Any] | None = user.loaded_groups()
    if rows is None:
        rows = list(
            db.session.execute(
                select(Group.id, Group.agency_id, Group.is_leadership)
                .join(Membership, Membership.group_id == Group.id)
                .where(Membership.user_id == user.id, Group.active)
            )
        )
    # One statement for what the named steps depend on: the versions stored (a new upload may name the officer)
    # and whether the officer holds, or held, a step of named officers (one a leader handed them included).
    held = select(Task.id).where(Task.assignee_id == user.id, Task.role == NAMED_ROLE).exists()
    newest, count, holds = db.session.execute(
        select(func.max(ProcedureVersion.id), func.count(ProcedureVersion.id), held)
    ).one()
    return Scope(
        user_id=user.id,
        group_ids=tuple(sorted({r.id for r in rows})),
        agency_ids=tuple(sorted({r.agency_id for r in rows})),
        leader_agency_ids=tuple(sorted({r.agency_id for r in rows if r.is_leadership})),
        named_steps=named_steps(user, (newest, count)),
        holds_named=bool(holds),
    )


def _named(scope: Scope) -> Any | None:
    """Tasks of the steps that name me (the query joins Dossier), and steps of named officers a leader handed to
    me; None when there are none."""
    named = [and_(Dossier.procedure_version_id == v, Task.bpmn_id == step) for v, step in scope.named_steps]
    if scope.holds_named:
        named.append(and_(Task.role == NAMED_ROLE, Task.assignee_id == scope.user_id))
    return or_(*named) if named else None


def _mine(scope: Scope) -> Any:
    """Tasks of my groups, and tasks of the steps that name me."""
    mine = Task.group_id.in_(scope.group_ids)
    named = _named(scope)
    return mine if named is None else or_(mine, named)


def _named_agency_ids(scope: Scope, *where: Any) -> set[int]:
    """The agencies of the dossiers whose steps name me (and meet `where`): an officer a step names may have no
    group in the dossier's agency."""
    named = _named(scope)
    if named is None:
        return set()
    stmt = select(Dossier.agency_id).join(Task, Task.dossier_id == Dossier.id).where(named, *where)
    return set(db.session.scalars(stmt.distinct()))


def _agency_ids(scope: Scope, *where: Any) -> list[int]:
    """My groups' agencies, and those of the dossiers whose steps (meeting `where`) name me."""
    return sorted(set(scope.agency_ids) | _named_agency_ids(scope, *where))


def default_tab(scope: Scope) -> str:
    """The tab an officer opens on: new dossiers when some wait to be received, else the steps in process (a
    specialist or leader never receives, so "new" would always greet them empty)."""
    waiting = select(Task.id).where(_mine(scope), Task.state == TaskState.READY, Task.kind == RECEPTION)
    if scope.named_steps:  # they are told apart by the dossier's version
        waiting = waiting.join(Dossier, Dossier.id == Task.dossier_id)
    return "new" if db.session.scalar(waiting.limit(1)) is not None else "in_process"


@dataclass
class InboxFilters:
    tab: str = "new"
    procedure_id: int | None = None
    status: int | None = None
    due_before: date | None = None
    mine: bool = False
    sort: str = "due"
    page: int = 1


@dataclass
class InboxRow:
    task_id: int
    dossier_id: int
    code: str
    procedure: str
    applicant: str
    step: str
    status: int
    received_at: datetime | None
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    outcome: str | None
    timeliness: str | None
    assignee_id: int | None
    assignee: str | None
    group_id: int | None
    left: TimeLeft | None = None


@dataclass
class InboxPage:
    rows: list[InboxRow]
    filters: InboxFilters
    has_next: bool
    page_size: int


def _columns(english: bool) -> Select[*tuple[Any, ...]]:
    applicant = aliased(User, name="applicant")
    assignee = aliased(User, name="assignee")
    procedure_name = Procedure.name_en if english else Procedure.name
    return (
        select(
            Task.id.label("task_id"),
            Task.dossier_id,
            Dossier.code,
            procedure_name.label("procedure"),
            Procedure.name.label("procedure_vi"),
            applicant.full_name.label("applicant"),
            Task.name.label("step"),
            Dossier.status,
            Dossier.received_at,
            Task.created_at,
            Task.due_at,
            Task.completed_at,
            Task.outcome,
            Task.timeliness,
            Task.assignee_id,
            assignee.full_name.label("assignee"),
            Task.group_id,
            Dossier.agency_id,
        )
        .join(Dossier, Dossier.id == Task.dossier_id)
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .join(applicant, applicant.id == Dossier.applicant_id)
        # who did a finished step (they may never have claimed it), else who holds an open one
        .outerjoin(assignee, assignee.id == func.coalesce(Task.completed_by_id, Task.assignee_id))
    )


def _due_soon_bound(scope: Scope, now: datetime) -> Any:
    """Open tasks due within the next N working hours, N counted on each agency's own calendar."""
    hours = float(current_app.config.get("INBOX_DUE_SOON_HOURS", 8))
    open_named = (Task.state == TaskState.READY, Task.due_at >= now)
    agencies = db.session.scalars(select(Agency).where(Agency.id.in_(_agency_ids(scope, *open_named)))).all()
    clauses = []
    for agency in agencies:
        bound = calendar_for(agency).add_working_time(now, hours)
        clauses.append(and_(Dossier.agency_id == agency.id, Task.due_at <= bound))
    return or_(*clauses) if clauses else false()


def _tab_condition(tab: str, scope: Scope, now: datetime) -> Any:
    mine = _mine(scope)
    ready = and_(mine, Task.state == TaskState.READY)
    if tab == "new":
        return and_(ready, Task.kind == RECEPTION)
    if tab == "in_process":
        return and_(ready, or_(Task.kind.is_(None), Task.kind != RECEPTION))
    if tab == "due_soon":
        return and_(ready, Task.due_at >= now, _due_soon_bound(scope, now))
    if tab == "overdue":
        return and_(ready, Task.due_at < now)
    if tab == "finished":
        return and_(mine, Task.state == TaskState.COMPLETED)
    if tab == "supplement":
        # Read-only: the steps of my groups that asked, while their dossier waits for the citizen. The request
        # still waiting is the one made when the clock stopped (sla_paused_at is set in that same step), so
        # earlier rounds drop out without a correlated subquery. Walked newest request first on
        # ix_dossiers_agency_status_paused, one task lookup per waiting dossier.
        return and_(
            Dossier.agency_id.in_(_agency_ids(scope, Dossier.status == Status.SUPPLEMENT)),
            Dossier.status == Status.SUPPLEMENT,
            mine,
            Task.state == TaskState.COMPLETED,
            Task.outcome == "supplement",
            Task.completed_at >= Dossier.sla_paused_at,
        )
    if tab == "agency" and scope.is_leader:
        led = select(Group.id).where(Group.agency_id.in_(scope.leader_agency_ids))
        named = and_(Task.role == NAMED_ROLE, Dossier.agency_id.in_(scope.leader_agency_ids))
        return and_(or_(Task.group_id.in_(led), named), Task.state == TaskState.READY)
    return false()


def _order(tab: str, sort: str) -> list[Any]:
    if tab == "finished" and sort in ("due", "-due"):
        return [Task.completed_at.desc(), Task.id.desc()]
    if tab == "supplement":  # newest request first, the order _supplement_rows walks the dossiers in
        return [Dossier.sla_paused_at.desc(), Dossier.id.desc(), Task.id.desc()]
    column = {"due": Task.due_at, "created": Task.created_at, "received": Dossier.received_at}[sort.lstrip("-")]
    # Explicit NULL placement: the same order on SQLite and PostgreSQL, and PostgreSQL can walk the index.
    if sort.startswith("-"):
        return [column.desc().nulls_first(), Task.id.desc()]
    return [column.asc().nulls_last(), Task.id.asc()]


def end_of_day_utc(day: date) -> datetime:
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _filtered(stmt: Select[Any], scope: Scope, filters: InboxFilters, now: datetime) -> Select[Any]:
    stmt = stmt.where(_tab_condition(filters.tab, scope, now))
    if filters.procedure_id is not None:
        versions = select(ProcedureVersion.id).where(ProcedureVersion.procedure_id == filters.procedure_id)
        stmt = stmt.where(Dossier.procedure_version_id.in_(versions))
    if filters.status is not None:
        stmt = stmt.where(Dossier.status == filters.status)
    if filters.due_before is not None:
        stmt = stmt.where(Task.due_at < end_of_day_utc(filters.due_before))
    if filters.mine:
        stmt = stmt.where(Task.assignee_id == scope.user_id)
    return stmt.order_by(*_order(filters.tab, filters.sort))


def inbox_query(scope: Scope, filters: InboxFilters, now: datetime, english: bool = False) -> Select[Any]:
    """The tab's rows with everything a row shows."""
    return _filtered(_columns(english), scope, filters, now)


def inbox_ids_query(scope: Scope, filters: InboxFilters, now: datetime) -> Select[Any]:
    """Only the tab's task ids, in order: walking the index for a page (and skipping the rows of earlier pages)
    touches tasks and dossiers alone; the other tables are joined for the 26 rows found (a "deferred join")."""
    stmt = select(Task.id)
    if _needs_dossier(scope, filters):
        stmt = stmt.join(Dossier, Dossier.id == Task.dossier_id)
    return _filtered(stmt, scope, filters, now)


def _needs_dossier(scope: Scope, filters: InboxFilters) -> bool:
    """Whether the tab's condition, filters or order read the dossier. Most tabs of most officers do not: their
    page is then walked on the tasks' index alone, without a dossier lookup per skipped row (deep pages)."""
    return (
        filters.tab in ("due_soon", "supplement", "agency")
        or bool(scope.named_steps)  # told apart by the dossier's version
        or filters.procedure_id is not None
        or filters.status is not None
        or filters.sort.lstrip("-") == "received"
    )


def procedures_of(scope: Scope, english: bool = False) -> list[tuple[int, str]]:
    """The procedures of my agencies and those whose steps name me, for the inbox filter."""
    named = select(ProcedureVersion.procedure_id).where(ProcedureVersion.id.in_({v for v, _s in scope.named_steps}))
    if not scope.agency_ids and not scope.named_steps:
        return []
    rows = db.session.execute(
        select(Procedure.id, Procedure.name, Procedure.name_en)
        .where(or_(Procedure.agency_id.in_(scope.agency_ids), Procedure.id.in_(named)))
        .order_by(Procedure.name)
    ).all()
    return [(r.id, (r.name_en if english and r.name_en else r.name)) for r in rows]


def inbox_page(scope: Scope, filters: InboxFilters, *, now: datetime | None = None, english: bool = False) -> InboxPage:
    """One page of the tab: offset pagination on an indexed order, one row more to know if a next page exists."""
    now = now or utcnow()
    size = int(current_app.config.get("INBOX_PAGE_SIZE", 25))
    page = min(max(filters.page, 1), MAX_PAGE)
    if filters.tab == "supplement":
        found = _supplement_rows(scope, filters, now, english, page * size + 1)[(page - 1) * size :]
    else:
        ids = list(db.session.scalars(inbox_ids_query(scope, filters, now).limit(size + 1).offset((page - 1) * size)))
        position = {task_id: i for i, task_id in enumerate(ids)}
        found = list(db.session.execute(_columns(english).where(Task.id.in_(ids)))) if ids else []
        found.sort(key=lambda r: position[r.task_id])
    calendars = _calendars({r.agency_id for r in found})
    rows = []
    for r in found[:size]:
        row = InboxRow(**{k: v for k, v in r._mapping.items() if k not in ("agency_id", "procedure_vi")})
        row.procedure = row.procedure or r.procedure_vi
        if r.due_at is not None and r.completed_at is None:
            row.left = time_left(calendars[r.agency_id], now, r.due_at)
        rows.append(row)
    return InboxPage(rows, filters, len(found) > size, size)


SUPPLEMENT_CHUNK = 500


def _supplement_rows(scope: Scope, filters: InboxFilters, now: datetime, english: bool, want: int) -> list[Any]:
    """The supplement tab in two steps, so the cost stays that of one page however many dossiers wait: walk the
    agency's waiting dossiers newest request first on ix_dossiers_agency_status_paused (narrow index rows),
    and look up the requests of my groups for one chunk of them at a time until the page is full."""
    waiting = (
        select(Dossier.id)
        .where(Dossier.agency_id.in_(_agency_ids(scope, Dossier.status == Status.SUPPLEMENT)))
        .where(Dossier.status == Status.SUPPLEMENT)
        .order_by(Dossier.sla_paused_at.desc(), Dossier.id.desc())
    )
    rows: list[Any] = []
    offset = 0
    while len(rows) < want:
        chunk = list(db.session.scalars(waiting.limit(SUPPLEMENT_CHUNK).offset(offset)))
        if not chunk:
            break
        stmt = inbox_query(scope, filters, now, english).where(Task.dossier_id.in_(chunk))
        rows += db.session.execute(stmt).all()
        offset += SUPPLEMENT_CHUNK
    return rows[:want]


def _calendars(agency_ids: set[int]) -> dict[int, Any]:
    if not agency_ids:
        return {}
    agencies = db.session.scalars(select(Agency).where(Agency.id.in_(agency_ids))).all()
    return {a.id: calendar_for(a) for a in agencies}
