"""single sign-on (SAML identities, replay cache, role mapping)

Revision ID: c5a1sso
Revises: c3a1citizen
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "c5a1sso"
down_revision = "c3a1citizen"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
