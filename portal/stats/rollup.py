"""The monthly roll-up of the daily statistics: what a year's figures are read from.

Why. A year of the province is ~55,000 daily rows at 1,000,000 dossiers; summing their 35 columns costs a page
~50 ms per read, and a ranking reads two years. The same year is ~2,000 monthly rows.

How it stays exact. The period pages read a period through `source()`: the complete months marked in
`stats_monthly_built` from `stats_monthly`, every other day from `stats_daily`. So a month is read from the roll-up
only while its roll-up is current, and otherwise from the daily rows, which are always current:
- `build_missing()` (the beat job `stats.rollup`, `flask --app wsgi stats rebuild`) rolls up each complete month
  before the current one that has daily rows and no mark. On PostgreSQL it first takes a SHARE lock on
  `stats_daily`: steps writing daily rows finish first (the build sees them) or wait for the build (and then
  invalidate what they change, below).
- `invalidate()` is called by the incremental path (aggregates.apply) for the days it changes: a day of a month
  before the current one (a file that makes an old dossier digitised, a deleted dossier) deletes that month's
  mark and rows. The current month is never rolled up, so an ordinary step costs no statement here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import FromClause, Table, delete, func, insert, literal, select, text, union_all
from sqlalchemy.orm import Session

from portal.core.time import local_today, utcnow
from portal.models.stats import COUNT_COLUMNS, SUM_COLUMNS, DailyStats, MonthlyBuilt, MonthlyStats

DAILY = cast("Table", DailyStats.__table__)
MONTHLY = cast("Table", MonthlyStats.__table__)
BUILT = cast("Table", MonthlyBuilt.__table__)
NAMES: tuple[str, ...] = (*COUNT_COLUMNS, *SUM_COLUMNS)


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def whole_months(start: date, end: date, before: date) -> list[date]:
    """The calendar months lying wholly inside [start, end] and ending before `before` (the current month's
    first day), in order."""
    month = start if start.day == 1 else next_month(month_of(start))
    out = []
    while next_month(month) - timedelta(days=1) <= end and next_month(month) <= before:
        out.append(month)
        month = next_month(month)
    return out


def built_months(session: Session, months: list[date]) -> list[date]:
    if not months:
        return []
    found = session.scalars(select(BUILT.c.month).where(BUILT.c.month.between(months[0], months[-1])))
    have = {_as_date(m) for m in found}
    return [m for m in months if m in have]


def source(session: Session, start: date, end: date, today: date | None = None) -> FromClause:
    """The rows of [start, end] with stats_daily's columns (`day`, `agency_id`, `procedure_id` and the counts):
    the daily rows, with the longest run of rolled-up whole months replaced by their monthly rows (dated on the
    month's first day, so that filters on `day` and grouping by month read them unchanged)."""
    today = today or local_today()
    run = _longest_run(built_months(session, whole_months(start, end, month_of(today))))
    if not run:
        return DAILY
    first, after = run[0], next_month(run[-1])
    monthly = select(
        MONTHLY.c.month.label("day"), MONTHLY.c.agency_id, MONTHLY.c.procedure_id, *(MONTHLY.c[n] for n in NAMES)
    ).where(MONTHLY.c.month >= first, MONTHLY.c.month < after)
    parts = [monthly]
    # The days on each side as two plain ranges (one with an OR misleads PostgreSQL's estimate into a parallel
    # plan whose start-up alone costs ~15 ms).
    if start < first:
        parts.append(_days().where(DAILY.c.day >= start, DAILY.c.day < first))
    if after <= end:
        parts.append(_days().where(DAILY.c.day >= after, DAILY.c.day <= end))
    return union_all(*parts).subquery("stats_period")


def _days() -> Any:
    return select(DAILY.c.day, DAILY.c.agency_id, DAILY.c.procedure_id, *(DAILY.c[n] for n in NAMES))


def _longest_run(months: list[date]) -> list[date]:
    """Contiguous months, so that the daily part is one range on each side."""
    best: list[date] = []
    run: list[date] = []
    for month in months:
        run = [*run, month] if run and next_month(run[-1]) == month else [month]
        if len(run) > len(best):
            best = run
    return best


def build(session: Session, month: date) -> None:
    """Roll up one month (replacing its rows) and mark it built. The caller has locked stats_daily (PostgreSQL)."""
    session.execute(delete(MONTHLY).where(MONTHLY.c.month == month))
    sums = [func.coalesce(func.sum(DAILY.c[n]), 0) for n in NAMES]
    rows = (
        select(literal(month, MONTHLY.c.month.type), DAILY.c.agency_id, DAILY.c.procedure_id, *sums)
        .where(DAILY.c.day >= month, DAILY.c.day < next_month(month))
        .group_by(DAILY.c.agency_id, DAILY.c.procedure_id)
    )
    session.execute(insert(MONTHLY).from_select(["month", "agency_id", "procedure_id", *NAMES], rows))
    session.execute(delete(BUILT).where(BUILT.c.month == month))
    session.execute(insert(BUILT).values(month=month, built_at=utcnow()))


def build_missing(session: Session, today: date) -> int:
    """Roll up every complete month before today's that has daily rows and no current roll-up; returns how many.
    The caller commits."""
    current = month_of(today)
    first_day = session.scalar(select(func.min(DAILY.c.day)))
    if first_day is None:
        return 0
    months = whole_months(month_of(_as_date(first_day)), current - timedelta(days=1), current)
    missing = [m for m in months if m not in set(built_months(session, months))]
    if not missing:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE stats_daily IN SHARE MODE"))
        missing = [m for m in missing if m not in set(built_months(session, missing))]  # another builder's work
    for month in missing:
        build(session, month)
    return len(missing)


def invalidate(session: Session, days: Iterable[date], today: date) -> None:
    """Forget the roll-up of each month before today's that one of these days falls in."""
    current = month_of(today)
    months = sorted({month_of(d) for d in days if d < current})
    if not months:
        return
    session.execute(delete(BUILT).where(BUILT.c.month.in_(months)))
    session.execute(delete(MONTHLY).where(MONTHLY.c.month.in_(months)))


def clear(session: Session) -> None:
    session.execute(delete(BUILT))
    session.execute(delete(MONTHLY))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
