"""Field reports: citizens' reports of problems in town with photos and place (field_reports, field_report_photos)

Revision ID: h3a2fieldreports
Revises: h3a1agencykeys
"""

import sqlalchemy as sa
from alembic import op

revision = "h3a2fieldreports"
down_revision = "h3a1agencykeys"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "field_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("lat_micro", sa.Integer(), nullable=True),
        sa.Column("lon_micro", sa.Integer(), nullable=True),
        sa.Column("position_source", sa.String(length=10), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("area_agency_id", sa.Integer(), nullable=True),
        sa.Column("show_name", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("reopen_reason", sa.Text(), nullable=True),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], name="fk_field_reports_reporter_id_users"),
        sa.ForeignKeyConstraint(["answered_by_id"], ["users.id"], name="fk_field_reports_answered_by_id_users"),
        sa.ForeignKeyConstraint(["area_agency_id"], ["agencies.id"], name="fk_field_reports_area_agency_id_agencies"),
        sa.PrimaryKeyConstraint("id", name="pk_field_reports"),
        sa.UniqueConstraint("code", name="uq_field_reports_code"),
    )
    op.create_index("ix_field_reports_category", "field_reports", ["category"])
    op.create_index("ix_field_reports_area_agency_id", "field_reports", ["area_agency_id"])
    op.create_index("ix_field_reports_position", "field_reports", ["lat_micro", "lon_micro"])
    op.create_index("ix_field_reports_status_created", "field_reports", ["status", "created_at"])
    op.create_index("ix_field_reports_reporter_created", "field_reports", ["reporter_id", "created_at"])
    op.create_table(
        "field_report_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("hidden_from_public", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["field_reports.id"], name="fk_field_report_photos_report_id_field_reports"
        ),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name="fk_field_report_photos_uploaded_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_field_report_photos"),
    )
    op.create_index("ix_field_report_photos_report_id", "field_report_photos", ["report_id"])


def downgrade():
    op.drop_index("ix_field_report_photos_report_id", table_name="field_report_photos")
    op.drop_table("field_report_photos")
    op.drop_index("ix_field_reports_reporter_created", table_name="field_reports")
    op.drop_index("ix_field_reports_status_created", table_name="field_reports")
    op.drop_index("ix_field_reports_position", table_name="field_reports")
    op.drop_index("ix_field_reports_area_agency_id", table_name="field_reports")
    op.drop_index("ix_field_reports_category", table_name="field_reports")
    op.drop_table("field_reports")
