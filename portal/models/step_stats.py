"""Where dossiers wait, counted per day (the waiting view of the operations centre reads these, not the task rows).

Maintained with every step by portal/stats/steps.py, rebuilt from the task rows by `flask --app wsgi stats rebuild`.
Each key starts with what a page selects by (a version, a group), then the local day, so a period of one version
or of a leader's groups is one index range.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import Model

# Upper edges, in working hours, of the buckets a step's duration is counted in (a duration falls in the first
# bucket whose edge is at least it; past the last edge, in an open-ended bucket). Medians and p90s are read from
# them by the nearest-rank method and shown as the edge of the bucket the rank falls in.
STEP_HOUR_EDGES: tuple[float, ...] = (
    0, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64,
    80, 96, 120, 160, 200, 240, 320, 400, 480, 640, 800, 960, 1280, 1600, 2000,
)  # fmt: skip


def _count() -> Mapped[int]:
    return mapped_column(Integer, default=0, server_default="0")


class StepDaily(Model):
    """Steps of one version that ended on one local day, per step and duration bucket; how many of them late."""

    __tablename__ = "stats_step_daily"

    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bpmn_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    finished: Mapped[int] = _count()
    late: Mapped[int] = _count()


class FlowDaily(Model):
    """How many times each sequence flow of a version was taken by steps that started on one local day.
    `flow_id` "" counts the transitions that fit no path of the diagram."""

    __tablename__ = "stats_flow_daily"

    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    flow_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    taken: Mapped[int] = _count()


class WorkDaily(Model):
    """Steps of a group finished on one local day, per officer who finished them (`user_id` 0: nobody named)."""

    __tablename__ = "stats_work_daily"

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    finished: Mapped[int] = _count()
