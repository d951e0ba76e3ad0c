"""Health: the heartbeats table (the background jobs' sign of life, shown by /healthz)

Revision ID: h1a2heartbeats
Revises: h1a1documents
"""

import sqlalchemy as sa
from alembic import op

revision = "h1a2heartbeats"
down_revision = "h1a1documents"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_heartbeats"),
    )


def downgrade():
    op.drop_table("heartbeats")
