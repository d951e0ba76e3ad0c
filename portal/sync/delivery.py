"""Pushing a dossier's status changes to the national portal, in order and once (the lane logic: `lanes`).

Ordering is per dossier: the change `seq = n` is sent only after the national portal took `n − 1`; dossiers do not
wait for each other. A retry (a time-out, a 500 after the receiver stored the call, a dead worker's row taken
over) carries the same Idempotency-Key, so the receiver stores each status change once (docs/SYNC.md).
"""

from __future__ import annotations

from datetime import datetime

import requests
from flask import current_app
from sqlalchemy import update

from portal.core.sql import rows_changed
from portal.core.time import utcnow
from portal.models import NationalSync, SyncState

from .lanes import Lane, PushFailed


def send_row(row: NationalSync) -> int:
    config = current_app.config
    headers = {"Idempotency-Key": row.idempotency_key, "Accept": "application/json"}
    if config.get("NATIONAL_PORTAL_TOKEN"):
        headers["Authorization"] = f"Bearer {config['NATIONAL_PORTAL_TOKEN']}"
    auth = None
    if config.get("NATIONAL_PORTAL_USERNAME"):
        auth = (config["NATIONAL_PORTAL_USERNAME"], config.get("NATIONAL_PORTAL_PASSWORD", ""))
    return post(config["NATIONAL_PORTAL_URL"], row.payload, headers, auth, float(config["NATIONAL_PORTAL_TIMEOUT"]))


def post(url: str, body: dict | bytes, headers: dict[str, str], auth: tuple[str, str] | None, timeout: float) -> int:
    """One POST; a 2xx answer's status code, else PushFailed (time-outs and refused connections included)."""
    try:
        if isinstance(body, bytes):
            headers = {"Content-Type": "application/json", **headers}
            response = requests.post(url, data=body, headers=headers, auth=auth, timeout=timeout)
        else:
            response = requests.post(url, json=body, headers=headers, auth=auth, timeout=timeout)
    except requests.Timeout as exc:
        raise PushFailed(f"no answer within {timeout:g} s") from exc
    except requests.RequestException as exc:
        raise PushFailed(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise PushFailed(f"HTTP {response.status_code}: {response.text[:300]}", response.status_code)
    return response.status_code


NATIONAL = Lane(
    name="national sync",
    model=NationalSync,
    scope=("dossier_id",),
    order="seq",
    prefix="NATIONAL_PORTAL",
    send=send_row,
)


def push(dossier_id: int, now: datetime | None = None) -> int:
    """Push the dossier's due status changes in order; how many this call delivered."""
    return NATIONAL.push((dossier_id,), now)


def due_dossiers(now: datetime, limit: int = 500) -> list[int]:
    return [scope[0] for scope in NATIONAL.due_scopes(now, limit)]


def retry_failed(dossier_id: int | None = None, now: datetime | None = None) -> int:
    """Give failed rows another round of attempts (an administrator's decision); the caller commits."""
    stmt = update(NationalSync).where(NationalSync.state == SyncState.FAILED)
    if dossier_id is not None:
        stmt = stmt.where(NationalSync.dossier_id == dossier_id)
    return rows_changed(
        stmt.values(state=SyncState.PENDING, attempts=0, next_attempt_at=now or utcnow()).execution_options(
            synchronize_session=False
        )
    )
