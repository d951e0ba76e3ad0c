"""Webhooks: dossier events delivered to the endpoints administrators registered, signed, in order, retried.

Each event an endpoint subscribed to becomes a WebhookDelivery row in the transaction of the change (`outbox`),
delivered after the commit through the same lane logic as the national sync (`lanes`): in order per endpoint
and dossier, claimed before sending, retried with backoff (WEBHOOK_* settings), kept `failed` after the last
attempt. An administrator can redeliver any delivery; it keeps its delivery id.

Signature (docs/SYNC.md): `X-MotCua-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>` with
`X-MotCua-Timestamp: <unix seconds>` of the attempt; the receiver recomputes it over the raw body and refuses
timestamps older than a few minutes, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import background, outbound
from portal.models import Dossier, SyncState, WebhookDelivery, WebhookEndpoint

from .delivery import post
from .lanes import Lane, PushFailed

log = logging.getLogger(__name__)

EVENT_OF_KIND = {"submitted": "dossier.submitted", "status": "dossier.status_changed"}
SIGNATURE_HEADER = "X-MotCua-Signature"
TIMESTAMP_HEADER = "X-MotCua-Timestamp"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: int = 300) -> bool:
    """What a receiver does (kept here for the tests and as the reference for docs/SYNC.md)."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def subscribed() -> list[WebhookEndpoint]:
    if not has_app_context():
        return []
    from portal.extensions import db

    return list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active).order_by(WebhookEndpoint.id)))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def payload(
    key: str, event: str, dossier: Dossier, from_status: int | None, status: int, at: datetime
) -> dict[str, Any]:
    """No personal data: receivers read the dossier through the API (with their own scopes) if they need more."""
    procedure = dossier.version.procedure
    return {
        "id": key,
        "type": event,
        "created_at": _iso(at),
        "data": {
            "dossier": {
                "code": dossier.code,
                "procedure_code": procedure.code,
                "agency_code": dossier.agency.code,
                "channel": dossier.channel,
                "origin": dossier.origin,
                "status": status,
                "from_status": from_status,
                "submitted_at": _iso(dossier.submitted_at),
                "received_at": _iso(dossier.received_at),
                "appointment_at": _iso(dossier.appointment_at),
                "finished_at": _iso(dossier.finished_at),
                "returned_at": _iso(dossier.returned_at),
            }
        },
    }


def write_deliveries(
    session: Session,
    endpoints: list[WebhookEndpoint],
    dossier: Dossier,
    kind: str,
    from_status: int | None,
    status: int,
    at: datetime,
    now: datetime,
) -> None:
    event = EVENT_OF_KIND[kind]
    for endpoint in endpoints:
        if event not in (endpoint.events or []):
            continue
        key = f"whd_{uuid.uuid4().hex}"
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                dossier_id=dossier.id,
                event=event,
                idempotency_key=key,
                payload=payload(key, event, dossier, from_status, status, at),
                state=SyncState.PENDING,
                next_attempt_at=now,
                created_at=now,
            )
        )


def check_url(url: str) -> None:
    """RefusedUrl unless the portal may deliver to this address (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOWED_HOSTS)."""
    config = current_app.config
    outbound.check_public_url(
        url, allow_http=bool(config.get("WEBHOOK_ALLOW_HTTP")), allowed_hosts=config.get("WEBHOOK_ALLOWED_HOSTS")
    )


def send_delivery(row: WebhookDelivery) -> int:
    endpoint = row.endpoint
    if not endpoint.active:
        raise PushFailed("the endpoint is deactivated")
    try:  # again now: the host's DNS may point somewhere else since it was registered
        check_url(endpoint.url)
    except outbound.RefusedUrl as refused:
        log.warning("webhook delivery %s not sent to %s: %s", row.idempotency_key, endpoint.url, refused.reason)
        raise PushFailed(f"refused: {refused.reason}") from refused
    body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "X-MotCua-Event": row.event,
        "X-MotCua-Delivery": row.idempotency_key,
        "Idempotency-Key": row.idempotency_key,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
        "User-Agent": "MotCua-Webhooks/1",
    }
    return post(endpoint.url, body, headers, None, float(current_app.config["WEBHOOK_TIMEOUT"]))


WEBHOOKS = Lane(
    name="webhook",
    model=WebhookDelivery,
    scope=("endpoint_id", "dossier_id"),
    order="id",
    prefix="WEBHOOK",
    send=send_delivery,
)


def enqueue(scopes: list[tuple[int, int]]) -> None:
    """Queue a push per endpoint and dossier; never raises (the sweep pushes what could not be queued)."""
    from .tasks import push_webhooks

    for endpoint_id, dossier_id in scopes:
        try:
            background.submit(push_webhooks, endpoint_id, dossier_id)
        except Exception:
            log.exception("could not queue webhook deliveries %s/%s; the sweep will", endpoint_id, dossier_id)
