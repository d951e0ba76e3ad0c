"""inbox: indexes for the "finished" and "supplement requested" tabs

The inbox's other tabs walk ix_tasks_group_state_due. The finished tab orders my groups' completed tasks by
completed_at; the supplement tab orders an agency's dossiers waiting for the citizen (status 5) by the moment
the clock stopped (sla_paused_at, the moment of the request). Without these indexes PostgreSQL sorts every
completed task of the group, or every waiting dossier of the agency, to show 25 of them.

Revision ID: c7a1inbox
Revises: c4a1admin
"""

from alembic import op

revision = "c7a1inbox"
down_revision = "c4a1admin"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_group_state_completed", ["group_id", "state", "completed_at"], unique=False)
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dossiers_agency_status_paused", ["agency_id", "status", "sla_paused_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index("ix_dossiers_agency_status_paused")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_group_state_completed")
