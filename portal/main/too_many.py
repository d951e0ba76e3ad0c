"""The 429 page: in the person's language, saying when to try again (words and Retry-After)."""

from __future__ import annotations

import math
import time

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

from portal.api.problems import is_api_request, problem
from portal.auth.throttle import try_again_words

DEFAULT_WAIT = 60  # seconds, when the limit that was hit is not known


def seconds_to_wait() -> int:
    """Until the window of the limit this request hit resets (Flask-Limiter noted it for the request)."""
    from portal.extensions import limiter

    try:
        hit = limiter.current_limit
        reset_at = hit.reset_at if hit is not None else None
    except Exception:  # the store is unreachable: a plain default
        reset_at = None
    return max(1, math.ceil(reset_at - time.time())) if reset_at else DEFAULT_WAIT


def too_many_requests(error: TooManyRequests):
    seconds = seconds_to_wait()
    message = _("Too many attempts in a short time.")
    when = try_again_words(seconds)
    headers = {"Retry-After": str(seconds)}
    if is_api_request(request.path):
        return problem(429, "rate-limited", f"{message} {when}", None, headers)
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error="Too Many Requests", message=f"{message} {when}", retry_after=seconds), 429, headers
    return render_template("errors/too_many.html", message=message, when=when), 429, headers
