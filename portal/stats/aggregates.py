"""Keeping the statistics current: each dossier's facts, and the daily rows they add up to.

How it works. `facts_of()` says what one dossier contributes now (pure: from the dossier's row, its rating and
its number of supplement rounds). `contributions()` turns facts into additions to `stats_daily` rows. After
every flush of the ORM session, `_after_flush` looks at the dossiers, ratings and timeline entries just written,
reads each changed dossier's stored facts (locked on PostgreSQL), and adds the difference new − old to the daily
rows with `INSERT … ON CONFLICT DO UPDATE SET x = x + …`, in the same transaction as the change itself: the figures
are never more than a commit old, and a rolled-back step leaves them untouched. Rows are touched in key order, so
two transactions never wait on each other in a cycle.

`rebuild()` (`flask --app wsgi stats rebuild`) recomputes every dossier's facts from the dossiers' own rows and
events and replaces both tables; since the same `facts_of()` and `contributions()` are used, it gives the same
numbers as the incremental path.

Reasons: a dossier that ended without a result keeps the reason it was given (`reasons_of()`), read from its
timeline when it ends so (or when a reason is written after that), so that counting reasons reads no timeline.

Digitised dossiers: see `digitised_of()`. A file attached to a dossier (or one removed from it) re-reads that
dossier's facts, as a change of the dossier's own row does.

Processing time: working hours of the agency's calendar from reception to the end of processing, minus the time
the clock stood still for the citizen's supplement (`sla_paused_hours`; for calendar-day procedures that pause
is in calendar hours and is converted at the calendar's hours per working day over 24).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Table, delete, event, func, insert, inspect, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.core.time import as_utc, utcnow
from portal.extensions import db
from portal.models import (
    Agency,
    Attachment,
    Channel,
    Dossier,
    DossierEvent,
    Procedure,
    ProcedureVersion,
    Rating,
    Status,
)
from portal.models.stats import BUCKET_COLUMNS, HOUR_BUCKETS, DailyStats, DossierFacts

from . import rollup

DAILY = cast("Table", DailyStats.__table__)
FACTS = cast("Table", DossierFacts.__table__)

CHANNEL_NAMES = {Channel.IN_PERSON: "in_person", Channel.ONLINE: "online", Channel.POST: "post"}
RATING_COLUMNS = {
    Rating.UNSATISFIED: "rating_unsatisfied",
    Rating.SATISFIED: "rating_satisfied",
    Rating.VERY_SATISFIED: "rating_very_satisfied",
}
ONLINE_LEVELS = {"full_online": "received_full_online", "partial_online": "received_partial_online"}
ENDED_OUTCOMES = {Status.NOT_ACCEPTED: "not_accepted", Status.STOPPED: "stopped", Status.WITHDRAWN: "withdrawn"}
REASON_OUTCOMES = tuple(ENDED_OUTCOMES.values())  # the outcomes whose facts keep the reason given
REASON_KINDS = ("status", "step_completed")  # timeline entries whose note is a reason (REASON_EVENTS must match)
RESULT_STATUSES = frozenset({Status.FINISHED, Status.RETURNED})

Key = tuple[date, int, int]  # day, agency id, procedure id


class DossierRow(Protocol):
    """What facts are computed from: a Dossier, or a row of the rebuild's query with the same names."""

    id: int
    agency_id: int
    status: int
    channel: int
    submitted_at: datetime | None
    received_at: datetime | None
    finished_at: datetime | None
    closed_at: datetime | None
    timeliness: str | None
    sla_paused_hours: float


@dataclass(frozen=True)
class Facts:
    agency_id: int
    procedure_id: int
    channel: int
    online_level: str | None = None
    submitted_day: date | None = None
    received_day: date | None = None
    outcome: str | None = None
    outcome_day: date | None = None
    timeliness: str | None = None
    processing_hours: float | None = None
    supplement_rounds: int = 0
    rating_level: int | None = None
    rating_day: date | None = None
    digitised: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class ProcedureMeta:
    procedure_id: int
    service_level: str
    deadline_kind: str


def local_day(moment: datetime | None, tz: ZoneInfo) -> date | None:
    return None if moment is None else as_utc(moment).astimezone(tz).date()


def bucket_of(hours: float) -> int:
    for index, edge in enumerate(HOUR_BUCKETS):
        if hours < edge:
            return index
    return len(HOUR_BUCKETS)


def outcome_of(dossier: DossierRow) -> tuple[str | None, datetime | None]:
    """How the dossier ended, and when: a result (status 9/10, judged at the end of processing), or a refusal,
    a stop or a withdrawal (when the process closed). None while it is still going."""
    if dossier.status in RESULT_STATUSES and dossier.finished_at is not None:
        return "finished", dossier.finished_at
    name = ENDED_OUTCOMES.get(dossier.status)
    if name is not None and dossier.closed_at is not None:
        return name, dossier.closed_at
    return None, None


def facts_of(
    dossier: DossierRow,
    meta: ProcedureMeta,
    *,
    tz: ZoneInfo,
    supplement_rounds: int,
    rating: tuple[int, date | None] | None,
    hours: Callable[[datetime, datetime], float],
    online_level: str | None = None,
    digitised: bool = False,
    reason: str | None = None,
) -> Facts:
    """The dossier's contribution now. `hours(a, b)` gives working hours between two moments (the agency's
    calendar); `online_level` keeps the service level recorded when the dossier was first seen; `digitised` says
    whether `digitised_of()` finds the dossier's documents held as files (it counts only once received); `reason`
    is what `reasons_of()` finds (kept only for a dossier that ended without a result)."""
    outcome, ended_at = outcome_of(dossier)
    processing = None
    if outcome == "finished" and dossier.received_at is not None and ended_at is not None:
        paused = dossier.sla_paused_hours or 0.0
        if meta.deadline_kind == "calendar":
            paused = paused * hours_per_day_of(hours) / 24
        processing = max(0.0, hours(as_utc(dossier.received_at), as_utc(ended_at)) - paused)
    level = online_level if online_level is not None else meta.service_level
    return Facts(
        agency_id=dossier.agency_id,
        procedure_id=meta.procedure_id,
        channel=dossier.channel,
        online_level=level if dossier.channel == Channel.ONLINE else None,
        submitted_day=local_day(dossier.submitted_at, tz),
        received_day=local_day(dossier.received_at, tz),
        outcome=outcome,
        outcome_day=local_day(ended_at, tz),
        timeliness=dossier.timeliness if outcome == "finished" else None,
        processing_hours=None if processing is None else round(processing, 4),
        supplement_rounds=supplement_rounds,
        rating_level=rating[0] if rating else None,
        rating_day=rating[1] if rating else None,
        digitised=digitised and dossier.received_at is not None,
        reason=reason if outcome in REASON_OUTCOMES else None,
    )


def hours_per_day_of(hours: Callable[[datetime, datetime], float]) -> float:
    return float(getattr(hours, "hours_per_day", 8.0))


def contributions(facts: Facts | None) -> dict[Key, Counter[str]]:
    """The additions one dossier's facts make to the daily rows."""
    out: dict[Key, Counter[str]] = defaultdict(Counter)
    if facts is None:
        return out
    channel = CHANNEL_NAMES.get(facts.channel)

    def add(day: date | None, **values: float) -> None:
        if day is not None:
            out[(day, facts.agency_id, facts.procedure_id)].update(values)

    if facts.submitted_day is not None:
        add(facts.submitted_day, submitted=1)
        if channel:
            add(facts.submitted_day, **{f"submitted_{channel}": 1})
    if facts.received_day is not None:
        add(facts.received_day, received=1)
        if channel:
            add(facts.received_day, **{f"received_{channel}": 1})
        level_column = ONLINE_LEVELS.get(facts.online_level or "")
        if facts.channel == Channel.ONLINE and level_column:
            add(facts.received_day, **{level_column: 1})
        if facts.digitised:
            add(facts.received_day, received_digitised=1)
    if facts.outcome is not None and facts.outcome_day is not None:
        if facts.outcome == "finished":
            add(facts.outcome_day, finished=1)
            if facts.timeliness in ("early", "on_time", "late"):
                add(facts.outcome_day, **{f"finished_{facts.timeliness}": 1})
            if facts.processing_hours is not None:
                add(
                    facts.outcome_day,
                    processing_count=1,
                    processing_hours=facts.processing_hours,
                    **{BUCKET_COLUMNS[bucket_of(facts.processing_hours)]: 1},
                )
        else:
            add(facts.outcome_day, **{facts.outcome: 1})
        if facts.received_day is None:
            add(facts.outcome_day, **{f"unreceived_{facts.outcome}": 1})
            if facts.outcome == "finished" and facts.timeliness in ("early", "on_time", "late"):
                add(facts.outcome_day, **{f"unreceived_finished_{facts.timeliness}": 1})
        if facts.supplement_rounds:
            add(facts.outcome_day, supplement_rounds=facts.supplement_rounds, supplemented=1)
    rating_column = RATING_COLUMNS.get(facts.rating_level or 0)
    if rating_column and facts.rating_day is not None:
        add(facts.rating_day, **{rating_column: 1})
    return out


def difference(old: Facts | None, new: Facts | None) -> dict[Key, dict[str, float]]:
    """new − old, without the zeros."""
    result: dict[Key, dict[str, float]] = {}
    before, after = contributions(old), contributions(new)
    for key in set(before) | set(after):
        names = set(before[key]) | set(after[key])
        delta: dict[str, float] = {name: after[key][name] - before[key][name] for name in names}
        delta = {name: value for name, value in delta.items() if value}
        if delta:
            result[key] = delta
    return result


# -- writing ---------------------------------------------------------------------------------------------


def _insert_for(session: Session) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"statistics need INSERT … ON CONFLICT, which {name} lacks")  # pragma: no cover


def apply(session: Session, changes: dict[Key, dict[str, float]]) -> None:
    """Add `changes` to the daily rows (creating them), in key order."""
    if not changes:
        return
    # A day of a past month (a late file, a deleted dossier): that month's roll-up is no longer current.
    rollup.invalidate(session, (day for day, _agency, _procedure in changes), utcnow().astimezone(_tz()).date())
    table = DAILY
    insert_ = _insert_for(session)
    for key in sorted(changes):
        delta = changes[key]
        day, agency_id, procedure_id = key
        statement = insert_(table).values(day=day, agency_id=agency_id, procedure_id=procedure_id, **delta)
        statement = statement.on_conflict_do_update(
            index_elements=["day", "agency_id", "procedure_id"],
            set_={name: table.c[name] + statement.excluded[name] for name in delta},
        )
        session.execute(statement)


def _store_facts(session: Session, dossier_id: int, facts: Facts | None, existed: bool) -> None:
    table = FACTS
    if facts is None:
        session.execute(delete(table).where(table.c.dossier_id == dossier_id))
    elif existed:
        session.execute(table.update().where(table.c.dossier_id == dossier_id).values(**asdict(facts)))
    else:
        session.execute(insert(table).values(dossier_id=dossier_id, **asdict(facts)))


def _facts_from_row(row: Any) -> Facts:
    return Facts(**{name: getattr(row, name) for name in Facts.__dataclass_fields__})


def _stored_facts(session: Session, ids: Iterable[int]) -> dict[int, Facts]:
    table = FACTS
    ids = sorted(ids)
    if not ids:
        return {}
    query = select(table).where(table.c.dossier_id.in_(ids)).order_by(table.c.dossier_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # a rating and a step of the same dossier: the second waits and re-reads
    return {row.dossier_id: _facts_from_row(row) for row in session.execute(query)}


def procedure_meta(session: Session, version_id: int) -> ProcedureMeta:
    row = session.execute(
        select(Procedure.id, Procedure.service_level, Procedure.deadline_kind)
        .join(ProcedureVersion, ProcedureVersion.procedure_id == Procedure.id)
        .where(ProcedureVersion.id == version_id)
    ).one()
    return ProcedureMeta(row[0], row[1], row[2])


def _calendar_hours(agency: Agency) -> Callable[[datetime, datetime], float]:
    from portal.sla.services import calendar_for

    calendar = calendar_for(agency)

    def hours(a: datetime, b: datetime) -> float:
        return calendar.working_hours_between(a, b)

    hours.hours_per_day = calendar.hours_per_day  # type: ignore[attr-defined]
    return hours


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


# -- the incremental path ---------------------------------------------------------------------------------


def _after_flush(session: Session, _context: Any) -> None:
    changed: dict[int, Dossier] = {}
    deleted: set[int] = set()
    new_rounds: Counter[int] = Counter()
    new_ratings: dict[int, Rating] = {}
    files: set[int] = set()  # dossiers that gained or lost a file
    noted: set[int] = set()  # dossiers whose timeline gained a reason
    for obj in session.new:
        if isinstance(obj, Dossier):
            changed[obj.id] = obj
        elif isinstance(obj, DossierEvent):
            if obj.kind == "status" and obj.to_status == Status.SUPPLEMENT:
                new_rounds[obj.dossier_id] += 1
            if obj.kind in REASON_KINDS and obj.note:
                noted.add(obj.dossier_id)
        elif isinstance(obj, Rating):
            new_ratings[obj.dossier_id] = obj
        elif isinstance(obj, Attachment) and obj.dossier_id is not None:
            files.add(obj.dossier_id)
    for obj in session.dirty:
        if isinstance(obj, Dossier) and session.is_modified(obj, include_collections=False):
            changed[obj.id] = obj
        elif isinstance(obj, Rating):
            new_ratings[obj.dossier_id] = obj
        elif isinstance(obj, Attachment) and session.is_modified(obj, include_collections=False):
            files.update(_dossier_ids_of(obj))
    for obj in session.deleted:
        if isinstance(obj, Dossier):
            deleted.add(obj.id)
        elif isinstance(obj, Attachment) and obj.dossier_id is not None:
            files.add(obj.dossier_id)
    touched = set(changed) | set(new_rounds) | set(new_ratings) | deleted | files | noted
    if not touched:
        return
    with session.no_autoflush:
        _update(session, touched, Changes(changed, deleted, new_rounds, new_ratings, files, noted))


def _dossier_ids_of(attachment: Attachment) -> set[int]:
    """The dossier a changed attachment belongs to now, and the one it belonged to before the flush."""
    history = inspect(attachment).attrs.dossier_id.history
    return {i for i in (*history.added, *history.deleted, *history.unchanged) if i is not None}


@dataclass(frozen=True)
class Changes:
    """What one flush wrote that the statistics follow."""

    changed: dict[int, Dossier]
    deleted: set[int]
    new_rounds: Counter[int]
    new_ratings: dict[int, Rating]
    files: set[int]
    noted: set[int]


def _update(session: Session, touched: set[int], flushed: Changes) -> None:
    tz = _tz()
    stored = _stored_facts(session, touched)
    dossiers: dict[int, Dossier | None] = {}
    for dossier_id in sorted(touched):
        if dossier_id not in flushed.deleted:
            dossiers[dossier_id] = flushed.changed.get(dossier_id) or session.get(Dossier, dossier_id)
    # Digitised stays digitised while neither the dossier's files nor its reception time change: ask only then.
    kept = {i for i, d in dossiers.items() if d is not None and _still_digitised(d, stored.get(i), flushed.files)}
    ask = [i for i, d in dossiers.items() if d is not None and d.received_at is not None and i not in kept]
    digitised = kept | digitised_of(session, ask)
    reasons = _reasons_now(session, dossiers, stored, flushed.noted)
    changes: dict[Key, Counter[str]] = defaultdict(Counter)
    for dossier_id in sorted(touched):
        old = stored.get(dossier_id)
        if dossier_id in flushed.deleted:
            new = None
        else:
            dossier = dossiers.get(dossier_id)
            if dossier is None:
                continue
            new = _current_facts(
                session,
                dossier,
                old,
                tz,
                flushed.new_rounds[dossier_id],
                flushed.new_ratings.get(dossier_id),
                digitised=dossier_id in digitised,
                reason=reasons.get(dossier_id),
            )
        if new == old:
            continue
        for key, delta in difference(old, new).items():
            changes[key].update(delta)
        _store_facts(session, dossier_id, new, existed=old is not None)
    apply(session, {key: dict(values) for key, values in changes.items()})


def _reasons_now(
    session: Session, dossiers: dict[int, Dossier | None], stored: dict[int, Facts], noted: set[int]
) -> dict[int, str | None]:
    """The reason of each dossier that has ended without a result: carried over from its stored facts unless it
    has just ended so or its timeline has just gained a reason; read from the timeline then."""
    out: dict[int, str | None] = {}
    ask = []
    for dossier_id, dossier in dossiers.items():
        if dossier is None or outcome_of(dossier)[0] not in REASON_OUTCOMES:
            continue
        old = stored.get(dossier_id)
        if old is not None and old.outcome == outcome_of(dossier)[0] and dossier_id not in noted:
            out[dossier_id] = old.reason
        else:
            ask.append(dossier_id)
    return {**out, **reasons_of(session, ask)}


def _still_digitised(dossier: Dossier, old: Facts | None, files: set[int]) -> bool:
    if old is None or not old.digitised or dossier.id in files or dossier.received_at is None:
        return False
    return not inspect(dossier).attrs.received_at.history.has_changes()


def _current_facts(
    session: Session,
    dossier: Dossier,
    old: Facts | None,
    tz: ZoneInfo,
    added_rounds: int,
    rating: Rating | None,
    *,
    digitised: bool,
    reason: str | None,
) -> Facts:
    if old is not None:  # what cannot change is carried over; the rest comes from the dossier's row
        meta = ProcedureMeta(old.procedure_id, old.online_level or "", "working")
        rounds = old.supplement_rounds + added_rounds
        given = (old.rating_level, old.rating_day) if old.rating_level else None
    else:  # first sight (or a dossier from before the statistics): everything from the rows, flushed just now
        meta = procedure_meta(session, dossier.procedure_version_id)
        rounds = supplement_rounds_of(session, [dossier.id]).get(dossier.id, 0)
        given = ratings_of(session, [dossier.id], tz).get(dossier.id)
    if rating is not None:
        given = (rating.level, local_day(rating.created_at or utcnow(), tz))
    needs_hours = outcome_of(dossier)[0] == "finished" and dossier.received_at is not None
    if needs_hours and old is not None:
        meta = replace(meta, deadline_kind=procedure_meta(session, dossier.procedure_version_id).deadline_kind)
    # By id: a dossier inserted in this flush does not load its relationships yet.
    agency = session.get(Agency, dossier.agency_id) if needs_hours else None
    hours = _calendar_hours(agency) if agency is not None else _no_hours
    return facts_of(
        dossier,
        meta,
        tz=tz,
        supplement_rounds=rounds,
        rating=given,
        hours=hours,
        online_level=old.online_level if old is not None else None,
        digitised=digitised,
        reason=reason,
    )


def _no_hours(_a: datetime, _b: datetime) -> float:  # pragma: no cover - only called when hours are needed
    raise RuntimeError("processing hours asked for a dossier that has not finished")


def supplement_rounds_of(session: Session, ids: list[int]) -> dict[int, int]:
    """How many times each dossier was sent back to the citizen for a supplement (status 5 entries)."""
    rows = session.execute(
        select(DossierEvent.dossier_id, func.count())
        .where(
            DossierEvent.dossier_id.in_(ids),
            DossierEvent.kind == "status",
            DossierEvent.to_status == Status.SUPPLEMENT,
        )
        .group_by(DossierEvent.dossier_id)
    )
    return {int(dossier_id): int(count) for dossier_id, count in rows}


def digitised_of(session: Session, ids: list[int]) -> set[int]:
    """Which of these dossiers are digitised: received, with their documents held as files in the portal.

    Definition. A received dossier is digitised when at least one file attached to it is
    - a file of its applicant (`uploaded_by_id` is the dossier's applicant): what they attached to the application
      or to a supplement, uploaded online or at the desk on their account, whenever it came; or
    - an officer's file uploaded no later than the reception (`created_at <= received_at`): a scan of the papers
      the desk attaches while it receives them.
    Officers' files uploaded after the reception (inspection records, the electronic copy of the result) do not
    count: they are the agency's documents, not the dossier's submitted ones. The dossier is counted on its day of
    reception; a file that arrives later (a supplement) still makes it count there.
    """
    if not ids:
        return set()
    found = session.scalars(
        select(Attachment.dossier_id)
        .join(Dossier, Dossier.id == Attachment.dossier_id)
        .where(
            Attachment.dossier_id.in_(ids),
            Dossier.received_at.is_not(None),
            or_(Attachment.uploaded_by_id == Dossier.applicant_id, Attachment.created_at <= Dossier.received_at),
        )
        .distinct()
    )
    return {int(i) for i in found if i is not None}


def reasons_of(session: Session, ids: list[int]) -> dict[int, str | None]:
    """The reason each of these dossiers was given when it ended: the last note of a decision or status entry
    of its timeline up to its closing (a refusal's, a stop's or a withdrawal's reason); absent when none."""
    if not ids:
        return {}
    ranked = (
        select(
            DossierEvent.dossier_id,
            DossierEvent.note,
            func.row_number()
            .over(partition_by=DossierEvent.dossier_id, order_by=(DossierEvent.at.desc(), DossierEvent.id.desc()))
            .label("n"),
        )
        .join(Dossier, Dossier.id == DossierEvent.dossier_id)
        .where(
            DossierEvent.dossier_id.in_(ids),
            DossierEvent.kind.in_(REASON_KINDS),
            DossierEvent.note.is_not(None),
            DossierEvent.note != "",
            DossierEvent.at <= Dossier.closed_at,
        )
        .subquery()
    )
    rows = session.execute(select(ranked.c.dossier_id, ranked.c.note).where(ranked.c.n == 1))
    return {int(dossier_id): str(note) for dossier_id, note in rows}


def ratings_of(session: Session, ids: list[int], tz: ZoneInfo) -> dict[int, tuple[int, date | None]]:
    rows = session.execute(select(Rating.dossier_id, Rating.level, Rating.created_at).where(Rating.dossier_id.in_(ids)))
    return {dossier_id: (level, local_day(created, tz)) for dossier_id, level, created in rows}


def connect() -> None:
    """Listen to every session's flushes (once per process, however many apps it builds)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


# -- the rebuild ------------------------------------------------------------------------------------------

REBUILD_COLUMNS = (
    Dossier.id,
    Dossier.agency_id,
    Dossier.status,
    Dossier.channel,
    Dossier.submitted_at,
    Dossier.received_at,
    Dossier.finished_at,
    Dossier.closed_at,
    Dossier.timeliness,
    Dossier.sla_paused_hours,
    Dossier.procedure_version_id,
)


def dossier_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Dossier)) or 0


def rebuild(session: Session, batch: int = 1000) -> Iterator[int]:
    """Replace both tables with what the dossiers' rows and events say; yields the number of dossiers done
    after each batch (for a progress bar). The caller commits; run twice, it gives the same rows."""
    if session.get_bind().dialect.name == "postgresql":
        # Steps committing meanwhile wait, then apply their difference on top of the rebuilt facts.
        session.execute(db.text("LOCK TABLE stats_daily, stats_dossier_facts IN EXCLUSIVE MODE"))
    session.execute(delete(DAILY))
    session.execute(delete(FACTS))
    rollup.clear(session)
    tz = _tz()
    agencies = {agency.id: agency for agency in session.scalars(select(Agency))}
    hours_of = {agency_id: _calendar_hours(agency) for agency_id, agency in agencies.items()}
    metas: dict[int, ProcedureMeta] = {}
    totals: dict[Key, Counter[str]] = defaultdict(Counter)
    last_id, done = 0, 0
    while True:
        rows = session.execute(
            select(*REBUILD_COLUMNS).where(Dossier.id > last_id).order_by(Dossier.id).limit(batch)
        ).all()
        if not rows:
            break
        ids = [row.id for row in rows]
        rounds = supplement_rounds_of(session, ids)
        ratings = ratings_of(session, ids, tz)
        digitised = digitised_of(session, ids)
        reasons = reasons_of(session, [row.id for row in rows if outcome_of(row)[0] in REASON_OUTCOMES])
        facts_rows = []
        for row in rows:
            if row.procedure_version_id not in metas:
                metas[row.procedure_version_id] = procedure_meta(session, row.procedure_version_id)
            facts = facts_of(
                row,
                metas[row.procedure_version_id],
                tz=tz,
                supplement_rounds=rounds.get(row.id, 0),
                rating=ratings.get(row.id),
                hours=hours_of[row.agency_id],
                digitised=row.id in digitised,
                reason=reasons.get(row.id),
            )
            facts_rows.append({"dossier_id": row.id, **asdict(facts)})
            for key, values in contributions(facts).items():
                totals[key].update(values)
        session.execute(insert(FACTS), facts_rows)
        last_id = ids[-1]
        done += len(rows)
        yield done
    daily = [
        {"day": day, "agency_id": agency_id, "procedure_id": procedure_id, **dict(values)}
        for (day, agency_id, procedure_id), values in sorted(totals.items())
    ]
    for start in range(0, len(daily), batch):
        chunk = daily[start : start + batch]
        # Executemany needs the same keys in every row.
        columns = {name for row in chunk for name in row}
        session.execute(insert(DAILY), [{name: row.get(name, 0) for name in columns} for row in chunk])
    rollup.build_missing(session, utcnow().astimezone(tz).date())
