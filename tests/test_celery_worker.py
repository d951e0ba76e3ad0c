"""Background work with a real Celery worker (and its beat) on the Redis service, a real SMTP server on loopback
and the test's database (a SQLite file or PostgreSQL) shared with the worker.

The worker is a subprocess started the way production starts it (`celery -A portal.celery_app:celery worker -B`),
in its own process group so that a kill takes every process of it, and stopped at the end of each test.
"""

from __future__ import annotations

import email.policy  # noqa: F401  (tests/smtp.py parses with email.policy but does not import it)
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import kombu.pools
import pytest
import redis
from flask import Flask
from sqlalchemy import select, update

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import DeliveryStatus, DossierEvent, Notification, NotificationChannel, Reminder, Task
from tests.helpers import COMMUNE, submit, user
from tests.test_notifications_outbox import CITIZEN, DESK, DESK2, LEADER, birth_application, mail_to

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_CELERY_REDIS_URL", "redis://127.0.0.1:6379/5")
WAIT = 45.0  # seconds before a wait gives up (a failure, not a timing assertion)


def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()  # see what the worker committed
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process, self.log = process, log

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL every process of the worker (main process, pool children, beat), like a machine dying."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of this test's own on the Redis service, so that runs sharing it never take each other's jobs."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"the Redis service is not running at {REDIS_URL}")
    name = f"motcua-test-{uuid.uuid4().hex[:12]}"
    yield name
    client.delete(name)
    client.close()


@pytest.fixture
def worker_app(demo: Flask, smtp, queue: str) -> Flask:
    """The portal in this process, queueing jobs on Redis instead of running them in-process."""
    celery = demo.extensions["celery"]
    celery.conf.update(broker_url=REDIS_URL, task_always_eager=False, task_default_queue=queue)
    demo.config["TEST_CELERY_QUEUE"] = queue
    demo.config["NOTIFY_RETRY_BASE"] = 2
    yield demo
    celery.conf.update(task_always_eager=True)
    # kombu keeps its connection pools per broker address for the whole process: close and forget them, so
    # the next test's app opens fresh ones (closing only this app's pool would leave a closed one behind).
    kombu.pools.reset()


@pytest.fixture
def start_worker(worker_app: Flask, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(**extra_env: str) -> Worker:
        n = len(started) + 1
        log = tmp_path / f"worker{n}.log"
        env = {
            **os.environ,
            "MOTCUA_ENV": "testing",
            "TEST_DATABASE_URL": database_url,
            "UPLOAD_DIR": worker_app.config["UPLOAD_DIR"],
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_QUEUE": worker_app.config["TEST_CELERY_QUEUE"],
            "CELERY_VISIBILITY_TIMEOUT": "5",
            "CELERY_RESTORE_INTERVAL": "1",
            "MAIL_SERVER": worker_app.config["MAIL_SERVER"],
            "MAIL_PORT": str(worker_app.config["MAIL_PORT"]),
            "BEAT_TIMERS_SECONDS": "1",
            "BEAT_SWEEP_SECONDS": "1",
            "BEAT_REMINDERS_SECONDS": "1",
            "NOTIFY_CLAIM_LEASE": "3",
            "NOTIFY_RETRY_BASE": "2",
            **extra_env,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "portal.celery_app:celery", "worker", "-B",
            "-s", str(tmp_path / f"beat{n}"), "--loglevel=INFO", "--concurrency=2", "-n", f"w{n}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        worker = Worker(process, log)
        started.append(worker)
        wait_for(lambda: " ready." in worker.text() or process.poll() is not None, "the worker to start")
        assert process.poll() is None, worker.text()[-3000:]
        return worker

    yield start
    for worker in started:
        worker.stop()


def statuses() -> dict[int, str]:
    stmt = select(Notification.id, Notification.status).where(Notification.channel != NotificationChannel.IN_APP)
    return {row[0]: row[1] for row in db.session.execute(stmt)}


def test_each_notification_is_delivered_once_by_the_worker(start_worker, smtp) -> None:
    start_worker()
    dossier = submit("birth_registration", birth_application(), utcnow())
    wait_for(lambda: statuses() and set(statuses().values()) == {DeliveryStatus.SENT}, "every message sent")
    assert len(mail_to(smtp, CITIZEN)) == 1
    assert dossier.code in mail_to(smtp, CITIZEN)[0]["Subject"]
    assert len(mail_to(smtp, DESK)) == 1
    assert len(mail_to(smtp, DESK2)) == 1
    assert len(smtp.messages) == 3


SEND_JOB = re.compile(r"Task notifications\.send\[([0-9a-f-]+)\] (received|succeeded)")


def jobs_in_flight(log: str) -> set[str]:
    """Sending jobs a worker received and had not finished."""
    seen = SEND_JOB.findall(log)
    return {job for job, what in seen if what == "received"} - {job for job, what in seen if what == "succeeded"}


def test_a_worker_killed_mid_job_does_not_lose_or_repeat_a_message(start_worker, smtp) -> None:
    # The first worker pauses after claiming a message and before the SMTP conversation: killed there.
    first = start_worker(NOTIFY_TEST_SEND_DELAY="120")
    submit("birth_registration", birth_application(), utcnow())
    wait_for(lambda: DeliveryStatus.SENDING in statuses().values(), "the first worker to claim a message")
    first.kill()
    killed = jobs_in_flight(first.text())
    assert killed, first.text()[-3000:]
    assert smtp.messages == []  # nothing left the dead worker

    second = start_worker()
    wait_for(lambda: set(statuses().values()) == {DeliveryStatus.SENT}, "every message sent after the restart")
    # The killed job itself comes back (acks_late: Redis re-delivers it) and must find nothing left to send.
    wait_for(lambda: all(f"notifications.send[{job}] succeeded" in second.text() for job in killed), "re-delivery")
    assert len(mail_to(smtp, CITIZEN)) == 1
    assert len(mail_to(smtp, DESK)) == 1
    assert len(mail_to(smtp, DESK2)) == 1
    assert len(smtp.messages) == 3
    claimed_twice = db.session.scalar(select(Notification).where(Notification.attempts == 2))
    assert claimed_twice is not None
    assert claimed_twice.status == DeliveryStatus.SENT


TIMER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_wait" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="wait_a_little" name="Chờ một chút" isExecutable="true">
    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="deadline" value="1d" />
      </camunda:properties>
    </bpmn:extensionElements>
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="applicant" name="Công dân"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>apply</bpmn:flowNodeRef><bpmn:flowNodeRef>wait</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="reception" name="Bộ phận một cửa"><bpmn:flowNodeRef>receive</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>done</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="apply" />
    <bpmn:userTask id="apply" name="Nộp hồ sơ">
      <bpmn:extensionElements>
        <camunda:formData><camunda:formField id="note" label="Ghi chú" type="string" /></camunda:formData>
        <camunda:properties><camunda:property name="kind" value="submit" /></camunda:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="apply" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="Chờ 4 giây">
      <bpmn:timerEventDefinition id="wait_timer"><bpmn:timeDuration>PT4S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="receive" />
    <bpmn:userTask id="receive" name="Tiếp nhận hồ sơ">
      <bpmn:extensionElements>
        <camunda:properties><camunda:property name="kind" value="reception" /></camunda:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f4" sourceRef="receive" targetRef="done" />
    <bpmn:endEvent id="done" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_due_timer_fires_within_ten_seconds(start_worker) -> None:
    from portal.procedures.services import deploy

    result = deploy(TIMER_BPMN.encode(), "wait.bpmn", [], agency_code=COMMUNE, publish=True)
    assert result.ok, [str(p) for p in result.problems]
    db.session.commit()
    start_worker()
    dossier = submit("wait_a_little", {"note": "x"}, utcnow())
    due = dossier.next_timer_at
    assert due is not None
    assert due > utcnow()
    started = wait_for(
        lambda: db.session.scalar(
            select(DossierEvent).where(
                DossierEvent.dossier_id == dossier.id,
                DossierEvent.kind == "step_started",
                DossierEvent.step == "receive",
            )
        ),
        "the timer to fire",
    )
    assert started.at >= due
    assert (started.at - due).total_seconds() < 10


def test_reminders_and_escalations_reach_the_right_people(start_worker, smtp) -> None:
    dossier = submit("birth_registration", birth_application(), utcnow())
    start_worker()
    wait_for(lambda: len(smtp.messages) >= 3, "the submission's messages")
    assert len(smtp.messages) == 3
    task = db.session.scalar(select(Task).where(Task.dossier_id == dossier.id, Task.bpmn_id == "reception_check"))
    # Claimed by one officer: the reminder is for them alone, the escalation for the leaders.
    db.session.execute(update(Task).where(Task.id == task.id).values(assignee_id=user(DESK).id))
    db.session.execute(update(Reminder).where(Reminder.task_id == task.id).values(due_at=utcnow()))
    db.session.commit()

    wait_for(lambda: len(smtp.messages) >= 5, "the reminder and the escalation")
    assert len(smtp.messages) == 5, [(m["To"], m["Subject"]) for m in smtp.messages]
    assert len(mail_to(smtp, DESK)) == 2  # the new step, then the reminder
    assert len(mail_to(smtp, DESK2)) == 1  # no reminder: the step is not theirs any more
    assert len(mail_to(smtp, LEADER)) == 1  # the escalation
    assert all(dossier.code in m["Subject"] for m in smtp.messages)
    sent = db.session.execute(
        select(Notification.kind, Notification.address).where(Notification.channel == NotificationChannel.EMAIL)
    )
    by_kind = {}
    for kind, address in sent:
        by_kind.setdefault(kind, []).append(address)
    assert by_kind["reminder"] == [DESK]
    assert by_kind["escalation"] == [LEADER]
    assert set(db.session.scalars(select(Reminder.state).where(Reminder.task_id == task.id))) == {"sent"}
