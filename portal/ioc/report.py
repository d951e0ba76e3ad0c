"""The periodic report on handling administrative procedures: the one-stop shop's monthly report to the provincial
office (the layout of the report form of Circular 01/2018/TT-VPCP), per agency and per field.

Which dossiers the report counts (the same definitions in every cell, so each row balances):

- A dossier is *received for processing* on its reception day (`received_day` of its facts); a dossier refused at
  the desk or withdrawn before the desk received it was never received: it is outside the balance and shown in
  two columns of its own ("not received").
- *Carried over* from the previous period: received before the period's first day and not ended before it.
- *Newly received*: received in the period, by channel (online; in person or by post).
- *Handled*: processing finished with a result in the period (early / on time / late as judged against the
  appointment; a procedure without a deadline counts in the total only). *Ended without a result*: withdrawn,
  stopped or not accepted in the period, after reception.
- *Being handled at the end*: received by the period's last day and not ended by it; *overdue* when the dossier's
  appointment was before the end of that day (or before now, for a period not yet over) and the clock was not
  standing still for the citizen's supplement then.

So: carried over + newly received = handled + ended without a result + being handled at the end.

The counts come from the daily aggregates (whole past months from their roll-up, portal/stats/rollup.py), like the
statistics pages: the period's receptions by channel and outcomes, less the outcomes of dossiers never received
(the `unreceived_*` columns); carried over = received before the period less ended after reception before it;
being handled at the end = carried over + received − ended after reception. Two sums, whatever the period's
length. The split of the dossiers being handled at the end into overdue / not yet due reads the facts of the
dossiers open at the end with their appointment from the dossier's row (its current appointment: a date moved
after the period's end is seen as moved).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Table, and_, case, func, or_, select

from portal.catalogue.services import localized
from portal.extensions import db
from portal.models import Agency, Dossier, DossierFacts, Procedure
from portal.stats import rollup
from portal.stats.export import Column
from portal.stats.export import Table as ExportTable
from portal.stats.figures import Period

from .access import LeaderScope

FACTS = cast("Table", DossierFacts.__table__)


@dataclass(frozen=True)
class Counts:
    """One line of the report (the counts are additive; shares are derived)."""

    carried_over: int = 0
    received_online: int = 0
    received_in_person: int = 0
    received_post: int = 0
    finished: int = 0
    finished_early: int = 0
    finished_on_time: int = 0
    finished_late: int = 0
    withdrawn: int = 0
    stopped: int = 0
    not_accepted: int = 0
    open_end: int = 0
    open_overdue: int = 0
    refused_at_reception: int = 0
    withdrawn_before_reception: int = 0
    ratings: int = 0
    ratings_satisfied: int = 0  # satisfied or very satisfied

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def received_new(self) -> int:
        return self.received_online + self.received_in_person + self.received_post

    @property
    def received_counter(self) -> int:
        """In person or by post (one column of the form)."""
        return self.received_in_person + self.received_post

    @property
    def received_total(self) -> int:
        return self.carried_over + self.received_new

    @property
    def ended_without_result(self) -> int:
        return self.withdrawn + self.stopped + self.not_accepted

    @property
    def open_not_due(self) -> int:
        return self.open_end - self.open_overdue

    @property
    def on_time(self) -> int:
        return self.finished_early + self.finished_on_time

    @property
    def on_time_share(self) -> float | None:
        judged = self.on_time + self.finished_late
        return None if not judged else self.on_time / judged

    @property
    def satisfaction_share(self) -> float | None:
        return None if not self.ratings else self.ratings_satisfied / self.ratings

    @property
    def balanced(self) -> bool:
        return self.received_total == self.finished + self.ended_without_result + self.open_end

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class ReportRow:
    key: int | str
    name: str
    counts: Counts


@dataclass(frozen=True)
class Report:
    period: Period
    scope: LeaderScope
    made_on: date
    province: Agency | None  # the province-level agency (the report's heading)
    agency: Agency | None  # the one agency reported on, or None for several / the whole province
    by_agency: list[ReportRow]
    by_field: list[ReportRow]
    total: Counts

    @property
    def several_agencies(self) -> bool:
        return self.agency is None


# -- time --------------------------------------------------------------------------------------------------


def tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_today(now: datetime) -> date:
    return now.astimezone(tz()).date()


def cut_moment(period: Period, now: datetime) -> datetime:
    """The end of the period's last local day, or now when the period is not over yet (UTC)."""
    end = datetime.combine(period.end + timedelta(days=1), time(0), tz()).astimezone(UTC)
    return min(end, now.astimezone(UTC))


# -- counting ----------------------------------------------------------------------------------------------


def _n(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _scoped(query: Any, column: Any, scope: LeaderScope) -> Any:
    return query if scope.agency_ids is None else query.where(column.in_(scope.agency_ids))


Key = tuple[int, int]  # agency id, procedure id
OUTCOMES = ("finished", "not_accepted", "stopped", "withdrawn")


def _not_ended_before(day: date) -> ColumnElement[bool]:
    """Open, or ended on `day` or later. Written per outcome (an outcome has its day, an open dossier neither), so
    PostgreSQL reads it from ix_stats_facts_outcome (outcome, outcome_day, …): the open dossiers and, for each
    outcome, a range of days, rather than the whole history."""
    f = FACTS.c
    return or_(f.outcome.is_(None), and_(f.outcome.in_(OUTCOMES), f.outcome_day >= day))


FINISHED_SPLIT = ("finished_early", "finished_on_time", "finished_late")
PERIOD_COUNTS = (
    "received_online", "received_in_person", "received_post", *OUTCOMES, *FINISHED_SPLIT,
    "refused_at_reception", "withdrawn_before_reception",
)  # fmt: skip


def _received_and_ended(t: Any) -> Any:
    """Per daily row: dossiers received that day, less those ended that day after their reception."""
    ended = [t.c[name] - t.c[f"unreceived_{name}"] for name in OUTCOMES]
    return t.c.received - ended[0] - ended[1] - ended[2] - ended[3]


def _period_columns(t: Any) -> dict[str, Any]:
    """The report's counts over a period's daily rows: outcomes after reception are the outcomes less those of
    dossiers never received (those two have their own columns)."""
    after = {name: t.c[name] - t.c[f"unreceived_{name}"] for name in (*OUTCOMES, *FINISHED_SPLIT)}
    return {
        "received_online": t.c.received_online,
        "received_in_person": t.c.received_in_person,
        "received_post": t.c.received_post,
        **after,
        "refused_at_reception": t.c.unreceived_not_accepted,
        "withdrawn_before_reception": t.c.unreceived_withdrawn,
    }


def _summed(session: Any, start: date, end: date, scope: LeaderScope, columns: Any) -> dict[Key, dict[str, int]]:
    t = rollup.source(session, start, end)
    named = columns(t)
    query = select(t.c.agency_id, t.c.procedure_id, *(func.coalesce(func.sum(c), 0).label(n) for n, c in named.items()))
    query = _scoped(query.where(t.c.day >= start, t.c.day <= end), t.c.agency_id, scope)
    query = query.group_by(t.c.agency_id, t.c.procedure_id)
    return {
        (int(r["agency_id"]), int(r["procedure_id"])): {name: int(r[name]) for name in named}
        for r in session.execute(query).mappings()
    }


def _facts_counts(period: Period, scope: LeaderScope) -> dict[Key, dict[str, int]]:
    """Carried over, newly received, handled, ended and being handled at the end, from the daily aggregates
    (whole months from their roll-up): carried over = received before the period less ended after reception
    before it; being handled at the end = carried over + received − ended after reception in the period."""
    session = db.session()
    first = session.scalar(select(func.min(rollup.DAILY.c.day)))
    before: dict[Key, dict[str, int]] = {}
    if first is not None and first < period.start:
        last = period.start - timedelta(days=1)
        before = _summed(session, first, last, scope, lambda t: {"open": _received_and_ended(t)})
    during = _summed(session, period.start, period.end, scope, _period_columns)
    out: dict[Key, dict[str, int]] = {}
    for key in set(before) | set(during):
        values = dict.fromkeys(PERIOD_COUNTS, 0) | during.get(key, {})
        carried = before.get(key, {}).get("open", 0)
        received = values["received_online"] + values["received_in_person"] + values["received_post"]
        ended = sum(values[name] for name in OUTCOMES)
        out[key] = {**values, "carried_over": carried, "open_end": carried + received - ended}
    return out


def _overdue_counts(period: Period, scope: LeaderScope, now: datetime) -> dict[Key, int]:
    """Of the dossiers open at the end of the period, those past their appointment then (clock not paused)."""
    f = FACTS.c
    cut = cut_moment(period, now)
    overdue = and_(
        Dossier.appointment_at.is_not(None),
        Dossier.appointment_at < cut,
        or_(Dossier.sla_paused_at.is_(None), Dossier.sla_paused_at >= cut),
    )
    query = (
        select(f.agency_id, f.procedure_id, _n(overdue).label("overdue"))
        .select_from(FACTS.outerjoin(Dossier.__table__, Dossier.id == f.dossier_id))
        .where(f.received_day <= period.end, _not_ended_before(period.end + timedelta(days=1)))
    )
    query = _scoped(query, f.agency_id, scope).group_by(f.agency_id, f.procedure_id)
    return {(int(r.agency_id), int(r.procedure_id)): int(r.overdue) for r in db.session.execute(query)}


def _rating_counts(period: Period, scope: LeaderScope) -> dict[Key, tuple[int, int]]:
    d = rollup.source(db.session(), period.start, period.end).c
    satisfied = d.rating_satisfied + d.rating_very_satisfied
    query = select(
        d.agency_id,
        d.procedure_id,
        func.coalesce(func.sum(d.rating_unsatisfied + satisfied), 0).label("ratings"),
        func.coalesce(func.sum(satisfied), 0).label("satisfied"),
    ).where(d.day >= period.start, d.day <= period.end)
    query = _scoped(query, d.agency_id, scope).group_by(d.agency_id, d.procedure_id)
    return {
        (int(r.agency_id), int(r.procedure_id)): (int(r.ratings), int(r.satisfied)) for r in db.session.execute(query)
    }


def counts_by_procedure(period: Period, scope: LeaderScope, now: datetime) -> dict[Key, Counts]:
    facts = _facts_counts(period, scope)
    overdue = _overdue_counts(period, scope, now)
    ratings = _rating_counts(period, scope)
    out: dict[Key, Counts] = {}
    for key in set(facts) | set(overdue) | set(ratings):
        given, satisfied = ratings.get(key, (0, 0))
        values = facts.get(key, {})
        counts = Counts(**values, open_overdue=overdue.get(key, 0), ratings=given, ratings_satisfied=satisfied)
        if not counts.empty:
            out[key] = counts
    return out


def _sum(items: Iterable[Counts]) -> Counts:
    total = Counts()
    for item in items:
        total = total + item
    return total


# -- the report --------------------------------------------------------------------------------------------


def province_agency() -> Agency | None:
    return db.session.scalar(select(Agency).where(Agency.level == "province").order_by(Agency.id).limit(1))


def build_report(scope: LeaderScope, period: Period, now: datetime) -> Report:
    """The report of `scope` for `period`, as it stands at `now`."""
    per_procedure = counts_by_procedure(period, scope, now)
    agency_ids = {agency_id for agency_id, _ in per_procedure}
    if scope.agency_ids is not None:
        agency_ids |= set(scope.agency_ids)
    agencies = {a.id: a for a in db.session.scalars(select(Agency).where(Agency.id.in_(agency_ids)))}
    procedure_ids = {procedure_id for _, procedure_id in per_procedure}
    field_of = {
        int(pid): str(name)
        for pid, name in db.session.execute(
            select(Procedure.id, func.coalesce(Procedure.field, "")).where(Procedure.id.in_(procedure_ids))
        )
    }
    by_agency: dict[int, Counts] = {}
    by_field: dict[str, Counts] = {}
    for (agency_id, procedure_id), counts in per_procedure.items():
        by_agency[agency_id] = by_agency.get(agency_id, Counts()) + counts
        name = field_of.get(procedure_id, "")
        by_field[name] = by_field.get(name, Counts()) + counts
    if scope.agency_ids is not None:  # an agency with nothing to report still has its line
        for agency_id in scope.agency_ids:
            by_agency.setdefault(agency_id, Counts())
    agency_rows = [
        ReportRow(agency_id, localized(agencies[agency_id]) if agency_id in agencies else str(agency_id), counts)
        for agency_id, counts in by_agency.items()
    ]
    agency_rows.sort(key=lambda r: (r.name, str(r.key)))
    field_rows = [ReportRow(name, name or _("Procedures without a field"), c) for name, c in by_field.items()]
    field_rows.sort(key=lambda r: (r.key == "", r.name))
    only = agencies.get(scope.agency_ids[0]) if scope.agency_ids is not None and len(scope.agency_ids) == 1 else None
    province = only.parent if only is not None and only.parent is not None else province_agency()
    if only is not None and only.level == "province":
        province = only
    return Report(
        period=period,
        scope=scope,
        made_on=local_today(now),
        province=province,
        agency=only,
        by_agency=agency_rows,
        by_field=field_rows,
        total=_sum(row.counts for row in agency_rows),
    )


def totals(scope: LeaderScope, period: Period, now: datetime) -> Counts:
    """The report's total line alone (the email's key figures and their comparison)."""
    return _sum(counts_by_procedure(period, scope, now).values())


# -- words -------------------------------------------------------------------------------------------------


def period_title(period: Period) -> str:
    if period.kind == "month":
        return _("Month %(month)d/%(year)d", month=period.start.month, year=period.start.year)
    if period.kind == "quarter":
        return _("Quarter %(quarter)d/%(year)d", quarter=(period.start.month - 1) // 3 + 1, year=period.start.year)
    if period.kind == "year":
        return _("Year %(year)d", year=period.start.year)
    return _("Week from %(start)s to %(end)s", start=_day(period.start), end=_day(period.end))


def period_span(period: Period) -> str:
    return _("from %(start)s to %(end)s", start=_day(period.start), end=_day(period.end))


def _day(value: date) -> str:
    return format_date(value, "dd/MM/yyyy")


# -- tables (the page renders them; the downloads and the email's attachment are the same tables) ------------


def columns(first: Column) -> list[Column]:
    return [
        first,
        Column("received_total", _("Received for processing: total"), "int"),
        Column("carried_over", _("Carried over from the previous period"), "int"),
        Column("received_online", _("Newly received online"), "int"),
        Column("received_counter", _("Newly received in person or by post"), "int"),
        Column("finished", _("Handled: total"), "int"),
        Column("finished_early", _("Handled early"), "int"),
        Column("finished_on_time", _("Handled on time"), "int"),
        Column("finished_late", _("Handled late"), "int"),
        Column("withdrawn", _("Withdrawn by the applicant"), "int"),
        Column("stopped", _("Processing stopped"), "int"),
        Column("not_accepted", _("Not accepted"), "int"),
        Column("open_end", _("Being handled at the end: total"), "int"),
        Column("open_not_due", _("Being handled: not yet due"), "int"),
        Column("open_overdue", _("Being handled: overdue"), "int"),
        Column("refused_at_reception", _("Refused at reception"), "int"),
        Column("withdrawn_before_reception", _("Withdrawn before reception"), "int"),
        Column("on_time_share", _("On-time rate"), "share"),
        Column("satisfaction_share", _("Satisfaction rate"), "share"),
    ]


def values(counts: Counts) -> list[Any]:
    return [
        counts.received_total,
        counts.carried_over,
        counts.received_online,
        counts.received_counter,
        counts.finished,
        counts.finished_early,
        counts.finished_on_time,
        counts.finished_late,
        counts.withdrawn,
        counts.stopped,
        counts.not_accepted,
        counts.open_end,
        counts.open_not_due,
        counts.open_overdue,
        counts.refused_at_reception,
        counts.withdrawn_before_reception,
        counts.on_time_share,
        counts.satisfaction_share,
    ]


def _table(name: str, title: str, first: Column, rows: Sequence[ReportRow], total: Counts) -> ExportTable:
    table = ExportTable(name, title, columns(first))
    for row in rows:
        table.add(row.name, *values(row.counts))
    table.add(_("Total"), *values(total))
    return table


def report_tables(report: Report) -> dict[str, ExportTable]:
    """`report-agencies` (when the report covers several agencies) and `report-fields`."""
    tables = []
    if report.several_agencies:
        tables.append(
            _table(
                "report-agencies",
                _("By agency"),
                Column("agency", _("Agency")),
                report.by_agency,
                report.total,
            )
        )
    tables.append(_table("report-fields", _("By field"), Column("field", _("Field")), report.by_field, report.total))
    return {table.name: table for table in tables}


def scope_name(report: Report) -> str:
    if report.agency is not None:
        return localized(report.agency)
    if report.scope.province:
        return localized(report.province) if report.province is not None else _("The whole province")
    return _("My agencies")


def scope_for(agency: Agency) -> LeaderScope:
    """What the leaders of `agency` are reported: the whole province for a province-level agency."""
    return LeaderScope(None) if agency.level == "province" else LeaderScope((agency.id,))
