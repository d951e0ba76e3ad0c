"""Officers and administrators: accounts, group memberships, deactivation, password reset links."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from portal.auth import mails
from portal.auth.services import reset_token
from portal.auth.sessions import end_all_sessions
from portal.core import audit
from portal.core.errors import InvalidInput, NotFound
from portal.extensions import db
from portal.models import Group, Membership, User
from portal.models.agency import touch_config

PAGE_SIZE = 50


def staff(query: str = "", page: int = 1) -> tuple[list[User], int]:
    """Officers and administrators (citizens have their own accounts pages), matching `query`."""
    stmt = select(User).where(or_(User.kind == "officer", User.is_admin))
    if query:
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.full_name).like(like), func.lower(User.email).like(like)))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(stmt.order_by(User.full_name).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    return list(rows), total


def get_person(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not (user.is_officer or user.is_admin):
        raise NotFound(_("There is no such officer."))
    return user


def create_person(values: dict[str, Any], actor: User) -> User:
    """An officer (or administrator) account with no password: they choose one through the mailed link."""
    email = values["email"].strip().lower()
    if db.session.scalar(select(User).where(func.lower(User.email) == email)) is not None:
        message = _("An account with this email already exists.")
        raise InvalidInput(message, {"email": [message]})
    user = User(email=email, full_name=values["full_name"].strip(), kind="officer", is_admin=bool(values["is_admin"]))
    db.session.add(user)
    db.session.flush()
    audit.record("admin.user_created", actor, user, email=email, is_admin=user.is_admin)
    send_reset_link(user, actor)
    return user


def update_person(user: User, values: dict[str, Any], actor: User) -> None:
    if user.id == actor.id and not values["is_admin"]:
        message = _("You cannot take away your own administrator role.")
        raise InvalidInput(message, {"is_admin": [message]})
    user.full_name = values["full_name"].strip()
    if user.is_admin != bool(values["is_admin"]):
        user.is_admin = bool(values["is_admin"])
        audit.record("admin.user_roles", actor, user, is_admin=user.is_admin)
    db.session.flush()


def set_person_active(user: User, active: bool, actor: User) -> None:
    """Deactivated people cannot sign in (and are signed out at their next request); nothing is deleted."""
    if user.id == actor.id and not active:
        raise InvalidInput(_("You cannot deactivate your own account."), {})
    user.active = active
    if not active:  # every session and remember cookie ends now, not at the next request of each
        end_all_sessions(user)
    db.session.flush()
    audit.record("admin.user_active" if active else "admin.user_deactivated", actor, user, email=user.email)


def add_membership(user: User, group: Group, actor: User) -> None:
    exists = db.session.scalar(select(Membership).where(Membership.user_id == user.id, Membership.group_id == group.id))
    if exists is not None:
        raise InvalidInput(_("%(name)s is already in this group.", name=user.full_name), {})
    db.session.add(Membership(user_id=user.id, group_id=group.id, source="local"))
    touch_config(group.agency_id)
    db.session.flush()
    audit.record("admin.user_roles", actor, user, added_group=group.role, agency_id=group.agency_id)


def remove_membership(user: User, membership_id: int, actor: User) -> None:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.user_id != user.id:
        raise NotFound(_("There is no such membership."))
    group = membership.group
    db.session.delete(membership)
    touch_config(group.agency_id)
    db.session.flush()
    audit.record("admin.user_roles", actor, user, removed_group=group.role, agency_id=group.agency_id)


def send_reset_link(user: User, actor: User) -> None:
    """Mail the person a link to choose a password (the administrator never sees or sets it)."""
    if not user.email:
        raise InvalidInput(_("This account has no email address to send the link to."), {})
    if user.sso_only:
        raise InvalidInput(_("This account signs in only through single sign-on."), {})
    # Written to the outbox: sent by a worker once this request commits (never from inside the request).
    mails.invitation(user, url_for("auth.reset_password", token=reset_token(user), _external=True))
    audit.record("admin.reset_link_sent", actor, user, email=user.email)
