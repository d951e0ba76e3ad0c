"""When the database or the broker cannot be reached: a 503 page that needs neither of them.

The ordinary error pages extend base.html, which reads `current_user` (the user loader queries the database)
and runs every context processor (unread notifications, ...). During an outage that rendering fails again, and
the person used to get the WSGI server's bare 500. Here the page is rendered straight from the Jinja
environment, without context processors, in the language the person chose (session or language cookie).

Three places catch an outage, so that it is answered wherever it happens:
- error handlers for the connection-failure classes (a view, a service, the user loader);
- `OutageGuard`, around the WSGI app, for a failure inside an error handler itself (rendering a 404 page
  while the database is down), which Flask cannot handle any more;
- `/healthz` (portal/main/views.py) reports the same checks as JSON for load balancers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from portal.api import problems
from portal.api.problems import is_api_request

log = logging.getLogger(__name__)


def _outage_classes() -> tuple[type[Exception], ...]:
    """Exception classes that mean "a backing service is unreachable", not "the code is wrong"."""
    classes: list[type[Exception]] = [
        sa_exc.OperationalError,  # connection refused or lost, server shutting down, too many clients
        sa_exc.InterfaceError,  # the driver's connection object is unusable
        sa_exc.TimeoutError,  # no pooled connection came free in time (the database is too slow)
        sa_exc.DisconnectionError,
    ]
    from portal.core.storage import StorageUnavailable

    classes.append(StorageUnavailable)  # the attachment store (S3) cannot be reached
    try:  # the broker, when a request queues a job (and Redis, when rate limits are stored there)
        from kombu.exceptions import OperationalError as BrokerError

        classes.append(BrokerError)
    except ImportError:  # pragma: no cover - kombu comes with celery
        pass
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        classes += [RedisConnectionError, RedisTimeoutError]
    except ImportError:  # pragma: no cover - redis is optional
        pass
    return tuple(classes)


OUTAGE_ERRORS = _outage_classes()


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """The error, what it wraps (InternalServerError.original_exception) and what it was raised from."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen and len(seen) < 20:
        seen.add(id(error))
        yield error
        error = getattr(error, "original_exception", None) or error.__cause__ or error.__context__


def is_outage(error: BaseException | None) -> bool:
    for link in _chain(error):
        if isinstance(link, OUTAGE_ERRORS):
            return True
        if isinstance(link, sa_exc.DBAPIError) and link.connection_invalidated:
            return True
    return False


def _wants_json() -> bool:
    path = request.path
    return (
        path.startswith("/api/")
        or path == "/healthz"
        or request.accept_mimetypes.best == "application/json"
        or request.is_json
    )


def _rollback_quietly() -> None:
    """Give the broken connection back to the pool; with the database gone even the rollback may fail."""
    from portal.extensions import db

    try:
        db.session.rollback()
    except Exception:  # nothing more to do about a dead connection here
        log.debug("rollback after an outage failed", exc_info=True)


def _message() -> str:
    return _("The service is briefly unavailable. Please try again in a minute.")


def _html() -> str:
    """The page, rendered without context processors: no `current_user`, no database."""
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    template = current_app.jinja_env.get_template("errors/unavailable.html")
    return template.render(
        current_locale=locale,
        message=_message(),
        retry_after=current_app.config["UNAVAILABLE_RETRY_AFTER"],
        after_post=request.method not in ("GET", "HEAD"),
        again_url=request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else None,
    )


def unavailable_response(error: BaseException | None = None) -> Response:
    """503 with Retry-After, as JSON or as a page that needs no database."""
    _rollback_quietly()
    name = type(error).__name__ if error is not None else "unknown"
    log.warning("service unavailable on %s %s: %s", request.method, request.path, name)
    if is_api_request(request.path):  # the API's clients read RFC 9457 problems, in their language
        g.api_outage = True  # nothing more to write about this call (portal/api/auth.py note_call)
        response = problems.problem(503, "unavailable")
    elif _wants_json():
        response = jsonify(error="unavailable", message=_message())
    else:
        response = Response(_html(), mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(current_app.config["UNAVAILABLE_RETRY_AFTER"])
    response.headers["Cache-Control"] = "no-store"
    return response


class OutageGuard:
    """WSGI middleware: an outage that escaped Flask's own handling (it happened inside an error handler)
    still gets the 503 page instead of the server's bare 500."""

    def __init__(self, app: Flask, wsgi_app: Any) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            return self.wsgi_app(environ, start_response)
        except Exception as error:
            if not is_outage(error):
                raise
            with self.app.request_context(environ):
                response = unavailable_response(error)
                return response(environ, start_response)


def limit_connect_time(app: Flask) -> None:
    """PostgreSQL connections give up after DATABASE_CONNECT_TIMEOUT seconds (libpq waits for the operating
    system otherwise: minutes, when the database host vanished rather than refused)."""
    from portal.extensions import db

    seconds = int(app.config.get("DATABASE_CONNECT_TIMEOUT") or 0)
    if seconds <= 0:
        return

    def add_timeout(dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        if dialect.name == "postgresql":
            params.setdefault("connect_timeout", seconds)

    with app.app_context():
        for engine in db.engines.values():
            event.listen(engine, "do_connect", add_timeout)


def register(app: Flask) -> None:
    app.config.setdefault("UNAVAILABLE_RETRY_AFTER", 30)
    limit_connect_time(app)

    def outage(error: Exception) -> Response:
        return unavailable_response(error)

    for cls in OUTAGE_ERRORS:
        app.register_error_handler(cls, outage)
    app.wsgi_app = OutageGuard(app, app.wsgi_app)  # type: ignore[method-assign]


def in_request_outage(error: BaseException | None) -> Response | None:
    """For error handlers: the 503 response when `error` is (or wraps) an outage, else None."""
    if has_request_context() and is_outage(error):
        return unavailable_response(error)
    return None
