"""People: citizens, officers and administrators, and their group memberships."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.core.time import utcnow
from portal.extensions import db

from .types import UTCDateTime

if TYPE_CHECKING:
    from .agency import Group

# scrypt is werkzeug's default modern KDF; named here so a reader sees the choice.
PASSWORD_METHOD = "scrypt"  # noqa: S105  (a method name)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    citizen_id: Mapped[str | None] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="citizen")  # citizen | officer
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sso_only: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the id kept in the session and the remember cookie (get_id): raising it ends every session.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Failed sign-ins since the last success, for the per-account growing delay.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_officer(self) -> bool:
        return self.kind == "officer"

    def group_ids(self) -> list[int]:
        return [m.group_id for m in self.memberships]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email or self.phone}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    # Where the membership came from: "local" (set by an admin) or "sso" (role mapping), so SSO sync
    # only removes what it granted.
    source: Mapped[str] = mapped_column(String(10), default="local")

    user: Mapped[User] = relationship(back_populates="memberships")
    group: Mapped[Group] = relationship()
