"""API tasks: each service account acts on tasks as a user of kind `service` of its own

Revision ID: g1a1apitasks
Revises: f4a2webhooks
"""

import sqlalchemy as sa
from alembic import op

revision = "g1a1apitasks"
down_revision = "f4a2webhooks"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("service_accounts") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_service_accounts_user_id_users", "users", ["user_id"], ["id"])


def downgrade():
    with op.batch_alter_table("service_accounts") as batch:
        batch.drop_constraint("fk_service_accounts_user_id_users", type_="foreignkey")
        batch.drop_column("user_id")
