"""Single sign-on services: accept a checked assertion once, find or create the account, keep it in step with
the identity provider. Services flush; the view commits, or rolls back on `SsoRefused` so that a refused
sign-in creates and changes nothing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from portal.auth.sessions import end_all_sessions
from portal.core import audit
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import SamlAssertionSeen, SsoIdentity, User
from portal.sso import accounts
from portal.sso.config import IdpConfig
from portal.sso.provider import SamlLogin, SsoRefused

log = logging.getLogger(__name__)

# Rows outlive their assertion's NotOnOrAfter by more than python3-saml's allowed clock drift (300 s), so an
# assertion is never forgotten while it could still be accepted.
REPLAY_MARGIN = timedelta(minutes=10)


def remember_assertion(idp: str, assertion_id: str, not_on_or_after: datetime) -> None:
    """Record an assertion as used; SsoRefused("replayed") if it was used before, in any process or host.

    The unique constraint decides: two requests racing with the same assertion cannot both insert."""
    now = utcnow()
    db.session.execute(delete(SamlAssertionSeen).where(SamlAssertionSeen.not_on_or_after < now - REPLAY_MARGIN))
    try:
        with db.session.begin_nested():
            db.session.add(SamlAssertionSeen(idp=idp, assertion_id=assertion_id, not_on_or_after=not_on_or_after))
    except IntegrityError:
        raise SsoRefused("replayed", f"assertion {assertion_id} already used") from None


def _identity(idp: str, name_id: str) -> SsoIdentity | None:
    return db.session.scalar(select(SsoIdentity).where(SsoIdentity.idp == idp, SsoIdentity.name_id == name_id))


def _linkable_account(idp: IdpConfig, email: str | None) -> User | None:
    """With `link_by_email`, an existing account with the same email and no identity at this provider yet.
    Administrators' accounts are never taken over this way (they are the break-glass accounts)."""
    if not idp.link_by_email or not email:
        return None
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None or user.is_admin:
        return None
    linked = db.session.scalar(
        select(SsoIdentity.id).where(SsoIdentity.user_id == user.id, SsoIdentity.idp == idp.name)
    )
    return None if linked else user


def answered_request(idp: IdpConfig, login: SamlLogin, pending: list[dict[str, str]]) -> dict[str, str] | None:
    """The pending AuthnRequest of this browser that the response answers (its InResponseTo must match);
    None for an unsolicited response, accepted only where the provider is configured to allow them."""
    if login.in_response_to is not None:
        for entry in pending:
            if entry.get("id") == login.in_response_to:
                return entry
        reason = "in_response_to" if pending else "unsolicited"
        raise SsoRefused(reason, f"InResponseTo {login.in_response_to} is not a request of this browser")
    if not idp.allow_unsolicited:
        raise SsoRefused("unsolicited", "IdP-initiated response, not allowed for this provider")
    return None


def _account_for(idp: IdpConfig, login: SamlLogin, profile: accounts.Profile) -> tuple[SsoIdentity | None, User | None]:
    """The identity and account this NameID already has (or may take over); (None, None) for a newcomer."""
    identity = _identity(idp.name, login.name_id)
    user = identity.user if identity is not None else _linkable_account(idp, profile.email)
    if user is not None and not user.active:
        raise SsoRefused("account_disabled", f"user {user.id} is disabled")
    if user is None and not profile.full_name:
        raise SsoRefused("missing_attributes", "no full name attribute for a new account")
    return identity, user


def sign_in(idp: IdpConfig, login: SamlLogin, pending: list[dict[str, str]]) -> tuple[User, dict[str, str] | None]:
    """The account for a checked assertion, created or updated from its attributes, groups synchronised;
    with the pending request it answered."""
    remember_assertion(idp.name, login.assertion_id, login.not_on_or_after)
    answered = answered_request(idp, login, pending)
    profile = accounts.read_profile(idp, login.attributes)
    identity, user = _account_for(idp, login, profile)
    created = user is None
    user, conflicts = accounts.apply_profile(user, profile, idp.name)
    wanted = accounts.wanted_groups(idp.name, profile)
    if accounts.is_officer(idp, profile, wanted) and user.kind != "officer":
        user.kind = "officer"
    if created and user.kind == "officer":
        user.sso_only = True  # an officer made by SSO has no password and signs in only through the province
    db.session.flush()
    added, removed = accounts.sync_groups(user, wanted)
    if identity is None:
        identity = SsoIdentity(idp=idp.name, name_id=login.name_id, user_id=user.id)
        db.session.add(identity)
        if not created:
            audit.record("sso.account_linked", user, user, idp=idp.name)
    identity.vneid_verified = profile.vneid_verified
    identity.attributes = profile.summary()
    identity.last_login_at = utcnow()
    db.session.flush()
    audit.record(
        "sso.login",
        user,
        user,
        idp=idp.name,
        created=created,
        groups_added=added,
        groups_removed=removed,
        conflicts=conflicts or None,
    )
    return user, answered


def record_refusal(idp: str, reason: str, detail: str) -> None:
    """The audit line of a refused message (in its own transaction: the refused work was rolled back)."""
    log.warning("SSO %s: refused (%s): %s", idp, reason, detail)
    audit.record("sso.refused", None, None, idp=idp, reason=reason, detail=detail[:300])


def record_logout(user: User | None, idp: str, started_by: str) -> None:
    audit.record("sso.logout", user, user, idp=idp, started_by=started_by)


def is_vneid_verified(user: User) -> bool:
    """Whether the person's last provincial sign-in said they were verified through VNeID."""
    return bool(
        db.session.scalar(
            select(SsoIdentity.id).where(SsoIdentity.user_id == user.id, SsoIdentity.vneid_verified.is_(True))
        )
    )


def set_sso_only(user: User, sso_only: bool, actor: User | None) -> None:
    """An officer signs in only through the province (no local password) — or may again, for break-glass."""
    user.sso_only = sso_only
    audit.record("sso.set_sso_only", actor, user, sso_only=sso_only)


def logout_from_idp(idp: str, name_id: str | None) -> User | None:
    """The IdP ended this person's session: end every portal session and remember token of their account."""
    identity = _identity(idp, name_id) if name_id else None
    if identity is None:
        return None
    end_all_sessions(identity.user)
    record_logout(identity.user, idp, "identity provider")
    return identity.user
