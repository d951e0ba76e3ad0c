"""Old Idempotency-Keys are deleted by a beat job after API_IDEMPOTENCY_DAYS (portal/api/cleanup.py); a retry
within the retention still gets its first answer again."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select, update

from portal.api.cleanup import clean_up_idempotency_keys
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import IdempotencyKey
from portal.notifications.schedule import beat_schedule
from tests.test_api_submit import dossiers, post, submission, token  # noqa: F401  (fixture)


def keys() -> set[str]:
    return set(db.session.scalars(select(IdempotencyKey.key)))


def age(key: str, days: float) -> None:
    db.session.execute(
        update(IdempotencyKey).where(IdempotencyKey.key == key).values(created_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def test_old_keys_are_deleted_recent_ones_kept_and_still_replay(demo: Flask, client, token: str) -> None:  # noqa: F811
    for key in ("old-1", "old-2", "old-3", "recent"):
        assert post(client, token, submission(), key=key).status_code == 201
    first_answer = post(client, token, submission(), key="recent").get_json()
    for key in ("old-1", "old-2", "old-3"):
        age(key, 8)
    age("recent", 6)
    demo.config["API_IDEMPOTENCY_CLEANUP_BATCH"] = 2  # two batches and a last, shorter one

    assert clean_up_idempotency_keys.delay().get() == 3  # the beat job, as a worker runs it (eager in tests)
    assert keys() == {"recent"}
    assert clean_up_idempotency_keys.delay().get() == 0  # nothing more to do

    retry = post(client, token, submission(), key="recent")  # a time-out's retry, six days later
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first_answer
    assert dossiers() == 4  # no second dossier


def test_the_retention_is_configurable(demo: Flask, client, token: str) -> None:  # noqa: F811
    assert post(client, token, submission(), key="k-1").status_code == 201
    age("k-1", 2)
    assert clean_up_idempotency_keys.delay().get() == 0  # 7 days by default
    demo.config["API_IDEMPOTENCY_DAYS"] = 1
    assert clean_up_idempotency_keys.delay().get() == 1
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_the_job_is_in_the_beat_schedule(app: Flask) -> None:
    assert app.config["API_IDEMPOTENCY_DAYS"] == 7
    job = beat_schedule(app.config)["idempotency-cleanup"]
    assert job["task"] == "api.idempotency_cleanup"
    assert job["schedule"] == app.config["BEAT_IDEMPOTENCY_CLEANUP_SECONDS"]
    assert "api.idempotency_cleanup" in app.extensions["celery"].tasks
