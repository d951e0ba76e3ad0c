"""Operations centre: the monthly roll-up of the daily statistics, and the outcomes of dossiers never received

A year's figures summed 365 daily rows per agency × procedure (~55,000 rows for the province at 1,000,000
dossiers); whole past months are now read from one row each (portal/stats/rollup.py). The tables start empty:
the beat job `stats.rollup` (or `flask --app wsgi stats rebuild`) fills them, and until then every month is read
from the daily rows as before.

stats_daily gains the outcomes of dossiers that ended without being received (unreceived_*), so that the periodic
report (portal/ioc/report.py) balances its received dossiers from the aggregates instead of reading every
dossier's facts; they are filled here from the facts.

Revision ID: f2a1monthly
Revises: f1a1external
"""

import sqlalchemy as sa
from alembic import op

revision = "f2a1monthly"
down_revision = "f1a1external"
branch_labels = None
depends_on = None

COUNTS = (
    "submitted", "submitted_in_person", "submitted_online", "submitted_post",
    "received", "received_in_person", "received_online", "received_post",
    "received_full_online", "received_partial_online",
    "finished", "finished_early", "finished_on_time", "finished_late", "processing_count",
    "not_accepted", "stopped", "withdrawn", "supplement_rounds", "supplemented",
    "rating_unsatisfied", "rating_satisfied", "rating_very_satisfied",
    *(f"hours_b{i}" for i in range(12)),
    "received_digitised",
)  # fmt: skip
UNRECEIVED = (
    "unreceived_finished", "unreceived_finished_early", "unreceived_finished_on_time", "unreceived_finished_late",
    "unreceived_not_accepted", "unreceived_stopped", "unreceived_withdrawn",
)  # fmt: skip
FILL = """
UPDATE stats_daily SET {sets}
FROM (
    SELECT outcome_day, agency_id, procedure_id, {sums}
    FROM stats_dossier_facts
    WHERE received_day IS NULL AND outcome IS NOT NULL AND outcome_day IS NOT NULL
    GROUP BY outcome_day, agency_id, procedure_id
) AS u
WHERE stats_daily.day = u.outcome_day AND stats_daily.agency_id = u.agency_id
  AND stats_daily.procedure_id = u.procedure_id
"""
CONDITIONS = {
    "unreceived_finished": "outcome = 'finished'",
    "unreceived_finished_early": "outcome = 'finished' AND timeliness = 'early'",
    "unreceived_finished_on_time": "outcome = 'finished' AND timeliness = 'on_time'",
    "unreceived_finished_late": "outcome = 'finished' AND timeliness = 'late'",
    "unreceived_not_accepted": "outcome = 'not_accepted'",
    "unreceived_stopped": "outcome = 'stopped'",
    "unreceived_withdrawn": "outcome = 'withdrawn'",
}


def upgrade():
    with op.batch_alter_table("stats_daily", schema=None) as batch_op:
        for name in UNRECEIVED:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    op.execute(
        FILL.format(
            sets=", ".join(f"{name} = u.{name}" for name in UNRECEIVED),
            sums=", ".join(f"SUM(CASE WHEN {CONDITIONS[name]} THEN 1 ELSE 0 END) AS {name}" for name in UNRECEIVED),
        )
    )
    op.create_table(
        "stats_monthly",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in (*COUNTS, *UNRECEIVED)),
        sa.Column("processing_hours", sa.Float(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("month", "agency_id", "procedure_id", name=op.f("pk_stats_monthly")),
    )
    op.create_table(
        "stats_monthly_built",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_stats_monthly_built")),
    )


def downgrade():
    op.drop_table("stats_monthly_built")
    op.drop_table("stats_monthly")
    with op.batch_alter_table("stats_daily", schema=None) as batch_op:
        for name in reversed(UNRECEIVED):
            batch_op.drop_column(name)
