"""Which sessions of an account are still valid.

The id Flask-Login keeps in the session cookie and in the remember cookie is `session_id(user)`:
"<user id>:<session version>:<issued at>:<nonce>". The user loader (`load_user`) accepts it only while the
account's `session_version` is unchanged and the id is younger than REMEMBER_COOKIE_DURATION, so raising the
version (`end_all_sessions`) ends every session and every remember token of the account at once, on every
process and host (the version lives in the database). The time and the nonce make every sign-in's remember
token different, and bound how long a stolen one can be used.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from flask import current_app, session
from flask_login import logout_user
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import Group, Membership, User


def end_all_sessions(user: User) -> None:
    """Every session cookie and remember cookie of this account stops working (the caller commits)."""
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()


def sign_out_everywhere(user: User) -> None:
    """Sign out this browser and every other session of the account (the caller commits)."""
    end_all_sessions(user)
    logout_user()
    fresh_session()
    session["_remember"] = "clear"  # Flask-Login deletes this browser's remember cookie in its after_request


def fresh_session() -> None:
    """An empty session (no fixation, nothing of the previous person), keeping only the chosen language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def use_preferred_language(sender: object, user: User, **_: object) -> None:
    """At sign-in (or when a remember cookie signs the person in again), the account's stored language, chosen
    with the switch while signed in, becomes this session's language."""
    if user.locale and user.locale in current_app.config["LANGUAGES"]:
        session["locale"] = user.locale


def session_id(user: User) -> str:
    """A new id for one sign-in of this account (what Flask-Login stores)."""
    return f"{user.id}:{user.session_version or 1}:{int(time.time()):x}:{secrets.token_urlsafe(8)}"


def _max_age() -> float:
    duration = current_app.config.get("REMEMBER_COOKIE_DURATION", timedelta(days=14))
    return duration.total_seconds() if isinstance(duration, timedelta) else float(duration)


# The memberships, their groups and the groups' agencies come with the account in one query: every officer page
# asks for them (the inbox's scope, the operations centre's link), which then costs no query of its own.
SIGNED_IN = joinedload(User.memberships).joinedload(Membership.group).joinedload(Group.agency)


def load_user(value: str) -> User | None:
    """The account a session id stands for, or None when it was ended, has expired or is malformed."""
    parts = value.split(":")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    try:
        issued = int(parts[2], 16)
    except ValueError:
        return None
    if time.time() - issued > _max_age():
        return None
    user = db.session.get(User, int(parts[0]), options=[SIGNED_IN])
    if user is None or not user.active or (user.session_version or 1) != int(parts[1]):
        return None
    return user
