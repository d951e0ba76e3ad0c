"""Tests for portal.sla.calendar: real calendar facts an officer could check.

Reference weeks (Asia/Ho_Chi_Minh, default 07:00-11:30 / 13:30-17:00 day):
- 2025-11-17 (Mon) .. 2025-11-28 (Fri): ordinary weeks, no public holiday.
- Tết 2026: Mon 2026-02-16 .. Fri 2026-02-20 are public holidays in the
  holidays package (asserted below rather than assumed).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from portal.sla.calendar import (
    CalendarSettings,
    Span,
    Timeliness,
    WorkingCalendar,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """An aware Hanoi/HCMC local time."""
    return datetime(y, mo, d, h, mi, tzinfo=HCM)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def with_settings(**kwargs: object) -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings(**kwargs))  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------


def test_default_day_is_eight_hours(cal: WorkingCalendar) -> None:
    assert cal.hours_per_day == 8.0


def test_custom_periods_change_day_length() -> None:
    c = with_settings(
        periods=((time(8), time(12)), (time(13), time(16, 30))),
        same_day_cutoff=time(15),
    )
    assert c.hours_per_day == 7.5


def test_settings_from_lists_are_normalised() -> None:
    s = CalendarSettings(
        periods=[[time(7), time(11, 30)], [time(13, 30), time(17)]],  # type: ignore[arg-type]
        days_off=[date(2026, 2, 13)],  # type: ignore[arg-type]
        weekend=[6],  # type: ignore[arg-type]
    )
    assert s.periods == ((time(7), time(11, 30)), (time(13, 30), time(17)))
    assert s.days_off == frozenset({date(2026, 2, 13)})
    assert s.weekend == frozenset({6})
    hash(s)  # still usable as a cache key


@pytest.mark.parametrize(
    "periods",
    [
        (),
        ((time(11), time(7)),),
        ((time(7), time(7)),),
        ((time(13, 30), time(17)), (time(7), time(11, 30))),
        ((time(7), time(12)), (time(11, 30), time(17))),
    ],
    ids=["empty", "reversed", "zero-length", "unordered", "overlapping"],
)
def test_bad_periods_are_refused(periods: tuple[tuple[time, time], ...]) -> None:
    with pytest.raises(ValueError, match="period"):
        CalendarSettings(periods=periods)


def test_touching_periods_are_allowed() -> None:
    c = with_settings(periods=((time(7), time(12)), (time(12), time(16))))
    assert c.hours_per_day == 9.0


@pytest.mark.parametrize("cutoff", [time(6), time(7), time(17, 1), time(23)])
def test_cutoff_outside_the_working_day_is_refused(cutoff: time) -> None:
    with pytest.raises(ValueError, match="cut-off"):
        CalendarSettings(same_day_cutoff=cutoff)


def test_cutoff_at_closing_time_is_allowed() -> None:
    assert CalendarSettings(same_day_cutoff=time(17)).same_day_cutoff == time(17)


def test_date_both_off_and_working_is_refused() -> None:
    d = date(2025, 11, 22)
    with pytest.raises(ValueError, match="2025-11-22"):
        CalendarSettings(days_off=frozenset({d}), working_days=frozenset({d}))


def test_bad_weekend_day_is_refused() -> None:
    with pytest.raises(ValueError, match="Weekend"):
        CalendarSettings(weekend=frozenset({7}))


def test_datetimes_in_day_lists_are_refused() -> None:
    with pytest.raises(ValueError, match="days_off"):
        CalendarSettings(days_off=frozenset({datetime(2026, 2, 13, 0, 0)}))  # naive on purpose


def test_settings_are_frozen() -> None:
    s = CalendarSettings()
    with pytest.raises(AttributeError):
        s.same_day_cutoff = time(16)  # type: ignore[misc]


# --------------------------------------------------------------------------
# Working days
# --------------------------------------------------------------------------


def test_weekdays_work_and_weekends_do_not(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2025, 11, 21))  # Friday
    assert not cal.is_working_day(date(2025, 11, 22))  # Saturday
    assert not cal.is_working_day(date(2025, 11, 23))  # Sunday
    assert cal.is_working_day(date(2025, 11, 24))  # Monday


def test_package_lists_tet_2026_as_monday_to_friday() -> None:
    # Checked against the package rather than assumed (see module docstring).
    vn = holidays.country_holidays("VN", years=2026)
    tet = [d for d in vn if date(2026, 2, 9) <= d <= date(2026, 2, 27)]
    assert sorted(tet) == [date(2026, 2, 16 + i) for i in range(5)]


def test_tet_2026_days_are_off(cal: WorkingCalendar) -> None:
    for day in range(16, 21):
        assert not cal.is_working_day(date(2026, 2, day))
    assert cal.is_working_day(date(2026, 2, 13))
    assert cal.is_working_day(date(2026, 2, 23))


def test_fixed_public_holidays_are_off(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2025, 9, 2))  # National Day
    assert not cal.is_working_day(date(2026, 4, 30))  # Reunification Day
    assert not cal.is_working_day(date(2026, 1, 1))


def test_package_swap_day_and_its_make_up_saturday(cal: WorkingCalendar) -> None:
    # The package records Fri 2025-05-02 as a day off worked back on
    # Sat 2025-04-26; both halves of the swap must apply.
    assert not cal.is_working_day(date(2025, 5, 2))
    assert cal.is_working_day(date(2025, 4, 26))


def test_public_holidays_can_be_switched_off() -> None:
    c = with_settings(use_public_holidays=False)
    assert c.is_working_day(date(2026, 2, 17))
    assert not c.is_working_day(date(2025, 4, 26))  # plain Saturday again


def test_admin_day_off_is_off() -> None:
    c = with_settings(days_off=frozenset({date(2026, 2, 13)}))
    assert not c.is_working_day(date(2026, 2, 13))


def test_admin_day_off_beats_package_make_up_day() -> None:
    c = with_settings(days_off=frozenset({date(2025, 4, 26)}))
    assert not c.is_working_day(date(2025, 4, 26))


def test_make_up_day_beats_weekend_and_holiday() -> None:
    c = with_settings(working_days=frozenset({date(2025, 11, 22), date(2026, 2, 20)}))
    assert c.is_working_day(date(2025, 11, 22))  # Saturday
    assert c.is_working_day(date(2026, 2, 20))  # Tết day


def test_custom_weekend() -> None:
    c = with_settings(weekend=frozenset({6}), use_public_holidays=False)
    assert c.is_working_day(date(2025, 11, 22))
    assert not c.is_working_day(date(2025, 11, 23))


def test_is_working_day_reads_datetimes_in_local_time(cal: WorkingCalendar) -> None:
    # 2025-11-21 20:00 UTC is already Saturday 03:00 in Vietnam.
    assert not cal.is_working_day(datetime(2025, 11, 21, 20, tzinfo=UTC))


def test_end_of_working_day(cal: WorkingCalendar) -> None:
    assert cal.end_of_working_day(date(2025, 11, 24)) == at(2025, 11, 24, 17)


# --------------------------------------------------------------------------
# next_working_moment
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (at(2025, 11, 24, 9), at(2025, 11, 24, 9)),  # inside the morning
        (at(2025, 11, 24, 7), at(2025, 11, 24, 7)),  # opening time
        (at(2025, 11, 24, 6), at(2025, 11, 24, 7)),  # before opening
        (at(2025, 11, 24, 11, 30), at(2025, 11, 24, 13, 30)),  # lunch starts
        (at(2025, 11, 24, 12), at(2025, 11, 24, 13, 30)),  # lunch
        (at(2025, 11, 24, 17), at(2025, 11, 25, 7)),  # closing time
        (at(2025, 11, 21, 18), at(2025, 11, 24, 7)),  # Friday evening
        (at(2025, 11, 22, 10), at(2025, 11, 24, 7)),  # Saturday
        (at(2026, 2, 13, 17), at(2026, 2, 23, 7)),  # eve of the Tết week
    ],
)
def test_next_working_moment(cal: WorkingCalendar, given: datetime, expected: datetime) -> None:
    assert cal.next_working_moment(given) == expected


# --------------------------------------------------------------------------
# add_working_time
# --------------------------------------------------------------------------


def test_friday_1600_plus_two_hours_is_monday_0800(cal: WorkingCalendar) -> None:
    assert cal.add_working_time(at(2025, 11, 21, 16), 2) == at(2025, 11, 24, 8)


def test_lunch_break_is_not_counted(cal: WorkingCalendar) -> None:
    assert cal.add_working_time(at(2025, 11, 24, 11), 1) == at(2025, 11, 24, 14)


def test_full_day_from_opening_ends_at_closing(cal: WorkingCalendar) -> None:
    # Ends at 17:00 the same day, not 07:00 the next morning.
    assert cal.add_working_time(at(2025, 11, 24, 7), 8) == at(2025, 11, 24, 17)


def test_morning_ends_at_1130(cal: WorkingCalendar) -> None:
    assert cal.add_working_time(at(2025, 11, 24, 7), 4.5) == at(2025, 11, 24, 11, 30)


def test_start_in_lunch_begins_at_1330(cal: WorkingCalendar) -> None:
    assert cal.add_working_time(at(2025, 11, 24, 12), 1) == at(2025, 11, 24, 14, 30)


def test_start_on_weekend_begins_monday(cal: WorkingCalendar) -> None:
    assert cal.add_working_time(at(2025, 11, 23, 10), 1) == at(2025, 11, 24, 8)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(2025, 11, 24, 9, 15), at(2025, 11, 24, 9, 15)),
        (at(2025, 11, 24, 11, 30), at(2025, 11, 24, 13, 30)),
        (at(2025, 11, 24, 17), at(2025, 11, 25, 7)),
        (at(2025, 11, 22, 9), at(2025, 11, 24, 7)),
    ],
)
def test_zero_hours_is_next_working_moment(cal: WorkingCalendar, start: datetime, expected: datetime) -> None:
    assert cal.add_working_time(start, 0) == expected


def test_fractional_hours(cal: WorkingCalendar) -> None:
    assert cal.add_working_time(at(2025, 11, 24, 7), 0.25) == at(2025, 11, 24, 7, 15)


@pytest.mark.parametrize("hours", [-1, float("nan"), float("inf")])
def test_bad_hours_are_refused(cal: WorkingCalendar, hours: float) -> None:
    with pytest.raises(ValueError, match="zero or more"):
        cal.add_working_time(at(2025, 11, 24, 7), hours)


def test_make_up_saturday_is_counted() -> None:
    c = with_settings(working_days=frozenset({date(2025, 11, 22)}))
    assert c.add_working_time(at(2025, 11, 21, 16), 2) == at(2025, 11, 22, 8)


def test_admin_day_off_is_skipped() -> None:
    c = with_settings(days_off=frozenset({date(2025, 11, 24)}))
    assert c.add_working_time(at(2025, 11, 21, 16), 2) == at(2025, 11, 25, 8)


def test_result_is_aware_in_settings_zone(cal: WorkingCalendar) -> None:
    result = cal.add_working_time(datetime(2025, 11, 24, 9), 1)  # naive on purpose
    assert result.tzinfo == HCM
    assert result.utcoffset() == timedelta(hours=7)


def test_round_trip_with_working_hours_between(cal: WorkingCalendar) -> None:
    # Whatever the start, adding h hours then measuring gives h back.
    rng = random.Random(20251124)
    base = at(2026, 1, 5)
    for _ in range(200):
        start = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 120))
        hours = rng.randrange(0, 8 * 40 * 4) / 4
        end = cal.add_working_time(start, hours)
        begin = cal.next_working_moment(start)
        assert cal.working_hours_between(begin, end) == pytest.approx(hours)
        assert cal.working_hours_between(start, end) == pytest.approx(hours)


def test_a_year_of_working_days_lands_on_a_working_day(cal: WorkingCalendar) -> None:
    # A long span walks day by day through a year of weekends and holidays and still lands inside work time.
    end = cal.add_working_time(at(2025, 1, 2, 9), 365 * 8)
    assert cal.is_working_day(end.date())
    assert cal.working_hours_between(at(2025, 1, 2, 9), end) == pytest.approx(365 * 8)


# --------------------------------------------------------------------------
# working_hours_between
# --------------------------------------------------------------------------


def test_hours_between_across_a_weekend(cal: WorkingCalendar) -> None:
    assert cal.working_hours_between(at(2025, 11, 21, 16), at(2025, 11, 24, 8)) == 2.0


def test_hours_between_skips_lunch(cal: WorkingCalendar) -> None:
    assert cal.working_hours_between(at(2025, 11, 24, 11), at(2025, 11, 24, 14)) == 1.0


def test_hours_between_full_week(cal: WorkingCalendar) -> None:
    assert cal.working_hours_between(at(2025, 11, 24), at(2025, 12, 1)) == 40.0


def test_hours_between_over_tet_week_is_zero(cal: WorkingCalendar) -> None:
    assert cal.working_hours_between(at(2026, 2, 13, 17), at(2026, 2, 23, 7)) == 0.0


def test_hours_between_is_negative_when_reversed(cal: WorkingCalendar) -> None:
    assert cal.working_hours_between(at(2025, 11, 24, 8), at(2025, 11, 21, 16)) == -2.0


def test_hours_between_same_moment_is_zero(cal: WorkingCalendar) -> None:
    assert cal.working_hours_between(at(2025, 11, 24, 9), at(2025, 11, 24, 9)) == 0.0


def test_hours_between_mixed_zones(cal: WorkingCalendar) -> None:
    # 02:00 UTC = 09:00 local; naive 10:00 is local time.
    a = datetime(2025, 11, 24, 2, tzinfo=UTC)
    b = datetime(2025, 11, 24, 10)  # naive on purpose
    assert cal.working_hours_between(a, b) == 1.0


# --------------------------------------------------------------------------
# Span
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15d", Span(15, "d")),
        ("0.5d", Span(0.5, "d")),
        ("4h", Span(4, "h")),
        ("same-day", Span(0, "same-day")),
        ("  3D ", Span(3, "d")),
        ("10 days", Span(10, "d")),
        ("2 hours", Span(2, "h")),
        ("0d", Span(0, "d")),
        ("365d", Span(365, "d")),
        ("Same day", Span(0, "same-day")),
    ],
)
def test_span_parse_good(text: str, expected: Span) -> None:
    assert Span.parse(text) == expected


def test_span_parse_calendar_kind() -> None:
    assert Span.parse("10d", kind="calendar") == Span(10, "d", "calendar")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("-1d", "negative"),
        ("-0.5h", "negative"),
        ("5w", "Unknown unit"),
        ("5", "Cannot read"),
        ("d", "Cannot read"),
        ("abc", "Cannot read"),
        ("12 weeks", "Unknown unit"),
        ("1.2.3d", "Cannot read"),
        ("0,5d", "dot"),
        ("366d", "365 days"),
        ("9000h", "365 days"),
    ],
)
def test_span_parse_bad(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Span.parse(text)


def test_span_parse_bad_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        Span.parse("3d", kind="weekly")


def test_span_parse_none_is_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        Span.parse(None)  # type: ignore[arg-type]


def test_span_constructor_validates() -> None:
    with pytest.raises(ValueError, match="Unknown unit"):
        Span(1, "w")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        Span(-1, "d")


def test_span_hours() -> None:
    assert Span.parse("15d").hours(8) == 120
    assert Span.parse("0.5d").hours(8) == 4
    assert Span.parse("4h").hours(8) == 4
    assert Span.parse("2d", "calendar").hours(8) == 48
    assert Span.parse("same-day").hours(8) == 8  # at most one working day


def test_span_str() -> None:
    assert str(Span.parse("15d")) == "15d"
    assert str(Span.parse("0.5d")) == "0.5d"
    assert str(Span.parse("same-day")) == "same-day"


# --------------------------------------------------------------------------
# due_for: working-day deadlines
# --------------------------------------------------------------------------


def test_fifteen_working_days_span_three_weekends(cal: WorkingCalendar) -> None:
    # Mon 2025-11-03 08:00 + 15 working days = Mon 2025-11-24 08:00.
    due = cal.due_for(at(2025, 11, 3, 8), Span.parse("15d"))
    assert due == at(2025, 11, 24, 8)


def test_three_working_days_from_friday_afternoon(cal: WorkingCalendar) -> None:
    # Fri 16-17 (1h) + Mon (8) + Tue (8) + Wed 07-11:30, 13:30-16:00 (7h).
    due = cal.due_for(at(2025, 11, 21, 16), Span.parse("3d"))
    assert due == at(2025, 11, 26, 16)


def test_half_day_crosses_lunch(cal: WorkingCalendar) -> None:
    due = cal.due_for(at(2025, 11, 24, 8), Span.parse("0.5d"))
    assert due == at(2025, 11, 24, 14)


def test_hours_span(cal: WorkingCalendar) -> None:
    assert cal.due_for(at(2025, 11, 21, 16), Span.parse("4h")) == at(2025, 11, 24, 10)


def test_tet_2026_is_skipped(cal: WorkingCalendar) -> None:
    # Thu 12 -> Fri 13 (1) -> Tết week and weekends skipped -> Mon 23 (2) -> Tue 24 (3).
    due = cal.due_for(at(2026, 2, 12, 8), Span.parse("3d"))
    assert due == at(2026, 2, 24, 8)


def test_admin_bridge_day_before_tet_is_skipped() -> None:
    c = with_settings(days_off=frozenset({date(2026, 2, 13)}))
    assert c.due_for(at(2026, 2, 12, 8), Span.parse("1d")) == at(2026, 2, 23, 8)


def test_make_up_saturday_counts_towards_deadline() -> None:
    c = with_settings(working_days=frozenset({date(2025, 11, 22)}))
    # Fri 08:00 + 2 working days: Sat counts, so due Mon 08:00 instead of Tue.
    assert c.due_for(at(2025, 11, 21, 8), Span.parse("2d")) == at(2025, 11, 24, 8)
    assert WorkingCalendar().due_for(at(2025, 11, 21, 8), Span.parse("2d")) == at(2025, 11, 25, 8)


def test_step_allowances_sum_to_the_legal_deadline(cal: WorkingCalendar) -> None:
    # Construction permit: desk 1 + office 10 + leader 3 + desk 1 = 15 days.
    received = at(2025, 11, 3, 8)
    moment = received
    for allowance in ("1d", "10d", "3d", "1d"):
        moment = cal.due_for(moment, Span.parse(allowance))
    assert moment == cal.due_for(received, Span.parse("15d"))


# --------------------------------------------------------------------------
# due_for: same-day procedures (15:00 rule)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (at(2025, 11, 19, 14, 59), at(2025, 11, 19, 17)),  # Wed before cut-off
        (at(2025, 11, 19, 15, 0), at(2025, 11, 20, 17)),  # exactly 15:00
        (at(2025, 11, 19, 16, 30), at(2025, 11, 20, 17)),  # Wed after cut-off
        (at(2025, 11, 19, 6, 30), at(2025, 11, 19, 17)),  # online before opening
        (at(2025, 11, 19, 12, 0), at(2025, 11, 19, 17)),  # during lunch
        (at(2025, 11, 21, 15, 30), at(2025, 11, 24, 17)),  # Fri after cut-off
        (at(2025, 11, 23, 10, 0), at(2025, 11, 24, 17)),  # Sunday
        (at(2025, 11, 22, 9, 0), at(2025, 11, 24, 17)),  # Saturday morning
        (at(2026, 2, 13, 16, 0), at(2026, 2, 23, 17)),  # before Tết week
        (at(2026, 2, 17, 9, 0), at(2026, 2, 23, 17)),  # during Tết
    ],
)
def test_same_day_cutoff_rule(cal: WorkingCalendar, received: datetime, due: datetime) -> None:
    assert cal.due_for(received, Span.parse("same-day")) == due


def test_same_day_cutoff_is_a_setting() -> None:
    c = with_settings(same_day_cutoff=time(16))
    assert c.due_for(at(2025, 11, 19, 15, 30), Span.parse("same-day")) == at(2025, 11, 19, 17)


def test_same_day_on_make_up_saturday() -> None:
    c = with_settings(working_days=frozenset({date(2025, 11, 22)}))
    assert c.due_for(at(2025, 11, 22, 9), Span.parse("same-day")) == at(2025, 11, 22, 17)


def test_same_day_from_utc_input(cal: WorkingCalendar) -> None:
    # 07:59 UTC = 14:59 local (before the cut-off); 08:00 UTC = 15:00 local.
    before = datetime(2025, 11, 19, 7, 59, tzinfo=UTC)
    after = datetime(2025, 11, 19, 8, 0, tzinfo=UTC)
    assert cal.due_for(before, Span.parse("same-day")) == at(2025, 11, 19, 17)
    assert cal.due_for(after, Span.parse("same-day")) == at(2025, 11, 20, 17)


# --------------------------------------------------------------------------
# due_for: calendar-day deadlines
# --------------------------------------------------------------------------


def test_calendar_deadline_on_sunday_moves_to_monday_close(
    cal: WorkingCalendar,
) -> None:
    # Wed 2025-11-19 + 4 calendar days = Sun 2025-11-23 -> Mon 17:00.
    due = cal.due_for(at(2025, 11, 19, 10), Span.parse("4d", "calendar"))
    assert due == at(2025, 11, 24, 17)


def test_calendar_deadline_on_working_day_ends_at_close(cal: WorkingCalendar) -> None:
    due = cal.due_for(at(2025, 11, 19, 10), Span.parse("5d", "calendar"))
    assert due == at(2025, 11, 24, 17)


def test_calendar_deadline_counts_weekends(cal: WorkingCalendar) -> None:
    # 10 calendar days from Mon 2025-11-10 is Thu 2025-11-20, not 2 weeks later.
    due = cal.due_for(at(2025, 11, 10, 9), Span.parse("10d", "calendar"))
    assert due == at(2025, 11, 20, 17)


def test_calendar_deadline_landing_in_tet_moves_after_it(cal: WorkingCalendar) -> None:
    # Fri 2026-02-06 + 10 days = Mon 2026-02-16 (Tết) -> Mon 2026-02-23 17:00.
    due = cal.due_for(at(2026, 2, 6, 9), Span.parse("10d", "calendar"))
    assert due == at(2026, 2, 23, 17)


def test_calendar_hours_span_lands_next_day(cal: WorkingCalendar) -> None:
    # Mon 16:00 + 24 wall hours = Tue 16:00 -> Tue 17:00.
    due = cal.due_for(at(2025, 11, 24, 16), Span.parse("24h", "calendar"))
    assert due == at(2025, 11, 25, 17)


# --------------------------------------------------------------------------
# classify
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finished", "expected"),
    [
        (at(2025, 11, 21, 10), Timeliness.EARLY),  # previous Friday
        (at(2025, 11, 23, 23, 59), Timeliness.EARLY),  # Sunday night
        (at(2025, 11, 24, 9), Timeliness.ON_TIME),  # due day, morning
        (at(2025, 11, 24, 17), Timeliness.ON_TIME),  # exactly at due time
        (at(2025, 11, 24, 17, 1), Timeliness.LATE),
        (at(2025, 11, 25, 8), Timeliness.LATE),
    ],
)
def test_classify(cal: WorkingCalendar, finished: datetime, expected: Timeliness) -> None:
    assert cal.classify(finished, at(2025, 11, 24, 17)) is expected


def test_classify_uses_local_dates(cal: WorkingCalendar) -> None:
    # 2025-11-23 18:00 UTC is Mon 01:00 local: the due day, so on time, not early.
    finished = datetime(2025, 11, 23, 18, tzinfo=UTC)
    assert cal.classify(finished, at(2025, 11, 24, 17)) is Timeliness.ON_TIME


def test_timeliness_values_are_strings() -> None:
    assert Timeliness.EARLY == "early"
    assert Timeliness.ON_TIME.value == "on_time"
    assert Timeliness("late") is Timeliness.LATE


# --------------------------------------------------------------------------
# shift_for_pause
# --------------------------------------------------------------------------


def test_three_working_day_pause_moves_due_three_working_days(
    cal: WorkingCalendar,
) -> None:
    # Paused Mon 08:00 -> Thu 08:00 = 24 working hours; due Fri 28 17:00
    # becomes Wed 2025-12-03 17:00 (Mon 1, Tue 2, Wed 3 of December).
    new_due = cal.shift_for_pause(at(2025, 11, 28, 17), at(2025, 11, 24, 8), at(2025, 11, 27, 8), "working")
    assert new_due == at(2025, 12, 3, 17)


def test_pause_over_weekend_only_changes_nothing(cal: WorkingCalendar) -> None:
    due = at(2025, 11, 28, 17)
    new_due = cal.shift_for_pause(due, at(2025, 11, 21, 17), at(2025, 11, 24, 7))
    assert new_due == due


def test_short_pause_moves_by_working_hours(cal: WorkingCalendar) -> None:
    # Two working hours waited (Fri 16:00 -> Mon 08:00); due Wed 10:00 -> 12:00
    # falls in lunch, so 11:00 + 1h = 14:00.
    new_due = cal.shift_for_pause(at(2025, 11, 26, 10), at(2025, 11, 21, 16), at(2025, 11, 24, 8))
    assert new_due == at(2025, 11, 26, 14)


def test_calendar_pause_moves_by_wall_time(cal: WorkingCalendar) -> None:
    # Due Thu 2025-11-20 17:00, citizen took 3 calendar days -> Sun 23 -> Mon 24 17:00.
    new_due = cal.shift_for_pause(at(2025, 11, 20, 17), at(2025, 11, 10, 9), at(2025, 11, 13, 9), "calendar")
    assert new_due == at(2025, 11, 24, 17)


def test_pause_cannot_end_before_it_starts(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="resume"):
        cal.shift_for_pause(at(2025, 11, 28, 17), at(2025, 11, 24, 8), at(2025, 11, 21, 8))


def test_pause_bad_kind(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="kind"):
        cal.shift_for_pause(at(2025, 11, 28, 17), at(2025, 11, 24, 8), at(2025, 11, 25, 8), "weekly")


# --------------------------------------------------------------------------
# Time zones
# --------------------------------------------------------------------------


def test_utc_input_friday_afternoon(cal: WorkingCalendar) -> None:
    # 09:00 UTC Friday = 16:00 in Vietnam; +2 working hours = Mon 08:00 local.
    result = cal.add_working_time(datetime(2025, 11, 21, 9, tzinfo=UTC), 2)
    assert result == at(2025, 11, 24, 8)
    assert result.tzinfo == HCM
    assert result.isoformat() == "2025-11-24T08:00:00+07:00"


def test_naive_input_is_local_time(cal: WorkingCalendar) -> None:
    naive = datetime(2025, 11, 21, 16)  # naive on purpose
    assert cal.add_working_time(naive, 2) == at(2025, 11, 24, 8)


def test_other_zone_input(cal: WorkingCalendar) -> None:
    tokyo = timezone(timedelta(hours=9))
    # 18:00 in Tokyo = 16:00 in Vietnam.
    assert cal.add_working_time(datetime(2025, 11, 21, 18, tzinfo=tokyo), 2) == at(2025, 11, 24, 8)


def test_settings_zone_is_honoured() -> None:
    c = with_settings(tz=ZoneInfo("Asia/Bangkok"))
    result = c.add_working_time(datetime(2025, 11, 21, 9, tzinfo=UTC), 2)
    assert result.tzinfo == ZoneInfo("Asia/Bangkok")
    assert result.hour == 8


def test_bad_zone_is_refused() -> None:
    with pytest.raises(TypeError, match="time zone"):
        CalendarSettings(tz="Asia/Ho_Chi_Minh")  # type: ignore[arg-type]


def test_dst_zone_counts_real_hours() -> None:
    # Berlin springs forward on Sun 2026-03-29 at 02:00; a round-the-clock
    # calendar must count that day as 23 real hours.
    c = with_settings(
        periods=((time(0), time(23, 59)),),
        same_day_cutoff=time(12),
        weekend=frozenset(),
        use_public_holidays=False,
        tz=ZoneInfo("Europe/Berlin"),
    )
    berlin = ZoneInfo("Europe/Berlin")
    a = datetime(2026, 3, 29, 1, tzinfo=berlin)
    b = datetime(2026, 3, 29, 4, tzinfo=berlin)
    assert c.working_hours_between(a, b) == 2.0
    assert c.add_working_time(a, 2) == b


# --------------------------------------------------------------------------
# Guards against endless searches
# --------------------------------------------------------------------------


def test_calendar_without_working_days_raises() -> None:
    c = with_settings(weekend=frozenset(range(7)), use_public_holidays=False)
    with pytest.raises(ValueError, match="No working day"):
        c.add_working_time(at(2025, 11, 24, 9), 1)
    with pytest.raises(ValueError, match="No working day"):
        c.due_for(at(2025, 11, 24, 9), Span.parse("same-day"))


def test_calendar_without_working_days_still_measures_zero() -> None:
    c = with_settings(weekend=frozenset(range(7)), use_public_holidays=False)
    assert c.working_hours_between(at(2025, 11, 24), at(2025, 12, 24)) == 0.0


def test_lone_make_up_day_in_a_closed_calendar_is_found() -> None:
    c = with_settings(
        weekend=frozenset(range(7)),
        use_public_holidays=False,
        working_days=frozenset({date(2027, 6, 1)}),
    )
    assert c.next_working_moment(at(2025, 11, 24)) == at(2027, 6, 1, 7)
