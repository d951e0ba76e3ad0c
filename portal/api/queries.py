"""What the API's read operations load: the catalogue page by page, one procedure, one dossier an account may
see. Read only; views turn the results into JSON."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.api.problems import ApiProblem
from portal.core.presentation import status_label
from portal.extensions import db
from portal.models import Attachment, Dossier, Procedure, ProcedureVersion, ServiceAccount, Task, TaskState
from portal.procedures.services import compiled, current_version
from workflows.bpmn_model import ProcedureModel


@dataclass
class Page:
    items: list[Procedure]
    next_cursor: str | None


def encode_position(**values: int) -> str:
    """An opaque cursor for the position after which a list continues (e.g. `after=<id>`)."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_position(cursor: str, *names: str) -> tuple[int, ...]:
    """The values `names` of a cursor `encode_position` gave; anything else is a 422 on the field `cursor`."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = tuple(data[name] for name in names) if isinstance(data, dict) else None
    except (ValueError, binascii.Error, KeyError, UnicodeDecodeError):
        values = None
    if values is None or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63 for v in values):
        raise ApiProblem(422, "invalid-input", None, [{"field": "cursor", "message": _("Not a cursor this API gave.")}])
    return values


def encode_cursor(last_id: int) -> str:
    return encode_position(after=last_id)


def decode_cursor(cursor: str) -> int:
    """The id a cursor continues after."""
    return decode_position(cursor, "after")[0]


def catalogue_page(cursor: str | None, limit: int) -> Page:
    """Published procedures in id order (stable while procedures are added), `limit` after the cursor."""
    stmt = select(Procedure).where(Procedure.published).order_by(Procedure.id).limit(limit + 1)
    if cursor:
        stmt = stmt.where(Procedure.id > decode_cursor(cursor))
    rows = list(db.session.scalars(stmt))
    more = len(rows) > limit
    items = rows[:limit]
    return Page(items, encode_cursor(items[-1].id) if more and items else None)


def published_procedure(code: str) -> Procedure:
    """By the portal's key (unique), else by the national catalogue code when one published procedure has it."""
    found = db.session.scalar(select(Procedure).where(Procedure.key == code, Procedure.published))
    if found is None:
        matches = list(
            db.session.scalars(select(Procedure).where(Procedure.code == code, Procedure.published).limit(2))
        )
        if len(matches) > 1:
            raise ApiProblem(
                409,
                "ambiguous-code",
                _("Several procedures have this national code; ask by the procedure's key instead."),
            )
        found = matches[0] if matches else None
    if found is None:
        raise ApiProblem(404, None, _("There is no published procedure with this code."))
    return found


def published_version(procedure: Procedure) -> ProcedureVersion | None:
    return current_version(procedure)


def model_of(version: ProcedureVersion) -> ProcedureModel:
    return compiled(version).model


def visible_dossier(code: str, account: ServiceAccount) -> Dossier:
    """A dossier of one of the account's agencies. Any other dossier is a 404, as one that does not exist: an
    account must not learn which codes exist elsewhere."""
    dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None or dossier.agency_id not in set(account.agency_ids or []):
        raise ApiProblem(404, None, _("There is no dossier with this code that this account may read."))
    return dossier


def dossier_body(dossier: Dossier) -> dict[str, Any]:
    procedure = dossier.version.procedure
    tasks = db.session.scalars(
        select(Task).where(Task.dossier_id == dossier.id, Task.state == TaskState.READY).order_by(Task.id)
    )
    files = db.session.scalars(select(Attachment).where(Attachment.dossier_id == dossier.id).order_by(Attachment.id))
    return {
        "code": dossier.code,
        "status": {"code": dossier.status, "label": status_label(dossier.status)},
        "procedure": {
            "key": procedure.key,
            "code": procedure.code,
            "name": procedure.name,
            "version": dossier.version.number,
        },
        "agency": {"code": dossier.agency.code, "name": dossier.agency.name},
        "channel": dossier.channel,
        "created_at": dossier.created_at,
        "submitted_at": dossier.submitted_at,
        "received_at": dossier.received_at,
        "appointment_at": dossier.appointment_at,
        "finished_at": dossier.finished_at,
        "returned_at": dossier.returned_at,
        "closed_at": dossier.closed_at,
        "timeliness": dossier.timeliness,
        "current_steps": [
            {"id": t.bpmn_id, "name": t.name, "role": t.role, "since": t.created_at, "due_at": t.due_at} for t in tasks
        ],
        "documents": [
            {
                "id": a.id,
                "field": a.field,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
                "uploaded_at": a.created_at,
            }
            for a in files
        ],
    }
