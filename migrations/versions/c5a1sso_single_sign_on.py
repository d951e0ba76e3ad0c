"""single sign-on (SAML identities, replay cache, role mapping)

Revision ID: c5a1sso
Revises: c3a1citizen
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "c5a1sso"
down_revision = "c3a1citizen"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "sso_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idp", sa.String(length=40), nullable=False),
        sa.Column("name_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("vneid_verified", sa.Boolean(), nullable=False),
        sa.Column("attributes", JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sso_identities_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identities")),
        sa.UniqueConstraint("idp", "name_id", name=op.f("uq_sso_identities_idp")),
    )
    with op.batch_alter_table("sso_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_identities_user_id"), ["user_id"], unique=False)

    op.create_table(
        "saml_assertions_seen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idp", sa.String(length=40), nullable=False),
        sa.Column("assertion_id", sa.String(length=255), nullable=False),
        sa.Column("not_on_or_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saml_assertions_seen")),
        sa.UniqueConstraint("idp", "assertion_id", name=op.f("uq_saml_assertions_seen_idp")),
    )
    with op.batch_alter_table("saml_assertions_seen", schema=None) as batch_op:
        batch_op.create_index("ix_saml_assertions_seen_not_on_or_after", ["not_on_or_after"], unique=False)

    op.create_table(
        "sso_role_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idp", sa.String(length=40), nullable=False),
        sa.Column("attribute", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_sso_role_mappings_group_id_groups")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_role_mappings")),
        sa.UniqueConstraint("idp", "attribute", "value", "group_id", name=op.f("uq_sso_role_mappings_idp")),
    )
    with op.batch_alter_table("sso_role_mappings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_role_mappings_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sso_role_mappings_idp"), ["idp"], unique=False)


def downgrade():
    with op.batch_alter_table("sso_role_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_role_mappings_idp"))
        batch_op.drop_index(batch_op.f("ix_sso_role_mappings_group_id"))
    op.drop_table("sso_role_mappings")
    with op.batch_alter_table("saml_assertions_seen", schema=None) as batch_op:
        batch_op.drop_index("ix_saml_assertions_seen_not_on_or_after")
    op.drop_table("saml_assertions_seen")
    with op.batch_alter_table("sso_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_identities_user_id"))
    op.drop_table("sso_identities")
