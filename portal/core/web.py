"""Small helpers for views: the one commit point (`unit_of_work`), safe redirects, errors onto forms."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import request, url_for
from flask_wtf import FlaskForm

from portal.core.errors import InvalidInput, StepFailed
from portal.extensions import db

log = logging.getLogger(__name__)


class Work:
    """The unit of work in progress: `discard()` makes it roll back at the end instead of committing (a result
    the service reports as refused rather than raising, e.g. a BPMN file with problems)."""

    def __init__(self, discarded: bool = False) -> None:
        self.discarded = discarded

    def discard(self) -> None:
        self.discarded = True


@contextmanager
def unit_of_work(*, trial: bool = False) -> Iterator[Work]:
    """The one place a request's work is committed (Celery jobs and commands use it too; services only flush).

    Commits once when the block ends normally; on any exception rolls back and lets it go on to the caller.
    A `StepFailed` (the procedure's code failed or went past a budget) is then recorded as an incident in a
    transaction of its own, after the rollback, so nothing of the failed step and no lock it took survives.
    `trial=True` rolls back even on success: an administrator's retry that only checks a step now passes.
    """
    work = Work(discarded=trial)
    try:
        yield work
        if work.discarded:
            db.session.rollback()
        else:
            db.session.commit()
    except BaseException as exc:  # the commit itself may fail too (a constraint, a lost connection)
        db.session.rollback()
        if isinstance(exc, StepFailed) and exc.record:
            _record_incident(exc)
        raise


def _record_incident(failed: StepFailed) -> None:
    from portal.incidents.services import record

    try:
        record(failed)
        db.session.commit()
    except Exception:  # the database may be the trouble: the person still gets their plain message
        db.session.rollback()
        log.exception("could not record the incident of %s at %s", failed.operation, failed.element_id)


MAX_NEXT_LENGTH = 2000  # longer `next` values are not links the portal made


def is_local_path(target: str) -> bool:
    """A path on this site that is safe in a Location header: no scheme or host (no open redirect), no
    backslash (browsers read `/\\evil` as `//evil`), no control or other invisible characters (CR/LF would break
    the header; tabs and newlines are dropped by browsers, so `/\t/evil` would also become `//evil`)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if not target.isprintable():  # every control, format and separator character except the plain space
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(default_endpoint: str = "main.index") -> str:
    """The `next` target if it stays on this site, else the default page (odd values are ignored)."""
    target = request.values.get("next", "")
    if len(target) <= MAX_NEXT_LENGTH and is_local_path(target):
        return target
    return url_for(default_endpoint)


def int_arg(name: str, default: int, low: int = 0, high: int = 2**31 - 1) -> int:
    """A whole-number query parameter within [low, high]; anything else (text, 10**30) is the default."""
    value = request.args.get(name, "")
    if len(value) > 12 or not value.lstrip("-").isdigit() or not value.isascii():
        return default
    number = int(value)
    return number if low <= number <= high else default


def page_arg(name: str = "page") -> int:
    """The page number of a list (1 when absent or odd): huge values must not reach OFFSET (SQLite overflows)."""
    return int_arg(name, 1, 1, 1_000_000)


def put_errors_on(form: FlaskForm, error: InvalidInput) -> None:
    """Show a service's field errors next to the fields, and the rest at the top of the form."""
    for name, messages in error.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*list(field.errors or []), *messages]
        else:
            form.form_errors.extend(messages)
    if not error.errors:
        form.form_errors.append(error.message)
