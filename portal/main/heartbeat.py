"""The background jobs' heartbeat: the beat queues `health.heartbeat` every BEAT_HEARTBEAT_SECONDS, the worker that
takes it writes the time to the `heartbeats` table, and /healthz reports how old that time is. A fresh time says
all three links work: the beat schedules, a worker consumes the queue, the worker reaches the database. Without
it a stopped beat (timers, reminders, retries) or a stuck queue would go unnoticed until people complain."""

from __future__ import annotations

import os
import socket

from celery import shared_task
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core.time import utcnow
from portal.core.web import unit_of_work
from portal.extensions import db
from portal.models import Heartbeat

JOBS = "jobs"


def record(session: Session, name: str) -> None:
    """Set the heartbeat `name` to now, from this host and process (flushes; the caller commits)."""
    now, host = utcnow(), f"{socket.gethostname()}:{os.getpid()}"[:255]
    found = session.execute(update(Heartbeat).where(Heartbeat.name == name).values(at=now, host=host))
    if not found.rowcount:  # type: ignore[attr-defined]
        session.add(Heartbeat(name=name, at=now, host=host))
        session.flush()


@shared_task(name="health.heartbeat", ignore_result=True)
def heartbeat() -> None:
    try:
        with unit_of_work():
            record(db.session(), JOBS)
    except IntegrityError:  # the very first beat, written by another worker at the same moment: it is fresh
        pass
