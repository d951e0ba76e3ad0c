"""How the portal shows things to people: statuses in plain words, dates in Vietnam's time, money in đồng.

Registered as Jinja filters in the app factory, so every page formats the same way.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal
from flask_babel import lazy_gettext as _l

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


def vnd(amount: int | None) -> str:
    """Money in đồng: 1.500.000 đ (Vietnamese grouping), 0 as free of charge."""
    if amount is None:
        return ""
    if amount == 0:
        return str(_l("Free of charge"))
    return f"{format_decimal(amount, format='#,##0')} đ"


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        status_label=status_label,
        status_hint=status_hint,
        timeliness_label=timeliness_label,
        when=when,
        day=day,
        vnd=vnd,
        channel_label=lambda code: str(CHANNEL_LABELS.get(code, code)),
        service_level_label=lambda level: str(SERVICE_LEVEL_LABELS.get(level, level)),
    )
