"""The civil servant's inbox: the tasks of my groups, claiming, reassigning, and the task page."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """The officer pages and the printable one-stop-shop documents (one call from the app factory)."""
    from portal.documents.views import bp as documents_bp
    from portal.inbox.views import bp as inbox_bp

    app.register_blueprint(inbox_bp)
    app.register_blueprint(documents_bp)
