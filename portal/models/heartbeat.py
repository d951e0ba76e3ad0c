"""The background jobs' sign of life, for /healthz and monitoring (portal/main/health.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import Model

from .types import UTCDateTime


class Heartbeat(Model):
    """One row per kind of sign: "jobs" is written by a worker each time the beat's `health.heartbeat` tick
    reaches it, so a fresh row says the beat runs, a worker consumes the queue and reaches the database."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    host: Mapped[str] = mapped_column(String(255))  # the worker's host name and process id
