"""External service tasks (BPMN `camunda:type="external"`): topic handlers (`registry`, the built-in `http_json`),
the job table's runner (`jobs`: attempts, retries, incidents) and its Celery jobs (`tasks`)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from portal.core import session_hooks

log = logging.getLogger(__name__)

PENDING_IDS = "motcua_external_jobs_to_run"


def init_app(app: Flask) -> None:
    from . import tasks  # noqa: F401  (registers the Celery jobs)


def _remember_flushed(session: Session, _context: Any) -> None:
    from portal.models import ExternalJob

    ids = [o.id for o in session.new if isinstance(o, ExternalJob)]
    if ids:
        session.info.setdefault(PENDING_IDS, []).extend(ids)


def _run_after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING_IDS, None)
    if not ids:
        return
    from portal.core import background

    from .tasks import run_external_job

    for job_id in sorted(ids):
        try:
            background.submit(run_external_job, job_id)
        except Exception:  # the job is due in its table: the next tick runs it
            log.exception("could not queue external job %s; the tick will run it", job_id)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING_IDS, None)


# New job rows are queued once the transaction that wrote them has committed, never before.
session_hooks.register(
    session_hooks.Stage.EXTERNAL_JOBS,
    after_flush=_remember_flushed,
    after_commit=_run_after_commit,
    after_rollback=_forget,
)
