"""People: citizens, officers and administrators, and their group memberships."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.core.time import utcnow
from portal.extensions import Model

from .types import UTCDateTime

if TYPE_CHECKING:
    from .agency import Group

# scrypt is werkzeug's default modern KDF; named here so a reader sees the choice.
PASSWORD_METHOD = "scrypt"  # noqa: S105  (a method name)
# The kind of the user a service account acts as (portal/api/tasks.py): it has no password, e-mail or
# memberships, so it never signs in, is never notified and never appears among the people of a group.
SERVICE_KIND = "service"


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    citizen_id: Mapped[str | None] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="citizen")  # citizen | officer | service
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
    # A self-registered account is unconfirmed until its owner opens the link sent to the address (registration
    # answers the same whether the address is taken, so it cannot sign the person in at once).
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:  # an account made by single sign-on has no password
            return False
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and remember cookies: the id plus the session version (and a
        per-sign-in stamp), so raising the version ends every session (portal/auth/sessions.py)."""
        from portal.auth.sessions import session_id

        cached = getattr(self, "_session_id", None)
        if cached is None or not cached.startswith(f"{self.id}:{self.session_version or 1}:"):
            cached = self._session_id = session_id(self)
        return cached

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_officer(self) -> bool:
        return self.kind == "officer"

    def group_ids(self) -> list[int]:
        if self.kind == SERVICE_KIND:
            return self._service_group_ids()
        return [m.group_id for m in self.memberships]

    def loaded_groups(self) -> list[Group] | None:
        """The active groups of the account when they were loaded with it (the signed-in person: see
        portal/auth/sessions.py), so pages asking for them send no query; None when not loaded."""
        loaded = self.__dict__.get("memberships")
        if loaded is None or not all("group" in m.__dict__ for m in loaded):
            return None
        return [m.group for m in loaded if m.group.active]

    def _service_group_ids(self) -> list[int]:
        """A service account's groups: those an administrator gave its `tasks:act` (fixed when it is made)."""
        cached = getattr(self, "_service_groups", None)
        if cached is None:
            from sqlalchemy import select

            from portal.extensions import db

            from .service_account import ServiceAccount

            found = db.session.scalar(select(ServiceAccount.group_ids).where(ServiceAccount.user_id == self.id))
            cached = self._service_groups = [int(i) for i in found or []]
        return cached

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email or self.phone}>"


class Membership(Model):
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
