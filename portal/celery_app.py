"""Entry point of the Celery worker and beat: `celery -A portal.celery_app worker` / `... beat`.

The only place a worker builds the Flask application (with the factory, from the environment, like wsgi.py);
every task then runs inside its app context.
"""

from __future__ import annotations

from celery.signals import after_setup_logger

from portal import create_app
from portal.core.logs import remove_default_handler
from portal.notifications.schedule import beat_schedule

flask_app = create_app()
celery = flask_app.extensions["celery"]
celery.conf.beat_schedule = beat_schedule(flask_app.config)
after_setup_logger.connect(remove_default_handler, weak=False)
