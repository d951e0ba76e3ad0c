"""Running external jobs: one attempt per transaction, retries per the task's cycle, an incident at the end.

A job row is written in the step's transaction (DossierRun.sync_external) with `next_attempt_at` = now; after
that transaction commits it is handed to the `external.run` Celery job (in-process when no broker is set). The
beat job `external.tick` runs whatever is due, so a job whose message was lost, or whose worker died in the
middle, is run again: nothing is lost. An attempt (`attempt`) first *claims* the job in a short transaction of
its own (one conditional UPDATE: exactly one worker wins; the attempt is counted and the job leased, i.e. not due
again for `lease_seconds()`), then calls the handler holding no transaction and no lock (PostgreSQL's
idle-in-transaction limit, and officers working on the dossier meanwhile), then, in one transaction, completes the
service task under the dossier's lock (`complete_external`, the same path as an officer's step: next steps,
status, notifications) or records the failure (the next attempt per the cycle, or an incident). A handler may
thus run more than once for one job (a worker dying after the call): handlers must be idempotent (http.json sends
`Idempotency-Key: motcua-job-<id>`). A handler that kills its worker every time still uses up its attempts.

Why an attempt failed (`last_error`, the incident's detail) is technical text for administrators, stored once,
in English like the handlers' own errors; what people read around it is translated where it is shown.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.core.errors import ServiceError, StepFailed
from portal.core.time import utcnow
from portal.core.web import unit_of_work
from portal.dossiers.services import complete_external
from portal.extensions import db
from portal.external.registry import ExternalCall, HandlerError, handler_for
from portal.incidents.services import record
from portal.models import Dossier, DossierEvent, ExternalJob, JobState
from portal.procedures.services import compiled
from workflows.bpmn_model import DEFAULT_RETRY_CYCLE, retry_intervals
from workflows.engine import Instance

log = logging.getLogger(__name__)

_OUTPUT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
MAX_OUTPUT_BYTES = 256 * 1024
SKIPPED = "skipped"


class AttemptFailed(Exception):
    def __init__(self, reason: str, *, retry: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


def due_job_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Jobs due for an attempt, by the (state, next_attempt_at) index."""
    stmt = (
        select(ExternalJob.id)
        .where(ExternalJob.state == JobState.PENDING, ExternalJob.next_attempt_at <= (now or utcnow()))
        .order_by(ExternalJob.next_attempt_at)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def _claim(job_id: int, now: datetime) -> int | None:
    """Take a due job for one attempt, in a short transaction of its own: the attempt is counted and the job
    leased (not due again until the lease ends, so a worker that dies mid-attempt only delays it). Returns the
    attempt's number, or None when the job is not due or another worker took it first (one conditional UPDATE:
    exactly one worker wins, on SQLite as on PostgreSQL)."""
    lease = now + timedelta(seconds=lease_seconds())
    with unit_of_work():
        taken = db.session.execute(
            update(ExternalJob)
            .where(
                ExternalJob.id == job_id,
                ExternalJob.state == JobState.PENDING,
                ExternalJob.next_attempt_at <= now,
            )
            .values(attempts=ExternalJob.attempts + 1, next_attempt_at=lease)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) != 1:
            return None
        number: int | None = db.session.scalar(select(ExternalJob.attempts).where(ExternalJob.id == job_id))
        return number


def lease_seconds() -> int:
    """How long a claimed attempt may take before the job is due again: the longest http.json call and a margin."""
    return int(current_app.config.get("EXTERNAL_HTTP_MAX_TIMEOUT", 30)) + int(
        current_app.config.get("EXTERNAL_JOB_LEASE_MARGIN", 60)
    )


def _owned(job_id: int, number: int) -> ExternalJob | None:
    """The job, locked, if it is still pending on our attempt (not taken over after the lease ran out)."""
    stmt = (
        select(ExternalJob)
        .where(ExternalJob.id == job_id, ExternalJob.state == JobState.PENDING, ExternalJob.attempts == number)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(stmt)


def attempt(job_id: int, now: datetime | None = None) -> str:
    """One attempt of a due job; returns the job's state after it (or "skipped": not due, or taken).

    Three steps: claim (commit), call the handler holding no transaction, then, in one transaction, complete the
    service task and everything it sets off, or record the failure (next attempt or incident)."""
    now = now or utcnow()
    number = _claim(job_id, now)
    if number is None:
        return SKIPPED
    failure: AttemptFailed | None = None
    outputs: dict[str, Any] | None = None
    try:
        prepared = _prepare(job_id, number, now)
        db.session.rollback()  # no transaction stays open while the other system answers
        outputs = _call(*prepared) if prepared is not None else None
    except AttemptFailed as failed:
        db.session.rollback()
        failure = failed
    try:
        with unit_of_work():
            job = _owned(job_id, number)
            if job is None:
                return SKIPPED
            return _record(job, outputs, failure, now)
    except StepFailed:  # the process could not go on after the handler: its own incident is recorded
        reason = "the process could not go on after the handler ran (see the other incident of this dossier)"
    except ServiceError as exc:
        reason = exc.message
    with unit_of_work():  # the completion was rolled back; count the failure in a transaction of its own
        job = _owned(job_id, number)
        if job is None:
            return SKIPPED
        _failed(job, reason, now, retry=True)
        return job.state


def _record(job: ExternalJob, outputs: dict[str, Any] | None, failure: AttemptFailed | None, now: datetime) -> str:
    if failure is not None:
        _failed(job, failure.reason, now, retry=failure.retry)
    elif outputs is None or _complete(job, outputs, now) is None:
        _finish(job, JobState.CANCELLED, now)  # the dossier left the step meanwhile: nothing to complete
    else:
        _finish(job, JobState.DONE, now)
    return job.state


def _complete(job: ExternalJob, outputs: dict[str, Any], now: datetime) -> Dossier | None:
    return complete_external(job.dossier_id, job.spiff_task_id, outputs, now=now, job_id=job.id)


def _finish(job: ExternalJob, state: str, now: datetime) -> None:
    job.state, job.finished_at, job.next_attempt_at = state, now, None


def _prepare(job_id: int, number: int, now: datetime) -> tuple[Any, ExternalCall] | None:
    """The handler and what it gets; None when the dossier no longer waits at the task."""
    job = db.session.get(ExternalJob, job_id, populate_existing=True)
    if job is None:
        return None
    handler = handler_for(job.topic)
    if handler is None:
        raise AttemptFailed(f"no handler is registered for topic {job.topic}", retry=False)
    dossier = db.session.get(Dossier, job.dossier_id)
    if dossier is None or dossier.is_ended:
        return None
    process = compiled(dossier.version)
    data = Instance.load(process, dossier.workflow_state, {}, now).task_data(job.spiff_task_id)
    spec = process.model.external.get(job.element_id)
    if data is None or spec is None:
        return None
    call = ExternalCall(
        topic=job.topic,
        variables=_jsonable(spec.variables(data)),
        dossier_id=dossier.id,
        dossier_code=dossier.code,
        element_id=job.element_id,
        job_id=job.id,
        attempt=number,
        config=current_app.config,
    )
    return handler, call


def _call(handler: Any, call: ExternalCall) -> dict[str, Any]:
    """The handler's outputs, checked; AttemptFailed for any failure of it (never a lost job)."""
    try:
        outputs = handler(call)
    except HandlerError as exc:
        raise AttemptFailed(str(exc), retry=exc.retry) from exc
    except Exception as exc:
        log.exception("handler of topic %s failed on job %s", call.topic, call.job_id)
        raise AttemptFailed(f"{type(exc).__name__}: {exc}") from exc
    return checked_outputs(outputs)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=str))


def checked_outputs(outputs: Any) -> dict[str, Any]:
    """Outputs merge into the dossier's data: a mapping of plain names to JSON values, of a bounded size."""
    if not isinstance(outputs, Mapping):
        raise AttemptFailed(f"the handler returned {type(outputs).__name__}, not a mapping of outputs")
    bad = sorted(str(k) for k in outputs if not (isinstance(k, str) and _OUTPUT_NAME.fullmatch(k)))
    if bad:
        raise AttemptFailed("output names must be plain identifiers: " + ", ".join(bad), retry=False)
    try:
        text = json.dumps(dict(outputs))
    except (TypeError, ValueError) as exc:
        raise AttemptFailed(f"outputs are not JSON values: {exc}", retry=False) from exc
    if len(text) > MAX_OUTPUT_BYTES:
        raise AttemptFailed(f"outputs are larger than {MAX_OUTPUT_BYTES} bytes", retry=False)
    result: dict[str, Any] = json.loads(text)
    return result


def _waits(job: ExternalJob) -> list[int]:
    version = db.session.get(Dossier, job.dossier_id).version  # type: ignore[union-attr]
    spec = compiled(version).model.external.get(job.element_id)
    cycle = spec.retry_cycle if spec is not None else DEFAULT_RETRY_CYCLE
    return retry_intervals(cycle) or retry_intervals(DEFAULT_RETRY_CYCLE) or [300]


def _failed(job: ExternalJob, reason: str, now: datetime, *, retry: bool) -> None:
    """A failed attempt (already counted): schedule the next one per the cycle, or open an incident when none is
    left."""
    job.last_error = reason[:4000]
    waits = _waits(job)
    if retry and job.attempts < job.max_attempts:
        wait = waits[min(job.attempts - 1, len(waits) - 1)]
        job.next_attempt_at = now + timedelta(seconds=wait)
        log.warning(
            "external job %s (%s) attempt %s failed, next at %s: %s",
            job.id,
            job.topic,
            job.attempts,
            job.next_attempt_at,
            reason,
        )
        return
    job.state, job.next_attempt_at = JobState.INCIDENT, None
    incident = record(_failure(job, reason, f"attempt {job.attempts} of {job.max_attempts}"))
    job.incident_id = incident.id
    db.session.add(
        DossierEvent(
            dossier_id=job.dossier_id,
            at=now,
            kind="external_incident",
            step=job.element_id,
            step_name=job.element_name,
            note=reason[:1000],
            data={"topic": job.topic, "attempts": job.attempts},
        )
    )
    db.session.flush()


# -- administrators: retry or cancel from the incident ---------------------------------------------------------


def retry_now(job_id: Any, now: datetime | None = None) -> str:
    """An administrator's retry of a job whose retries ran out, in the caller's unit of work. Raises StepFailed
    (counted on the incident) when it fails again; what to tell the administrator when it goes through."""
    now = now or utcnow()
    job = db.session.get(ExternalJob, job_id, with_for_update=True) if isinstance(job_id, int) else None
    if job is None or job.state != JobState.INCIDENT:
        raise ServiceError(_("This external step is not waiting for a retry any more."))
    job.attempts += 1
    db.session.flush()
    try:
        prepared = _prepare(job.id, job.attempts, now)
        outputs = _call(*prepared) if prepared is not None else None
    except AttemptFailed as failed:
        raise _failure(job, failed.reason, "retried by an administrator") from failed
    if outputs is None or _complete(job, outputs, now) is None:
        _finish(job, JobState.CANCELLED, now)
        return _("The dossier no longer waits at this step; nothing was left to do.")
    _finish(job, JobState.DONE, now)
    return _("Step %(step)s ran and the dossier moved on.", step=job.element_name)


def cancel_for_incident(incident_id: int, now: datetime | None = None) -> ExternalJob | None:
    """An administrator gave up on the job of this incident: it is not tried again, and the dossier's timeline
    and page say so (the dossier stays at the step; withdrawing or stopping it is the officers' decision)."""
    now = now or utcnow()
    job = db.session.scalar(select(ExternalJob).where(ExternalJob.incident_id == incident_id).with_for_update())
    if job is None or job.state not in JobState.WAITING:
        return job
    _finish(job, JobState.CANCELLED, now)
    job.last_error = (job.last_error or "") + " (cancelled by an administrator)"
    db.session.add(
        DossierEvent(
            dossier_id=job.dossier_id,
            at=now,
            kind="external_cancelled",
            step=job.element_id,
            step_name=job.element_name,
            data={"topic": job.topic},
        )
    )
    db.session.flush()
    return job


def jobs_of(dossier_id: int) -> list[ExternalJob]:
    """The dossier's external steps that are waiting, failed or were cancelled by an administrator."""
    stmt = (
        select(ExternalJob)
        .where(ExternalJob.dossier_id == dossier_id, ExternalJob.state != JobState.DONE)
        .where((ExternalJob.state != JobState.CANCELLED) | ExternalJob.incident_id.is_not(None))
        .order_by(ExternalJob.id)
    )
    return list(db.session.scalars(stmt))


def run_due(now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Attempt every job due at `now`, one transaction each (the beat job hands them to workers instead)."""
    ids = due_job_ids(now, limit=limit)
    db.session.rollback()
    counts: dict[str, int] = {}
    for job_id in ids:
        state = attempt(job_id, now)
        counts[state] = counts.get(state, 0) + 1
    return counts


def _failure(job: ExternalJob, reason: str, when: str) -> StepFailed:
    """The incident's error for a job that failed (its retry repeats the job)."""
    return StepFailed(
        reason,
        kind="error",
        operation="external",
        version_id=job.procedure_version_id,
        element_id=job.element_id,
        detail=f"topic {job.topic}, {when}: {reason}",
        dossier_id=job.dossier_id,
        retry={"job_id": job.id},
    )
