"""National portal sync: the national_sync outbox, and dossiers.origin (which system filed a dossier)

Revision ID: f4a1natsync
Revises: f3a1apiidempotency
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "f4a1natsync"
down_revision = "f3a1apiidempotency"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "national_sync",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"]),
        sa.ForeignKeyConstraint(["event_id"], ["dossier_events.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_id", "seq", name="uq_national_sync_dossier_id_seq"),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_national_sync_idempotency_key")),
    )
    with op.batch_alter_table("national_sync", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_national_sync_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index("ix_national_sync_state_next_attempt", ["state", "next_attempt_at"], unique=False)
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=30), nullable=True))


def downgrade():
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_column("origin")
    with op.batch_alter_table("national_sync", schema=None) as batch_op:
        batch_op.drop_index("ix_national_sync_state_next_attempt")
        batch_op.drop_index(batch_op.f("ix_national_sync_dossier_id"))
    op.drop_table("national_sync")
