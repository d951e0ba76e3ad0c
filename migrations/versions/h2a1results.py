"""Results: a procedure version's result template (Jinja, rendered in a sandbox into the signed result PDF)

Revision ID: h2a1results
Revises: h1a2heartbeats
"""

import sqlalchemy as sa
from alembic import op

revision = "h2a1results"
down_revision = "h1a2heartbeats"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("procedure_versions") as batch:
        batch.add_column(sa.Column("result_template", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("procedure_versions") as batch:
        batch.drop_column("result_template")
