"""Submitting a dossier through the API, for a citizen identified by citizen ID, exactly once per
`Idempotency-Key`.

The key's row is written first, in the transaction that files the dossier: the dossier exists exactly when its key
does. A concurrent request with the same key waits on the key's unique index (PostgreSQL) or on the database's
write lock (SQLite) and then fails to insert it; it rolls back and answers what the first one stored. A refused
submission (invalid data) rolls back its key too, so the client may correct it and send it again.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal.api import queries
from portal.api.problems import ApiProblem
from portal.attachments.services import store_upload
from portal.citizen.services import check_files, raw_values
from portal.core.errors import InvalidInput
from portal.dossiers import services as dossiers
from portal.extensions import db
from portal.models import Dossier, Origin, ServiceAccount, User
from portal.procedures.services import current_version
from workflows.bpmn_model import FormFieldSpec


def _invalid(field: str, message: str) -> ApiProblem:
    return ApiProblem(422, "invalid-input", None, [{"field": field, "message": message}])


def _citizen(citizen_id: str) -> User:
    found = list(db.session.scalars(select(User).where(User.citizen_id == citizen_id, User.kind == "citizen").limit(2)))
    if len(found) != 1 or not found[0].active:
        raise _invalid("citizen_id", _("No active citizen account has this citizen ID."))
    return found[0]


def _typed(spec: FormFieldSpec, value: Any) -> bool:
    """JSON types the form field takes (the form's own rules check the values after)."""
    if value is None:
        return True
    if spec.type == "long":
        return isinstance(value, int) and not isinstance(value, bool)
    if spec.type == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)


def check_data(fields: list[FormFieldSpec], data: dict[str, Any]) -> None:
    known = {spec.id: spec for spec in fields}
    errors = []
    for name, value in data.items():
        spec = known.get(name)
        if spec is None:
            errors.append({"field": f"data.{name}", "message": _("Unknown field.")})
        elif spec.widget == "file":
            errors.append({"field": f"data.{name}", "message": _("Send files in attachments, not in data.")})
        elif not _typed(spec, value):
            errors.append({"field": f"data.{name}", "message": _("Invalid input type.")})
    if errors:
        raise ApiProblem(422, "invalid-input", None, errors)


def store_files(fields: list[FormFieldSpec], files: list[dict[str, Any]], owner: User) -> dict[str, str]:
    """Store each attachment as the citizen's upload; the file fields' values ("12,15")."""
    file_fields = {spec.id for spec in fields if spec.widget == "file"}
    ids: dict[str, list[str]] = {}
    for n, item in enumerate(files):
        where = f"attachments.{n}"
        if item["field"] not in file_fields:
            raise _invalid(f"{where}.field", _("The form has no file field of this name."))
        try:
            content = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise _invalid(f"{where}.content_base64", _("Not valid base64.")) from None
        try:
            attachment = store_upload(owner, item["filename"], content, item["field"])
        except InvalidInput as refused:
            raise _invalid(f"{where}.content_base64", refused.message) from None
        ids.setdefault(item["field"], []).append(str(attachment.id))
    return {name: ",".join(values) for name, values in ids.items()}


def submit(account: ServiceAccount, body: dict[str, Any]) -> Dossier:
    """File the dossier; the caller holds the unit of work (and the reserved key)."""
    procedure = queries.published_procedure(body["procedure"])
    if procedure.agency_id not in set(account.agency_ids or []):
        raise ApiProblem(403, "agency-not-allowed", _("This account may not submit dossiers to this agency."))
    version = current_version(procedure)
    if version is None or procedure.service_level == "public_service":
        raise _invalid("procedure", _("This procedure takes no applications online."))
    citizen = _citizen(body["citizen_id"])
    step = dossiers.submit_step(version)
    check_data(step.form, body["data"])
    values = {**body["data"], **store_files(step.form, body.get("attachments") or [], citizen)}
    check_files(step.form, values, citizen)
    return dossiers.submit_dossier(version, citizen, raw_values(step.form, values), origin=origin_of(account))


def origin_of(account: ServiceAccount) -> str:
    """Dossiers the national public service portal forwards are marked as its own (officers see it, and the
    statistics can tell them apart); NATIONAL_PORTAL_ACCOUNT names its service account."""
    national = current_app.config.get("NATIONAL_PORTAL_ACCOUNT", "")
    return Origin.NATIONAL_PORTAL if national and account.name == national else Origin.API
