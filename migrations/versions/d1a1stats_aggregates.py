"""Statistics: per-dossier facts and daily aggregates for the operations centre and open data

Revision ID: d1a1stats
Revises: c9a1hardening

After upgrading, fill them once from the dossiers: `flask --app wsgi stats rebuild`.
"""

import sqlalchemy as sa
from alembic import op

revision = "d1a1stats"
down_revision = "c9a1hardening"
branch_labels = None
depends_on = None

COUNTS = (
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
)
COUNTS_AFTER = (
    "not_accepted",
    "stopped",
    "withdrawn",
    "supplement_rounds",
    "supplemented",
    "rating_unsatisfied",
    "rating_satisfied",
    "rating_very_satisfied",
    *(f"hours_b{i}" for i in range(12)),
)


def _count(name):
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade():
    op.create_table(
        "stats_dossier_facts",
        sa.Column("dossier_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.SmallInteger(), nullable=False),
        sa.Column("online_level", sa.String(length=20), nullable=True),
        sa.Column("submitted_day", sa.Date(), nullable=True),
        sa.Column("received_day", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("outcome_day", sa.Date(), nullable=True),
        sa.Column("timeliness", sa.String(length=10), nullable=True),
        sa.Column("processing_hours", sa.Float(), nullable=True),
        sa.Column("supplement_rounds", sa.Integer(), nullable=False),
        sa.Column("rating_level", sa.SmallInteger(), nullable=True),
        sa.Column("rating_day", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("dossier_id", name=op.f("pk_stats_dossier_facts")),
    )
    op.create_table(
        "stats_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("procedure_id", sa.Integer(), autoincrement=False, nullable=False),
        *(_count(name) for name in COUNTS),
        sa.Column("processing_hours", sa.Float(), nullable=False, server_default="0"),
        *(_count(name) for name in COUNTS_AFTER),
        sa.PrimaryKeyConstraint("day", "agency_id", "procedure_id", name=op.f("pk_stats_daily")),
    )
    op.create_index("ix_stats_daily_agency_day", "stats_daily", ["agency_id", "day"], unique=False)


def downgrade():
    op.drop_index("ix_stats_daily_agency_day", table_name="stats_daily")
    op.drop_table("stats_daily")
    op.drop_table("stats_dossier_facts")
