"""Where the portal's own log lines go when nobody configured logging: stderr, at LOG_LEVEL.

gunicorn and Celery configure their own loggers but not the application's, so without this the `portal` loggers
fall back to Python's last-resort handler, which shows warnings and errors only: a sent mail, a retried webhook
or a national-sync push would leave no line in the journal. A deployment that configures logging itself (a
handler on the root or `portal` logger, e.g. from gunicorn's `logconfig_dict`) is left as it is.
"""

from __future__ import annotations

import logging
import sys

from flask import Flask

HANDLER_NAME = "motcua-default"
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"


def configure_logging(app: Flask) -> None:
    if app.testing:  # pytest captures the records itself
        return
    portal = logging.getLogger("portal")
    level = str(app.config.get("LOG_LEVEL") or "INFO").upper()
    portal.setLevel(level)
    if portal.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.set_name(HANDLER_NAME)
    portal.addHandler(handler)


def remove_default_handler(**_signal: object) -> None:
    """Celery sets up the root logger of its worker and beat after the app is built: from then on the portal's
    lines reach stderr through it, and the handler added above would print each of them twice."""
    portal = logging.getLogger("portal")
    for handler in list(portal.handlers):
        if handler.get_name() == HANDLER_NAME:
            portal.removeHandler(handler)
