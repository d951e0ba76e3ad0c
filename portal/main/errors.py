"""Error pages: plain words in Vietnamese and English, never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from portal.main import outage


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        unavailable = outage.in_request_outage(getattr(error, "original_exception", None))
        if unavailable is not None:  # a 500 whose cause is the database or broker being down
            return unavailable
        if _wants_json():
            return jsonify(error=error.name, message=error.description), error.code
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        from portal.extensions import db

        unavailable = outage.in_request_outage(error)
        if unavailable is not None:  # e.g. a DBAPIError whose connection was invalidated
            return unavailable

        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        message = _("Something went wrong on our side. Nothing you entered was saved; please try again.")
        if _wants_json():
            return jsonify(error="Internal Server Error", message=message), 500
        return render_template("errors/error.html", error=None, message=message), 500

    from portal.main.too_many import too_many_requests

    app.register_error_handler(429, too_many_requests)  # in the person's language, with when to try again
    outage.register(app)  # 503 without the database for connection failures (portal/main/outage.py)
