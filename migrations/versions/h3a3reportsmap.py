"""Field reports' map and feed at scale: a covering index for the map's box query, newest-first indexes for the
feed (newest first overall and by area; by category and status, counted from the index alone) in place of the
single-column ones

Revision ID: h3a3reportsmap
Revises: h3a2fieldreports
"""

from alembic import op

revision = "h3a3reportsmap"
down_revision = "h3a2fieldreports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_field_reports_map", "field_reports", ["lat_micro", "lon_micro", "status", "created_at", "id"])
    op.drop_index("ix_field_reports_position", table_name="field_reports")
    op.create_index("ix_field_reports_created", "field_reports", ["created_at", "id"])
    op.create_index("ix_field_reports_category_status", "field_reports", ["category", "status", "created_at", "id"])
    op.drop_index("ix_field_reports_category", table_name="field_reports")
    op.create_index("ix_field_reports_area_created", "field_reports", ["area_agency_id", "created_at", "id"])
    op.drop_index("ix_field_reports_area_agency_id", table_name="field_reports")


def downgrade():
    op.create_index("ix_field_reports_area_agency_id", "field_reports", ["area_agency_id"])
    op.drop_index("ix_field_reports_area_created", table_name="field_reports")
    op.create_index("ix_field_reports_category", "field_reports", ["category"])
    op.drop_index("ix_field_reports_category_status", table_name="field_reports")
    op.drop_index("ix_field_reports_created", table_name="field_reports")
    op.create_index("ix_field_reports_position", "field_reports", ["lat_micro", "lon_micro"])
    op.drop_index("ix_field_reports_map", table_name="field_reports")
