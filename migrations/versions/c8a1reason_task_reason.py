"""tasks.reason: what the citizen is told, apart from the officer's comment

Revision ID: c8a1reason
Revises: c7a1inbox
"""

import sqlalchemy as sa
from alembic import op

revision = "c8a1reason"
down_revision = "c7a1inbox"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
    # Until now the reason was stored in `comment` when there was no comment; move it where it belongs.
    op.execute(
        "UPDATE tasks SET reason = comment, comment = NULL "
        "WHERE outcome IN ('supplement', 'refuse', 'reject') AND comment IS NOT NULL"
    )


def downgrade():
    op.execute("UPDATE tasks SET comment = COALESCE(comment, reason)")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("reason")
