"""REST API v1: idempotency keys of POST requests (a retried submission returns the first answer)

Revision ID: f3a1apiidempotency
Revises: f2a1monthly
"""

import sqlalchemy as sa
from alembic import op

revision = "f3a1apiidempotency"
down_revision = "f2a1monthly"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["service_accounts.id"], name=op.f("fk_api_idempotency_keys_account_id_service_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotency_keys")),
        sa.UniqueConstraint("account_id", "key", name=op.f("uq_api_idempotency_keys_account_id")),
    )


def downgrade():
    op.drop_table("api_idempotency_keys")
