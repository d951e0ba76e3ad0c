"""Small helpers for views: safe redirects, errors from services onto forms."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request, url_for
from flask_wtf import FlaskForm

from portal.core.errors import InvalidInput


def safe_next(default_endpoint: str = "main.index") -> str:
    """The `next` target if it stays on this site (no open redirect), else the default page."""
    target = request.values.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return url_for(default_endpoint)


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
