"""Local accounts: sign-in, registration, password reset."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from werkzeug.security import generate_password_hash

from portal.core import audit
from portal.core.errors import InvalidInput
from portal.core.mail import send_mail
from portal.extensions import db
from portal.models import User
from portal.models.user import PASSWORD_METHOD

# Compared against when no account matches, so a wrong email costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)


def normalize_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return "0" + digits[3:] if digits.startswith("+84") else digits


def find_account(identifier: str) -> User | None:
    value = identifier.strip()
    if "@" in value:
        return db.session.scalar(select(User).where(func.lower(User.email) == value.lower()))
    return db.session.scalar(select(User).where(User.phone == normalize_phone(value)))


def authenticate(identifier: str, password: str) -> User | None:
    """The account if the password is right and the account may sign in locally; None otherwise."""
    user = find_account(identifier)
    if user is None:
        User(password_hash=_DUMMY_HASH).check_password(password)
        audit.record("auth.login_failed", None, None, identifier=identifier[:100])
        return None
    if not user.check_password(password) or not user.active or user.sso_only:
        audit.record("auth.login_failed", None, user)
        return None
    audit.record("auth.login", user, user)
    return user


def register_citizen(
    full_name: str, email: str | None, phone: str | None, citizen_id: str | None, password: str
) -> User:
    email = (email or "").strip().lower() or None
    phone = normalize_phone(phone) if phone else None
    taken = db.session.scalar(
        select(User).where(or_(User.email == email if email else False, User.phone == phone if phone else False))
    )
    if taken is not None:
        field = "email" if email and taken.email == email else "phone"
        raise InvalidInput(
            _("An account with this email or phone number already exists."),
            {field: [_("An account with this email or phone number already exists.")]},
        )
    user = User(full_name=full_name.strip(), email=email, phone=phone, citizen_id=citizen_id or None, kind="citizen")
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("auth.register", user, user)
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _password_stamp(user: User) -> str:
    """Changes whenever the password does, and tells nothing about it (tokens are signed, not encrypted)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, (user.password_hash or "").encode(), hashlib.sha256).hexdigest()[:16]


def reset_token(user: User) -> str:
    # Once the password changes, every older link stops working.
    return _serializer().dumps({"id": user.id, "h": _password_stamp(user)})


def user_for_reset_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, data.get("id")) if isinstance(data, dict) else None
    if user is None or not hmac.compare_digest(_password_stamp(user), str(data.get("h"))) or not user.active:
        return None
    return user


def send_reset_link(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way (no account discovery)."""
    user = find_account(email)
    if user is None or not user.email or user.sso_only:
        return
    link = url_for("auth.reset_password", token=reset_token(user), _external=True)
    text = _(
        "Hello %(name)s,\n\nTo choose a new password for MotCua, open this link within one hour:\n%(link)s\n\n"
        "If you did not ask for this, ignore this message; your password stays as it is.",
        name=user.full_name,
        link=link,
    )
    send_mail(user.email, _("Reset your MotCua password"), text)
    audit.record("auth.reset_requested", user, user)


def set_new_password(user: User, password: str) -> None:
    user.set_password(password)
    audit.record("auth.password_reset", user, user)
