"""What happens around each engine run of one dossier.

A `DossierRun` is built under the dossier's lock. After the engine has moved, `sync()` brings our tables in
line with it in the same transaction: Task rows for new and finished steps, the dossier status, the SLA clock
(paused while the citizen supplements), `next_timer_at`, timeline events, and the stored workflow state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.core.cache import ProcessCache
from portal.core.errors import ServiceError
from portal.dossiers.access import NAMED_ROLE
from portal.dossiers.signals import dossier_event
from portal.extensions import db
from portal.models import Dossier, DossierEvent, ExternalJob, Group, JobState, Status, Task, TaskState, User
from portal.sla.calendar import Span, WorkingCalendar
from portal.sla.services import calendar_for
from workflows.bpmn_model import DEFAULT_RETRY_CYCLE, ProcedureModel, StepSpec, retry_intervals
from workflows.engine import CompiledProcess, Instance, ReadyStep

APPLICANT_ROLE = "applicant"
FAR_FUTURE = "9999-12-31T00:00:00+00:00"
# (agency id, agency config_version, role) -> group id; see portal.core.cache for why this is safe.
_group_ids: ProcessCache[int] = ProcessCache()


class DossierRun:
    def __init__(
        self,
        dossier: Dossier,
        process: CompiledProcess,
        now: datetime,
        actor: User | None,
        open_tasks: list[Task] | None = None,
    ) -> None:
        self.dossier = dossier
        # The dossier's waiting steps, loaded once under the lock and kept current as steps open and close.
        self.open_tasks: list[Task] = list(open_tasks or [])
        self.process = process
        self.model: ProcedureModel = process.model
        self.procedure = dossier.version.procedure
        self.calendar: WorkingCalendar = calendar_for(dossier.agency)
        self.now = now
        self.actor = actor
        self._instance: Instance | None = None

    @property
    def instance(self) -> Instance:
        if self._instance is None:
            raise RuntimeError("the dossier's workflow was not loaded")  # a programming error, not user input
        return self._instance

    # -- the engine ----------------------------------------------------------------------------------

    def script_functions(self) -> dict[str, Callable[..., Any]]:
        """Per-dossier functions for timer and condition expressions (see docs/BPMN.md)."""
        return {"before_due": self.before_due, "after_start": self.after_start}

    def new_instance(self) -> Instance:
        self._instance = Instance.new(self.process, self.script_functions(), self.now)
        return self.instance

    def load_instance(self) -> Instance:
        self._instance = Instance.load(self.process, self.dossier.workflow_state, self.script_functions(), self.now)
        return self.instance

    def before_due(self, span: str) -> str:
        """The appointment minus `span` of working (or calendar) time, for apology timers."""
        d = self.dossier
        if d.received_at is None or d.appointment_at is None:
            return FAR_FUTURE
        hours = Span.parse(span, self.procedure.deadline_kind).hours(self.calendar.hours_per_day)
        if self.procedure.deadline_kind == "calendar":
            from datetime import timedelta

            return (d.appointment_at - timedelta(hours=hours)).astimezone(UTC).isoformat()
        total = self.deadline_span().hours(self.calendar.hours_per_day) + d.sla_paused_hours - hours
        return self.calendar.add_working_time(d.received_at, max(total, 0)).astimezone(UTC).isoformat()

    def after_start(self, span: str) -> str:
        hours = Span.parse(span, "working").hours(self.calendar.hours_per_day)
        return self.calendar.add_working_time(self.now, hours).astimezone(UTC).isoformat()

    def deadline_span(self) -> Span:
        return Span.parse(self.procedure.deadline, self.procedure.deadline_kind)

    # -- keeping our tables in line ------------------------------------------------------------------

    def sync(self) -> None:
        open_tasks = {t.spiff_task_id: t for t in self.open_tasks if t.state == TaskState.READY}
        ready = self.instance.ready_steps()
        ready_ids = {step.spiff_id for step in ready}
        for spiff_id, task in open_tasks.items():
            if spiff_id not in ready_ids:  # left by a boundary event, a cancel or another branch
                task.state = TaskState.CANCELLED
                task.completed_at = self.now
        for step in ready:
            if step.spiff_id not in open_tasks:
                self.open_task(step)
        if self.model.external:
            self.sync_external()
        fee = self.instance.data().get("fee")
        if isinstance(fee, int) and not isinstance(fee, bool):  # a DMN table may compute the fee
            self.dossier.fee = fee
        if self.instance.completed and not self.dossier.is_ended:
            self.finish()
        self.dossier.next_timer_at = None if self.dossier.is_ended else self.instance.next_timer_at()
        self.instance.compact()
        self.dossier.workflow_state = self.instance.dump()

    def sync_external(self) -> None:
        """An external job for each service task the process now waits at (run after commit, see
        portal/external); jobs of service tasks the process left (a withdrawal, a boundary event) are cancelled."""
        waiting = {step.spiff_id: step for step in self.instance.ready_external()}
        jobs = db.session.scalars(
            select(ExternalJob).where(
                ExternalJob.dossier_id == self.dossier.id, ExternalJob.state.in_(JobState.WAITING)
            )
        )
        known = set()
        for job in jobs:
            if job.spiff_task_id in waiting:
                known.add(job.spiff_task_id)
            else:
                job.state, job.finished_at, job.next_attempt_at = JobState.CANCELLED, self.now, None
        for spiff_id, step in waiting.items():
            if spiff_id in known:
                continue
            spec = self.model.external[step.bpmn_id]
            waits = retry_intervals(spec.retry_cycle) or retry_intervals(DEFAULT_RETRY_CYCLE) or []
            db.session.add(
                ExternalJob(
                    dossier_id=self.dossier.id,
                    procedure_version_id=self.dossier.procedure_version_id,
                    element_id=step.bpmn_id,
                    element_name=(spec.name or step.bpmn_id)[:255],
                    spiff_task_id=spiff_id,
                    topic=spec.topic,
                    state=JobState.PENDING,
                    attempts=0,
                    max_attempts=len(waits) + 1,
                    next_attempt_at=self.now,
                    created_at=self.now,
                )
            )
            where = StepSpec(step.bpmn_id, spec.name, None, None, None, None, [], spec.line)
            self.event("external_started", step=where, note=spec.topic, data={"topic": spec.topic})

    def _open_tasks(self) -> list[Task]:
        return list(
            db.session.scalars(select(Task).where(Task.dossier_id == self.dossier.id, Task.state == TaskState.READY))
        )

    def step_spec(self, bpmn_id: str, lane: str | None = None) -> StepSpec:
        spec = self.model.steps.get(bpmn_id)
        if spec is None:
            return StepSpec(bpmn_id, bpmn_id, lane or APPLICANT_ROLE, None, None, None, [], 0)
        return spec

    def open_task(self, step: ReadyStep) -> Task:
        spec = self.step_spec(step.bpmn_id, step.lane)
        rounds = (self.dossier.step_rounds or {}).get(step.bpmn_id, 0) + 1
        if rounds > self.procedure.max_rounds:
            raise ServiceError(
                _(
                    "Step %(step)s has been repeated %(n)d times, the most this procedure allows.",
                    step=spec.name,
                    n=self.procedure.max_rounds,
                )
            )
        task = Task(
            dossier_id=self.dossier.id,
            spiff_task_id=step.spiff_id,
            bpmn_id=step.bpmn_id,
            name=spec.name or step.name,
            role=spec.role or NAMED_ROLE,
            kind=spec.kind,
            round=rounds,
            created_at=self.now,
        )
        if spec.role == APPLICANT_ROLE:
            task.assignee_id = self.dossier.applicant_id
        elif spec.role is None and not spec.named:
            # validation refuses such a step; a version stored before that rule may have one
            raise ServiceError(_("Step %(step)s has no role, so nobody can take it.", step=spec.name))
        else:
            if spec.role is not None:
                task.group_id = self._group_id_for(spec.role)
            if spec.assignee:
                task.assignee_id = self._assignee_id(spec, has_group=spec.role is not None)
        if spec.allowance:
            task.due_at = self.calendar.due_for(self.now, Span.parse(spec.allowance, self.procedure.deadline_kind))
        db.session.add(task)
        self.open_tasks.append(task)
        # A new dict, so the JSON column sees the change.
        self.dossier.step_rounds = {**(self.dossier.step_rounds or {}), step.bpmn_id: rounds}
        self.event("step_started", step=spec, data={"due_at": task.due_at.isoformat() if task.due_at else None})
        if spec.status:
            self.set_status(spec.status, spec)
        return task

    def _group_id_for(self, role: str) -> int:
        agency = self.dossier.agency
        key = (agency.id, agency.config_version or 0, role)
        return _group_ids.get_or_build(key, lambda: self._find_group_id(role))

    def _assignee_id(self, spec: StepSpec, *, has_group: bool) -> int | None:
        """The officer camunda:assignee names (by email). One who left since the upload: a step of a group
        stays with the group, unclaimed; a step of named officers only cannot go on."""
        email = (spec.assignee or "").strip().lower()
        officer_id = db.session.scalar(
            select(User.id).where(func.lower(User.email) == email, User.kind == "officer", User.active)
        )
        if officer_id is None and not has_group:
            raise ServiceError(
                _(
                    "Step %(step)s is assigned to %(person)s, who is not an active officer.",
                    step=spec.name,
                    person=spec.assignee,
                )
            )
        return officer_id

    def _find_group_id(self, role: str) -> int:
        group_id = db.session.scalar(
            select(Group.id).where(Group.agency_id == self.dossier.agency_id, Group.role == role, Group.active)
        )
        if group_id is None:  # raised, not cached: the group may be created later
            raise ServiceError(
                _(
                    "The agency %(agency)s has no active group for the role %(role)s.",
                    agency=self.dossier.agency.code,
                    role=role,
                )
            )
        return group_id

    # -- status and the SLA clock --------------------------------------------------------------------

    def set_status(self, new: int, step: StepSpec | None = None, note: str | None = None) -> None:
        old = self.dossier.status
        if new == old:
            return
        if new in Status.CLOCK_PAUSED and self.dossier.sla_paused_at is None:
            self.dossier.sla_paused_at = self.now
        elif old in Status.CLOCK_PAUSED and new not in Status.CLOCK_PAUSED:
            self._resume_clock()
        self.dossier.status = new
        if new == Status.FINISHED:
            self._mark_finished()
        self.event("status", step=step, from_status=old, to_status=new, note=note)

    def _mark_finished(self) -> None:
        """Processing is done (the result is ready): this is the moment judged against the appointment."""
        d = self.dossier
        if d.finished_at is None:
            d.finished_at = self.now
            # A withdrawn dossier was stopped by the citizen: it is not judged early or late.
            if d.appointment_at is not None and d.status != Status.WITHDRAWN:
                d.timeliness = self.calendar.classify(self.now, d.appointment_at).value

    def _resume_clock(self) -> None:
        d = self.dossier
        if d.sla_paused_at is None:
            return
        kind = self.procedure.deadline_kind
        if kind == "calendar":
            waited = (self.now - d.sla_paused_at).total_seconds() / 3600
        else:
            waited = self.calendar.working_hours_between(d.sla_paused_at, self.now)
        d.sla_paused_hours = (d.sla_paused_hours or 0.0) + waited
        if d.appointment_at is not None:
            d.appointment_at = self.calendar.shift_for_pause(d.appointment_at, d.sla_paused_at, self.now, kind)
        d.sla_paused_at = None

    def receive(self) -> None:
        """The desk accepted the dossier: status 2, the reception time, and the appointment date."""
        d = self.dossier
        if d.received_at is not None:
            return
        d.received_at = self.now
        d.appointment_at = self.calendar.due_for(self.now, self.deadline_span())
        self.set_status(Status.RECEIVED)
        self.event("received", data={"appointment_at": d.appointment_at.isoformat()})

    def apologise(self, new_date: str | date, reason: str | None) -> None:
        d = self.dossier
        when = date.fromisoformat(new_date) if isinstance(new_date, str) else new_date
        new_appointment = self.calendar.end_of_working_day(when)
        if d.appointment_at is not None and new_appointment <= d.appointment_at:
            raise ServiceError(_("The new appointment must be later than the current one."))
        old = d.appointment_at
        d.appointment_at = new_appointment
        self.event(
            "apology",
            note=reason,
            data={"old_appointment": old.isoformat() if old else None, "new_appointment": new_appointment.isoformat()},
        )

    def finish(self) -> None:
        ends = self.instance.reached_end_events()
        statuses = [self.model.end_statuses[e] for e in ends if e in self.model.end_statuses]
        self.set_status(statuses[-1] if statuses else Status.FINISHED)
        self.close(self.now)

    def close(self, at: datetime) -> None:
        d = self.dossier
        if d.sla_paused_at is not None:
            self._resume_clock()
        self._mark_finished()
        d.closed_at = at
        if d.status == Status.RETURNED:
            d.returned_at = at
        self.event("closed", to_status=d.status, data={"timeliness": d.timeliness})

    # -- the timeline --------------------------------------------------------------------------------

    def event(
        self,
        kind: str,
        *,
        step: StepSpec | None = None,
        from_status: int | None = None,
        to_status: int | None = None,
        note: str | None = None,
        data: dict | None = None,
    ) -> DossierEvent:
        entry = DossierEvent(
            dossier_id=self.dossier.id,
            at=self.now,
            actor_id=self.actor.id if self.actor else None,
            kind=kind,
            step=step.id if step else None,
            step_name=step.name if step else None,
            from_status=from_status,
            to_status=to_status,
            note=note,
            data=data,
        )
        db.session.add(entry)
        dossier_event.send(entry, run=self)
        return entry
