"""Backfill: when the sync is switched on for a portal that already has dossiers, the national portal learns the
current state of each of them (`flask national-sync backfill`, docs/SYNC.md).

One outbox row per dossier, reporting the dossier's current status as of its last status change, numbered after
its rows so far and pushed after the commit like any other row (`outbox`). Chosen:
- by default, every filed dossier with no outbox row at all (it was never synced);
- with `since`, the dossiers filed on or after that day whose last row does not report their current status (also
  those synced before, whose later changes were missed while the sync was off).
Either way a dossier the national portal already knows as it is gets nothing: a second run writes no row.
Batches of `batch` dossiers, one transaction each (the dossiers' rows are small; a long backfill holds no lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from portal.core.time import utcnow
from portal.core.web import unit_of_work
from portal.extensions import db
from portal.models import Dossier, DossierEvent, NationalSync, Status, SyncState

from .outbox import STATUS_KINDS, idempotency_key
from .payload import build

DEFAULT_BATCH = 200


@dataclass
class Backfill:
    candidates: int = 0  # dossiers the national portal does not know as they are
    written: int = 0  # outbox rows written (0 in a dry run)
    batches: int = 0


def _start_of(day: date) -> datetime:
    """Midnight of the day in the portal's time zone (dossiers are "filed on" a local day)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


def candidates(since: date | None) -> Select[int]:
    """The ids of the dossiers to backfill, in id order."""
    stmt = select(Dossier.id).where(Dossier.submitted_at.is_not(None))
    has_row = exists().where(NationalSync.dossier_id == Dossier.id)
    if since is None:
        return stmt.where(~has_row).order_by(Dossier.id)
    last = aliased(NationalSync)
    newer = aliased(NationalSync)
    stale = exists().where(
        last.dossier_id == Dossier.id,
        last.status != Dossier.status,
        ~exists().where(and_(newer.dossier_id == last.dossier_id, newer.seq > last.seq)),
    )
    return stmt.where(Dossier.submitted_at >= _start_of(since), or_(~has_row, stale)).order_by(Dossier.id)


def write_current_state(session: Session, dossier: Dossier, now: datetime) -> NationalSync:
    """One row reporting the dossier's current status; the caller commits (the outbox hook pushes it after)."""
    last_event = session.scalar(
        select(DossierEvent)
        .where(DossierEvent.dossier_id == dossier.id, DossierEvent.kind.in_(STATUS_KINDS))
        .order_by(DossierEvent.id.desc())
        .limit(1)
    )
    changed_at = last_event.at if last_event is not None else (dossier.submitted_at or dossier.created_at)
    seq = (session.scalar(select(func.max(NationalSync.seq)).where(NationalSync.dossier_id == dossier.id)) or 0) + 1
    key = idempotency_key(dossier, seq)
    row = NationalSync(
        dossier_id=dossier.id,
        seq=seq,
        idempotency_key=key,
        status=dossier.status or Status.NEW,
        event_id=last_event.id if last_event is not None else None,
        payload=build(dossier, dossier.status or Status.NEW, changed_at, seq, key),
        state=SyncState.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


def backfill(since: date | None = None, dry_run: bool = False, batch: int = DEFAULT_BATCH) -> Backfill:
    """Write (or, with `dry_run`, only count) the rows; each batch commits on its own."""
    result = Backfill()
    query = candidates(since)
    result.candidates = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if dry_run or not result.candidates:
        return result
    after = 0
    while True:
        with unit_of_work():
            ids = list(db.session.scalars(query.where(Dossier.id > after).limit(batch)))
            if not ids:
                break
            now = utcnow()
            for dossier in db.session.scalars(select(Dossier).where(Dossier.id.in_(ids)).order_by(Dossier.id)):
                write_current_state(db.session(), dossier, now)
                result.written += 1
            db.session.flush()
        result.batches += 1
        after = ids[-1]
    return result
