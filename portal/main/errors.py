"""Error pages: plain words in Vietnamese and English, never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _wants_json():
            return jsonify(error=error.name, message=error.description), error.code
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        from portal.extensions import db

        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        message = _("Something went wrong on our side. Nothing you entered was saved; please try again.")
        if _wants_json():
            return jsonify(error="Internal Server Error", message=message), 500
        return render_template("errors/error.html", error=None, message=message), 500
