"""Old Idempotency-Keys are forgotten: a key (and the answer it replays) is kept API_IDEMPOTENCY_DAYS days, then
deleted by a Celery beat job (`api.idempotency_cleanup`, every BEAT_IDEMPOTENCY_CLEANUP_SECONDS), in batches of
API_IDEMPOTENCY_CLEANUP_BATCH rows, each in its own short transaction (no long lock on the table a submission
writes to). A retry within the retention still replays its first answer (portal/api/idempotency.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.core.time import utcnow
from portal.core.web import unit_of_work
from portal.extensions import db
from portal.models import IdempotencyKey

DEFAULT_DAYS = 7
DEFAULT_BATCH = 1000


def cutoff(days: float, now: datetime | None = None) -> datetime:
    """Keys written before this moment are past their retention."""
    return (now or utcnow()) - timedelta(days=days)


def delete_expired_batch(session: Session, before: datetime, limit: int) -> int:
    """Delete up to `limit` keys written before `before` (oldest first); the caller commits. Answers how many."""
    ids = list(
        session.scalars(
            select(IdempotencyKey.id).where(IdempotencyKey.created_at < before).order_by(IdempotencyKey.id).limit(limit)
        )
    )
    if ids:
        session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids)).execution_options(synchronize_session=False)
        )
    return len(ids)


def delete_expired(days: float | None = None, batch: int | None = None, now: datetime | None = None) -> int:
    """Delete every key past its retention, one committed batch at a time; answers how many were deleted."""
    config = current_app.config
    days = float(config.get("API_IDEMPOTENCY_DAYS", DEFAULT_DAYS) if days is None else days)
    batch = max(1, int(config.get("API_IDEMPOTENCY_CLEANUP_BATCH", DEFAULT_BATCH) if batch is None else batch))
    before = cutoff(days, now)
    total = 0
    while True:
        with unit_of_work():
            deleted = delete_expired_batch(db.session(), before, batch)
        total += deleted
        if deleted < batch:
            return total


@shared_task(name="api.idempotency_cleanup", ignore_result=True)
def clean_up_idempotency_keys() -> int:
    return delete_expired()
