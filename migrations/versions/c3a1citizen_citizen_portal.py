"""citizen portal (drafts, ratings)

Revision ID: c3a1citizen
Revises: e71d29917287
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "c3a1citizen"
down_revision = "e71d29917287"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
