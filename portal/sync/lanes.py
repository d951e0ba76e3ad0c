"""The outbox delivery loop shared by the national portal sync and webhooks.

A lane is one outbox table with an ordering scope: rows of one scope (a dossier for the national portal; an
endpoint and a dossier for a webhook) are delivered strictly in their `order` column, one at a time. For a scope,
`push()` takes its first row not yet sent and, if it is due:
1. claims it: one conditional UPDATE to `sending` with a claim token (committed), which succeeds only when every
   earlier row of the scope is `sent` and nobody holds this one (or its holder's lease ran out);
2. calls the lane's `send(row)`;
3. records `sent` on success, else puts the row back to `pending` with a backoff (RETRY_BASE × 2ⁿ, at most
   RETRY_MAX) and keeps it `failed` after MAX_ATTEMPTS; then goes on with the scope's next row.
A retry carries the row's idempotency key unchanged, so the receiver can store each row once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from portal.core.sql import rows_changed
from portal.core.time import utcnow
from portal.core.web import unit_of_work
from portal.extensions import db
from portal.models import SyncState

log = logging.getLogger(__name__)

Scope = tuple[int, ...]


class PushFailed(Exception):
    """The receiver did not take the row; the message is kept as the row's last error."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class Lane:
    name: str
    model: Any  # a mapped class with the outbox columns (NationalSync, WebhookDelivery)
    scope: tuple[str, ...]  # the columns whose rows are delivered in order
    order: str  # the column giving that order
    prefix: str  # of the settings: {prefix}_RETRY_BASE, _RETRY_MAX, _MAX_ATTEMPTS, _CLAIM_LEASE
    send: Callable[[Any], int | None]  # raises PushFailed; may return the receiver's HTTP status

    def setting(self, name: str) -> Any:
        return current_app.config[f"{self.prefix}_{name}"]

    def _col(self, name: str) -> Any:
        return getattr(self.model, name)

    def _lease_cutoff(self, now: datetime) -> datetime:
        return now - timedelta(seconds=self.setting("CLAIM_LEASE"))

    def _due(self, now: datetime) -> Any:
        m = self.model
        return or_(
            and_(m.state == SyncState.PENDING, m.next_attempt_at <= now),
            and_(m.state == SyncState.SENDING, m.claimed_at < self._lease_cutoff(now)),
        )

    def next_row(self, scope: Scope) -> Any:
        """The scope's first row not sent yet (the only one that may be delivered now)."""
        m = self.model
        stmt = select(m).where(
            m.state != SyncState.SENT, *(self._col(c) == v for c, v in zip(self.scope, scope, strict=True))
        )
        return db.session.scalar(stmt.order_by(self._col(self.order)).limit(1))

    def claim(self, row_id: int, now: datetime) -> str | None:
        """Take the row (the caller commits); None when it is not due, is held, or is not first in line."""
        m = self.model
        earlier = aliased(m)
        waiting_before = exists().where(
            *(getattr(earlier, c) == self._col(c) for c in self.scope),
            getattr(earlier, self.order) < self._col(self.order),
            earlier.state != SyncState.SENT,
        )
        token = secrets.token_hex(16)
        changed = rows_changed(
            update(m)
            .where(m.id == row_id, self._due(now), ~waiting_before)
            .values(state=SyncState.SENDING, claim_token=token, claimed_at=now, attempts=m.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return token if changed == 1 else None

    def push(self, scope: Scope, now: datetime | None = None) -> int:
        """Deliver the scope's due rows in order, committing each stage; how many this call delivered."""
        delivered = 0
        while True:
            row = self.next_row(scope)
            if row is None:
                db.session.rollback()
                return delivered
            row_id = row.id
            with unit_of_work():
                token = self.claim(row_id, now or utcnow())
            if token is None:
                return delivered
            row = db.session.get(self.model, row_id, populate_existing=True)
            try:
                code = self.send(row)
            except PushFailed as exc:
                db.session.rollback()
                with unit_of_work():
                    self._record_failure(row_id, token, str(exc), exc.status_code, now or utcnow())
                return delivered
            values: dict[str, Any] = {"state": SyncState.SENT, "sent_at": now or utcnow(), "last_error": None}
            if hasattr(self.model, "response_code"):
                values["response_code"] = code
            with unit_of_work():
                self._record(row_id, token, **values)
            delivered += 1

    def _record(self, row_id: int, token: str, **values: object) -> bool:
        m = self.model
        changed = rows_changed(
            update(m)
            .where(m.id == row_id, m.claim_token == token)
            .values(claim_token=None, **values)
            .execution_options(synchronize_session=False)
        )
        if changed != 1:
            log.warning("%s row %s was taken over by another worker while this one sent it", self.name, row_id)
        return changed == 1

    def backoff(self, attempts: int) -> int:
        return int(min(self.setting("RETRY_BASE") * 2 ** max(attempts - 1, 0), self.setting("RETRY_MAX")))

    def _record_failure(self, row_id: int, token: str, error: str, code: int | None, now: datetime) -> None:
        m = self.model
        attempts = db.session.scalar(select(m.attempts).where(m.id == row_id)) or 1
        extra: dict[str, Any] = {"response_code": code} if hasattr(m, "response_code") else {}
        if attempts >= self.setting("MAX_ATTEMPTS"):
            log.error("%s row %s failed for good after %s attempts: %s", self.name, row_id, attempts, error)
            self._record(row_id, token, state=SyncState.FAILED, last_error=error[:2000], next_attempt_at=None, **extra)
            return
        wait = self.backoff(attempts)
        log.warning("%s row %s failed (attempt %s), retrying in %ss: %s", self.name, row_id, attempts, wait, error)
        self._record(
            row_id,
            token,
            state=SyncState.PENDING,
            last_error=error[:2000],
            next_attempt_at=now + timedelta(seconds=wait),
            **extra,
        )

    def due_scopes(self, now: datetime, limit: int = 500) -> list[Scope]:
        """Scopes the sweep pushes: a row waiting for its (next) attempt, or claimed by a worker that died."""
        columns = [self._col(c) for c in self.scope]
        stmt = select(*columns).where(self._due(now)).distinct().limit(limit)
        return sorted(tuple(r) for r in db.session.execute(stmt))
