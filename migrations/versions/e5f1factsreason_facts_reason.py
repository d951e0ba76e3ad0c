"""Operations centre: the reason a dossier that ended without a result was given, kept on its statistics facts

The period pages count refusals, stops and withdrawals by reason. Read from the timeline per page view, a year of
the province's refused dossiers cost ~0.3 s at 1,000,000 dossiers; kept on the facts (portal/stats/aggregates.py
fills it when the dossier ends so), the count is one GROUP BY over the facts the period's outcome index finds.
The column is filled here from the timelines, with the same rule as `aggregates.reasons_of`.

Revision ID: e5f1factsreason
Revises: e4d1periodfacts
"""

import sqlalchemy as sa
from alembic import op

revision = "e5f1factsreason"
down_revision = "e4d1periodfacts"
branch_labels = None
depends_on = None

FILL = """
UPDATE stats_dossier_facts SET reason = (
    SELECT e.note FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
    WHERE e.dossier_id = stats_dossier_facts.dossier_id
      AND e.kind IN ('status', 'step_completed') AND e.note IS NOT NULL AND e.note <> ''
      AND e.at <= d.closed_at
    ORDER BY e.at DESC, e.id DESC LIMIT 1
)
WHERE outcome IN ('not_accepted', 'stopped', 'withdrawn')
"""


def upgrade():
    with op.batch_alter_table("stats_dossier_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
    op.execute(FILL)


def downgrade():
    with op.batch_alter_table("stats_dossier_facts", schema=None) as batch_op:
        batch_op.drop_column("reason")
