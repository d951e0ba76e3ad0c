"""Dossier change feed: dossiers.change_seq, numbered in commit order from a one-row counter

Revision ID: g1a2changes
Revises: g1a1apitasks
"""

import sqlalchemy as sa
from alembic import op

revision = "g1a2changes"
down_revision = "g1a1apitasks"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("change_seq", sa.BigInteger(), nullable=True))
        batch.create_index("ix_dossiers_change_seq", ["change_seq"])
    counter = op.create_table(
        "dossier_change_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dossier_change_counter"),
    )
    # The dossiers there are, in id order: 1..n (one statement, whatever the table's size); the counter goes on
    # from n. (UPDATE … FROM: PostgreSQL, SQLite 3.33+.)
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE dossiers SET change_seq = numbered.n"
            " FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM dossiers) AS numbered"
            " WHERE dossiers.id = numbered.id"
        )
    )
    last = conn.execute(sa.text("SELECT COUNT(*) FROM dossiers")).scalar() or 0
    op.bulk_insert(counter, [{"id": 1, "value": last}])


def downgrade():
    op.drop_table("dossier_change_counter")
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_index("ix_dossiers_change_seq")
        batch.drop_column("change_seq")
