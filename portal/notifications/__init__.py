"""Notifications and background work: the outbox of messages (email, SMS, in-app), deadline reminders and
escalations, the periodic BPMN timer pass, and their Celery jobs. See README "Background work"."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the /notifications pages and the badge, and start listening to dossier events."""
    from . import events, outbox, tasks  # noqa: F401  (outbox: its session hooks; tasks: the Celery jobs)
    from .views import bp

    app.register_blueprint(bp)
    events.connect()
