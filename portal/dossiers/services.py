"""Operations on dossiers: submit, complete a step, withdraw, fire due timers.

Each operation locks the dossier (SELECT … FOR UPDATE, plus the optimistic `lock_version` check), loads its
workflow, runs it, and brings our tables in line, all inside the caller's transaction. Services flush; the
request or the Celery task commits, or rolls back on error, so a failure leaves the last saved state as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ScalarSelect, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from forms.builder import validate_data
from portal.attachments.services import claim, parse_ids
from portal.core.errors import Conflict, InvalidInput, NotAllowed, NotFound, ServiceError
from portal.core.time import utcnow
from portal.dossiers.access import named_in_step
from portal.dossiers.codes import new_tracking_secret, next_dossier_code
from portal.dossiers.runtime import APPLICANT_ROLE, DossierRun
from portal.extensions import db
from portal.incidents.services import jsonable, step_failed
from portal.models import Channel, Dossier, DossierEvent, ProcedureVersion, Status, Task, TaskState, User
from portal.procedures.services import compiled
from workflows.bpmn_model import StepSpec
from workflows.engine import EngineError, Instance, ReadyStep, computes_fee

# Statuses from which the citizen may still withdraw.
WITHDRAWABLE = frozenset({Status.NEW, Status.RECEIVED, Status.IN_PROCESS, Status.SUPPLEMENT, Status.FINANCIAL})


def lock_dossier(dossier_id: int | ScalarSelect[int]) -> Dossier:
    """Load the dossier, its version, procedure and agency in one query, holding a lock on the dossier row only.

    `FOR UPDATE OF dossiers`: locking the joined procedure or agency rows would serialise every dossier of them.
    """
    stmt = (
        select(Dossier)
        .where(Dossier.id == dossier_id)
        .options(
            joinedload(Dossier.version, innerjoin=True).joinedload(ProcedureVersion.procedure, innerjoin=True),
            joinedload(Dossier.agency, innerjoin=True),
        )
        .with_for_update(of=Dossier)
        .execution_options(populate_existing=True)
    )
    dossier = db.session.scalar(stmt)
    if dossier is None:
        raise NotFound(_("No such dossier."))
    return dossier


def _waiting_tasks(dossier: Dossier, task_id: int | None = None) -> list[Task]:
    """The dossier's waiting steps (and step `task_id`, whatever its state), read *after* the lock.

    This must be its own statement: on PostgreSQL a SELECT … FOR UPDATE that waited for another transaction
    re-reads the locked row but not rows joined to it, which would still show the step as waiting.
    """
    wanted = Task.state == TaskState.READY
    if task_id is not None:
        wanted = or_(wanted, Task.id == task_id)
    stmt = select(Task).where(Task.dossier_id == dossier.id, wanted).execution_options(populate_existing=True)
    return list(db.session.scalars(stmt))


def submit_step(version: ProcedureVersion) -> StepSpec:
    model = compiled(version).model
    for step in model.steps.values():
        if step.kind == "submit":
            return step
    raise ServiceError(_("This procedure has no application form."))


# A decision that turns the citizen away or asks more of them must say why (DOMAIN: no refusal without reasons).
REASON_REQUIRED = frozenset({"supplement", "refuse", "reject"})


def _validated(step: StepSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    clean, errors = validate_data(step.form, data)
    if isinstance(clean.get("reason"), str):
        clean["reason"] = clean["reason"].strip()
    if not errors and clean.get("decision") in REASON_REQUIRED and "reason" in clean and not clean["reason"]:
        errors = {"reason": [_("Please give the reason for this decision.")]}
    if errors:
        raise InvalidInput(_("Please correct the highlighted fields."), errors)
    return clean


def _claim_files(step: StepSpec, clean: dict[str, Any], actor: User, dossier: Dossier) -> None:
    """File fields name uploaded attachments; they join the dossier with the step."""
    _parse_files(step, clean)
    for field in step.form:
        if field.widget == "file":
            claim(clean[field.id], actor, dossier, field.id)


def _parse_files(step: StepSpec, clean: dict[str, Any]) -> None:
    """File fields become lists of attachment ids, as the process data keeps them."""
    for field in step.form:
        if field.widget == "file" and not isinstance(clean.get(field.id), list):
            clean[field.id] = parse_ids(clean.get(field.id))


def submit_dossier(
    version: ProcedureVersion,
    applicant: User,
    data: Mapping[str, Any],
    *,
    channel: int = Channel.ONLINE,
    origin: str | None = None,
    now: datetime | None = None,
) -> Dossier:
    """File a new dossier: validate the application form, start the process and complete its first step.

    The procedure's code (scripts, conditions) runs first, on the new dossier in memory, before any row is
    written: the agency's code counter, whose row lock every submission to the agency needs, is taken only
    after it, so a slow or runaway script never holds up another person's submission.
    """
    if version.status != "published":
        raise NotAllowed(_("This version of the procedure is not open for applications."))
    now = now or utcnow()
    step = submit_step(version)
    clean = _validated(step, data)
    procedure = version.procedure
    process = compiled(version)
    # A fee its decision table computes is not known yet: the table runs when the dossier reaches its business
    # rule step (for household business, after approval), on the dossier's data as it is then, and the portal
    # runs such user code only inside the engine's step. So the dossier holds no amount until that step writes
    # one (DossierRun.sync), and receipts state the catalogue fee as the fee schedule, not as the amount due.
    fee = None if computes_fee(process) else procedure.fee
    dossier = Dossier(
        tracking_secret=new_tracking_secret(),
        procedure_version_id=version.id,
        agency_id=procedure.agency_id,
        applicant_id=applicant.id,
        status=Status.NEW,
        channel=channel,
        origin=origin,
        form_data=clean,
        created_at=now,
        submitted_at=now,
        fee=fee,
    )
    with db.session.no_autoflush:
        dossier.version, dossier.agency = version, procedure.agency  # transient: not in the session yet
        _parse_files(step, clean)
        run = DossierRun(dossier, process, now, applicant)
        retry = {"procedure_id": procedure.id, "applicant_id": applicant.id, "data": jsonable(data)}
        first = _start(run, step, clean, retry)
        dossier.code = next_dossier_code(procedure.agency, now)  # the counter's lock is held from here to commit
        db.session.add(dossier)
    db.session.flush()
    with db.session.no_autoflush:
        _claim_files(step, clean, applicant, dossier)
        dossier.form_data = clean
        task = run.open_task(first)
        _record_step(run, task, clean, applicant, "submit")
        run.event("submitted", note=None, data={"code": dossier.code, "channel": channel})
    db.session.flush()
    return dossier


def _start(run: DossierRun, step: StepSpec, clean: dict[str, Any], retry: dict[str, Any]) -> ReadyStep:
    """Start the process and complete its application form, in memory only; the form step as it was ready."""
    instance = run.new_instance()
    if step.id in run.model.start_forms:  # Camunda's start form: the data goes in as the process starts
        started: list[ReadyStep] = []
        _run_engine(lambda: started.append(instance.start(step.id, clean)), run, "submit", retry)
        return started[0]
    _run_engine(instance.run, run, "submit", retry)
    first = next((s for s in instance.ready_steps() if s.bpmn_id == step.id), None)
    if first is None:
        raise ServiceError(_("The process did not start at its application form."))
    _run_engine(lambda: instance.complete(first.spiff_id, clean), run, "submit", retry)
    return first


def complete_task(task_id: int, actor: User, data: Mapping[str, Any], *, now: datetime | None = None) -> Dossier:
    """An officer (or the citizen, for their own steps) completes a waiting step with its form data."""
    try:
        return _complete_task(task_id, actor, data, now or utcnow())
    except StaleDataError:
        # SQLite has no row locks: the optimistic lock_version check caught a concurrent change. The session
        # is unusable after it, so roll back here and say who got there first.
        db.session.rollback()
        raise _already_handled(db.session.get(Task, task_id)) from None


def _complete_task(task_id: int, actor: User, data: Mapping[str, Any], now: datetime) -> Dossier:
    try:
        dossier = lock_dossier(select(Task.dossier_id).where(Task.id == task_id).scalar_subquery())
    except NotFound:
        raise NotFound(_("No such task.")) from None
    tasks = _waiting_tasks(dossier, task_id)  # another officer may have just finished it
    task = next(t for t in tasks if t.id == task_id)
    if task.state != TaskState.READY:
        raise _already_handled(task)
    check_can_act(task, actor)
    with db.session.no_autoflush:  # one flush at the end: the inserts go to the database in batches
        run = DossierRun(dossier, compiled(dossier.version), now, actor, tasks)
        step = run.step_spec(task.bpmn_id)
        clean = _validated(step, data)
        _claim_files(step, clean, actor, dossier)
        run.load_instance()
        retry = {"task_id": task.id, "actor_id": actor.id, "data": jsonable(data)}
        _run_engine(lambda: run.instance.complete(task.spiff_task_id, clean), run, "complete_task", retry)
        _record_step(run, task, clean, actor, "complete_task")
    db.session.flush()
    return dossier


def _record_step(run: DossierRun, task: Task, clean: dict[str, Any], actor: User, operation: str) -> None:
    """Record a step the engine has just completed, and everything it set off."""
    step = run.step_spec(task.bpmn_id)
    task.state = TaskState.COMPLETED
    task.completed_at = run.now
    task.completed_by_id = actor.id
    task.outcome = clean.get("decision")
    task.reason = clean.get("reason") or None
    task.comment = clean.get("comment") or None
    if task.due_at is not None:
        task.timeliness = run.calendar.classify(run.now, task.due_at).value
    run.event(
        "step_completed",
        step=step,
        note=task.reason,
        data={"outcome": task.outcome, "timeliness": task.timeliness},
    )
    if step.kind == "reception" and clean.get("decision", "accept") == "accept":
        run.receive()
        from portal.docstore.services import keep_accepted  # the applicant's store: verified by this officer

        keep_accepted(run.dossier, actor, run.now)
    elif step.kind == "apology":
        run.apologise(clean["new_appointment"], clean.get("reason"))
    _sync(run, operation)


def _sync(run: DossierRun, operation: str, retry: dict[str, Any] | None = None) -> None:
    _run_engine(run.sync, run, operation, retry)


def _run_engine(action: Any, run: DossierRun, operation: str, retry: dict[str, Any] | None = None) -> None:
    """Run the procedure's code; its failure (an error, or a time or memory budget exceeded) becomes a plain
    `StepFailed` that says nothing of the engine and carries what an incident and a retry need."""
    try:
        action()
    except EngineError as exc:
        dossier = run.dossier
        # A failed submission leaves no dossier behind: its incident names none.
        dossier_id = None if operation == "submit" else dossier.id
        raise step_failed(
            exc, operation=operation, version_id=dossier.procedure_version_id, dossier_id=dossier_id, retry=retry
        ) from exc


def _already_handled(task: Task | None) -> Conflict:
    who = task.completed_by.full_name if task is not None and task.completed_by else None
    if task is not None and task.state == TaskState.CANCELLED:
        return Conflict(_("This step is no longer waiting: the dossier moved on."))
    if who:
        return Conflict(_("This step was already handled by %(name)s.", name=who))
    return Conflict(_("This step was already handled by someone else."))


def check_can_act(task: Task, actor: User) -> None:
    """The applicant does their own steps; officers do the steps of their groups and the steps that name them
    (camunda:assignee, camunda:candidateUsers)."""
    if task.role == APPLICANT_ROLE:
        if task.assignee_id != actor.id:
            raise NotAllowed(_("Only the applicant can do this step."))
        return
    member = task.group_id is not None and task.group_id in actor.group_ids()
    if not member and not named_in_step(actor, task):
        if task.group_id is None:
            raise NotAllowed(_("This step is assigned to named officers; you are not one of them."))
        raise NotAllowed(_("This step belongs to a group you are not a member of."))
    if task.assignee_id is not None and task.assignee_id != actor.id:
        raise NotAllowed(_("This step is claimed by another officer."))


def withdraw_dossier(dossier_id: int, actor: User, reason: str, *, now: datetime | None = None) -> Dossier:
    """The citizen withdraws: the process is cancelled and every waiting step closed."""
    now = now or utcnow()
    dossier = lock_dossier(dossier_id)
    if dossier.applicant_id != actor.id:
        raise NotAllowed(_("Only the applicant can withdraw this dossier."))
    if dossier.status not in WITHDRAWABLE:
        raise ServiceError(_("This dossier can no longer be withdrawn."))
    if not reason or not reason.strip():
        raise InvalidInput(_("Please give a reason."), {"reason": [_("This field is required.")]})
    run = DossierRun(dossier, compiled(dossier.version), now, actor, _waiting_tasks(dossier))
    run.load_instance()
    retry = {"actor_id": actor.id, "reason": reason.strip()}
    _run_engine(run.instance.cancel, run, "withdraw", retry)
    run.set_status(Status.WITHDRAWN, note=reason.strip())
    run.close(now)
    _sync(run, "withdraw", retry)
    db.session.flush()
    return dossier


def complete_external(
    dossier_id: int,
    spiff_task_id: str,
    outputs: Mapping[str, Any],
    *,
    now: datetime | None = None,
    job_id: int | None = None,
) -> Dossier | None:
    """A service task's handler has run: complete the task with its outputs under the dossier's lock and let the
    process go on (next steps, status, notifications), as an officer's step does. None when the dossier no
    longer waits at that task (withdrawn, moved on by a boundary event): there is nothing to complete."""
    now = now or utcnow()
    dossier = lock_dossier(dossier_id)
    if dossier.is_ended:
        return None
    run = DossierRun(dossier, compiled(dossier.version), now, None, _waiting_tasks(dossier))
    instance = run.load_instance()
    step = next((s for s in instance.ready_external() if s.spiff_id == spiff_task_id), None)
    if step is None:
        return None
    spec = run.model.external.get(step.bpmn_id)
    if spec is not None and spec.outputs:  # declared outputs (camunda:outputParameter): only these are kept
        outputs = {k: v for k, v in outputs.items() if k in spec.outputs}
    retry = {"job_id": job_id, "spiff_task_id": spiff_task_id}  # an administrator's retry runs the job again
    with db.session.no_autoflush:
        _run_engine(lambda: instance.complete(spiff_task_id, dict(outputs)), run, "external", retry)
        where = StepSpec(step.bpmn_id, step.name, None, None, None, None, [], 0)
        run.event("external_completed", step=where, data={"outputs": sorted(outputs)})
        _sync(run, "external", retry)
    db.session.flush()
    return dossier


def due_timer_dossier_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Dossiers with a timer due; an index range scan on next_timer_at, never a scan of all dossiers."""
    now = now or utcnow()
    stmt = (
        select(Dossier.id)
        .where(Dossier.next_timer_at.is_not(None), Dossier.next_timer_at <= now)
        .order_by(Dossier.next_timer_at)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def fire_timers(dossier_id: int, *, now: datetime | None = None) -> bool:
    """Fire the dossier's due timers under its lock. False when nothing was due any more."""
    now = now or utcnow()
    dossier = lock_dossier(dossier_id)
    if dossier.is_ended or dossier.next_timer_at is None or dossier.next_timer_at > now:
        return False
    run = DossierRun(dossier, compiled(dossier.version), now, None, _waiting_tasks(dossier))
    instance: Instance = run.load_instance()
    _run_engine(instance.refresh_timers, run, "timer")
    _sync(run, "timer")
    db.session.flush()
    return True


def deliver_result(dossier_id: int, actor: User, *, online: bool, now: datetime | None = None) -> Dossier:
    """The applicant has received the result electronically (their first download of the signed result): a
    timeline line; for an online delivery, the desk's waiting return step (the one asking for `delivery_method`)
    completes as delivered online, so the dossier closes at status 10 (returned_at set once, by `close`).
    A paper result is still handed over at the desk, which completes that step itself. Flushes."""
    now = now or utcnow()
    dossier = lock_dossier(dossier_id)
    if actor.id != dossier.applicant_id:
        raise NotAllowed(_("Only the applicant can receive the result."))
    seen = select(DossierEvent.id).where(
        DossierEvent.dossier_id == dossier.id, DossierEvent.kind == "result_downloaded"
    )
    if db.session.scalar(seen.limit(1)) is not None:  # only the first download counts (checked under the lock)
        return dossier
    tasks = _waiting_tasks(dossier)
    with db.session.no_autoflush:
        run = DossierRun(dossier, compiled(dossier.version), now, actor, tasks)
        run.event("result_downloaded", note=_("The applicant downloaded the electronic result."))
        task = next(
            (
                t
                for t in tasks
                if t.state == TaskState.READY and any(f.id == "delivery_method" for f in run.step_spec(t.bpmn_id).form)
            ),
            None,
        )
        if online and task is not None:
            step = run.step_spec(task.bpmn_id)
            clean = _validated(step, {"delivery_method": "online", "receiver_name": actor.full_name})
            run.load_instance()
            _run_engine(lambda: run.instance.complete(task.spiff_task_id, clean), run, "deliver_result")
            _record_step(run, task, clean, actor, "deliver_result")
    db.session.flush()
    return dossier
