"""Single sign-on: who a SAML identity provider says a user is, which assertions were already used, and how the
identity provider's role attributes map to groups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import Model

from .agency import Group
from .types import JSONType, UTCDateTime
from .user import User


class SsoIdentity(Model):
    """One account at one identity provider: its persistent NameID belongs to exactly one portal user.

    `idp` is the identity provider's name in the portal's configuration (the <idp> in /sso/<idp>/...).
    """

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("idp", "name_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idp: Mapped[str] = mapped_column(String(40))
    name_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Set from the identity provider's VNeID attribute at each sign-in: the person was verified with the
    # national electronic identity (level 2), so procedures may skip asking for an ID card scan.
    vneid_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # The mapped attributes of the last sign-in (name, email, roles…), for administrators to see what the
    # identity provider sends; raw assertions are not kept.
    attributes: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class SamlAssertionSeen(Model):
    """An assertion already accepted, kept until it expires so that nobody can post it again — in the database,
    so the check holds across processes and hosts."""

    __tablename__ = "saml_assertions_seen"
    __table_args__ = (
        UniqueConstraint("idp", "assertion_id"),
        Index("ix_saml_assertions_seen_not_on_or_after", "not_on_or_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idp: Mapped[str] = mapped_column(String(40))
    assertion_id: Mapped[str] = mapped_column(String(255))
    not_on_or_after: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoleMapping(Model):
    """Administrators' table: a user whose `attribute` (a SAML attribute name, OID, friendly name, or one of the
    mapped keys such as "roles" or "department") has `value` becomes a member of `group` at sign-in.

    Memberships granted this way have source "sso" and are removed at the next sign-in when the value is gone;
    memberships an administrator set by hand are never touched.
    """

    __tablename__ = "sso_role_mappings"
    __table_args__ = (UniqueConstraint("idp", "attribute", "value", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idp: Mapped[str] = mapped_column(String(40), index=True)
    attribute: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[Group] = relationship()
