"""One clock for the whole application, so tests and the SLA arithmetic agree on "now"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC. All stored datetimes are UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime read back from SQLite as UTC; convert aware ones."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_today() -> date:
    """Today in the portal's time zone (TIMEZONE): the day statistics and deadlines count on."""
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
