"""What officers and administrators are shown of the national portal sync."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import NationalSync, SyncState


@dataclass(frozen=True)
class DossierSync:
    """A dossier's sync: the last status the national portal took, and the first one still waiting, if any."""

    last_sent: NationalSync | None
    waiting: NationalSync | None
    waiting_count: int

    @property
    def state(self) -> str:
        if self.waiting is None:
            return SyncState.SENT
        return SyncState.FAILED if self.waiting.state == SyncState.FAILED else SyncState.PENDING

    @property
    def synced_at(self) -> datetime | None:
        return self.last_sent.sent_at if self.last_sent else None


def dossier_sync(dossier_id: int) -> DossierSync | None:
    """None when nothing was ever written for the dossier (sync off, or a dossier older than it). One query: a
    dossier has one row per status change, a handful."""
    rows = list(
        db.session.scalars(select(NationalSync).where(NationalSync.dossier_id == dossier_id).order_by(NationalSync.seq))
    )
    if not rows:
        return None
    sent = [r for r in rows if r.state == SyncState.SENT]
    waiting = [r for r in rows if r.state != SyncState.SENT]
    return DossierSync(sent[-1] if sent else None, waiting[0] if waiting else None, len(waiting))


def stuck_rows(limit: int = 200) -> list[NationalSync]:
    """For administrators: rows that failed for good, and rows that failed at least once and wait for a retry."""
    stmt = (
        select(NationalSync)
        .where(
            (NationalSync.state == SyncState.FAILED)
            | ((NationalSync.state == SyncState.PENDING) & (NationalSync.attempts > 0))
        )
        .options(selectinload(NationalSync.dossier))
        .order_by(NationalSync.state, NationalSync.created_at)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
