"""Incidents for administrators: the list (open first), one incident, retrying it, marking it resolved.

A retry repeats what failed. A timer is fired again for real: nobody is waiting to do it. A person's step
(an application, an officer's decision, a withdrawal) is not done again on their behalf: they may have done
it since, or changed their mind. The retry runs it once more with the data they sent, as a trial that is
always rolled back; if it now goes through, the incident is resolved and the administrator is told who must
do what again (their entries are kept: the application as a draft, the decision on the task's form).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from portal.core import audit
from portal.core.errors import Conflict, NotFound, ServiceError
from portal.core.time import utcnow
from portal.dossiers.services import complete_task, fire_timers, submit_dossier, withdraw_dossier
from portal.extensions import db
from portal.models import Dossier, Incident, IncidentState, Procedure, ProcedureVersion, Task, User
from portal.procedures.services import current_version

PAGE_SIZE = 50
PERSON_STEPS = frozenset({"submit", "complete_task", "withdraw"})


@dataclass
class IncidentRow:
    incident: Incident
    procedure: Procedure | None
    version: ProcedureVersion | None
    dossier_code: str | None


@dataclass
class IncidentPage:
    rows: list[IncidentRow]
    page: int
    pages: int
    total: int
    open_count: int


def _rows(stmt: Any) -> list[IncidentRow]:
    return [IncidentRow(i, p, v, code) for i, v, p, code in db.session.execute(stmt).all()]


def _base() -> Any:
    return (
        select(Incident, ProcedureVersion, Procedure, Dossier.code)
        .outerjoin(ProcedureVersion, ProcedureVersion.id == Incident.procedure_version_id)
        .outerjoin(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .outerjoin(Dossier, Dossier.id == Incident.dossier_id)
    )


def incidents_page(page: int = 1) -> IncidentPage:
    """Open incidents first, then the most recently seen."""
    total = db.session.scalar(select(func.count()).select_from(Incident)) or 0
    open_count = db.session.scalar(select(func.count()).where(Incident.state == IncidentState.OPEN)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    open_first = case((Incident.state == IncidentState.OPEN, 0), else_=1)
    stmt = (
        _base()
        .order_by(open_first, Incident.last_seen_at.desc(), Incident.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return IncidentPage(_rows(stmt), page, pages, total, open_count)


def get_incident(incident_id: int) -> IncidentRow:
    rows = _rows(_base().where(Incident.id == incident_id))
    if not rows:
        raise NotFound(_("There is no such incident."))
    return rows[0]


def is_trial(incident: Incident) -> bool:
    """A person's step is only tried again (rolled back), never done on their behalf."""
    return incident.operation in PERSON_STEPS


def retry_data(incident: Incident) -> dict[str, Any]:
    return dict((incident.detail or {}).get("retry") or {})


def rerun(incident: Incident) -> str:
    """Repeat what failed; what to tell the administrator when it goes through. Raises StepFailed when it
    fails again, another ServiceError when it cannot be repeated."""
    if incident.state != IncidentState.OPEN:
        raise ServiceError(_("This incident is already resolved."))
    data = retry_data(incident)
    runners = {
        "timer": _timer,
        "complete_task": _step,
        "submit": _submission,
        "withdraw": _withdrawal,
        "external": _external,
    }
    runner = runners.get(incident.operation)
    if runner is None:
        raise ServiceError(_("This kind of incident cannot be retried from here."))
    return runner(incident, data)


def _person(user_id: Any) -> User:
    person = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if person is None:
        raise ServiceError(_("The person who did this step no longer exists; nothing can be retried."))
    return person


def _dossier_code(incident: Incident) -> str:
    dossier = db.session.get(Dossier, incident.dossier_id) if incident.dossier_id else None
    return dossier.code if dossier is not None else "—"


def _timer(incident: Incident, _data: dict[str, Any]) -> str:
    if incident.dossier_id is None or not fire_timers(incident.dossier_id, now=utcnow()):
        return _("No timer of this dossier is due any more; nothing was left to do.")
    return _("The dossier's due timers fired and it moved on.")


def _external(incident: Incident, data: dict[str, Any]) -> str:
    """An external service task whose retries ran out: its handler runs once more, for real."""
    from portal.external.jobs import retry_now

    return retry_now(data.get("job_id"))


def _step(incident: Incident, data: dict[str, Any]) -> str:
    task = db.session.get(Task, data.get("task_id")) if isinstance(data.get("task_id"), int) else None
    if task is None:
        raise ServiceError(_("The step no longer exists; nothing can be retried."))
    actor = _person(data.get("actor_id"))
    name, code = task.name, _dossier_code(incident)
    try:
        complete_task(task.id, actor, data.get("data") or {})
    except Conflict:  # they (or a colleague) have done the step since: nothing is left to retry
        return _("Step %(step)s of dossier %(code)s was done since; nothing was left to do.", step=name, code=code)
    return _(
        "The step now goes through. %(name)s must do step %(step)s of dossier %(code)s again: it is still "
        "waiting for them.",
        name=actor.full_name,
        step=name,
        code=code,
    )


def _submission(incident: Incident, data: dict[str, Any]) -> str:
    procedure = db.session.get(Procedure, data.get("procedure_id")) if data.get("procedure_id") else None
    version = current_version(procedure) if procedure is not None else None
    if procedure is None or version is None:
        raise ServiceError(_("The procedure takes no applications now; nothing can be retried."))
    applicant = _person(data.get("applicant_id"))
    submit_dossier(version, applicant, data.get("data") or {})
    return _(
        "Applications now go through (version %(n)d). %(name)s must send their application for %(procedure)s "
        "again; what they entered is kept as a draft.",
        n=version.number,
        name=applicant.full_name,
        procedure=procedure.name,
    )


def _withdrawal(incident: Incident, data: dict[str, Any]) -> str:
    if incident.dossier_id is None:
        raise ServiceError(_("The dossier no longer exists; nothing can be retried."))
    actor = _person(data.get("actor_id"))
    withdraw_dossier(incident.dossier_id, actor, str(data.get("reason") or "-"))
    return _(
        "Withdrawing now goes through. %(name)s must withdraw dossier %(code)s again.",
        name=actor.full_name,
        code=_dossier_code(incident),
    )


def resolve(incident_id: int, actor: User, *, retried: bool) -> Incident:
    """Mark the incident resolved (after a retry that went through, or by hand), audited."""
    incident = db.session.get(Incident, incident_id, with_for_update=True)
    if incident is None:
        raise NotFound(_("There is no such incident."))
    if incident.state == IncidentState.OPEN:
        if incident.operation == "external" and not retried:  # giving up: the job is cancelled, never retried
            from portal.external.jobs import cancel_for_incident

            cancel_for_incident(incident.id)
        incident.state = IncidentState.RESOLVED
        incident.resolved_at = utcnow()
        incident.resolved_by_id = actor.id
        audit.record("incident.resolve", actor, incident, retried=retried, element=incident.element_id)
    db.session.flush()
    return incident


def record_failed_retry(incident_id: int, actor: User, reason: str) -> None:
    """An audit line for a retry that did not go through (the failure itself is counted on the incident)."""
    incident = db.session.get(Incident, incident_id)
    audit.record("incident.retry_failed", actor, incident, reason=reason[:200])
    db.session.flush()
