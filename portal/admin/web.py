"""Helpers shared by the administration views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from portal.core.errors import InvalidInput, NotFound, ServiceError
from portal.core.web import put_errors_on, unit_of_work

T = TypeVar("T")


def found(load: Callable[..., T], *args: Any) -> T:
    """The object a service loads, or a 404 page."""
    try:
        return load(*args)
    except NotFound:
        abort(404)


def attempt(action: Callable[[], T], form: FlaskForm | None = None) -> T | None:
    """Run a service call in one unit of work; on a refusal (rolled back) show why, on the form or as a
    message, and answer None."""
    try:
        with unit_of_work():
            result = action()
    except NotFound:
        abort(404)
    except InvalidInput as error:
        if form is not None:
            put_errors_on(form, error)
        else:
            flash(error.message, "error")
        return None
    except ServiceError as error:
        flash(error.message, "error")
        return None
    return result if result is not None else True  # type: ignore[return-value]


def status_code(form: FlaskForm) -> int:
    """422 when a posted form is shown again with errors, so tests and tools see the refusal."""
    return 422 if form.errors else 200


def saved() -> None:
    flash(_("Saved."), "success")
