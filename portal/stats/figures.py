"""Period figures, read from the daily aggregates (portal/models/stats.py); never from the dossiers' history.

The API other pages build on (leaders' dashboards, ranking, the Decision 766 index):

- `Period.parse(text)` / `Period.month(y, m)` / `.quarter(y, q)` / `.year(y)` / `.custom(a, b)`: a span of local
  days, inclusive; `period.previous()` is the span of the same length just before (for trends).
- `totals(period, agency_id=…, procedure_id=…, field=…) -> Figures`: one set of figures for a selection.
- `by_agency(period, …)`, `by_field(period, …)`, `by_procedure(period, …)` -> lists of `Row` (a key, its
  names, and its `Figures`), sorted by name; `by_month(period, …)` -> one `Row` per calendar month.
- `Figures` holds the raw counts (additive: figures of two selections can be added with `+`) and derived shares
  and times as properties (`on_time_share`, `satisfaction_share`, `digitised_share`, `average_hours`, `p90_hours`,
  …). A share is None when its denominator is 0, so pages show "–" rather than a made-up 0 %.

Each count is taken on the day it happened (see DailyStats): "received in March" are dossiers received in March;
"finished on time in March" are dossiers whose processing ended in March.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import Agency, Procedure
from portal.models.stats import BUCKET_COLUMNS, COUNT_COLUMNS, HOUR_BUCKETS, SUM_COLUMNS

from . import rollup

MAX_DAYS = 366 * 20  # a custom period longer than this is refused as odd input
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class BadPeriod(ValueError):
    """The text does not name a period we can answer for."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    kind: str  # month | quarter | year | custom

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        _check_year(year)
        if not 1 <= month <= 12:
            raise BadPeriod("month")
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]), "month")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        _check_year(year)
        if not 1 <= quarter <= 4:
            raise BadPeriod("quarter")
        first = 3 * (quarter - 1) + 1
        return cls(date(year, first, 1), cls.month(year, first + 2).end, "quarter")

    @classmethod
    def year(cls, year: int) -> Period:
        _check_year(year)
        return cls(date(year, 1, 1), date(year, 12, 31), "year")

    @classmethod
    def custom(cls, start: date, end: date) -> Period:
        if end < start or (end - start).days > MAX_DAYS:
            raise BadPeriod("range")
        return cls(start, end, "custom")

    @classmethod
    def parse(cls, text: str | None, start: str | None = None, end: str | None = None) -> Period:
        """`2026-11` (month), `2026-Q4` (quarter), `2026` (year), or `start`/`end` as ISO dates (custom)."""
        if start or end:
            try:
                return cls.custom(date.fromisoformat(start or ""), date.fromisoformat(end or ""))
            except (ValueError, TypeError) as error:
                raise BadPeriod("dates") from error
        text = (text or "").strip()
        if m := _MONTH.match(text):
            return cls.month(int(m[1]), int(m[2]))
        if m := _QUARTER.match(text):
            return cls.quarter(int(m[1]), int(m[2]))
        if m := _YEAR.match(text):
            return cls.year(int(m[1]))
        raise BadPeriod("text")

    @classmethod
    def containing(cls, day: date, kind: str = "month") -> Period:
        if kind == "year":
            return cls.year(day.year)
        if kind == "quarter":
            return cls.quarter(day.year, (day.month - 1) // 3 + 1)
        return cls.month(day.year, day.month)

    @property
    def key(self) -> str:
        """The text `parse` reads back: 2026-11, 2026-Q4, 2026, or 2026-11-01..2026-11-15."""
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        if self.kind == "month":
            before = self.start - timedelta(days=1)
            return Period.month(before.year, before.month)
        if self.kind == "quarter":
            before = self.start - timedelta(days=1)
            return Period.quarter(before.year, (before.month - 1) // 3 + 1)
        if self.kind == "year":
            return Period.year(self.start.year - 1)
        return Period.custom(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def months(self) -> list[Period]:
        out, year, month = [], self.start.year, self.start.month
        while date(year, month, 1) <= self.end:
            out.append(Period.month(year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def _check_year(year: int) -> None:
    if not 1900 <= year <= 9998:
        raise BadPeriod("year")


@dataclass(frozen=True)
class Figures:
    """Counts for one selection and period (names as the columns of stats_daily) and what follows from them."""

    submitted: int = 0
    submitted_in_person: int = 0
    submitted_online: int = 0
    submitted_post: int = 0
    received: int = 0
    received_in_person: int = 0
    received_online: int = 0
    received_post: int = 0
    received_full_online: int = 0
    received_partial_online: int = 0
    received_digitised: int = 0
    finished: int = 0
    finished_early: int = 0
    finished_on_time: int = 0
    finished_late: int = 0
    processing_count: int = 0
    processing_hours: float = 0.0
    not_accepted: int = 0
    stopped: int = 0
    withdrawn: int = 0
    supplement_rounds: int = 0
    supplemented: int = 0
    rating_unsatisfied: int = 0
    rating_satisfied: int = 0
    rating_very_satisfied: int = 0
    unreceived_finished: int = 0  # of the outcomes above, those of dossiers never received (see UNRECEIVED_COLUMNS)
    unreceived_finished_early: int = 0
    unreceived_finished_on_time: int = 0
    unreceived_finished_late: int = 0
    unreceived_not_accepted: int = 0
    unreceived_stopped: int = 0
    unreceived_withdrawn: int = 0
    hours_histogram: tuple[int, ...] = field(default=(0,) * len(BUCKET_COLUMNS))

    @classmethod
    def from_sums(cls, values: dict[str, Any]) -> Figures:
        plain = {name: int(values.get(name) or 0) for name in COUNT_COLUMNS if name not in BUCKET_COLUMNS}
        return cls(
            **plain,
            processing_hours=float(values.get("processing_hours") or 0.0),
            hours_histogram=tuple(int(values.get(name) or 0) for name in BUCKET_COLUMNS),
        )

    def __add__(self, other: Figures) -> Figures:
        values: dict[str, Any] = {}
        for name in _FIGURE_FIELDS:
            a, b = getattr(self, name), getattr(other, name)
            values[name] = tuple(x + y for x, y in zip(a, b, strict=True)) if isinstance(a, tuple) else a + b
        return Figures(**values)

    # -- derived -------------------------------------------------------------------------------------------

    @property
    def on_time(self) -> int:
        """Finished no later than the appointment (early counts as on time, as in the one-stop-shop reports)."""
        return self.finished_early + self.finished_on_time

    @property
    def on_time_share(self) -> float | None:
        judged = self.on_time + self.finished_late
        return None if not judged else self.on_time / judged

    @property
    def late_share(self) -> float | None:
        judged = self.on_time + self.finished_late
        return None if not judged else self.finished_late / judged

    @property
    def ratings(self) -> int:
        return self.rating_unsatisfied + self.rating_satisfied + self.rating_very_satisfied

    @property
    def satisfaction_share(self) -> float | None:
        """Satisfied or very satisfied, among the ratings given."""
        return None if not self.ratings else (self.rating_satisfied + self.rating_very_satisfied) / self.ratings

    @property
    def ended(self) -> int:
        return self.finished + self.not_accepted + self.stopped + self.withdrawn

    @property
    def supplement_rounds_per_dossier(self) -> float | None:
        """Supplement rounds per dossier that ended in the period."""
        return None if not self.ended else self.supplement_rounds / self.ended

    @property
    def online_share(self) -> float | None:
        return None if not self.received else self.received_online / self.received

    @property
    def digitised_share(self) -> float | None:
        """Received dossiers whose documents are held as files in the portal (aggregates.digitised_of)."""
        return None if not self.received else self.received_digitised / self.received

    @property
    def average_hours(self) -> float | None:
        """Mean processing time in working hours (reception to end of processing, supplement waits excluded)."""
        return None if not self.processing_count else self.processing_hours / self.processing_count

    def quantile_hours(self, q: float) -> float | None:
        """Estimated from the histogram (edges HOUR_BUCKETS): linear inside the bucket the quantile falls in;
        in the last, open-ended bucket its lower edge is returned (the true value is at least that)."""
        total = sum(self.hours_histogram)
        if not total:
            return None
        target = q * total
        seen = 0
        for index, count in enumerate(self.hours_histogram):
            if count and seen + count >= target:
                low = 0.0 if index == 0 else float(HOUR_BUCKETS[index - 1])
                if index >= len(HOUR_BUCKETS):
                    return low
                high = float(HOUR_BUCKETS[index])
                return low + (high - low) * (target - seen) / count
            seen += count
        return float(HOUR_BUCKETS[-1])  # pragma: no cover - the loop always returns

    @property
    def p90_hours(self) -> float | None:
        return self.quantile_hours(0.9)


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: `key` is an agency or procedure id, a field name, or a period key."""

    key: int | str
    name: str
    name_en: str | None
    figures: Figures
    code: str | None = None
    agency_id: int | None = None


_FIGURE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Figures))
_NAMES: tuple[str, ...] = (*COUNT_COLUMNS, *SUM_COLUMNS)


def _sums(table: Any) -> list[Any]:
    return [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in _NAMES]


def _filtered(
    query: Any, table: Any, period: Period, agency_id: int | None, procedure_id: int | None, field_: str | None
) -> Any:
    query = query.where(table.c.day >= period.start, table.c.day <= period.end)
    if agency_id is not None:
        query = query.where(table.c.agency_id == agency_id)
    if procedure_id is not None:
        query = query.where(table.c.procedure_id == procedure_id)
    if field_ is not None:
        query = query.where(
            table.c.procedure_id.in_(select(Procedure.id).where(func.coalesce(Procedure.field, "") == field_))
        )
    return query


# -- one read per selection ------------------------------------------------------------------------------------
#
# A page asks for the same selection several ways (the total, per agency, per procedure, per field, per month).
# The daily rows of a selection are read once summed per agency × procedure (and once per month, when months are
# asked for), and every answer is added up from those cells: a page costs one or two scans of its period, whatever
# it shows. The cells are kept on the database session until its next flush or the end of its transaction (one
# request's reads, never staler than the request).

_MEMO = "stats.figures.cells"


@dataclass(frozen=True)
class _Cell:
    key: tuple[Any, ...]  # (agency id, procedure id), or ("YYYY-MM",)
    values: tuple[Any, ...]  # in the order of _NAMES


def _cells(
    period: Period, agency_id: int | None, procedure_id: int | None, field_: str | None, by_month: bool = False
) -> list[_Cell]:
    memo: dict[tuple, list[_Cell]] = db.session.info.setdefault(_MEMO, {})
    key = (period.start, period.end, agency_id, procedure_id, field_, by_month)
    if key in memo:
        return memo[key]
    wider = (period.start, period.end, agency_id, None, field_, False)
    if procedure_id is not None and not by_month and wider in memo:
        return [cell for cell in memo[wider] if cell.key[1] == procedure_id]
    table = rollup.source(db.session(), period.start, period.end)  # whole past months from their roll-up
    keys: tuple[Any, ...]
    if by_month:
        keys = (func.extract("year", table.c.day), func.extract("month", table.c.day))
    else:
        keys = (table.c.agency_id, table.c.procedure_id)
    query = _filtered(select(*keys, *_sums(table)), table, period, agency_id, procedure_id, field_).group_by(*keys)
    rows = db.session.execute(query).all()
    if by_month:
        cells = [_Cell((f"{int(r[0]):04d}-{int(r[1]):02d}",), tuple(r[2:])) for r in rows]
    else:
        cells = [_Cell((int(r[0]), int(r[1])), tuple(r[2:])) for r in rows]
    memo[key] = cells
    return cells


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_MEMO, None)


def _summed(cells: Sequence[_Cell], key: Callable[[_Cell], Any]) -> dict[Any, Figures]:
    sums: dict[Any, list[Any]] = {}
    for cell in cells:
        k = key(cell)
        found = sums.get(k)
        sums[k] = list(cell.values) if found is None else [a + b for a, b in zip(found, cell.values, strict=True)]
    return {k: Figures.from_sums(dict(zip(_NAMES, values, strict=True))) for k, values in sums.items()}


def totals(
    period: Period,
    *,
    agency_id: int | None = None,
    procedure_id: int | None = None,
    field: str | None = None,
) -> Figures:
    """The figures of one selection (None = all agencies / procedures / fields, i.e. the whole province)."""
    return _summed(_cells(period, agency_id, procedure_id, field), lambda c: None).get(None, Figures())


def by_agency(period: Period, *, field: str | None = None, procedure_id: int | None = None) -> list[Row]:
    sums = _summed(_cells(period, None, procedure_id, field), lambda c: c.key[0])
    columns = (Agency.id, Agency.code, Agency.name, Agency.name_en)
    agencies = db.session.execute(select(*columns).where(Agency.id.in_(sums)))
    rows = [Row(a.id, a.name, a.name_en, sums[a.id], code=a.code) for a in agencies]
    return sorted(rows, key=lambda r: r.name)


def by_procedure(period: Period, *, agency_id: int | None = None, field: str | None = None) -> list[Row]:
    sums = _summed(_cells(period, agency_id, None, field), lambda c: c.key[1])
    procedures = db.session.execute(
        select(Procedure.id, Procedure.code, Procedure.name, Procedure.name_en, Procedure.agency_id).where(
            Procedure.id.in_(sums)
        )
    )
    rows = [Row(p.id, p.name, p.name_en, sums[p.id], code=p.code, agency_id=p.agency_id) for p in procedures]
    return sorted(rows, key=lambda r: (r.name, str(r.key)))


def by_field(period: Period, *, agency_id: int | None = None) -> list[Row]:
    """Per field (lĩnh vực) of the procedures; procedures without a field are grouped under ""."""
    rows: dict[str, Figures] = {}
    query = select(Procedure.id, func.coalesce(Procedure.field, ""))
    fields_of: dict[int, str] = {int(row[0]): str(row[1]) for row in db.session.execute(query)}
    for row in by_procedure(period, agency_id=agency_id):
        name = fields_of.get(int(row.key), "")
        rows[name] = rows.get(name, Figures()) + row.figures
    return [Row(name, name, None, figures) for name, figures in sorted(rows.items())]


def by_month(
    period: Period,
    *,
    agency_id: int | None = None,
    procedure_id: int | None = None,
    field: str | None = None,
) -> list[Row]:
    """One row per calendar month the period touches (each month cut to the period)."""
    sums = _summed(_cells(period, agency_id, procedure_id, field, by_month=True), lambda c: c.key[0])
    return [Row(month.key, month.key, None, sums.get(month.key, Figures())) for month in period.months()]


def known_fields() -> Sequence[str]:
    return list(
        db.session.scalars(
            select(Procedure.field).where(Procedure.field.is_not(None)).distinct().order_by(Procedure.field)
        )
    )


for _name in ("after_flush", "after_transaction_end"):
    if not event.contains(Session, _name, _forget):
        event.listen(Session, _name, _forget)
