"""The monthly roll-up of the statistics: pages read whole past months from it and show exactly what the daily
rows say, before and after it is built; a change to a day of a rolled-up month takes that month off the roll-up
until the beat job builds it again."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from sqlalchemy import func, select

from portal.core.time import local_today
from portal.extensions import db
from portal.models import DailyStats, Dossier, MonthlyBuilt, MonthlyStats, Status
from portal.models.stats import COUNT_COLUMNS
from portal.stats import figures, rollup
from portal.stats.figures import Period
from portal.stats.tasks import roll_up_months
from tests.helpers import vn
from tests.test_ioc_period import province
from tests.test_stats import EN, build_fixture

YEAR = Period.year(2026)
PAGES = (
    "/ioc/figures?period=2026",
    "/ioc/figures?period=2026-Q1",
    "/ioc/ranking?period=2026",
    "/ioc/report?period=2026",
    "/ioc/index?period=2026",
)


def daily_sums(start: date, end: date) -> dict[str, int]:
    """The year's counts straight from the daily rows (what the roll-up must agree with)."""
    table = DailyStats.__table__
    row = db.session.execute(
        select(*(func.coalesce(func.sum(table.c[n]), 0) for n in COUNT_COLUMNS)).where(
            table.c.day >= start, table.c.day <= end
        )
    ).one()
    return dict(zip(COUNT_COLUMNS, (int(v) for v in row), strict=True))


def shown(html: str) -> str:
    """A page's text without its CSRF token and clock-dependent bits."""
    html = re.sub(r'name="csrf_token"[^>]*>', "", html)
    return re.sub(r"\s+", " ", html)


def built() -> list[date]:
    return sorted(db.session.scalars(select(MonthlyBuilt.month)))


def test_pages_show_the_same_numbers_from_the_roll_up_as_from_the_daily_rows(demo: Flask) -> None:
    build_fixture()  # March and April 2026, through the services
    leader = province(demo)
    public = demo.test_client()
    before = {path: shown(leader.get(path, headers=EN).get_data(as_text=True)) for path in PAGES}
    before["public"] = shown(public.get("/statistics?period=2026", headers=EN).get_data(as_text=True))
    year = daily_sums(YEAR.start, YEAR.end)
    assert year["received"] > 0
    assert built() == []

    assert roll_up_months.apply().result > 0  # the beat job (Celery runs eagerly in tests)
    months = built()
    assert date(2026, 3, 1) in months
    assert date(2026, 4, 1) in months
    assert all(m < rollup.month_of(local_today()) for m in months)  # never the current month
    march = db.session.scalar(select(func.sum(MonthlyStats.received)).where(MonthlyStats.month == date(2026, 3, 1)))
    assert march == daily_sums(date(2026, 3, 1), date(2026, 3, 31))["received"]

    # Every page, and the figures service, gives what it gave from the daily rows alone.
    for path in PAGES:
        assert shown(leader.get(path, headers=EN).get_data(as_text=True)) == before[path], path
    assert shown(public.get("/statistics?period=2026", headers=EN).get_data(as_text=True)) == before["public"]
    total = figures.totals(YEAR)
    assert (total.received, total.finished_late, total.withdrawn) == (
        year["received"],
        year["finished_late"],
        year["withdrawn"],
    )
    assert roll_up_months.apply().result == 0  # nothing left to do


def test_a_change_to_a_rolled_up_day_takes_the_month_off_the_roll_up_until_rebuilt(demo: Flask) -> None:
    d = build_fixture()
    roll_up_months.apply()
    assert date(2026, 3, 1) in built()

    # A correction of an old dossier: the one finished early in March is recorded as withdrawn that day.
    dossier = db.session.get(Dossier, d["early"].id)
    dossier.status = Status.WITHDRAWN
    dossier.closed_at = vn(2026, 3, 2, 15, 0)
    db.session.commit()

    assert date(2026, 3, 1) not in built()  # its month is read from the daily rows again
    assert db.session.scalar(select(func.count()).where(MonthlyStats.month == date(2026, 3, 1))) == 0
    year = daily_sums(YEAR.start, YEAR.end)
    db.session.expire_all()
    total = figures.totals(YEAR)
    assert (total.withdrawn, total.finished) == (year["withdrawn"], year["finished"])

    assert roll_up_months.apply().result == 1  # the beat job builds March again, with the change
    assert date(2026, 3, 1) in built()
    db.session.expire_all()
    again = figures.totals(YEAR)
    assert (again.withdrawn, again.finished) == (year["withdrawn"], year["finished"])


def test_a_rebuild_from_scratch_rolls_the_months_up_again(demo: Flask) -> None:
    build_fixture()
    roll_up_months.apply()
    first = sorted(tuple(r) for r in db.session.execute(select(MonthlyStats.__table__)))
    result = demo.test_cli_runner().invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert sorted(tuple(r) for r in db.session.execute(select(MonthlyStats.__table__))) == first
    assert date(2026, 3, 1) in built()


def test_whole_months_are_those_inside_the_period_and_before_the_current_month() -> None:
    months = rollup.whole_months(date(2026, 1, 15), date(2026, 5, 31), before=date(2026, 5, 1))
    assert months == [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert rollup.whole_months(date(2026, 2, 1), date(2026, 2, 27), before=date(2026, 12, 1)) == []
    assert rollup.whole_months(date(2025, 12, 1), date(2026, 1, 31), before=date(2026, 12, 1)) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]
