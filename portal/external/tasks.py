"""Celery jobs of external service tasks. They take ids; `portal.external.jobs` commits per attempt."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="external.run", ignore_result=True)
def run_external_job(job_id: int) -> str:
    """One attempt of a job (queued after the commit that created it; the tick brings back any lost one)."""
    from .jobs import attempt

    try:
        return attempt(int(job_id))
    except Exception:  # a database hiccup: the job stays due and the next tick runs it
        log.exception("external job %s: the attempt could not run", job_id)
        _rollback()
        return "error"


@shared_task(name="external.tick", ignore_result=True)
def external_tick() -> int:
    """Hand every job due for an attempt (a retry, or one whose message was lost) to the workers."""
    from .jobs import due_job_ids

    ids = due_job_ids()
    _rollback()  # end the read before the attempts' own transactions
    for job_id in ids:
        run_external_job.delay(job_id)
    return len(ids)


def _rollback() -> None:
    from portal.extensions import db

    db.session.rollback()
