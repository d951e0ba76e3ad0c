"""Documents: the citizen's document store (stored_documents, stored_document_uses, attachments.stored_document_id)

Revision ID: h2a2docstore
Revises: h2a1results
"""

import sqlalchemy as sa
from alembic import op

revision = "h2a2docstore"
down_revision = "h2a1results"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_dossier_id", sa.Integer(), nullable=True),
        sa.Column("source_attachment_id", sa.Integer(), nullable=True),
        sa.Column("issued_document_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("verifier", sa.String(length=255), nullable=True),
        sa.Column("legally_kept", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name="fk_stored_documents_owner_id_users"),
        sa.ForeignKeyConstraint(
            ["source_dossier_id"], ["dossiers.id"], name="fk_stored_documents_source_dossier_id_dossiers"
        ),
        sa.ForeignKeyConstraint(
            ["issued_document_id"],
            ["issued_documents.id"],
            name="fk_stored_documents_issued_document_id_issued_documents",
        ),
        sa.ForeignKeyConstraint(["verified_by_id"], ["users.id"], name="fk_stored_documents_verified_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_stored_documents"),
    )
    op.create_index("ix_stored_documents_owner_live", "stored_documents", ["owner_id", "deleted_at"])
    op.create_index("ix_stored_documents_storage_key", "stored_documents", ["storage_key"])
    op.create_table(
        "stored_document_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stored_document_id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["stored_document_id"],
            ["stored_documents.id"],
            name="fk_stored_document_uses_stored_document_id_stored_documents",
        ),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name="fk_stored_document_uses_dossier_id_dossiers"),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachments.id"], name="fk_stored_document_uses_attachment_id_attachments"
        ),
        sa.ForeignKeyConstraint(["used_by_id"], ["users.id"], name="fk_stored_document_uses_used_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_stored_document_uses"),
    )
    op.create_index("ix_stored_document_uses_stored_document_id", "stored_document_uses", ["stored_document_id"])
    op.create_index("ix_stored_document_uses_dossier_id", "stored_document_uses", ["dossier_id"])
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("stored_document_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_attachments_stored_document_id_stored_documents", "stored_documents", ["stored_document_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("attachments") as batch:
        batch.drop_constraint("fk_attachments_stored_document_id_stored_documents", type_="foreignkey")
        batch.drop_column("stored_document_id")
    op.drop_index("ix_stored_document_uses_dossier_id", table_name="stored_document_uses")
    op.drop_index("ix_stored_document_uses_stored_document_id", table_name="stored_document_uses")
    op.drop_table("stored_document_uses")
    op.drop_index("ix_stored_documents_storage_key", table_name="stored_documents")
    op.drop_index("ix_stored_documents_owner_live", table_name="stored_documents")
    op.drop_table("stored_documents")
