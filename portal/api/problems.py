"""Every error under /api/v1 as RFC 9457 `application/problem+json`, in the caller's language.

`{"type", "title", "status", "detail"}`, plus `errors: [{"field", "message"}]` for invalid input (one entry per
bad field). Types are relative URIs of the API's documentation (docs/API.md lists them); a plain HTTP error with
nothing more to say is `about:blank`, as RFC 9457 recommends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
PREFIX = "/api/v1/"
TYPE_BASE = "/api/v1/problems/"

TITLES = {
    400: _l("Bad request"),
    401: _l("Authentication required"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    406: _l("Not acceptable"),
    409: _l("Conflict"),
    413: _l("Request too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid input"),
    429: _l("Too many requests"),
    500: _l("Internal error"),
    503: _l("Service unavailable"),
}
DETAILS = {
    400: _l("The request could not be understood."),
    401: _l("Send a valid service account token: Authorization: Bearer <token>."),
    403: _l("This service account may not do this."),
    404: _l("There is nothing at this address."),
    405: _l("This method is not allowed at this address."),
    413: _l("The request body is too large."),
    415: _l("Send the body as application/json."),
    422: _l("Some values are not valid; see errors."),
    429: _l("Too many requests for this service account; try again later."),
    500: _l("Something went wrong on our side; nothing was saved. Please try again."),
    503: _l("The service is briefly unavailable; please try again later."),
}


class ApiProblem(HTTPException):
    """Raised by the API's code to answer with a problem of a given type (and field errors)."""

    def __init__(
        self,
        status: int,
        kind: str | None = None,
        detail: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description=detail)
        self.code = status
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.extra_headers = dict(headers or {})


def is_api_request(path: str) -> bool:
    return path == PREFIX.rstrip("/") or path.startswith(PREFIX)


def problem(
    status: int,
    kind: str | None = None,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind if kind else "about:blank",
        "title": str(TITLES.get(status, _("Error"))),
        "status": status,
        "detail": detail or str(DETAILS.get(status, "")),
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    response.headers["Content-Language"] = str(get_locale() or "vi")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(messages: Mapping[str, Any], prefix: str = "") -> list[dict[str, str]]:
    """Marshmallow/webargs messages ({"query": {"limit": ["…"]}}, nested dicts, lists) as one entry per field."""
    found: list[dict[str, str]] = []
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else ("body" if key == "_schema" else str(key))
        if isinstance(value, Mapping):
            found += field_errors(value, name)
        else:
            texts: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
            found += [{"field": name, "message": str(text)} for text in texts if not isinstance(text, Mapping)]
            for nested in (t for t in texts if isinstance(t, Mapping)):
                found += field_errors(nested, name)
    return found


LOCATIONS = ("query", "json", "form", "headers", "files", "path", "view_args")


def _webargs_errors(error: HTTPException) -> list[dict[str, str]] | None:
    data = getattr(error, "data", None)
    messages = data.get("messages") if isinstance(data, Mapping) else None
    if not isinstance(messages, Mapping):
        return None
    # {"query": {"limit": [...]}} → field "limit": where the value came from is clear from the operation.
    flat: dict[str, Any] = {}
    for key, value in messages.items():
        if key in LOCATIONS and isinstance(value, Mapping):
            flat.update(value)
        else:
            flat[key] = value
    return field_errors(flat)


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, ApiProblem):
        return problem(status, error.kind, error.detail, error.errors, error.extra_headers)
    errors = _webargs_errors(error)
    if errors is not None and status == 400:  # webargs: the body is not JSON at all
        message = _("The body is not valid JSON.")
        return problem(400, "malformed-body", message, [{"field": "body", "message": message}])
    if errors is not None:  # webargs/flask-smorest refused the arguments
        return problem(422, "invalid-input", None, errors)
    headers = {}
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    own = error.description and error.description != type(error).description
    return problem(status, None, _(error.description) if own and error.description else None, None, headers)


def internal_error() -> Response:
    return problem(500)
