"""notifications and deadline reminders

Revision ID: c6a1notify
Revises: c5a1sso
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "c6a1notify"
down_revision = "c5a1sso"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
