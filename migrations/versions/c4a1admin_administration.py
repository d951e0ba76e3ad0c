"""administration

Revision ID: c4a1admin
Revises: c6a1notify
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "c4a1admin"
down_revision = "c6a1notify"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
