"""The checks behind /healthz: can we reach the database, can we reach the broker, and how fast.

Each check answers {"status": "ok" | "error", "latency_ms": …}; on error the exception's class name only
(its text may hold a host name or a user name: no secrets leave the portal).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import current_app
from sqlalchemy import select, text

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Heartbeat

from .heartbeat import JOBS

log = logging.getLogger(__name__)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def check_database() -> dict[str, Any]:
    """One `SELECT 1` on a pooled connection (pool_pre_ping replaces a dead one first)."""
    started = time.perf_counter()
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure means "not reachable" to a load balancer
        log.warning("health check: database unreachable (%s)", type(error).__name__)
        return {"status": "error", "error": type(error).__name__, "latency_ms": _ms(started)}
    return {"status": "ok", "latency_ms": _ms(started)}


def check_broker() -> dict[str, Any]:
    """Open (and close) one connection to the Celery broker; with none configured, jobs run in-process."""
    if not current_app.config.get("CELERY_BROKER_URL"):
        return {"status": "ok", "mode": "in-process"}
    celery = current_app.extensions["celery"]
    timeout = float(current_app.config.get("HEALTHZ_BROKER_TIMEOUT", 2))
    started = time.perf_counter()
    try:
        with celery.connection_for_write(connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    except Exception as error:  # as above
        log.warning("health check: broker unreachable (%s)", type(error).__name__)
        return {"status": "error", "error": type(error).__name__, "latency_ms": _ms(started)}
    return {"status": "ok", "latency_ms": _ms(started)}


def check_jobs(database_ok: bool) -> dict[str, Any]:
    """How long ago a worker last ran the beat's heartbeat job (portal/main/heartbeat.py). Reported, never a
    reason for a 503: a web host serves pages without workers, and a balancer must not drop every host because
    the workers stopped. Monitoring alerts on "stale" (older than HEALTHZ_JOBS_STALE_SECONDS) and "unknown"."""
    if not current_app.config.get("CELERY_BROKER_URL"):
        return {"status": "ok", "mode": "in-process"}
    if not database_ok:
        return {"status": "unknown"}
    try:
        with db.engine.connect() as connection:
            last = connection.scalar(select(Heartbeat.at).where(Heartbeat.name == JOBS))
    except Exception as error:  # as above: reported, never raised
        log.warning("health check: heartbeat unreadable (%s)", type(error).__name__)
        return {"status": "unknown", "error": type(error).__name__}
    if last is None:
        return {"status": "unknown"}  # no worker has run the job since the table was made
    age = (utcnow() - last).total_seconds()
    stale = age > float(current_app.config["HEALTHZ_JOBS_STALE_SECONDS"])
    return {"status": "stale" if stale else "ok", "last_seen_s": round(max(age, 0.0), 1)}
