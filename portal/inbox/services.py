"""Claim, release and reassign tasks; officers' comments on dossiers. Services flush; the view commits.

Claiming is one conditional UPDATE (`… WHERE assignee_id IS NULL`): on PostgreSQL the row lock makes the second
of two simultaneous claims re-check the condition and find the task taken; on SQLite writes are serialised.
Either way exactly one officer gets the task and the other is told who has it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.core import audit
from portal.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from portal.core.sql import rows_changed
from portal.core.time import utcnow
from portal.dossiers.access import APPLICANT_ROLE, NAMED_ROLE, named_in_step
from portal.extensions import db
from portal.models import Dossier, DossierEvent, Group, Membership, Task, TaskState, User

MAX_COMMENT = 2000
MAX_BULK = 200


def _load(task_id: int, *, lock: bool = False) -> Task:
    stmt = select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update(of=Task)
    task = db.session.scalar(stmt)
    if task is None:
        raise NotFound(_("No such task."))
    return task


def _check_open_officer_task(task: Task) -> None:
    if task.role == APPLICANT_ROLE or (task.group_id is None and task.role != NAMED_ROLE):
        raise NotAllowed(_("This step is the applicant's; officers cannot take it."))
    if task.state != TaskState.READY:
        raise Conflict(_("This step is no longer waiting: it was already handled."))


def _load_visible(task_id: int, actor: User) -> Task:
    """The task, if the officer may see it (a task of their groups, one whose step names them, or one of an
    agency they lead). Any other task is "No such task.", word for word as a missing one: the answer must not
    tell which ids exist elsewhere."""
    task = _load(task_id)
    if task.group_id in actor.group_ids() or actor.is_admin or named_in_step(actor, task):
        return task
    if task_agency_id(task) in leader_agency_ids(actor):
        return task
    raise NotFound(_("No such task."))


def task_agency_id(task: Task) -> int | None:
    """The agency whose leaders oversee the task: its group's; for a step of named officers, its dossier's.
    None for the applicant's steps."""
    if task.group_id is not None:
        return db.session.scalar(select(Group.agency_id).where(Group.id == task.group_id))
    if task.role == NAMED_ROLE:
        return db.session.scalar(select(Dossier.agency_id).where(Dossier.id == task.dossier_id))
    return None


def claim_task(task_id: int, actor: User) -> Task:
    """Take a waiting task of one of my groups, or one whose step names me (camunda:assignee, candidateUsers).
    Conflict when another officer has it already."""
    task = _load_visible(task_id, actor)
    _check_open_officer_task(task)
    if task.group_id not in actor.group_ids() and not named_in_step(actor, task):
        if task.group_id is None:
            raise NotAllowed(_("This step is assigned to named officers; you are not one of them."))
        raise NotAllowed(_("This step belongs to a group you are not a member of."))
    if task.assignee_id == actor.id:
        return task
    changed = rows_changed(
        update(Task)
        .where(Task.id == task_id, Task.state == TaskState.READY, Task.assignee_id.is_(None))
        .values(assignee_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    task = _load(task_id)
    if changed != 1:
        if task.assignee_id == actor.id:  # the same officer's second click
            return task
        if task.assignee is not None:
            raise Conflict(_("This step was already claimed by %(name)s.", name=task.assignee.full_name))
        _check_open_officer_task(task)
    audit.record("task.claim", actor, task, dossier_id=task.dossier_id)
    db.session.flush()
    return task


def release_task(task_id: int, actor: User) -> Task:
    """Give a task I claimed back to my group."""
    task = _load_visible(task_id, actor)
    _check_open_officer_task(task)
    if task.assignee_id != actor.id:
        raise NotAllowed(_("Only the officer who claimed this step can release it."))
    db.session.execute(
        update(Task)
        .where(Task.id == task_id, Task.assignee_id == actor.id, Task.state == TaskState.READY)
        .values(assignee_id=None)
        .execution_options(synchronize_session=False)
    )
    task = _load(task_id)
    audit.record("task.release", actor, task, dossier_id=task.dossier_id)
    db.session.flush()
    return task


def leader_agency_ids(user: User) -> set[int]:
    rows = db.session.scalars(
        select(Group.agency_id)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == user.id, Group.is_leadership, Group.active)
    )
    return set(rows)


def is_member(user_id: int, group_id: int) -> bool:
    found = db.session.scalar(
        select(Membership.id).where(Membership.user_id == user_id, Membership.group_id == group_id)
    )
    return found is not None


@dataclass
class ReassignResult:
    tasks: list[Task]
    assignee: User | None


def reassign_tasks(task_ids: Iterable[int], actor: User, assignee_id: int | None) -> ReassignResult:
    """A leader hands one or many waiting tasks to a member of each task's group (None: back to the group); a
    step of named officers goes to an officer of its dossier's agency or one the step names (None: back to the
    officers it names).

    All or nothing: when one task cannot go to that person, nothing changes and every problem is listed.
    """
    ids = sorted(set(task_ids))
    if not ids:
        raise InvalidInput(_("Choose at least one task."), {"task_ids": [_("Choose at least one task.")]})
    if len(ids) > MAX_BULK:
        raise InvalidInput(_("Choose at most %(n)d tasks at once.", n=MAX_BULK))
    led = leader_agency_ids(actor)
    if not led:
        raise NotAllowed(_("Only a leader can reassign tasks."))
    assignee = db.session.get(User, assignee_id) if assignee_id is not None else None
    if assignee_id is not None and (assignee is None or not assignee.active or not assignee.is_officer):
        raise InvalidInput(_("Choose an officer."), {"assignee_id": [_("Choose an officer.")]})
    # Locked in id order, so two leaders reassigning overlapping sets cannot deadlock.
    tasks = list(
        db.session.scalars(
            select(Task)
            .where(Task.id.in_(ids))
            .order_by(Task.id)
            .with_for_update(of=Task)
            .execution_options(populate_existing=True)
        )
    )
    problems = _reassign_problems(ids, tasks, led, assignee)
    if problems:
        raise InvalidInput(_("No task was reassigned."), {"task_ids": problems})
    for task in tasks:
        previous = task.assignee_id
        task.assignee_id = assignee.id if assignee else None
        audit.record(
            "task.reassign", actor, task, dossier_id=task.dossier_id, previous=previous, assignee=task.assignee_id
        )
    db.session.flush()
    return ReassignResult(tasks, assignee)


def _reassign_problems(ids: list[int], tasks: list[Task], led: set[int], assignee: User | None) -> list[str]:
    # A task of another agency gets the same words as a missing one: no probing which ids exist.
    groups = {g.id: g for g in db.session.scalars(select(Group).where(Group.id.in_({t.group_id for t in tasks})))}
    led_tasks = [(t, g) for t in tasks if (g := groups.get(t.group_id or 0)) is not None and g.agency_id in led]
    named_tasks = [t for t in tasks if t.group_id is None and t.role == NAMED_ROLE and task_agency_id(t) in led]
    seen = {t.id for t, _group in led_tasks} | {t.id for t in named_tasks}
    problems = [_("Task %(id)s was not found.", id=i) for i in ids if i not in seen]
    for task in named_tasks:
        if task.state != TaskState.READY:
            problems.append(_("%(step)s (%(id)s) is no longer waiting.", step=task.name, id=task.id))
        elif assignee is not None and not (
            works_in(assignee.id, task.dossier.agency_id) or named_in_step(assignee, task)
        ):
            problems.append(
                _(
                    "%(name)s is neither an officer of %(agency)s nor named for %(step)s.",
                    name=assignee.full_name,
                    agency=task.dossier.agency.name,
                    step=task.name,
                )
            )
    for task, group in led_tasks:
        if task.state != TaskState.READY:
            problems.append(_("%(step)s (%(id)s) is no longer waiting.", step=task.name, id=task.id))
        elif assignee is not None and not is_member(assignee.id, group.id):
            problems.append(
                _(
                    "%(name)s is not a member of %(group)s, which does %(step)s.",
                    name=assignee.full_name,
                    group=group.name,
                    step=task.name,
                )
            )
    return problems


def works_in(user_id: int, agency_id: int) -> bool:
    """Whether the officer is a member of an active group of the agency."""
    found = db.session.scalar(
        select(Membership.id)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.user_id == user_id, Group.agency_id == agency_id, Group.active)
        .limit(1)
    )
    return found is not None


def reassign_candidates(agency_ids: Iterable[int]) -> list[tuple[User, Group]]:
    """Officers a leader may hand tasks to, with their groups, for the reassign menu."""
    rows = db.session.execute(
        select(User, Group)
        .join(Membership, Membership.user_id == User.id)
        .join(Group, Group.id == Membership.group_id)
        .where(Group.agency_id.in_(list(agency_ids)), Group.active, User.active)
        .order_by(Group.name, User.full_name)
    ).all()
    return [(r[0], r[1]) for r in rows]


def add_comment(dossier: Dossier, actor: User, text: str) -> DossierEvent:
    """An officer's note on the dossier's history (kind "comment"); for officers, not shown to the citizen."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Please write a comment."), {"text": [_("Please write a comment.")]})
    if len(text) > MAX_COMMENT:
        raise InvalidInput(
            _("Please keep the comment under %(n)d characters.", n=MAX_COMMENT),
            {"text": [_("Please keep the comment under %(n)d characters.", n=MAX_COMMENT)]},
        )
    event = DossierEvent(dossier_id=dossier.id, at=utcnow(), actor_id=actor.id, kind="comment", note=text)
    db.session.add(event)
    db.session.flush()
    return event
