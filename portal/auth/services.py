"""Local accounts: sign-in, registration, password reset."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import false, func, or_, select
from werkzeug.security import generate_password_hash

from portal.auth import mails, throttle
from portal.auth.sessions import end_all_sessions
from portal.core import audit
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.models import User
from portal.models.user import PASSWORD_METHOD

# Compared against when no account matches, so a wrong email costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)


def set_preferred_language(user: User, code: str) -> None:
    """The language the person chose with the switch: their pages on every device, and their messages."""
    user.locale = code
    db.session.flush()


def normalize_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return "0" + digits[3:] if digits.startswith("+84") else digits


def find_account(identifier: str) -> User | None:
    value = identifier.strip()
    if "@" in value:
        return db.session.scalar(select(User).where(func.lower(User.email) == value.lower()))
    return db.session.scalar(select(User).where(User.phone == normalize_phone(value)))


@dataclass
class SignIn:
    """What a sign-in attempt came to: the account, or how long to wait before trying again (0: not waiting)."""

    user: User | None = None
    retry_after: int = 0
    unconfirmed: bool = False


def _key(identifier: str) -> str:
    value = identifier.strip()
    return value.lower() if "@" in value else normalize_phone(value)


def authenticate(identifier: str, password: str) -> SignIn:
    """Check a password, unless the account (or the unknown name, alike) must wait after repeated failures.

    Known and unknown names go through the same steps (a count, a wait, one password hash), so neither the
    answer nor its time tells whether an account exists.
    """
    user = find_account(identifier)
    if user is None:
        wait = throttle.unknown_wait(_key(identifier))
        if wait:
            return SignIn(retry_after=wait)
        User(password_hash=_DUMMY_HASH).check_password(password)
        throttle.unknown_failed(_key(identifier))
        audit.record("auth.login_failed", None, None, identifier=identifier[:100])
        return SignIn()
    wait = throttle.account_wait(user)
    if wait or not throttle.claim_attempt(user):
        return SignIn(retry_after=max(wait, 1))
    if not user.check_password(password) or not user.active or user.sso_only:
        audit.record("auth.login_failed", None, user)
        return SignIn()
    throttle.succeeded(user)
    if not user.confirmed:
        return SignIn(unconfirmed=True)
    audit.record("auth.login", user, user)
    return SignIn(user=user)


def register_citizen(
    full_name: str, email: str | None, phone: str | None, citizen_id: str | None, password: str
) -> User:
    email = (email or "").strip().lower() or None
    phone = normalize_phone(phone) if phone else None
    taken = db.session.scalar(
        select(User).where(or_(User.email == email if email else false(), User.phone == phone if phone else false()))
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


def request_registration(
    full_name: str, email: str | None, phone: str | None, citizen_id: str | None, password: str
) -> None:
    """Register, answering alike whether the address is taken: the password is hashed either way; a free address
    gets an unconfirmed account and a link to confirm it, a taken one a message telling its owner."""
    email = (email or "").strip().lower() or None
    phone = normalize_phone(phone) if phone else None
    candidate = User(full_name=full_name.strip(), email=email, phone=phone, citizen_id=citizen_id or None)
    candidate.set_password(password)  # the same work in both cases
    owners = list(
        db.session.scalars(
            select(User).where(
                or_(User.email == email if email else false(), User.phone == phone if phone else false())
            )
        )
    )
    confirmed = [owner for owner in owners if owner.confirmed]
    if confirmed:
        for owner in confirmed:
            if throttle.may_mail(owner.email or owner.phone or str(owner.id), "register_attempt"):
                mails.registration_attempt(
                    owner, url_for("auth.login", _external=True), url_for("auth.forgot_password", _external=True)
                )
            audit.record("auth.register_taken", None, owner)
        db.session.flush()
        return
    user = _unconfirmed_account(candidate, owners)
    if throttle.may_mail(email or phone or "", "register_confirm"):
        mails.confirm_registration(
            user, url_for("auth.confirm_registration", token=confirm_token(user), _external=True)
        )
    audit.record("auth.register", user, user)
    db.session.flush()


def _unconfirmed_account(candidate: User, owners: list[User]) -> User:
    """The new account, or an earlier unconfirmed one with the same address taken over: nobody proved that
    address, so the person who now registers with it (and then confirms it) gets it."""
    if not owners:
        user = User(kind="citizen", confirmed=False)
        db.session.add(user)
    else:
        user = owners[0]
        for other in owners[1:]:  # a second unconfirmed account had the phone (or email): it loses it
            other.email = None if other.email == candidate.email else other.email
            other.phone = None if other.phone == candidate.phone else other.phone
        db.session.flush()
    user.full_name, user.email, user.phone = candidate.full_name, candidate.email, candidate.phone
    user.citizen_id, user.password_hash = candidate.citizen_id, candidate.password_hash
    db.session.flush()
    return user


def _serializer(salt: str = "password-reset") -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _password_stamp(user: User) -> str:
    """Changes whenever the password does, and tells nothing about it (tokens are signed, not encrypted)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, (user.password_hash or "").encode(), hashlib.sha256).hexdigest()[:16]


def reset_token(user: User) -> str:
    # Once the password changes, every older link stops working.
    return _serializer().dumps({"id": user.id, "h": _password_stamp(user)})


def confirm_token(user: User) -> str:
    # A later registration with the same address (a new password) makes older links stop working.
    return _serializer("register-confirm").dumps({"id": user.id, "h": _password_stamp(user)})


def _user_for(token: str, salt: str, max_age: int) -> User | None:
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, data.get("id")) if isinstance(data, dict) and isinstance(data.get("id"), int) else None
    if user is None or not hmac.compare_digest(_password_stamp(user), str(data.get("h"))) or not user.active:
        return None
    return user


def user_for_reset_token(token: str) -> User | None:
    return _user_for(token, "password-reset", current_app.config["PASSWORD_RESET_MAX_AGE"])


def user_for_confirm_token(token: str) -> User | None:
    user = _user_for(token, "register-confirm", current_app.config["REGISTER_CONFIRM_MAX_AGE"])
    return user if user is not None and not user.confirmed else None


def confirm_account(user: User) -> None:
    user.confirmed = True
    db.session.flush()
    audit.record("auth.register_confirmed", user, user)


# -- the short link sent by SMS -------------------------------------------------------------------------------
# An SMS has little room, so its link carries only the account, the time it was made and a 96-bit MAC over both
# and the password stamp: "<id>.<time>.<mac>" (base 36, base 36, base64url), about 25 characters. It dies with
# the password like the mailed link, and after PASSWORD_RESET_SMS_MAX_AGE seconds (minutes, not an hour).


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def _sms_mac(user_id: int, issued: int, stamp: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"sms-password-reset|{user_id}|{issued}|{stamp}".encode()
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()[:12]).decode()


def sms_reset_token(user: User) -> str:
    issued = int(time.time())
    return f"{_base36(user.id or 0)}.{_base36(issued)}.{_sms_mac(user.id or 0, issued, _password_stamp(user))}"


def user_for_sms_reset_token(token: str) -> User | None:
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 60:
        return None
    try:
        user_id, issued = int(parts[0], 36), int(parts[1], 36)
    except ValueError:
        return None
    if not 0 <= time.time() - issued <= current_app.config["PASSWORD_RESET_SMS_MAX_AGE"]:
        return None
    if not 0 < user_id < 2**31:  # an id the database can hold (PostgreSQL refuses a larger integer)
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.sso_only:
        return None
    return user if hmac.compare_digest(_sms_mac(user_id, issued, _password_stamp(user)), parts[2]) else None


def send_reset_link(identifier: str) -> None:
    """Send a link to choose a new password where it was asked for: by mail to an email address, by SMS (a short
    link) to a phone number. The same answer and the same work whether an account matches (no account
    discovery), and at most ACCOUNT_MAIL_LIMIT messages per account (by its email, else its phone, as
    registration counts them) or, when none matches, per address."""
    by_sms = "@" not in identifier
    user = find_account(identifier)
    eligible = user is not None and not user.sso_only and user.active
    someone = user or User(id=0)
    if by_sms:
        link = url_for("auth.reset_password_sms", token=sms_reset_token(someone), _external=True)
    else:
        link = url_for("auth.reset_password", token=reset_token(someone), _external=True)
    allowed = throttle.may_mail((user.email or user.phone or "") if user else _key(identifier), "password_reset")
    if user is None or not eligible or not allowed:
        mails.rehearse_reset_link(link, by_sms=by_sms)
        audit.record("auth.reset_requested", None, user, identifier=identifier[:100])  # one row written either way
        db.session.flush()
        return
    mails.reset_link(user, link, by_sms=by_sms)
    audit.record("auth.reset_requested", user, user, channel="sms" if by_sms else "email")
    db.session.flush()


def set_new_password(user: User, password: str) -> None:
    """A new password (from a reset link): every session and remember cookie of the account ends, the count
    of failed sign-ins starts over, and the link proved the address, so the account is confirmed."""
    user.set_password(password)
    user.confirmed = True
    throttle.succeeded(user)
    end_all_sessions(user)
    audit.record("auth.password_reset", user, user)


def change_password(user: User, current: str, new: str) -> None:
    """The signed-in person changes their password; every other session of the account ends."""
    if not user.check_password(current):
        message = _("The current password is not right.")
        raise InvalidInput(message, {"current": [message]})
    user.set_password(new)
    end_all_sessions(user)
    audit.record("auth.password_changed", user, user)
