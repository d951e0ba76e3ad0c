"""Period figures for leaders: one selection (period, the leader's agencies, a field, a procedure) read from the
daily aggregates (stats_daily), broken down per agency, field, procedure and month; the dossiers overdue now
(from the dossiers' current rows, like the Today page); and the reasons given for refusals, stops and
withdrawals (kept on each such dossier's facts: the last note its timeline holds up to its closing).

Nothing here reads a dossier's whole history: the figures are sums over stats_daily rows, the overdue count one
indexed WHERE on dossiers, the reasons a count over the facts of the dossiers that ended so in the period.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, extract, func, select

from portal.extensions import db
from portal.models import Agency, Dossier, Procedure, ProcedureVersion
from portal.models.stats import COUNT_COLUMNS, SUM_COLUMNS, DossierFacts
from portal.stats import rollup
from portal.stats.aggregates import REASON_OUTCOMES
from portal.stats.figures import Figures, Period, Row

from . import today as today_service
from .access import LeaderScope

FACTS = cast("Table", DossierFacts.__table__)
NO_FIELD = "-"  # the `field` value that selects procedures without a field
REASONS_SHOWN = 15  # per outcome; the rest are summed on one line


@dataclass(frozen=True)
class Selection:
    """What a leader looks at: `agency_ids` None is the whole province; `field` "" is procedures without one."""

    period: Period
    agency_ids: tuple[int, ...] | None
    procedure_id: int | None = None
    field: str | None = None

    def narrowed(self, **changes: Any) -> Selection:
        return replace(self, **changes)

    @property
    def field_arg(self) -> str | None:
        """The field as it goes into a URL."""
        if self.field is None:
            return None
        return self.field or NO_FIELD


def selection(
    scope: LeaderScope, period: Period, procedure_id: int | None = None, field: str | None = None
) -> Selection:
    """The selection a leader may see: a procedure outside their agencies is ignored."""
    if procedure_id is not None and procedure_in_scope(scope, procedure_id) is None:
        procedure_id = None
    if field == NO_FIELD:
        field = ""
    return Selection(period, scope.agency_ids, procedure_id, field)


def procedure_in_scope(scope: LeaderScope, procedure_id: int) -> Procedure | None:
    procedure = db.session.get(Procedure, procedure_id)
    if procedure is None or not (scope.province or procedure.agency_id in (scope.agency_ids or ())):
        return None
    return procedure


def procedure_choices(scope: LeaderScope) -> list[Procedure]:
    stmt = select(Procedure).order_by(Procedure.name)
    if scope.agency_ids is not None:
        stmt = stmt.where(Procedure.agency_id.in_(scope.agency_ids))
    return list(db.session.scalars(stmt))


def field_choices(scope: LeaderScope) -> list[str]:
    stmt = select(Procedure.field).where(Procedure.field.is_not(None)).distinct().order_by(Procedure.field)
    if scope.agency_ids is not None:
        stmt = stmt.where(Procedure.agency_id.in_(scope.agency_ids))
    return [str(f) for f in db.session.scalars(stmt) if f]


# -- the aggregates ------------------------------------------------------------------------------------------


def _sums(table: Any) -> list[Any]:
    return [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in (*COUNT_COLUMNS, *SUM_COLUMNS)]


def field_procedures(field: str) -> Select:
    return select(Procedure.id).where(func.coalesce(Procedure.field, "") == field)


def _daily(sel: Selection, keys: Callable[[Any], tuple[Any, ...]], period: Period | None = None) -> Select:
    """The sums of the selection's daily rows grouped by `keys(table)`; whole past months are read from their
    monthly roll-up (portal/stats/rollup.py), which has the same columns."""
    period = period or sel.period
    table = rollup.source(db.session(), period.start, period.end)
    columns = keys(table)
    stmt = select(*columns, *_sums(table)).where(table.c.day >= period.start, table.c.day <= period.end)
    if sel.agency_ids is not None:
        stmt = stmt.where(table.c.agency_id.in_(sel.agency_ids))
    if sel.procedure_id is not None:
        stmt = stmt.where(table.c.procedure_id == sel.procedure_id)
    if sel.field is not None:
        stmt = stmt.where(table.c.procedure_id.in_(field_procedures(sel.field)))
    return stmt.group_by(*columns)


Cell = tuple[int, int]  # agency id, procedure id


@dataclass(frozen=True)
class Sums:
    """The figures of a selection per agency × procedure, read in one query; the whole and every breakdown
    (agency, procedure, field) are added up from these cells, so they always agree with each other."""

    cells: dict[Cell, Figures]

    def total(self) -> Figures:
        return _added(self.cells.values())

    def by(self, kind: str) -> dict[Any, Figures]:
        """Per agency id, procedure id or field name ("" for procedures without one)."""
        return _grouped(self.cells, kind)


def _added(values: Iterable[Figures]) -> Figures:
    total = Figures()
    for figures in values:
        total = total + figures
    return total


def _fields_of(procedure_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(procedure_ids))
    if not ids:
        return {}
    rows = db.session.execute(select(Procedure.id, func.coalesce(Procedure.field, "")).where(Procedure.id.in_(ids)))
    return {int(pid): str(name) for pid, name in rows}


def _grouped(cells: dict[Cell, Any], kind: str) -> dict[Any, Any]:
    fields = _fields_of(p for _a, p in cells) if kind == "field" else {}
    out: dict[Any, Any] = {}
    for (agency_id, procedure_id), value in cells.items():
        key = agency_id if kind == "agency" else procedure_id if kind == "procedure" else fields.get(procedure_id, "")
        out[key] = out[key] + value if key in out else value
    return out


def sums(sel: Selection, period: Period | None = None) -> Sums:
    stmt = _daily(sel, lambda t: (t.c.agency_id, t.c.procedure_id), period=period)
    return Sums({(r["agency_id"], r["procedure_id"]): Figures.from_sums(dict(r)) for r in _mappings(stmt)})


def named_rows(kind: str, values: dict[Any, Figures]) -> list[Row]:
    """A breakdown's rows, sorted by name: agencies and procedures with their names and codes, fields by name."""
    keys = list(values)
    if kind == "agency":
        found = db.session.execute(
            select(Agency.id, Agency.code, Agency.name, Agency.name_en).where(Agency.id.in_(keys))
        )
        rows = [Row(a.id, a.name, a.name_en, values[a.id], code=a.code, agency_id=a.id) for a in found]
    elif kind == "procedure":
        columns = (Procedure.id, Procedure.code, Procedure.name, Procedure.name_en, Procedure.agency_id)
        found = db.session.execute(select(*columns).where(Procedure.id.in_(keys)))
        rows = [Row(p.id, p.name, p.name_en, values[p.id], code=p.code, agency_id=p.agency_id) for p in found]
    else:
        rows = [Row(str(k), str(k), None, values[k]) for k in keys]
    return sorted(rows, key=lambda r: (r.name, str(r.key)))


def breakdown(kind: str, found: Sums, overdue: Overdue) -> list[Row]:
    """Per agency, procedure or field: every key with a figure in the period or a dossier overdue now (so that
    the overdue column adds up to the whole too)."""
    values = found.by(kind)
    for key in overdue.by(kind):
        values.setdefault(key, Figures())
    return named_rows(kind, values)


def _mappings(stmt: Select) -> Iterable[Any]:
    return db.session.execute(stmt).mappings()


def by_month(sel: Selection) -> list[Row]:
    """One row per calendar month the period touches (the first and last cut to the period): the daily sums
    added up per month by the database, in one query."""
    stmt = _daily(sel, lambda t: (extract("year", t.c.day).label("y"), extract("month", t.c.day).label("m")))
    months: dict[str, Figures] = {m.key: Figures() for m in sel.period.months()}
    for r in _mappings(stmt):
        months[f"{int(r['y']):04d}-{int(r['m']):02d}"] = Figures.from_sums(dict(r))
    return [Row(key, key, None, figures) for key, figures in months.items()]


# -- overdue now: the dossiers' current rows, the Today page's clause -----------------------------------------


def overdue_clauses(sel: Selection, now: datetime) -> list[ColumnElement[bool]]:
    scope = LeaderScope(sel.agency_ids)
    clauses = today_service.where(scope, "overdue", today_service.today(now))
    if sel.procedure_id is not None:
        clauses.append(ProcedureVersion.procedure_id == sel.procedure_id)
    if sel.field is not None:
        clauses.append(ProcedureVersion.procedure_id.in_(field_procedures(sel.field)))
    return clauses


@dataclass(frozen=True)
class Overdue:
    """Dossiers open and past their appointment now, per agency × procedure (one query)."""

    cells: dict[Cell, int]

    @property
    def total(self) -> int:
        return sum(self.cells.values())

    def by(self, kind: str) -> dict[Any, int]:
        return _grouped(self.cells, kind)


def overdue(sel: Selection, now: datetime) -> Overdue:
    columns = (Dossier.agency_id, ProcedureVersion.procedure_id)
    stmt = (
        select(*columns, func.count())
        .select_from(Dossier)
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .where(*overdue_clauses(sel, now))
        .group_by(*columns)
    )
    return Overdue({(int(a), int(p)): int(n) for a, p, n in db.session.execute(stmt)})


# -- the facts: which dossiers a figure counts ----------------------------------------------------------------


def facts_scope(sel: Selection, day_column: str) -> list[ColumnElement[bool]]:
    """The selection on stats_dossier_facts, counted on `day_column` (the day the figure counts on)."""
    day = FACTS.c[day_column]
    clauses: list[ColumnElement[bool]] = [day >= sel.period.start, day <= sel.period.end]
    if sel.agency_ids is not None:
        clauses.append(FACTS.c.agency_id.in_(sel.agency_ids))
    if sel.procedure_id is not None:
        clauses.append(FACTS.c.procedure_id == sel.procedure_id)
    if sel.field is not None:
        clauses.append(FACTS.c.procedure_id.in_(field_procedures(sel.field)))
    return clauses


@dataclass(frozen=True)
class Reason:
    outcome: str
    text: str | None  # None: no reason recorded (e.g. a dossier imported from an older system)
    count: int


@dataclass(frozen=True)
class Reasons:
    outcome: str
    shown: list[Reason]
    other_reasons: int  # distinct reasons not shown
    other_dossiers: int  # and the dossiers they cover
    total: int


def reasons(sel: Selection) -> dict[str, Reasons]:
    """Per outcome (not accepted, stopped, withdrawn), the reasons given with their counts, most frequent first.
    The counts of one outcome add up to its figure."""
    stmt = (
        select(FACTS.c.outcome, FACTS.c.reason, func.count())
        .where(FACTS.c.outcome.in_(REASON_OUTCOMES), *facts_scope(sel, "outcome_day"))
        .group_by(FACTS.c.outcome, FACTS.c.reason)
    )
    found: dict[str, Counter[str | None]] = {outcome: Counter() for outcome in REASON_OUTCOMES}
    for outcome, text, count in db.session.execute(stmt):
        found[outcome][text or None] += int(count)
    out = {}
    for outcome, counter in found.items():
        ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))
        shown = [Reason(outcome, text, n) for text, n in ranked[:REASONS_SHOWN]]
        rest = ranked[REASONS_SHOWN:]
        out[outcome] = Reasons(outcome, shown, len(rest), sum(n for _, n in rest), sum(counter.values()))
    return out
