"""Error pages: plain words in Vietnamese and English, never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from portal.api import problems
from portal.api.problems import is_api_request
from portal.main import outage

# Werkzeug's own titles and texts are English only: each code in the person's language instead.
TITLES = {
    400: (_l("The request could not be understood"), _l("Please go back and try again.")),
    403: (_l("You may not open this page"), _l("Your account has no access to this page.")),
    404: (_l("Page not found"), _l("The address may be mistyped, or the page no longer exists.")),
    405: (_l("This action is not possible here"), _l("Please go back and use the buttons of the page.")),
    409: (_l("Someone else changed this first"), _l("Please reload the page and try again.")),
    413: (_l("The file is too large"), _l("Send smaller files, or fewer at once.")),
    422: (_l("The request could not be processed"), _l("Please go back and check what you entered.")),
}


def _words(error: HTTPException) -> tuple[str, str]:
    """The page's title and text: the portal's own words for the code, or the view's own description (given
    with `abort(404, description=...)`, already translated; Flask-WTF's CSRF texts are in the catalog)."""
    code = error.code or 500
    title, text = TITLES.get(code, (error.name, error.description or ""))
    own = error.description and error.description != type(error).description
    return f"{code} — {title}", _(error.description) if own else str(text)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        unavailable = outage.in_request_outage(getattr(error, "original_exception", None))
        if unavailable is not None:  # a 500 whose cause is the database or broker being down
            return unavailable
        if is_api_request(request.path):  # RFC 9457 problem+json, whatever the error (portal/api/problems.py)
            return problems.from_http_exception(error)
        if _wants_json():
            return jsonify(error=error.name, message=error.description), error.code
        title, text = _words(error)
        return render_template("errors/error.html", error=error, title=title, text=text), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        from portal.extensions import db

        unavailable = outage.in_request_outage(error)
        if unavailable is not None:  # e.g. a DBAPIError whose connection was invalidated
            return unavailable

        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        if is_api_request(request.path):
            return problems.internal_error()
        message = _("Something went wrong on our side. Nothing you entered was saved; please try again.")
        if _wants_json():
            return jsonify(error="Internal Server Error", message=message), 500
        return render_template("errors/error.html", error=None, message=message), 500

    from portal.main.too_many import too_many_requests

    app.register_error_handler(429, too_many_requests)  # in the person's language, with when to try again
    outage.register(app)  # 503 without the database for connection failures (portal/main/outage.py)
