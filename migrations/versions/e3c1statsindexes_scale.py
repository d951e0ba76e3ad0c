"""Operations centre at scale: where dossiers wait per day (steps, flows, workload), and indexes for today's figures

Revision ID: e3c1statsindexes
Revises: e2b1digitised

After upgrading, fill the new tables from the task rows: `flask --app wsgi stats rebuild` (or `stats rebuild-steps`).
Measured with bench/dashboard.py (docs/BENCHMARKS.md, "Operations centre at 1M dossiers").
"""

import sqlalchemy as sa
from alembic import op

revision = "e3c1statsindexes"
down_revision = "e2b1digitised"
branch_labels = None
depends_on = None


def _count(name):
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade():
    op.create_table(
        "stats_step_daily",
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bpmn_id", sa.String(length=100), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), autoincrement=False, nullable=False),
        _count("finished"),
        _count("late"),
        sa.PrimaryKeyConstraint(
            "version_id", "day", "agency_id", "bpmn_id", "bucket", name=op.f("pk_stats_step_daily")
        ),
    )
    op.create_table(
        "stats_flow_daily",
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("flow_id", sa.String(length=100), nullable=False),
        _count("taken"),
        sa.PrimaryKeyConstraint("version_id", "day", "agency_id", "flow_id", name=op.f("pk_stats_flow_daily")),
    )
    op.create_table(
        "stats_work_daily",
        sa.Column("group_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        _count("finished"),
        sa.PrimaryKeyConstraint("group_id", "day", "user_id", name=op.f("pk_stats_work_daily")),
    )

    # Today's figures and the lists behind them, and where dossiers wait now: the open dossiers alone, and the
    # moments of the day's receptions, returns and closings (bench/dashboard.py measured each of them).
    open_only = sa.text("closed_at IS NULL")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dossiers_open",
            ["agency_id", "status", "appointment_at", "procedure_version_id"],
            unique=False,
            postgresql_where=open_only,
            sqlite_where=open_only,
        )
        batch_op.create_index("ix_dossiers_submitted_at", ["submitted_at"], unique=False)
        batch_op.create_index("ix_dossiers_returned_at", ["returned_at"], unique=False)
        batch_op.create_index("ix_dossiers_closed_at", ["closed_at"], unique=False)
    # The reasons given to the citizen, read per ended dossier by the period pages.
    reasons = sa.text("note IS NOT NULL AND note <> '' AND kind IN ('status', 'step_completed')")
    with op.batch_alter_table("dossier_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dossier_events_reasons",
            ["dossier_id", "at", "id"],
            unique=False,
            postgresql_include=["note"],
            postgresql_where=reasons,
            sqlite_where=reasons,
        )


def downgrade():
    with op.batch_alter_table("dossier_events", schema=None) as batch_op:
        batch_op.drop_index("ix_dossier_events_reasons")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index("ix_dossiers_closed_at")
        batch_op.drop_index("ix_dossiers_returned_at")
        batch_op.drop_index("ix_dossiers_submitted_at")
        batch_op.drop_index("ix_dossiers_open")
    op.drop_table("stats_work_daily")
    op.drop_table("stats_flow_daily")
    op.drop_table("stats_step_daily")
