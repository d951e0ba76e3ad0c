"""External service tasks on a real Celery worker (and its beat) over Redis: the job queued at commit runs on the
worker, a failed attempt comes back from the beat after its retry wait, and the dossier goes on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import ExternalJob, JobState, Task, TaskState
from tests.helpers import submit
from tests.test_celery_worker import queue, start_worker, wait_for, worker_app  # noqa: F401  (fixtures)
from tests.test_external_http import Recorder, inputs, server  # noqa: F401  (fixture)
from tests.test_external_tasks import APPLICATION, KEY, data_of, deploy_external


def test_a_real_worker_runs_the_job_and_the_beat_retries_it(
    worker_app: Flask,  # noqa: F811
    start_worker: Callable,  # noqa: F811
    server: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    deploy_external(tmp_path, topic="http.json", cycle="R3/PT1S", inputs=inputs(f"{server}/flaky/{{cid}}"))
    start_worker(EXTERNAL_HTTP_ALLOWED_HOSTS="127.0.0.1", BEAT_EXTERNAL_SECONDS="1")
    dossier = submit(KEY, APPLICATION, utcnow())

    def job() -> ExternalJob | None:
        return db.session.scalar(select(ExternalJob).where(ExternalJob.dossier_id == dossier.id))

    wait_for(lambda: (j := job()) is not None and j.state == JobState.DONE, "the job to be done")
    found = job()
    assert found is not None
    # The first answer was a 500; the beat brought the job back a second later.
    assert found.attempts == 2, (Recorder.seen, found.last_error)
    assert "HTTP 500" in (found.last_error or "")
    assert [seen[0] for seen in Recorder.seen] == ["GET", "GET"]
    assert data_of(dossier)["registry"] == {"calls": 2}
    receive = db.session.scalar(
        select(Task).where(Task.dossier_id == dossier.id, Task.bpmn_id == "receive", Task.state == TaskState.READY)
    )
    assert receive is not None
