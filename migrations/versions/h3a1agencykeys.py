"""Documents: agencies' signing keys uploaded by administrators (agency_signing_keys)

Revision ID: h3a1agencykeys
Revises: h2a2docstore
"""

import sqlalchemy as sa
from alembic import op

revision = "h3a1agencykeys"
down_revision = "h2a2docstore"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agency_signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("pkcs12", sa.LargeBinary(), nullable=False),
        sa.Column("certificates", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name="fk_agency_signing_keys_agency_id_agencies"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name="fk_agency_signing_keys_uploaded_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_agency_signing_keys"),
    )
    op.create_index("ix_agency_signing_keys_agency_id", "agency_signing_keys", ["agency_id"])
    op.create_index("ix_agency_signing_keys_fingerprint", "agency_signing_keys", ["fingerprint"])
    # One active key per agency.
    op.create_index(
        "uq_agency_signing_keys_active",
        "agency_signing_keys",
        ["agency_id"],
        unique=True,
        postgresql_where=sa.text("active"),
        sqlite_where=sa.text("active"),
    )


def downgrade():
    op.drop_index("uq_agency_signing_keys_active", table_name="agency_signing_keys")
    op.drop_index("ix_agency_signing_keys_fingerprint", table_name="agency_signing_keys")
    op.drop_index("ix_agency_signing_keys_agency_id", table_name="agency_signing_keys")
    op.drop_table("agency_signing_keys")
