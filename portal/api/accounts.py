"""Service accounts of the REST API: create (the token is shown once), revoke, list, and find by token.

A token is `mc_` followed by 43 URL-safe characters (32 random bytes). Only its SHA-256 is stored: with 256 bits
of randomness nobody can guess a token from its hash, so a slow password hash would only cost every API call.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.core import audit
from portal.core.errors import InvalidInput, NotFound
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Agency, Group, ServiceAccount, User
from portal.models.user import SERVICE_KIND

TOKEN_PREFIX = "mc_"  # noqa: S105  (the prefix of every token, not a secret)
HINT_LENGTH = 10  # "mc_" and 7 characters: enough to tell tokens apart in the list, useless to guess one
MAX_TOKEN_LENGTH = 200  # anything longer is not one of ours; it is not even hashed

# The scopes an administrator can grant, with what each allows.
SCOPES = {
    "catalogue:read": _l("Read the catalogue and the procedures' forms"),
    "dossiers:submit": _l("Submit dossiers for citizens"),
    "dossiers:read": _l("Read dossiers of the chosen agencies"),
    "tasks:act": _l("Act on the tasks of the chosen groups"),
    "stats:read": _l("Read the statistics"),
}


@dataclass
class Created:
    account: ServiceAccount
    token: str  # shown once to the administrator, never stored


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def accounts() -> list[ServiceAccount]:
    return list(db.session.scalars(select(ServiceAccount).order_by(ServiceAccount.created_at.desc())))


def get_account(account_id: int) -> ServiceAccount:
    account = db.session.get(ServiceAccount, account_id)
    if account is None:
        raise NotFound(_("There is no such service account."))
    return account


def _ids_that_exist(model: type[Agency] | type[Group], ids: Iterable[int]) -> list[int]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return []
    return sorted(db.session.scalars(select(model.id).where(model.id.in_(wanted))))


def create_account(
    name: str,
    scopes: Iterable[str],
    actor: User,
    *,
    expires_at: datetime | None = None,
    agency_ids: Iterable[int] = (),
    group_ids: Iterable[int] = (),
) -> Created:
    chosen = sorted(set(scopes))
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("This field is required.")]
    if not chosen or any(s not in SCOPES for s in chosen):
        errors["scopes"] = [_("Choose at least one permission.")]
    if expires_at is not None and expires_at <= utcnow():
        errors["expires_at"] = [_("The expiry must be in the future.")]
    if errors:
        raise InvalidInput(_("Please check the highlighted fields."), errors)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    account = ServiceAccount(
        name=name.strip(),
        token_hash=hash_token(token),
        token_hint=token[:HINT_LENGTH],
        scopes=chosen,
        agency_ids=_ids_that_exist(Agency, agency_ids),
        group_ids=_ids_that_exist(Group, group_ids),
        expires_at=expires_at,
        created_by_id=actor.id,
    )
    if "tasks:act" in chosen:
        account.user_id = _service_user(account.name).id
    db.session.add(account)
    db.session.flush()
    audit.record(
        "admin.api_account_created",
        actor,
        account,
        name=account.name,
        scopes=account.scopes,
        agencies=account.agency_ids,
        groups=account.group_ids,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return Created(account, token)


def _service_user(name: str) -> User:
    """Who the account is on the tasks it claims and completes: named so an officer reading "claimed by" or the
    dossier's history knows it was a system (no e-mail or password: it cannot sign in)."""
    user = User(full_name=_("%(name)s (API)", name=name)[:255], kind=SERVICE_KIND, confirmed=True)
    db.session.add(user)
    db.session.flush()
    return user


def acting_user(account: ServiceAccount) -> User | None:
    """The user the account acts as on tasks (None when it was made without `tasks:act`)."""
    return db.session.get(User, account.user_id) if account.user_id else None


def ensure_acting_user(account: ServiceAccount) -> User:
    """An account made before accounts had users gets its own now (the caller commits)."""
    user = acting_user(account)
    if user is None:
        user = _service_user(account.name)
        user.active = account.revoked_at is None
        account.user_id = user.id
        db.session.flush()
    return user


def revoke_account(account: ServiceAccount, actor: User) -> None:
    if account.revoked_at is not None:
        return
    account.revoked_at = utcnow()
    account.revoked_by_id = actor.id
    user = acting_user(account)
    if user is not None:
        user.active = False
    db.session.flush()
    audit.record("admin.api_account_revoked", actor, account, name=account.name)


def account_for_token(token: str) -> ServiceAccount | None:
    """The usable account this token belongs to; None for an unknown, expired or revoked token (the caller gets
    the same 401 either way)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    account = db.session.scalar(select(ServiceAccount).where(ServiceAccount.token_hash == hash_token(token)))
    if account is None or not account.usable(utcnow()):
        return None
    return account


def note_call(account: ServiceAccount, method: str, path: str, status: int) -> None:
    """Count the call on the account and write its audit line; the caller commits.

    One audit row per call: the issue asks for every call audited, and an INSERT of a narrow row is cheap next to
    the call itself; the counter and last use are one UPDATE that needs no read (no lost update between hosts)."""
    now = utcnow()
    db.session.execute(
        update(ServiceAccount)
        .where(ServiceAccount.id == account.id)
        .values(calls=ServiceAccount.calls + 1, last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record("api.call", None, account, method=method, path=path[:300], status=status)
