"""External service tasks: the external_jobs table (one row per service task a dossier reached)

Revision ID: f1a1external
Revises: f1a1apiaccounts
"""

import sqlalchemy as sa
from alembic import op

revision = "f1a1external"
down_revision = "f1a1apiaccounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "external_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("procedure_version_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("element_name", sa.String(length=255), nullable=False),
        sa.Column("spiff_task_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.ForeignKeyConstraint(["procedure_version_id"], ["procedure_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("external_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_external_jobs_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index("ix_external_jobs_due", ["state", "next_attempt_at"], unique=False)


def downgrade():
    with op.batch_alter_table("external_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_external_jobs_due")
        batch_op.drop_index(batch_op.f("ix_external_jobs_dossier_id"))
    op.drop_table("external_jobs")
