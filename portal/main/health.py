"""The checks behind /healthz: can we reach the database, can we reach the broker, and how fast.

Each check answers {"status": "ok" | "error", "latency_ms": …}; on error the exception's class name only
(its text may hold a host name or a user name: no secrets leave the portal).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import current_app
from sqlalchemy import text

from portal.extensions import db

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
