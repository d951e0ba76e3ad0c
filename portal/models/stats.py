"""Statistics kept up to date with every dossier change (the operations centre reads these, never the history).

Two tables (see portal/stats/aggregates.py for how they are maintained):

- `stats_dossier_facts`: one row per dossier, what that dossier currently contributes to the figures (its days
  of submission, reception and outcome, channel, outcome, timeliness, processing time, supplement rounds,
  rating, whether its documents are digitised). When a dossier changes, the difference between its old and new
  facts is added to the daily rows, so nothing is counted twice and a rebuild from scratch gives the same numbers.
- `stats_daily`: per local day × agency × procedure, the counts and sums the period figures are read from.
  Fields are read through the procedure (procedures.field), provinces are the sum over all agencies.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, Index, Integer, SmallInteger, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import Model

# Upper edges, in working hours, of the processing-time histogram buckets; the last bucket is open-ended.
# p90 (and any other quantile) is estimated by linear interpolation inside the bucket it falls in.
HOUR_BUCKETS: tuple[float, ...] = (1, 2, 4, 8, 16, 24, 40, 80, 120, 240, 480)
BUCKET_COLUMNS: tuple[str, ...] = tuple(f"hours_b{i}" for i in range(len(HOUR_BUCKETS) + 1))

# Every additive column of stats_daily, in a stable order (the open data and the figures service use it).
COUNT_COLUMNS: tuple[str, ...] = (
    "submitted",
    "submitted_in_person",
    "submitted_online",
    "submitted_post",
    "received",
    "received_in_person",
    "received_online",
    "received_post",
    "received_full_online",
    "received_partial_online",
    "finished",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "processing_count",
    "not_accepted",
    "stopped",
    "withdrawn",
    "supplement_rounds",
    "supplemented",
    "rating_unsatisfied",
    "rating_satisfied",
    "rating_very_satisfied",
    *BUCKET_COLUMNS,
    "received_digitised",
    *(f"unreceived_{name}" for name in ("finished", "finished_early", "finished_on_time", "finished_late")),
    *(f"unreceived_{name}" for name in ("not_accepted", "stopped", "withdrawn")),
)
# The outcomes of dossiers that ended without ever being received (refused or withdrawn at the desk, imported
# dossiers without a reception): the periodic report keeps them out of its balance of received dossiers.
UNRECEIVED_COLUMNS: tuple[str, ...] = tuple(name for name in COUNT_COLUMNS if name.startswith("unreceived_"))
SUM_COLUMNS: tuple[str, ...] = ("processing_hours",)


class DossierFacts(Model):
    """What one dossier contributes to the statistics now (no personal data: ids, days and numbers only)."""

    __tablename__ = "stats_dossier_facts"
    # The dossiers behind a figure of the period pages (portal/ioc/period_dossiers.py): one range per day column.
    __table_args__ = (
        Index("ix_stats_facts_received", "received_day", "agency_id"),
        Index("ix_stats_facts_outcome", "outcome", "outcome_day", "agency_id"),
        Index("ix_stats_facts_rating", "rating_day", "agency_id"),
    )

    # Not a foreign key: the facts of a deleted dossier are subtracted after the dossier's row is gone.
    dossier_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    agency_id: Mapped[int] = mapped_column(Integer)
    procedure_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[int] = mapped_column(SmallInteger)
    online_level: Mapped[str | None] = mapped_column(String(20))  # the procedure's service level when first seen
    submitted_day: Mapped[date | None] = mapped_column(Date)
    received_day: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(20))  # finished | not_accepted | stopped | withdrawn
    outcome_day: Mapped[date | None] = mapped_column(Date)
    timeliness: Mapped[str | None] = mapped_column(String(10))  # early | on_time | late
    processing_hours: Mapped[float | None] = mapped_column(Float)
    supplement_rounds: Mapped[int] = mapped_column(Integer, default=0)
    rating_level: Mapped[int | None] = mapped_column(SmallInteger)
    rating_day: Mapped[date | None] = mapped_column(Date)
    # Received, with its documents held as files in the portal (see aggregates.digitised_of for the definition).
    digitised: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Of a dossier that ended without a result (not accepted, stopped, withdrawn): the reason the citizen was
    # given (see aggregates.reasons_of), kept here so that the period pages count reasons without the timeline.
    reason: Mapped[str | None] = mapped_column(Text)


def _count() -> Mapped[int]:
    return mapped_column(Integer, default=0, server_default="0")


class StatsCounts:
    """The additive columns (COUNT_COLUMNS and SUM_COLUMNS) shared by the daily rows and their monthly roll-up."""

    submitted: Mapped[int] = _count()
    submitted_in_person: Mapped[int] = _count()
    submitted_online: Mapped[int] = _count()
    submitted_post: Mapped[int] = _count()
    received: Mapped[int] = _count()
    received_in_person: Mapped[int] = _count()
    received_online: Mapped[int] = _count()
    received_post: Mapped[int] = _count()
    received_full_online: Mapped[int] = _count()  # received online, procedure offered full online (toàn trình)
    received_partial_online: Mapped[int] = _count()
    finished: Mapped[int] = _count()  # processing finished with a result (status 9 or 10)
    finished_early: Mapped[int] = _count()
    finished_on_time: Mapped[int] = _count()
    finished_late: Mapped[int] = _count()
    processing_count: Mapped[int] = _count()  # finished dossiers with a processing time (received first)
    processing_hours: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    not_accepted: Mapped[int] = _count()  # status 3
    stopped: Mapped[int] = _count()  # status 8
    withdrawn: Mapped[int] = _count()  # status 7
    supplement_rounds: Mapped[int] = _count()  # of the dossiers that ended then
    supplemented: Mapped[int] = _count()  # dossiers that ended then after at least one supplement round
    rating_unsatisfied: Mapped[int] = _count()
    rating_satisfied: Mapped[int] = _count()
    rating_very_satisfied: Mapped[int] = _count()
    hours_b0: Mapped[int] = _count()
    hours_b1: Mapped[int] = _count()
    hours_b2: Mapped[int] = _count()
    hours_b3: Mapped[int] = _count()
    hours_b4: Mapped[int] = _count()
    hours_b5: Mapped[int] = _count()
    hours_b6: Mapped[int] = _count()
    hours_b7: Mapped[int] = _count()
    hours_b8: Mapped[int] = _count()
    hours_b9: Mapped[int] = _count()
    hours_b10: Mapped[int] = _count()
    hours_b11: Mapped[int] = _count()
    received_digitised: Mapped[int] = _count()  # received, documents held as files (digitised)
    # Counted on the outcome day too, for the dossiers among the outcomes above that were never received.
    unreceived_finished: Mapped[int] = _count()
    unreceived_finished_early: Mapped[int] = _count()
    unreceived_finished_on_time: Mapped[int] = _count()
    unreceived_finished_late: Mapped[int] = _count()
    unreceived_not_accepted: Mapped[int] = _count()
    unreceived_stopped: Mapped[int] = _count()
    unreceived_withdrawn: Mapped[int] = _count()


class DailyStats(StatsCounts, Model):
    """Counts and sums for one local day, agency and procedure. Each figure is counted on the day it happened:
    submissions on the day of submission, receptions on the day of reception, outcomes (finished with their
    timeliness and processing time, refusals, withdrawals, and the supplement rounds of those dossiers) on the
    day the dossier ended, ratings on the day they were given."""

    __tablename__ = "stats_daily"
    __table_args__ = (Index("ix_stats_daily_agency_day", "agency_id", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    procedure_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class MonthlyStats(StatsCounts, Model):
    """The daily rows of one complete past month added up (portal/stats/rollup.py): a year's figures read twelve
    rows per agency × procedure instead of 365. Only months marked in `stats_monthly_built` are read; a change to
    a day of a built month removes the month's rows and mark, and the month is read from the daily rows again
    until it is rebuilt."""

    __tablename__ = "stats_monthly"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the month's first day
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    procedure_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class MonthlyBuilt(Model):
    """The months whose roll-up is complete and current."""

    __tablename__ = "stats_monthly_built"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
