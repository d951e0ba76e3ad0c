"""citizen portal (drafts, ratings, the catalogue's search column)

Revision ID: c3a1citizen
Revises: e71d29917287
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "c3a1citizen"
down_revision = "e71d29917287"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_drafts_user_id_users")),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedures.id"], name=op.f("fk_drafts_procedure_id_procedures")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
        sa.UniqueConstraint("user_id", "procedure_id", name=op.f("uq_drafts_user_id")),
    )
    op.create_index(op.f("ix_drafts_user_id"), "drafts", ["user_id"], unique=False)
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name=op.f("ck_ratings_level_range")),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name=op.f("fk_ratings_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_ratings_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("dossier_id", name=op.f("uq_ratings_dossier_id")),
    )
    with op.batch_alter_table("procedures") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
    _fill_search_text()


def _fold(text):
    # A frozen copy of portal.catalogue.text.fold: a migration must not change when the code does.
    if not text:
        return ""
    text = text.replace("đ", "d").replace("Đ", "D")
    bare = "".join(ch for ch in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", " ", bare).strip()


def _fill_search_text():
    """Procedures deployed before this revision get their search column too."""
    procedures = sa.table(
        "procedures",
        sa.column("id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("name_en", sa.String),
        sa.column("field", sa.String),
        sa.column("search_text", sa.Text),
    )
    bind = op.get_bind()
    columns = (procedures.c.id, procedures.c.code, procedures.c.name, procedures.c.name_en, procedures.c.field)
    rows = bind.execute(sa.select(*columns)).all()
    for row in rows:
        value = " | ".join(f for f in (_fold(p) for p in (row.name, row.name_en, row.code, row.field)) if f)
        bind.execute(procedures.update().where(procedures.c.id == row.id).values(search_text=value))


def downgrade():
    with op.batch_alter_table("procedures") as batch:
        batch.drop_column("search_text")
    op.drop_table("ratings")
    op.drop_index(op.f("ix_drafts_user_id"), table_name="drafts")
    op.drop_table("drafts")
