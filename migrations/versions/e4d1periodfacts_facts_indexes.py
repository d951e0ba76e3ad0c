"""Operations centre: indexes on stats_dossier_facts for the dossiers behind each period figure

The period pages (/ioc/figures/dossiers) list the dossiers a figure counts, read from the facts by the day the
figure is counted on (reception, outcome, rating) and the agency; the reasons of refusals, stops and withdrawals
are read for the dossiers that ended so in the period. Without these indexes each list scans every fact.

Revision ID: e4d1periodfacts
Revises: e3c1statsindexes
"""

from alembic import op

revision = "e4d1periodfacts"
down_revision = "e3c1statsindexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stats_dossier_facts", schema=None) as batch_op:
        batch_op.create_index("ix_stats_facts_received", ["received_day", "agency_id"], unique=False)
        batch_op.create_index("ix_stats_facts_outcome", ["outcome", "outcome_day", "agency_id"], unique=False)
        batch_op.create_index("ix_stats_facts_rating", ["rating_day", "agency_id"], unique=False)


def downgrade():
    with op.batch_alter_table("stats_dossier_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_stats_facts_rating")
        batch_op.drop_index("ix_stats_facts_outcome")
        batch_op.drop_index("ix_stats_facts_received")
