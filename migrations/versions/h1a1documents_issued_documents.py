"""Signed documents: the issued_documents table (one row per signed PDF the portal issued)

Revision ID: h1a1documents
Revises: g1a2changes
"""

import sqlalchemy as sa
from alembic import op

revision = "h1a1documents"
down_revision = "g1a2changes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "issued_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("basis", sa.String(length=60), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=100), nullable=False),
        sa.Column("signer_subject", sa.String(length=255), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_issued_documents_agency_id_agencies")),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name=op.f("fk_issued_documents_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["users.id"], name=op.f("fk_issued_documents_revoked_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_documents")),
        sa.UniqueConstraint("code", name=op.f("uq_issued_documents_code")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_issued_documents_storage_key")),
        sa.UniqueConstraint("dossier_id", "kind", "basis", name="uq_issued_documents_basis"),
    )
    with op.batch_alter_table("issued_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issued_documents_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issued_documents_sha256"), ["sha256"], unique=False)


def downgrade():
    with op.batch_alter_table("issued_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_documents_sha256"))
        batch_op.drop_index(batch_op.f("ix_issued_documents_dossier_id"))
    op.drop_table("issued_documents")
