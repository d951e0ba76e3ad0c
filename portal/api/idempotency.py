"""Every POST of the API happens at most once per `Idempotency-Key`.

The key's row is written first, in the transaction that does the work: the work is kept exactly when its key
is. A concurrent request with the same key waits on the key's unique index (PostgreSQL) or on the database's
write lock (SQLite) and then fails to insert it; it rolls back and answers what the first one stored. A refused
request (invalid data, a conflict) rolls back its key too, so the client may correct it and send it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.api.problems import ApiProblem
from portal.core.errors import Conflict, InvalidInput, NotFound, ServiceError, StepFailed
from portal.core.web import unit_of_work
from portal.extensions import db
from portal.models import IdempotencyKey, ServiceAccount

MAX_KEY_LENGTH = 200

IDEMPOTENCY_KEY = {  # the header, as the OpenAPI document shows it on every POST
    "in": "header",
    "name": "Idempotency-Key",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": "unique per request; a retry with the same key and body gets the first answer again",
}


@dataclass
class Answer:
    status: int
    body: str
    location: str | None
    replayed: bool = False


# What an operation did: its status, its JSON body and, for a creation, the new resource's address.
Work = Callable[[], tuple[int, str, str | None]]


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def check_key(key: str | None) -> str:
    """A usable Idempotency-Key: 1 to 200 printable ASCII characters."""
    key = (key or "").strip().strip('"')
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ApiProblem(
            400,
            "idempotency-key-required",
            _("Send an Idempotency-Key header (1 to 200 characters) with every POST; reuse it only to retry."),
            [{"field": "Idempotency-Key", "message": _("Missing or not valid.")}],
        )
    return key


def stored_answer(account: ServiceAccount, key: str, print_: str) -> Answer | None:
    row = db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.account_id == account.id, IdempotencyKey.key == key)
    )
    if row is None:
        return None
    if row.fingerprint != print_:
        raise ApiProblem(
            422,
            "idempotency-key-reused",
            _("This Idempotency-Key was used for a different request; use a new key for a new request."),
            [{"field": "Idempotency-Key", "message": _("Already used for a different request.")}],
        )
    return Answer(row.status, row.body, row.location, replayed=True)


def reserve(account: ServiceAccount, key: str, print_: str) -> IdempotencyKey:
    row = IdempotencyKey(account_id=account.id, key=key, fingerprint=print_, status=0, body="")
    db.session.add(row)
    db.session.flush()  # a concurrent twin waits here, then fails with an IntegrityError
    return row


def answer_once(account: ServiceAccount, body: Any, work: Work) -> Response:
    """Do `work` in one transaction with the request's key, or answer what the key's first request got."""
    key = check_key(request.headers.get("Idempotency-Key"))
    print_ = fingerprint(request.method, request.path, body)
    answer = stored_answer(account, key, print_)
    if answer is None:
        try:
            answer = _do_once(account, key, print_, work)
        except IntegrityError:  # a concurrent request with the same key won: answer what it stored
            answer = stored_answer(account, key, print_)
            if answer is None:
                raise
    response = Response(answer.body, status=answer.status, mimetype="application/json")
    if answer.location:
        response.headers["Location"] = answer.location
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _do_once(account: ServiceAccount, key: str, print_: str, work: Work) -> Answer:
    try:
        with unit_of_work():
            row = reserve(account, key, print_)
            row.status, row.body, row.location = work()
    except InvalidInput as refused:
        errors = [{"field": f"data.{name}", "message": m} for name, texts in refused.errors.items() for m in texts]
        raise ApiProblem(422, "invalid-input", refused.message, errors) from None
    except StepFailed as failed:  # the procedure's own code failed; an incident is recorded, nothing was kept
        raise ApiProblem(500, "step-failed", failed.message) from None
    except NotFound as missing:
        raise ApiProblem(404, None, missing.message) from None
    except Conflict as conflict:
        raise ApiProblem(409, None, conflict.message) from None
    except ServiceError as refused:  # NotAllowed and the rest: the request cannot be done as asked
        raise ApiProblem(422, "not-possible", refused.message) from None
    return Answer(row.status, row.body, row.location)
