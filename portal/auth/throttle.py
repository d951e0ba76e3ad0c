"""Failed sign-ins slow down one account, not an office; mails about one address are capped.

After LOGIN_BACKOFF_AFTER failures in a row an account waits 2^(failures - LOGIN_BACKOFF_AFTER) seconds (at most
LOGIN_BACKOFF_MAX_SECONDS) before its password is checked again. Known accounts keep their count in the database
(User.failed_logins, last_failed_login_at); names that match no account keep the same count in the rate-limit
store, so both answer alike and nobody learns which accounts exist by watching the delay.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import ngettext
from limits import parse_many
from sqlalchemy import update

from portal.core.time import utcnow
from portal.extensions import db, limiter
from portal.models import User

log = logging.getLogger(__name__)


def wait_after(failures: int, last_failure: float | None, now: float) -> int:
    """Seconds still to wait before the next try (0: may try now). Times are epoch seconds."""
    config = current_app.config
    after = int(config["LOGIN_BACKOFF_AFTER"])
    if failures < after or last_failure is None:
        return 0
    if now - last_failure > float(config["LOGIN_BACKOFF_WINDOW_HOURS"]) * 3600:
        return 0
    delay = min(2 ** min(failures - after, 30), int(config["LOGIN_BACKOFF_MAX_SECONDS"]))
    return max(0, math.ceil(last_failure + delay - now))


def _forgotten(user: User, now: datetime) -> bool:
    window = timedelta(hours=float(current_app.config["LOGIN_BACKOFF_WINDOW_HOURS"]))
    return user.last_failed_login_at is None or now - user.last_failed_login_at > window


# -- known accounts: the database -----------------------------------------------------------------------------


def account_wait(user: User) -> int:
    last = user.last_failed_login_at.timestamp() if user.last_failed_login_at else None
    return wait_after(user.failed_logins or 0, last, time.time())


def claim_attempt(user: User) -> bool:
    """Count this attempt as a failure before the password is checked (a success undoes it), in one
    compare-and-set: of many simultaneous guesses only one gets past a given count, so parallel requests cannot
    slip through between two delays. False: another attempt won the race; answer as if waiting."""
    now = utcnow()
    count = 0 if _forgotten(user, now) else (user.failed_logins or 0)
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.failed_logins == (user.failed_logins or 0))
        .values(failed_logins=count + 1, last_failed_login_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["failed_logins", "last_failed_login_at"])
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def succeeded(user: User) -> None:
    user.failed_logins = 0
    user.last_failed_login_at = None
    db.session.flush()


# -- names that match no account: the rate-limit store ------------------------------------------------------


def _keys(identifier: str) -> tuple[str, str]:
    digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()[:32]
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "motcua")
    return f"{prefix}/login-fail/{digest}", f"{prefix}/login-last/{digest}"


def unknown_wait(identifier: str) -> int:
    count_key, last_key = _keys(identifier)
    try:
        storage = limiter.storage
        return wait_after(int(storage.get(count_key)), float(storage.get(last_key)) or None, time.time())
    except Exception:  # the store is down: nothing real to protect here
        log.warning("rate-limit store unreachable while checking a sign-in", exc_info=True)
        return 0


def unknown_failed(identifier: str) -> None:
    count_key, last_key = _keys(identifier)
    window = int(float(current_app.config["LOGIN_BACKOFF_WINDOW_HOURS"]) * 3600)
    try:
        storage = limiter.storage
        storage.incr(count_key, window)
        storage.clear(last_key)
        storage.incr(last_key, window, amount=int(time.time()))
    except Exception:
        log.warning("rate-limit store unreachable while counting a failed sign-in", exc_info=True)


# -- mails about one address ---------------------------------------------------------------------------------


def may_mail(address: str, purpose: str) -> bool:
    """False once ACCOUNT_MAIL_LIMIT mails about this address went out (the answer on screen stays the same)."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]
    try:
        return all(
            limiter.limiter.hit(item, "account-mail", digest)
            for item in parse_many(current_app.config["ACCOUNT_MAIL_LIMIT"])
        )
    except Exception:
        log.warning("rate-limit store unreachable; mailing %s without a cap", purpose, exc_info=True)
        return True


# -- words ---------------------------------------------------------------------------------------------------


def try_again_words(seconds: int) -> str:
    """'Try again in 3 seconds.' in the person's language; minutes past two minutes."""
    seconds = max(1, int(seconds))
    if seconds < 120:
        return ngettext("Try again in %(num)d second.", "Try again in %(num)d seconds.", seconds)
    minutes = math.ceil(seconds / 60)
    return ngettext("Try again in %(num)d minute.", "Try again in %(num)d minutes.", minutes)
