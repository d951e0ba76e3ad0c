"""/healthz says whether the background jobs are alive: the beat's heartbeat job, run by a worker, writes the time;
a stopped beat or worker shows as "stale" without taking the web host out of the balancer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import kombu.pools
import pytest
from flask import Flask
from sqlalchemy import update

from portal.core.time import utcnow
from portal.extensions import db
from portal.main.heartbeat import JOBS, heartbeat
from portal.models import Heartbeat
from portal.notifications.schedule import beat_schedule
from tests.test_celery_worker import REDIS_URL, queue, start_worker, wait_for, worker_app  # noqa: F401  (fixtures)


@pytest.fixture
def with_broker(app: Flask) -> Iterator[Flask]:
    """The portal configured with a broker (the Redis service), as production runs."""
    app.config["CELERY_BROKER_URL"] = REDIS_URL
    app.extensions["celery"].conf.broker_url = REDIS_URL
    yield app
    kombu.pools.reset()


def jobs(app: Flask) -> dict:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200, response.json  # the jobs never make a web host unhealthy
    return response.json["checks"]["jobs"]


def test_the_beat_queues_the_heartbeat(app: Flask) -> None:
    schedule = beat_schedule(app.config)
    assert schedule["heartbeat"]["task"] == "health.heartbeat"
    assert schedule["heartbeat"]["schedule"] == app.config["BEAT_HEARTBEAT_SECONDS"]


def test_without_a_broker_jobs_run_in_process(app: Flask) -> None:
    assert jobs(app) == {"status": "ok", "mode": "in-process"}


def test_healthz_tells_fresh_stale_and_never_seen_apart(with_broker: Flask) -> None:
    assert jobs(with_broker) == {"status": "unknown"}  # no worker has ever run the job
    heartbeat.apply()  # what a worker does when the beat's tick reaches it
    fresh = jobs(with_broker)
    assert fresh["status"] == "ok"
    assert fresh["last_seen_s"] < 60
    heartbeat.apply()  # the next beat updates the same row
    assert db.session.query(Heartbeat).count() == 1
    late = utcnow() - timedelta(seconds=with_broker.config["HEALTHZ_JOBS_STALE_SECONDS"] + 30)
    db.session.execute(update(Heartbeat).where(Heartbeat.name == JOBS).values(at=late))
    db.session.commit()
    stale = jobs(with_broker)
    assert stale["status"] == "stale"
    assert stale["last_seen_s"] >= with_broker.config["HEALTHZ_JOBS_STALE_SECONDS"]


def test_a_running_worker_and_beat_keep_the_heartbeat_fresh(start_worker, worker_app: Flask) -> None:  # noqa: F811
    worker_app.config["CELERY_BROKER_URL"] = REDIS_URL
    start_worker(BEAT_HEARTBEAT_SECONDS="1")
    first = wait_for(lambda: db.session.get(Heartbeat, JOBS), "the first heartbeat")
    seen = first.at
    wait_for(lambda: db.session.get(Heartbeat, JOBS).at > seen, "a later heartbeat")
    assert jobs(worker_app)["status"] == "ok"
