"""Statistics: digitised dossiers (a fact per dossier, a daily count)

Revision ID: e2b1digitised
Revises: d1a1stats

After upgrading, fill the new columns from the dossiers' files: `flask --app wsgi stats rebuild`.
"""

import sqlalchemy as sa
from alembic import op

revision = "e2b1digitised"
down_revision = "d1a1stats"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stats_dossier_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digitised", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("stats_daily", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_digitised", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("stats_daily", schema=None) as batch_op:
        batch_op.drop_column("received_digitised")
    with op.batch_alter_table("stats_dossier_facts", schema=None) as batch_op:
        batch_op.drop_column("digitised")
