"""How the portal shows things to people: statuses in plain words, dates in Vietnam's time, money in đồng.

Registered as Jinja filters in the app factory, so every page formats the same way.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from babel.numbers import format_decimal
from flask import Flask
from flask_babel import format_date, format_datetime, ngettext
from flask_babel import lazy_gettext as _l

from portal.sla.calendar import Span

# Status codes of the national portal, with what each means for the citizen.
STATUS_LABELS = {
    1: _l("Newly submitted"),
    2: _l("Received"),
    3: _l("Not accepted"),
    4: _l("In process"),
    5: _l("Supplement requested"),
    6: _l("Financial obligation requested"),
    7: _l("Withdrawn"),
    8: _l("Processing stopped"),
    9: _l("Processing finished"),
    10: _l("Result returned"),
}
STATUS_HINTS = {
    1: _l("The one-stop-shop desk will check your dossier."),
    2: _l("Your dossier was accepted and handed to the department in charge."),
    3: _l("The desk did not accept your dossier; the reason is given below."),
    4: _l("Officers are working on your dossier."),
    5: _l("We need more documents from you: see what is missing and send them."),
    6: _l("Please pay the fee or charge shown below."),
    7: _l("You withdrew this dossier."),
    8: _l("Processing was stopped; the reason is given below."),
    9: _l("The result is ready to be returned to you."),
    10: _l("The result has been returned to you."),
}
TIMELINESS_LABELS = {"early": _l("Early"), "on_time": _l("On time"), "late": _l("Late")}
CHANNEL_LABELS = {1: _l("In person"), 2: _l("Online"), 3: _l("By post")}
SERVICE_LEVEL_LABELS = {
    "public_service": _l("Public service information"),
    "partial_online": _l("Partly online"),
    "full_online": _l("Fully online"),
}


def status_label(code: int | None) -> str:
    return str(STATUS_LABELS.get(code or 0, code or ""))


def status_hint(code: int | None) -> str:
    return str(STATUS_HINTS.get(code or 0, ""))


def timeliness_label(value: str | None) -> str:
    return str(TIMELINESS_LABELS.get(value or "", ""))


def when(value: datetime | None, style: str = "short") -> str:
    """A moment in the user's timezone (Vietnam's by default), e.g. 02/03/2026 09:30."""
    if value is None:
        return ""
    return format_datetime(value, "dd/MM/yyyy HH:mm" if style == "short" else style)


def day(value: datetime | None) -> str:
    return "" if value is None else format_date(value.date() if isinstance(value, datetime) else value, "dd/MM/yyyy")


# Numbers are written the Vietnamese way whatever the page's language (1.500.000; 1,5), like dates (dd/MM/yyyy).
NUMBER_LOCALE = "vi"
NBSP = "\u00a0"  # between a number and its unit, so the unit never wraps onto a line of its own


TENTH = Decimal("0.1")


def number(value: int | float | None) -> str:
    """A number with Vietnamese grouping, e.g. 1.200; at most one decimal, e.g. 1,5 (rounded half to even, as
    Babel's "#,##0.#" does). Written here rather than through Babel because the operations centre's tables write
    thousands of numbers per page, and Babel's pattern machinery costs ~0.1 ms each."""
    if value is None:
        return ""
    if isinstance(value, int):
        return _grouped(value)
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    if not exact.is_finite():
        return format_decimal(value, format="#,##0.#", locale=NUMBER_LOCALE)  # Babel's signs for inf and nan
    tenths = exact.quantize(TENTH, rounding=ROUND_HALF_EVEN)
    whole = int(tenths)
    digit = abs(int(tenths * 10)) % 10
    sign = "-" if tenths < 0 and whole == 0 and digit else ""
    return f"{sign}{_grouped(whole)},{digit}" if digit else _grouped(whole)


def _grouped(whole: int) -> str:
    return f"{whole:,}".replace(",", ".")


def money(amount: int | None) -> str:
    """An amount in đồng, e.g. 50.000.000 đ, on one line."""
    if amount is None:
        return ""
    return f"{number(amount)}{NBSP}đ"


def vnd(amount: int | None) -> str:
    """A fee or charge: money, with 0 as free of charge."""
    if amount == 0:
        return str(_l("Free of charge"))
    return money(amount)


def filesize(size: int | None) -> str:
    """The size of a file, the same on every page: 12 byte, 1,5 KB, 2,4 MB (1 KB = 1024 bytes)."""
    size = size or 0
    if size < 1024:
        return f"{number(size)}{NBSP}{ngettext('byte', 'bytes', size)}"
    if size < 1024 * 1024:
        return f"{number(size / 1024)}{NBSP}KB"
    return f"{number(size / (1024 * 1024))}{NBSP}MB"


def duration(value: str | None, kind: str | None = "working") -> str:
    """A legal deadline or a step's allowance in words, the same on every page: 1d → 1 ngày làm việc / 1 working
    day, 4h → 4 giờ làm việc / 4 working hours, same-day → Trong ngày; in calendar time without "working".
    They are stored as written in the BPMN ("15d", "0.5d", "4h", "same-day"); anything unreadable is shown as is."""
    text = (value or "").strip()
    calendar = kind == "calendar"
    try:
        span = Span.parse(text, "calendar" if calendar else "working")
    except ValueError:
        return text
    if span.unit == "same-day":
        return str(_l("Same day"))
    return _span_words(span.amount, span.unit, calendar)


def _span_words(amount: float, unit: str, calendar: bool) -> str:
    shown = number(amount)
    count = int(amount) if amount == int(amount) else 2  # the singular only for exactly one: 0,5 working days
    if unit == "d":
        if calendar:
            return ngettext("%(n)s day", "%(n)s days", count, n=shown)
        return ngettext("%(n)s working day", "%(n)s working days", count, n=shown)
    if calendar:
        return ngettext("%(n)s hour", "%(n)s hours", count, n=shown)
    return ngettext("%(n)s working hour", "%(n)s working hours", count, n=shown)


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        status_label=status_label,
        status_hint=status_hint,
        timeliness_label=timeliness_label,
        when=when,
        day=day,
        vnd=vnd,
        money=money,
        number=number,
        filesize=filesize,
        duration=duration,
        channel_label=lambda code: str(CHANNEL_LABELS.get(code, code)),
        service_level_label=lambda level: str(SERVICE_LEVEL_LABELS.get(level, level)),
    )
