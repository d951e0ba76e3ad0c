"""One check, before every view, for characters no person types: NUL and the other control characters.

PostgreSQL refuses "\\x00" in text and "\\u0000" in JSON, so such a value used to end in a 500 deep inside a
service (and SQLite stored it silently: the two databases disagreed). The request is refused here instead, with
a 400 in the person's language. Tab, line feed and carriage return stay allowed: text areas hold them.
`next` is left to `safe_next`, which ignores any odd value and falls back to the default page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

# C0 controls except \t \n \r, DEL, lone surrogates (a JSON "\\ud800" cannot be encoded to UTF-8 for the
# database) and the non-characters U+FFFE/U+FFFF.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
SKIPPED_KEYS = frozenset({"next"})  # safe_next already ignores what is not a clean local path
MAX_JSON_DEPTH = 50


def _bad_text(value: object) -> bool:
    return isinstance(value, str) and FORBIDDEN.search(value) is not None


def _bad_pairs(pairs: Iterable[tuple[str, str]]) -> bool:
    return any(_bad_text(key) or (key not in SKIPPED_KEYS and _bad_text(value)) for key, value in pairs)


def _bad_json(value: Any, depth: int = 0) -> bool:
    if depth > MAX_JSON_DEPTH:
        return False  # the JSON parser's own limits apply; nothing to store from this deep anyway
    if isinstance(value, dict):
        return any(_bad_text(k) or _bad_json(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad_json(v, depth + 1) for v in value)
    return _bad_text(value)


def has_forbidden_characters() -> bool:
    """Query string, form fields and a JSON body; the path too (a route's <string:…> part)."""
    if _bad_text(request.path) or _bad_pairs(request.args.items(multi=True)):
        return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if _bad_pairs(request.form.items(multi=True)):
            return True
        if request.is_json and _bad_json(request.get_json(silent=True)):
            return True
    return False


def refuse_forbidden_characters() -> None:
    if has_forbidden_characters():
        abort(
            400,
            description=_(
                "What you sent contains invisible control characters (such as a null character), which cannot "
                "be stored. Remove them (retyping the text is the surest way) and try again."
            ),
        )


class BoundedIntegerConverter(IntegerConverter):
    """`<int:…>` up to the largest 64-bit integer: a bigger id cannot name a row, so the URL does not match (404)
    instead of overflowing the database driver (SQLite raised OverflowError: a 500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # werkzeug's name for it
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def register(app: Flask) -> None:
    # First in line, so that no view or other hook ever sees such a value.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_forbidden_characters)
    # Rules take their converter when they are added: the main blueprint is registered first (portal/__init__.py).
    app.url_map.converters["int"] = BoundedIntegerConverter
