"""Celery job of the statistics: the monthly roll-up of the complete past months (portal/stats/rollup.py)."""

from __future__ import annotations

from celery import shared_task

from portal.core.time import local_today
from portal.core.web import unit_of_work
from portal.extensions import db

from . import rollup


@shared_task(name="stats.rollup", ignore_result=True)
def roll_up_months() -> int:
    """Roll up the complete months that have no current roll-up (none most of the time: one query)."""
    with unit_of_work():
        return rollup.build_missing(db.session(), local_today())
