"""Administrators' actions on the national portal sync (the caller's unit of work commits)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.core.audit import record
from portal.core.errors import InvalidInput, NotFound, ServiceError
from portal.core.outbound import RefusedUrl
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import WEBHOOK_EVENTS, Dossier, SyncState, User, WebhookDelivery, WebhookEndpoint

from .delivery import retry_failed
from .outbox import push_after_commit, push_webhook_after_commit
from .webhooks import check_url


def retry_dossier(dossier_id: int, actor: User) -> int:
    """Put the dossier's failed row back in line and push it after the commit; audited."""
    from flask_babel import gettext as _

    dossier = db.session.get(Dossier, dossier_id)
    if dossier is None:
        raise ServiceError(_("This dossier does not exist."))
    count = retry_failed(dossier_id)
    if not count:
        raise ServiceError(_("Nothing of this dossier is waiting for a retry."))
    record("national_sync.retry", actor, dossier, code=dossier.code, rows=count)
    push_after_commit(dossier_id)
    return count


# -- webhooks ----------------------------------------------------------------------------------------------------


def endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def create_endpoint(url: str, description: str, events: list[str], actor: User) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (shown to the administrator once, on the answer to the form)."""
    try:
        check_url(url)
    except RefusedUrl as refused:
        raise InvalidInput(refused.message, {"url": [refused.message]}) from refused
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    endpoint = WebhookEndpoint(
        url=url.strip(),
        description=description.strip(),
        secret=secret,
        events=[e for e in WEBHOOK_EVENTS if e in events],
        active=True,
        created_by_id=actor.id,
    )
    db.session.add(endpoint)
    db.session.flush()
    record("webhook.create", actor, endpoint, url=endpoint.url, events=endpoint.events)
    return endpoint, secret


def set_active(endpoint_id: int, active: bool, actor: User) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("not found")
    endpoint.active = active
    record("webhook.activate" if active else "webhook.deactivate", actor, endpoint, url=endpoint.url)
    db.session.flush()
    return endpoint


def deliveries(endpoint_id: int, limit: int = 100) -> list[WebhookDelivery]:
    stmt = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .options(selectinload(WebhookDelivery.dossier))
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def redeliver(endpoint_id: int, delivery_id: int, actor: User, now: datetime | None = None) -> WebhookDelivery:
    """Send a delivery again (whatever its state), with the same delivery id, after the commit; audited."""
    from flask_babel import gettext as _

    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None or row.endpoint_id != endpoint_id:
        raise NotFound("not found")
    if row.state == SyncState.SENDING:
        raise ServiceError(_("This delivery is being sent right now."))
    row.state, row.attempts, row.next_attempt_at = SyncState.PENDING, 0, now or utcnow()
    row.redelivered += 1
    record("webhook.redeliver", actor, row, endpoint_id=endpoint_id, delivery=row.idempotency_key)
    db.session.flush()
    push_webhook_after_commit(endpoint_id, row.dossier_id)
    return row
