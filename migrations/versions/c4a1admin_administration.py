"""administration: administrators' dry runs of procedure versions

Revision ID: c4a1admin
Revises: c6a1notify
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "c4a1admin"
down_revision = "c6a1notify"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "admin_dry_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("log", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_admin_dry_runs_user_id_users")),
        sa.ForeignKeyConstraint(
            ["version_id"], ["procedure_versions.id"], name=op.f("fk_admin_dry_runs_version_id_procedure_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_dry_runs")),
    )
    with op.batch_alter_table("admin_dry_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_dry_runs_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_dry_runs_version_id"), ["version_id"], unique=False)


def downgrade():
    with op.batch_alter_table("admin_dry_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_dry_runs_version_id"))
        batch_op.drop_index(batch_op.f("ix_admin_dry_runs_user_id"))
    op.drop_table("admin_dry_runs")
