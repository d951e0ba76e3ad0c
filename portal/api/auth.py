"""Who is calling the API: `Authorization: Bearer <token>` → a service account, its scopes, its rate limit; and
what is written down about each call (portal/api/accounts.py `note_call`).

Order of the checks, so a client learns the first thing to fix: 401 (no usable token), 429 (its rate limit),
403 (the operation needs a scope it lacks), then the operation's own 422/404.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from limits import parse_many

from portal.api import accounts
from portal.api.problems import ApiProblem
from portal.core.web import unit_of_work
from portal.extensions import limiter
from portal.models import ServiceAccount

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_RATE_LIMIT = "600 per minute;20000 per hour"


def requires(scope: str) -> Callable[[F], F]:
    """Mark an operation as needing `scope` (checked before the operation reads its arguments)."""

    def mark(view: F) -> F:
        view.api_scope = scope  # type: ignore[attr-defined]
        return view

    return mark


def current_account() -> ServiceAccount:
    account = g.get("api_account")
    if account is None:  # a programming error: every operation of the API blueprint is authenticated
        raise RuntimeError("no service account for this request")
    return account


def _token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, "unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="motcua-api"'})


def _check_rate(account: ServiceAccount) -> None:
    """Flask-Limiter's store (Redis in production, shared by every host), counted per account, not per address."""
    items = parse_many(current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT))
    key = str(account.id)
    try:
        for item in items:
            if not limiter.limiter.hit(item, "api-account", key):
                reset_at = limiter.limiter.get_window_stats(item, "api-account", key).reset_time
                wait = max(1, math.ceil(reset_at - time.time()))
                raise ApiProblem(
                    429,
                    "rate-limited",
                    _("Too many requests for this service account; try again in %(seconds)d s.", seconds=wait),
                    headers={"Retry-After": str(wait)},
                )
    except ApiProblem:
        raise
    except Exception:  # the store is unreachable: serve without a limit, as the rest of the portal does
        if not current_app.config.get("RATELIMIT_SWALLOW_ERRORS", True):
            raise
        log.warning("rate-limit store unreachable; API call of account %s not counted", account.id, exc_info=True)


def authenticate() -> None:
    """The API blueprint's before_request."""
    token = _token()
    if token is None:
        raise _unauthorized(_("Send the service account's token: Authorization: Bearer <token>."))
    account = accounts.account_for_token(token)
    if account is None:
        raise _unauthorized(_("The token is unknown, expired or revoked."))
    g.api_account = account
    _check_rate(account)
    view = current_app.view_functions.get(request.endpoint or "")
    scope = getattr(view, "api_scope", None)
    if scope is not None and scope not in (account.scopes or []):
        raise ApiProblem(403, "insufficient-scope", _("This operation needs the permission %(scope)s.", scope=scope))


def note_call(response: Response) -> Response:
    """The API blueprint's after_request: one audit line per authenticated call, in a transaction of its own (the
    operation's work, if any, was committed or rolled back before)."""
    account = g.get("api_account")
    if account is not None and not g.get("api_outage"):  # during an outage the line could not be written
        try:
            with unit_of_work():
                accounts.note_call(account, request.method, request.full_path.rstrip("?"), response.status_code)
        except Exception:  # the answer stands even if the audit line cannot be written; the log keeps it
            log.exception("could not record the API call of account %s", account.id)
    return response


def add_etag(response: Response) -> Response:
    """A weak ETag from the body of every successful GET; If-None-Match → 304 without the body."""
    if request.method in ("GET", "HEAD") and response.status_code == 200 and not response.direct_passthrough:
        digest = hashlib.sha256(response.get_data()).hexdigest()[:32]
        response.set_etag(digest, weak=True)
        response.headers.setdefault("Cache-Control", "private, no-cache")
        response.make_conditional(request)
    return response
