"""The portal's own log lines reach stderr once under a server that configures no logging (gunicorn), and are
not doubled where Celery sets up the root logger itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import logging, sys
from portal import create_app
create_app({{"ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite:///{db}", "LOG_LEVEL": "{level}"}})
{after}
logging.getLogger("portal.notifications.delivery").info("mail sent to 1 recipient")
logging.getLogger("portal.sync").debug("a debug line")
"""

CELERY_SETUP = """
from portal.core.logs import remove_default_handler
logging.basicConfig(stream=sys.stderr, format="celery-root %(name)s: %(message)s")  # what the worker sets up
remove_default_handler()  # connected to Celery's after_setup_logger in portal/celery_app.py
"""


def run(tmp_path: Path, level: str = "INFO", after: str = "") -> str:
    script = SCRIPT.format(db=tmp_path / "motcua.db", level=level, after=after)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stderr


def test_info_lines_reach_stderr_once_with_no_logging_configured(tmp_path: Path) -> None:
    err = run(tmp_path)
    assert err.count("mail sent to 1 recipient") == 1, err
    assert "INFO portal.notifications.delivery" in err
    assert "a debug line" not in err


def test_log_level_is_the_operators_choice(tmp_path: Path) -> None:
    assert "a debug line" in run(tmp_path, level="DEBUG")
    assert "mail sent" not in run(tmp_path, level="WARNING")


def test_under_celery_the_root_logger_prints_each_line_once(tmp_path: Path) -> None:
    err = run(tmp_path, after=CELERY_SETUP)
    assert err.count("mail sent to 1 recipient") == 1, err
    assert "celery-root portal.notifications.delivery: mail sent" in err
