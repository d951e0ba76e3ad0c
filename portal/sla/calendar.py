"""Working-time calendar for dossier deadlines (see DOMAIN.md, "Deadlines").

Pure Python on purpose: no Flask, no database. Agencies load their own
``CalendarSettings`` (working periods, cut-off, days off, make-up days) from
wherever they are stored and hand them in, so every rule stays data.

Conventions:
- Naive datetimes are read as local time in ``settings.tz``; aware ones may be
  in any zone. Everything returned is aware and in ``settings.tz``.
- Working periods are half-open ``[start, end)``: 11:30 is already lunch and
  17:00 is already after hours, but a deadline may *end* exactly at 17:00.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache
from typing import Literal, cast
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "CalendarSettings",
    "Span",
    "Timeliness",
    "WorkingCalendar",
]

SpanUnit = Literal["d", "h", "same-day"]
SpanKind = Literal["working", "calendar"]
Period = tuple[time, time]
Interval = tuple[datetime, datetime]

# Safety nets, not business rules: a legal deadline above a year is almost
# certainly a typo, and a calendar with no working day for three years is a
# misconfiguration that would otherwise make the searches below spin forever.
MAX_SPAN_DAYS = 365
MAX_NON_WORKING_RUN_DAYS = 3 * 366

_ONE_DAY = timedelta(days=1)
_SPAN_KINDS: tuple[str, ...] = ("working", "calendar")
_SPAN_RE = re.compile(r"^(?P<amount>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>[a-z]+)$")
_UNIT_ALIASES: dict[str, SpanUnit] = {
    "d": "d",
    "day": "d",
    "days": "d",
    "h": "h",
    "hour": "h",
    "hours": "h",
}
_SAME_DAY_WORDS = frozenset({"same-day", "same day", "sameday"})


# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarSettings:
    """One agency's working calendar; every rule here is data, not code."""

    periods: tuple[Period, ...] = (
        (time(7, 0), time(11, 30)),
        (time(13, 30), time(17, 0)),
    )
    same_day_cutoff: time = time(15, 0)
    # Extra days off announced by the government or set by admins (e.g. Tết
    # bridge days that the holidays package cannot know in advance).
    days_off: frozenset[date] = frozenset()
    # Make-up working days (a Saturday worked to compensate a bridge day);
    # they win over weekends, public holidays and days_off.
    working_days: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday(): Sat, Sun
    use_public_holidays: bool = True
    # A factory rather than a shared default instance keeps ruff (RUF009)
    # happy; ZoneInfo caches instances, so every default is the same object.
    tz: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    # Country whose public holidays apply (holidays package code).
    holiday_country: str = "VN"

    def __post_init__(self) -> None:
        # Settings often come from JSON/DB rows as lists: normalise them so
        # the frozen object stays hashable and immutable.
        object.__setattr__(self, "periods", _as_periods(self.periods))
        object.__setattr__(self, "days_off", _as_dates(self.days_off, "days_off"))
        object.__setattr__(self, "working_days", _as_dates(self.working_days, "working_days"))
        object.__setattr__(self, "weekend", _as_weekdays(self.weekend))
        self._validate()

    def _validate(self) -> None:
        _check_periods(self.periods)
        first_start, last_end = self.periods[0][0], self.periods[-1][1]
        if not first_start < self.same_day_cutoff <= last_end:
            raise ValueError(
                "The same-day cut-off must fall inside the working day "
                f"(after {first_start:%H:%M} and no later than {last_end:%H:%M})."
            )
        if self.same_day_cutoff.tzinfo is not None:
            raise ValueError("The same-day cut-off must be a plain local time.")
        both = self.days_off & self.working_days
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"These dates are listed both as a day off and as a working day: {listed}.")
        if not isinstance(self.tz, tzinfo):
            raise TypeError("The time zone must be a tzinfo, e.g. ZoneInfo('Asia/Ho_Chi_Minh').")


def _as_periods(raw: Iterable[Iterable[time]]) -> tuple[Period, ...]:
    periods: list[Period] = []
    for pair in raw:
        items = tuple(pair)
        if len(items) != 2 or not all(isinstance(t, time) for t in items):
            raise ValueError("Each working period must be a (start, end) pair of times.")
        periods.append((items[0], items[1]))
    return tuple(periods)


def _check_periods(periods: tuple[Period, ...]) -> None:
    if not periods:
        raise ValueError("At least one working period is needed (e.g. 07:00-11:30).")
    previous_end: time | None = None
    for start, end in periods:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("Working periods must use plain local times.")
        if not start < end:
            raise ValueError(f"A working period must start before it ends ({start:%H:%M}-{end:%H:%M}).")
        if previous_end is not None and start < previous_end:
            raise ValueError(
                "Working periods must be in order and must not overlap "
                f"({start:%H:%M} starts before {previous_end:%H:%M})."
            )
        previous_end = end


def _as_dates(raw: Iterable[date], name: str) -> frozenset[date]:
    days = frozenset(raw)
    # datetime is a subclass of date; a datetime here would never match a
    # date lookup, so reject it instead of silently ignoring it.
    if any(isinstance(d, datetime) or not isinstance(d, date) for d in days):
        raise ValueError(f"{name} must contain dates (without a time of day).")
    return days


def _as_weekdays(raw: Iterable[int]) -> frozenset[int]:
    days = frozenset(raw)
    if any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise ValueError("Weekend days must be numbers 0 (Monday) to 6 (Sunday).")
    return days


# --------------------------------------------------------------------------
# Spans and results
# --------------------------------------------------------------------------


class Timeliness(StrEnum):
    """How a step or dossier ended (Trước hạn / Đúng hạn / Quá hạn)."""

    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"


@dataclass(frozen=True)
class Span:
    """A parsed allowance or legal deadline such as "15d", "4h" or "same-day"."""

    amount: float
    unit: SpanUnit
    kind: SpanKind = "working"

    def __post_init__(self) -> None:
        if self.unit not in ("d", "h", "same-day"):
            raise ValueError(f"Unknown unit {self.unit!r}: use d (days), h (hours) or same-day.")
        _check_kind(self.kind)
        if not math.isfinite(self.amount) or self.amount < 0:
            raise ValueError("A deadline must be a positive number (or zero).")
        if self.unit == "d" and self.amount > MAX_SPAN_DAYS:
            raise ValueError(f"A deadline cannot be longer than {MAX_SPAN_DAYS} days.")
        if self.unit == "h" and self.amount > MAX_SPAN_DAYS * 24:
            raise ValueError(f"A deadline cannot be longer than {MAX_SPAN_DAYS} days.")

    @classmethod
    def parse(cls, text: str, kind: str = "working") -> Span:
        """Read "15d", "0.5d", "4h" or "same-day"; raise ValueError on anything else."""
        _check_kind(kind)
        cleaned = (text or "").strip().lower()
        if not cleaned:
            raise ValueError('The deadline is empty: write e.g. "15d", "4h" or "same-day".')
        if cleaned in _SAME_DAY_WORDS:
            return cls(0.0, "same-day", cast(SpanKind, kind))
        amount, unit = _split_amount(cleaned, text)
        return cls(amount, unit, cast(SpanKind, kind))

    def hours(self, hours_per_day: float) -> float:
        """Length in hours: working hours for working spans, wall hours for calendar ones.

        "same-day" counts as one full working day: it is the most a same-day
        allowance can take, which is what summing step allowances needs; the
        exact deadline comes from ``WorkingCalendar.due_for``.
        """
        if self.unit == "h":
            return self.amount
        if self.unit == "same-day":
            return hours_per_day
        day_length = 24.0 if self.kind == "calendar" else hours_per_day
        return self.amount * day_length

    def __str__(self) -> str:
        if self.unit == "same-day":
            return "same-day"
        return f"{self.amount:g}{self.unit}"


def _check_kind(kind: str) -> None:
    if kind not in _SPAN_KINDS:
        raise ValueError(f"Unknown deadline kind {kind!r}: use working or calendar.")


def _split_amount(cleaned: str, original: str) -> tuple[float, SpanUnit]:
    if cleaned.startswith("-"):
        raise ValueError(f"The deadline {original!r} is negative: it must be zero or more.")
    if "," in cleaned:
        raise ValueError(f"Use a dot for decimals in {original!r}, e.g. 0.5d.")
    match = _SPAN_RE.match(cleaned)
    if match is None:
        raise ValueError(f'Cannot read the deadline {original!r}: write e.g. "15d", "0.5d", "4h" or "same-day".')
    unit = _UNIT_ALIASES.get(match["unit"])
    if unit is None:
        raise ValueError(f"Unknown unit {match['unit']!r} in {original!r}: use d (days), h (hours) or same-day.")
    return float(match["amount"]), unit


# --------------------------------------------------------------------------
# Public holidays
# --------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _public_calendar(country: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(public holidays, weekend days the government made working) for one year.

    Cached per (country, year) across all calendars: building the holidays
    object is slow compared with the lookups done for every deadline.
    """
    table = holidays.country_holidays(country, years=year)
    days_off = frozenset(d for d in table if d.year == year)
    # The package pairs substituted days off (e.g. Fri 2025-05-02) with the
    # Saturday worked in exchange; honour both or the week would lose a day.
    make_up = frozenset(d for d in getattr(table, "weekend_workdays", ()) if d.year == year)
    return days_off, make_up


# --------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------


class WorkingCalendar:
    """Deadline arithmetic over one agency's working time."""

    def __init__(self, settings: CalendarSettings | None = None) -> None:
        self.settings = settings or CalendarSettings()

    # ---- basics ----------------------------------------------------------

    @property
    def hours_per_day(self) -> float:
        """Working hours in a full working day (8.0 with the default periods)."""
        total = sum(
            (_clock_length(start, end) for start, end in self.settings.periods),
            timedelta(),
        )
        return total.total_seconds() / 3600

    def is_working_day(self, d: date) -> bool:
        """Make-up days > admin days off > public calendar > weekend."""
        if isinstance(d, datetime):
            d = self._local(d).date()
        s = self.settings
        if d in s.working_days:
            return True
        if d in s.days_off:
            return False
        if s.use_public_holidays:
            public_off, public_make_up = _public_calendar(s.holiday_country, d.year)
            if d in public_make_up:
                return True
            if d in public_off:
                return False
        return d.weekday() not in s.weekend

    def end_of_working_day(self, d: date) -> datetime:
        """End of the last working period on ``d`` (does not check that d is worked)."""
        if isinstance(d, datetime):
            d = self._local(d).date()
        return self._at(d, self.settings.periods[-1][1])

    def next_working_moment(self, dt: datetime) -> datetime:
        """``dt`` itself if it is working time, else the start of the next period."""
        start, _ = next(self._intervals_from(dt))
        return start

    # ---- working time arithmetic ------------------------------------------

    def add_working_time(self, start: datetime, hours: float) -> datetime:
        """``start`` + ``hours`` working hours, skipping lunch, nights and days off.

        Walks period by period (never minute by minute). May end exactly at a
        period end (e.g. 17:00): a deadline ends there, it does not roll over.
        """
        remaining = _duration(hours)
        for begin, end in self._intervals_from(start):
            available = _elapsed(begin, end)
            if remaining <= available:
                return self._shift(begin, remaining)
            remaining -= available
        raise AssertionError("unreachable: _intervals_from never ends")  # pragma: no cover

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Working hours in ``[a, b)``; negative when ``b`` is before ``a``."""
        lo, hi = self._local(a), self._local(b)
        if hi < lo:
            return -self.working_hours_between(b, a)
        total = timedelta()
        day = lo.date()
        while day <= hi.date():
            total += self._overlap_on(day, lo, hi)
            day += _ONE_DAY
        return total.total_seconds() / 3600

    # ---- deadlines ---------------------------------------------------------

    def due_for(self, received: datetime, span: Span) -> datetime:
        """Legal deadline of a dossier received at ``received``."""
        if span.unit == "same-day":
            return self._same_day_due(received)
        if span.kind == "calendar":
            landing = self._local(received) + timedelta(hours=span.hours(self.hours_per_day))
            return self._end_of_day_on_or_after(landing.date())
        return self.add_working_time(received, span.hours(self.hours_per_day))

    def classify(self, finished: datetime, due: datetime) -> Timeliness:
        """LATE after the due moment; EARLY on an earlier date; else ON_TIME."""
        done, deadline = self._local(finished), self._local(due)
        if done > deadline:
            return Timeliness.LATE
        if done.date() < deadline.date():
            return Timeliness.EARLY
        return Timeliness.ON_TIME

    def shift_for_pause(
        self,
        due: datetime,
        paused_from: datetime,
        resumed_at: datetime,
        kind: SpanKind | str = "working",
    ) -> datetime:
        """Move the appointment by the time the clock was stopped.

        Working kind: by the working hours inside the pause, so a pause over a
        weekend moves nothing. Calendar kind: by the wall time waited, then the
        day-off rule (end of that working day, or of the next one).
        """
        _check_kind(kind)
        if self._local(resumed_at) < self._local(paused_from):
            raise ValueError("The clock cannot resume before it was paused.")
        if kind == "calendar":
            landing = self._local(due) + (self._local(resumed_at) - self._local(paused_from))
            return self._end_of_day_on_or_after(landing.date())
        waited = self.working_hours_between(paused_from, resumed_at)
        if waited == 0:
            # add_working_time(…, 0) would roll a 17:00 due date to the next
            # morning; a pause with no working time must change nothing.
            return self._local(due)
        return self.add_working_time(due, waited)

    # ---- helpers -----------------------------------------------------------

    def _same_day_due(self, received: datetime) -> datetime:
        # DOMAIN.md: received after the cut-off -> due the next working day.
        # We also treat exactly 15:00 as "after" (the cut-off is the first
        # minute that no longer counts) and days off as "after".
        local = self._local(received)
        today = local.date()
        if self.is_working_day(today) and local.time() < self.settings.same_day_cutoff:
            return self.end_of_working_day(today)
        return self._end_of_day_on_or_after(today + _ONE_DAY)

    def _end_of_day_on_or_after(self, d: date) -> datetime:
        # Civil Code rule: a deadline ending on a day off ends on the next
        # working day; we take the end of that day's working hours.
        return self.end_of_working_day(self._working_day_on_or_after(d))

    def _working_day_on_or_after(self, first: date) -> date:
        d = first
        for _ in range(MAX_NON_WORKING_RUN_DAYS + 1):
            if self.is_working_day(d):
                return d
            d += _ONE_DAY
        raise ValueError(
            f"No working day in the {MAX_NON_WORKING_RUN_DAYS} days from {first:%Y-%m-%d}: "
            "check the calendar settings (weekend, days off)."
        )

    def _intervals_from(self, dt: datetime) -> Iterator[Interval]:
        """Working intervals from ``dt`` on, the first one clipped to start at ``dt``."""
        local = self._local(dt)
        day = local.date()
        while True:
            day = self._working_day_on_or_after(day)
            for begin, end in self._day_intervals(day):
                if local < end:
                    yield max(local, begin), end
            day += _ONE_DAY

    def _day_intervals(self, day: date) -> list[Interval]:
        return [(self._at(day, s), self._at(day, e)) for s, e in self.settings.periods]

    def _overlap_on(self, day: date, lo: datetime, hi: datetime) -> timedelta:
        if not self.is_working_day(day):
            return timedelta()
        total = timedelta()
        for begin, end in self._day_intervals(day):
            first, last = max(begin, lo), min(end, hi)
            if first < last:
                total += _elapsed(first, last)
        return total

    def _local(self, dt: datetime) -> datetime:
        if dt.tzinfo is None or dt.utcoffset() is None:
            return dt.replace(tzinfo=self.settings.tz)
        return dt.astimezone(self.settings.tz)

    def _at(self, d: date, t: time) -> datetime:
        return datetime.combine(d, t, tzinfo=self.settings.tz)

    def _shift(self, dt: datetime, delta: timedelta) -> datetime:
        # Go through UTC: arithmetic on aware datetimes sharing a tzinfo is
        # wall-clock arithmetic, which would be wrong across a DST change.
        return (dt.astimezone(UTC) + delta).astimezone(self.settings.tz)


def _elapsed(a: datetime, b: datetime) -> timedelta:
    # Real elapsed time, even across a DST change (see _shift).
    return b.astimezone(UTC) - a.astimezone(UTC)


def _clock_length(start: time, end: time) -> timedelta:
    anchor = date(2000, 1, 1)
    return datetime.combine(anchor, end) - datetime.combine(anchor, start)


def _duration(hours: float) -> timedelta:
    if not math.isfinite(hours) or hours < 0:
        raise ValueError("The working time to add must be zero or more hours.")
    return timedelta(hours=hours)
