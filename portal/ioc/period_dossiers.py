"""The dossiers behind each period figure, read from stats_dossier_facts (joined with dossiers for their codes).

Each figure is a WHERE clause on the facts that says exactly what `aggregates.contributions()` adds to that
column of stats_daily (same day column, same conditions), so the length of a list equals its figure. "Overdue
now" is the one figure of the current rows (the Today page's clause).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, func, null, select

from portal.extensions import db
from portal.models import Channel, Dossier, Procedure, ProcedureVersion
from portal.stats.figures import Figures

from . import period as service
from .period import FACTS, REASON_OUTCOMES, Selection, facts_scope, overdue_clauses

PAGE_SIZE = 50
MAX_PAGE = 2000
EXPORT_LIMIT = 10_000  # rows in one download of a list; the page says when a list is longer


@dataclass(frozen=True)
class FigureDef:
    label: Any
    day: str  # the facts' day column the figure is counted on ("" for overdue now)
    where: Callable[[], list[ColumnElement[bool]]]
    value: Callable[[Figures], int]  # the figure on the aggregates this list must add up to


def _is(column: str, value: Any) -> Callable[[], list[ColumnElement[bool]]]:
    return lambda: [FACTS.c[column] == value]


def _finished(*more: Callable[[], ColumnElement[bool]]) -> Callable[[], list[ColumnElement[bool]]]:
    return lambda: [FACTS.c.outcome == "finished", *(m() for m in more)]


def _rated(level: int | None) -> Callable[[], list[ColumnElement[bool]]]:
    if level is None:
        return lambda: [FACTS.c.rating_level.in_((1, 2, 3))]
    return _is("rating_level", level)


FIGURES: dict[str, FigureDef] = {
    "received": FigureDef(_l("Received"), "received_day", lambda: [], lambda f: f.received),
    "received_online": FigureDef(
        _l("Received online"), "received_day", _is("channel", Channel.ONLINE), lambda f: f.received_online
    ),
    "received_in_person": FigureDef(
        _l("Received in person"), "received_day", _is("channel", Channel.IN_PERSON), lambda f: f.received_in_person
    ),
    "received_post": FigureDef(
        _l("Received by post"), "received_day", _is("channel", Channel.POST), lambda f: f.received_post
    ),
    "received_full_online": FigureDef(
        _l("Received fully online"),
        "received_day",
        lambda: [FACTS.c.channel == Channel.ONLINE, FACTS.c.online_level == "full_online"],
        lambda f: f.received_full_online,
    ),
    "received_partial_online": FigureDef(
        _l("Received partly online"),
        "received_day",
        lambda: [FACTS.c.channel == Channel.ONLINE, FACTS.c.online_level == "partial_online"],
        lambda f: f.received_partial_online,
    ),
    "finished": FigureDef(_l("Finished with a result"), "outcome_day", _finished(), lambda f: f.finished),
    "judged": FigureDef(
        _l("Finished, judged against the appointment"),
        "outcome_day",
        _finished(lambda: FACTS.c.timeliness.in_(("early", "on_time", "late"))),
        lambda f: f.on_time + f.finished_late,
    ),
    "finished_in_time": FigureDef(
        _l("Finished early or on time"),
        "outcome_day",
        _finished(lambda: FACTS.c.timeliness.in_(("early", "on_time"))),
        lambda f: f.on_time,
    ),
    "finished_early": FigureDef(
        _l("Finished early"),
        "outcome_day",
        _finished(lambda: FACTS.c.timeliness == "early"),
        lambda f: f.finished_early,
    ),
    "finished_on_time": FigureDef(
        _l("Finished on time"),
        "outcome_day",
        _finished(lambda: FACTS.c.timeliness == "on_time"),
        lambda f: f.finished_on_time,
    ),
    "finished_late": FigureDef(
        _l("Finished late"), "outcome_day", _finished(lambda: FACTS.c.timeliness == "late"), lambda f: f.finished_late
    ),
    "processing": FigureDef(
        _l("Finished, with their processing time"),
        "outcome_day",
        _finished(lambda: FACTS.c.processing_hours.is_not(None)),
        lambda f: f.processing_count,
    ),
    "ended": FigureDef(
        _l("Ended (result, refusal, stop or withdrawal)"),
        "outcome_day",
        lambda: [FACTS.c.outcome.in_(("finished", *REASON_OUTCOMES))],
        lambda f: f.ended,
    ),
    "supplemented": FigureDef(
        _l("Ended after at least one supplement request"),
        "outcome_day",
        lambda: [FACTS.c.outcome.in_(("finished", *REASON_OUTCOMES)), FACTS.c.supplement_rounds > 0],
        lambda f: f.supplemented,
    ),
    "not_accepted": FigureDef(
        _l("Not accepted"), "outcome_day", _is("outcome", "not_accepted"), lambda f: f.not_accepted
    ),
    "stopped": FigureDef(_l("Processing stopped"), "outcome_day", _is("outcome", "stopped"), lambda f: f.stopped),
    "withdrawn": FigureDef(
        _l("Withdrawn by the applicant"), "outcome_day", _is("outcome", "withdrawn"), lambda f: f.withdrawn
    ),
    "received_digitised": FigureDef(
        _l("Received with their documents digitised"),
        "received_day",
        lambda: [FACTS.c.digitised.is_(True)],
        lambda f: f.received_digitised,
    ),
    "rated": FigureDef(_l("Rated by the citizen"), "rating_day", _rated(None), lambda f: f.ratings),
    "rating_unsatisfied": FigureDef(_l("Rated unsatisfied"), "rating_day", _rated(1), lambda f: f.rating_unsatisfied),
    "rating_satisfied": FigureDef(_l("Rated satisfied"), "rating_day", _rated(2), lambda f: f.rating_satisfied),
    "rating_very_satisfied": FigureDef(
        _l("Rated very satisfied"), "rating_day", _rated(3), lambda f: f.rating_very_satisfied
    ),
}
OVERDUE = "overdue_open"
OVERDUE_LABEL = _l("Overdue, still open now")
KEYS = (*FIGURES, OVERDUE)


def label_of(figure: str) -> Any:
    return OVERDUE_LABEL if figure == OVERDUE else FIGURES[figure].label


@dataclass
class ListedDossier:
    id: int
    code: str
    agency_id: int
    procedure: str
    status: int
    channel: int
    received_at: datetime | None
    appointment_at: datetime | None
    ended_at: datetime | None
    timeliness: str | None
    processing_hours: float | None
    supplement_rounds: int | None
    rating_level: int | None
    reason: str | None


@dataclass
class DossierList:
    rows: list[ListedDossier]
    total: int
    page: int
    pages: int


def _reason_filter(figure: str, reason: str | None, no_reason: bool) -> list[ColumnElement[bool]]:
    if figure not in REASON_OUTCOMES:
        return []
    if no_reason:
        return [FACTS.c.reason.is_(None)]
    if reason:
        return [FACTS.c.reason == reason]
    return []


def _query(sel: Selection, figure: str, now: datetime, reason: str | None, no_reason: bool, english: bool) -> Select:
    name = func.coalesce(Procedure.name_en, Procedure.name) if english else Procedure.name
    common = (Dossier.id, Dossier.code, Dossier.agency_id, name.label("procedure"), Dossier.status, Dossier.channel)
    times = (Dossier.received_at, Dossier.appointment_at, func.coalesce(Dossier.finished_at, Dossier.closed_at))
    if figure == OVERDUE:
        return (
            select(*common, *times, *(null().label(f"none{i}") for i in range(5)))
            .select_from(Dossier)
            .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
            .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
            .where(*overdue_clauses(sel, now))
        )
    facts = (FACTS.c.timeliness, FACTS.c.processing_hours, FACTS.c.supplement_rounds, FACTS.c.rating_level)
    shown_reason = FACTS.c.reason if figure in REASON_OUTCOMES else null()
    return (
        select(*common, *times, *facts, shown_reason.label("reason"))
        .select_from(FACTS)
        .join(Dossier, Dossier.id == FACTS.c.dossier_id)
        .join(Procedure, Procedure.id == FACTS.c.procedure_id)
        .where(*_facts_where(sel, figure, reason, no_reason))
    )


def _facts_where(sel: Selection, figure: str, reason: str | None, no_reason: bool) -> list[ColumnElement[bool]]:
    spec = FIGURES[figure]
    return [*spec.where(), *facts_scope(sel, spec.day), *_reason_filter(figure, reason, no_reason)]


def _paged(
    stmt: Select, sel: Selection, figure: str, reason: str | None, no_reason: bool, limit: int, offset: int
) -> Select:
    """The page's rows: for a figure of the facts, the page is chosen among the facts alone (an index walk on
    the figure's day) and only its rows are joined to their dossiers, so page 100 joins 50 dossiers, not 5,000."""
    order = _latest_first(figure)
    if figure == OVERDUE:
        return stmt.order_by(*order).limit(limit).offset(offset)
    page = (
        select(FACTS.c.dossier_id)
        .where(*_facts_where(sel, figure, reason, no_reason))
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    return stmt.where(FACTS.c.dossier_id.in_(page.scalar_subquery())).order_by(*order)


def count(sel: Selection, figure: str, now: datetime, reason: str | None = None, no_reason: bool = False) -> int:
    """How many dossiers the list holds. A figure of the period is read from the aggregates (the number the
    leader clicked: a sum over stats_daily rows, not a count over a year of facts); the rows listed come from the
    facts, and tests/test_ioc_period.py checks that they are as many. Lists by reason count their facts (a
    refusal's reason has no aggregate), "overdue now" counts the dossiers (the Today page's clause)."""
    if figure != OVERDUE and not _reason_filter(figure, reason, no_reason):
        return FIGURES[figure].value(service.sums(sel).total())
    if figure == OVERDUE:
        stmt = (
            select(func.count())
            .select_from(Dossier)
            .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
            .where(*overdue_clauses(sel, now))
        )
    else:
        spec = FIGURES[figure]
        stmt = select(func.count()).select_from(FACTS)
        extra = _reason_filter(figure, reason, no_reason)
        if extra:  # the reason is read through the dossier's closing time
            stmt = stmt.join(Dossier, Dossier.id == FACTS.c.dossier_id)
        stmt = stmt.where(*spec.where(), *facts_scope(sel, spec.day), *extra)
    return int(db.session.scalar(stmt) or 0)


def _rows(stmt: Select) -> list[ListedDossier]:
    names = [
        "id", "code", "agency_id", "procedure", "status", "channel", "received_at", "appointment_at", "ended_at",
        "timeliness", "processing_hours", "supplement_rounds", "rating_level", "reason",
    ]  # fmt: skip
    return [ListedDossier(**dict(zip(names, row, strict=True))) for row in db.session.execute(stmt)]


def dossiers(
    sel: Selection,
    figure: str,
    now: datetime,
    page: int = 1,
    *,
    reason: str | None = None,
    no_reason: bool = False,
    english: bool = False,
) -> DossierList:
    """One page of the dossiers behind a figure, the latest first (by the day the figure counts them on)."""
    total = count(sel, figure, now, reason, no_reason)
    pages = max(1, min(MAX_PAGE, -(-total // PAGE_SIZE)))
    page = max(1, min(page, pages))
    stmt = _query(sel, figure, now, reason, no_reason, english)
    stmt = _paged(stmt, sel, figure, reason, no_reason, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return DossierList(_rows(stmt), total, page, pages)


def all_dossiers(
    sel: Selection, figure: str, now: datetime, *, reason: str | None = None, no_reason: bool = False, english: bool
) -> list[ListedDossier]:
    """The whole list for a download, up to EXPORT_LIMIT rows."""
    stmt = _paged(_query(sel, figure, now, reason, no_reason, english), sel, figure, reason, no_reason, EXPORT_LIMIT, 0)
    return _rows(stmt)


def _latest_first(figure: str) -> tuple[Any, ...]:
    """By the figure's day, then the dossier: PostgreSQL walks the day's index backwards from the period's end and
    stops at the page (ordered by the dossier alone, it walked the whole table's key backwards looking for the
    few dossiers of a recent day: 120 ms for an agency's "received this month" at 1,000,000 dossiers)."""
    if figure == OVERDUE:
        return (Dossier.id.desc(),)
    return (FACTS.c[FIGURES[figure].day].desc(), FACTS.c.dossier_id.desc())
