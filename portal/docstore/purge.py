"""Purpose limitation for the citizen's own uploads: a document the citizen added to the store and whose validity
ended more than STORE_EXPIRED_KEEP_DAYS ago serves no purpose any more (it is no longer offered, and no dossier can
take it), so the daily `docstore.purge` job deletes it as the citizen's own delete would: the row is marked deleted
(its title, hash and usage log stay) and its file is removed once that commits. Results and accepted attachments
are records kept under the law on archives (docs/DOCUMENTS.md, "Retention and deletion") and are never purged here.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import select

from portal.core import audit
from portal.core.storage import remove_stored
from portal.core.time import utcnow
from portal.core.web import unit_of_work
from portal.extensions import db
from portal.models import StoredDocument, StoredSource

log = logging.getLogger(__name__)


def expired_uploads(day: date, keep_days: float, limit: int) -> list[StoredDocument]:
    """The live own uploads whose validity ended more than `keep_days` before `day`, oldest first."""
    last_kept = day - timedelta(days=keep_days)
    return list(
        db.session.scalars(
            select(StoredDocument)
            .where(
                StoredDocument.source == StoredSource.UPLOAD,
                StoredDocument.deleted_at.is_(None),
                StoredDocument.valid_until < last_kept,
            )
            .order_by(StoredDocument.valid_until, StoredDocument.id)
            .limit(limit)
        )
    )


def purge_expired(now: datetime | None = None, limit: int = 500) -> int:
    """Delete a batch of expired own uploads (audited as `docstore.purge`), then remove their files. Returns how
    many were deleted."""
    now = now or utcnow()
    keep_days = float(current_app.config["STORE_EXPIRED_KEEP_DAYS"])
    with unit_of_work():
        found = expired_uploads(now.date(), keep_days, limit)  # the same day as the store's validity checks
        for document in found:
            document.deleted_at = now
            audit.record(
                "docstore.purge", None, document, owner_id=document.owner_id, valid_until=str(document.valid_until)
            )
        keys = [document.storage_key for document in found]
    remove_stored(keys)  # only now that the rows say they are gone
    return len(found)


@shared_task(name="docstore.purge", ignore_result=True)
def purge() -> int:
    deleted = purge_expired()
    if deleted:
        log.info("document store: %d expired uploads deleted", deleted)
    return deleted
