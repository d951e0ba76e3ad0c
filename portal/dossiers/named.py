"""The officers a step names (camunda:assignee, camunda:candidateUsers) and the unit each one works in.

A step of named officers has no group (Task.role "@named"): whoever is told about it, reminded of it, or shown
as its unit is found here from the step's BPMN (the version's stored model) and the officers' own groups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.dossiers.access import APPLICANT_ROLE, NAMED_ROLE
from portal.extensions import db
from portal.models import Agency, Group, Membership, Task, User
from workflows.bpmn_model import StepSpec

Namer = Callable[[Any], str]  # a group's or agency's name, as the page wants it (Vietnamese, or localized)


def is_named_task(task: Task) -> bool:
    """A step of named officers only: no group takes it."""
    return task.group_id is None and task.role == NAMED_ROLE


def step_of(task: Task) -> StepSpec | None:
    """The task's step as the version's BPMN describes it (read from the stored model, not the engine)."""
    from portal.procedures.services import compiled  # the per-process parse, not the stored JSON each time

    return compiled(task.dossier.version).model.steps.get(task.bpmn_id)


def named_emails(step: StepSpec | None) -> list[str]:
    """The emails the step names (lower case, assignee first, each once)."""
    if step is None:
        return []
    wanted = [e.strip().lower() for e in [step.assignee or "", *step.candidate_users]]
    return list(dict.fromkeys(e for e in wanted if e))


def officers_by_email(emails: Iterable[str]) -> dict[str, User]:
    """Active officer accounts by lower-case email (an address nobody has is left out)."""
    wanted = [e.strip().lower() for e in emails if e.strip()]
    if not wanted:
        return {}
    stmt = select(User).where(func.lower(User.email).in_(wanted), User.kind == "officer", User.active)
    return {(u.email or "").lower(): u for u in db.session.scalars(stmt)}


def named_officers(step: StepSpec | None) -> list[User]:
    """The active officers the step names, in the file's order."""
    emails = named_emails(step)
    found = officers_by_email(emails)
    return [found[e] for e in emails if e in found]


def people_text(emails: Iterable[str]) -> str:
    """Named people, for administrators: "Trần Văn Minh (hotich@…)"; an address of no active officer account
    says so."""
    wanted = [e.strip().lower() for e in emails if e.strip()]
    found = officers_by_email(wanted)
    return ", ".join(
        f"{found[e].full_name} ({e})" if e in found else _("%(email)s (no active officer account)", email=e)
        for e in dict.fromkeys(wanted)
    )


def named_texts(step: StepSpec) -> dict[str, str]:
    """The step's camunda:assignee and camunda:candidateUsers as `people_text` words them ("" when unset)."""
    return {
        "assignee": people_text([step.assignee]) if step.assignee else "",
        "candidates": people_text(step.candidate_users),
    }


def _groups_of(user_id: int) -> list[Group]:
    stmt = (
        select(Group)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == user_id, Group.active)
        .options(joinedload(Group.agency))
        .order_by(Group.id)
    )
    return list(db.session.scalars(stmt).unique())


def officer_unit(user: User, agency: Agency, name: Namer) -> str:
    """Where an officer works, as seen from a dossier of `agency`: their groups there; else their first group
    and its agency; else the dossier's agency (an officer of no group acts for it)."""
    groups = _groups_of(user.id)
    here = [g for g in groups if g.agency_id == agency.id]
    if here:
        return ", ".join(dict.fromkeys(name(g) for g in here))
    if groups:
        return f"{name(groups[0])} – {name(groups[0].agency)}"
    return name(agency)


def task_unit(task: Task, name: Namer, applicant: str) -> str:
    """The unit that does (or did) a step: the applicant's words for theirs, the group, else the units of the
    named officer who holds or did it, or of every officer it names while nobody has taken it."""
    if task.role == APPLICANT_ROLE:
        return applicant
    if task.group is not None:
        return name(task.group)
    agency = task.dossier.agency
    holder = task.completed_by or task.assignee
    people = [holder] if holder is not None else named_officers(step_of(task))
    return ", ".join(dict.fromkeys(officer_unit(p, agency, name) for p in people))
