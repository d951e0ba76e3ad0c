"""The citizen's operations: drafts, applying, answering a step, withdrawing, rating.

Services flush; the views commit or roll back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from portal.citizen.forms import accepted, file_specs, type_names
from portal.core import audit
from portal.core.errors import InvalidInput, NotAllowed, ServiceError
from portal.core.time import as_utc, utcnow
from portal.dossiers import services as dossiers
from portal.extensions import db
from portal.models import Attachment, Dossier, Draft, Procedure, ProcedureVersion, Rating, Status, Task, TaskState, User
from portal.procedures.services import current_version
from workflows.bpmn_model import FormFieldSpec, StepSpec

APPLICANT_ROLE = "applicant"
MAX_DRAFT_VALUE = 5000  # characters of a field a draft keeps (forms.builder.DEFAULT_MAX_TEXT: no valid text is longer)
IDS = re.compile(r"^\d{1,12}(,\d{1,12})*$")
# The dossier is over for the citizen: they may rate it.
RATEABLE = frozenset({Status.NOT_ACCEPTED, Status.STOPPED, Status.FINISHED, Status.RETURNED})


# -- the application form and its draft -----------------------------------------------------------------


def apply_version(procedure: Procedure) -> ProcedureVersion | None:
    """The version a new application starts, if the procedure takes online applications."""
    if not procedure.published or procedure.service_level == "public_service":
        return None
    return current_version(procedure)


def submit_step(version: ProcedureVersion) -> StepSpec:
    return dossiers.submit_step(version)


def get_draft(user: User, procedure: Procedure) -> Draft | None:
    return db.session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.procedure_id == procedure.id))


def save_draft(user: User, procedure: Procedure, fields: list[FormFieldSpec], values: Mapping[str, Any]) -> Draft:
    """Keep what the citizen typed: only the form's own fields, as text. A text over MAX_DRAFT_VALUE is left out,
    never cut: a cut text brought back later could be sent without its end."""
    data = {}
    for spec in fields:
        value = values.get(spec.id)
        if value is None or isinstance(value, dict | list) or len(str(value)) > MAX_DRAFT_VALUE:
            continue
        data[spec.id] = str(value)
    draft = get_draft(user, procedure)
    if draft is None:
        draft = Draft(user_id=user.id, procedure_id=procedure.id)
        db.session.add(draft)
    draft.data = data
    draft.updated_at = utcnow()
    db.session.flush()
    return draft


def delete_draft(user: User, procedure: Procedure) -> None:
    draft = get_draft(user, procedure)
    if draft is not None:
        db.session.delete(draft)
        db.session.flush()


@dataclass
class DraftSummary:
    """A draft as the citizen's lists show it."""

    draft: Draft
    procedure: Procedure
    can_continue: bool  # the procedure still takes online applications
    form_updated_at: datetime | None  # a newer form was published after the draft was last saved
    filled: int  # required fields of the current form that have a value
    required: int


def summarize_draft(draft: Draft, procedure: Procedure) -> DraftSummary:
    version = apply_version(procedure)
    try:
        fields = submit_step(version).form if version is not None else None
    except ServiceError:  # a version without an application form takes no application either
        fields = None
    if version is None or fields is None:
        return DraftSummary(draft, procedure, False, None, 0, 0)
    required = [spec for spec in fields if spec.required]
    filled = sum(1 for spec in required if str(draft.data.get(spec.id) or "").strip())
    published = version.published_at
    newer = published is not None and as_utc(published) > as_utc(draft.updated_at)
    return DraftSummary(draft, procedure, True, published if newer else None, filled, len(required))


def _drafts(user: User) -> Select[Draft, Procedure]:
    return select(Draft, Procedure).join(Procedure, Procedure.id == Draft.procedure_id).where(Draft.user_id == user.id)


def drafts_of(user: User) -> list[DraftSummary]:
    """The user's drafts, the last saved first (at most one per procedure, so the list stays short)."""
    stmt = _drafts(user).order_by(Draft.updated_at.desc(), Draft.id.desc())
    return [summarize_draft(draft, procedure) for draft, procedure in db.session.execute(stmt)]


def own_draft(user: User, draft_id: int) -> DraftSummary | None:
    """The draft `draft_id` if it is the user's (None for a missing one and for someone else's alike)."""
    row = db.session.execute(_drafts(user).where(Draft.id == draft_id)).first()
    return summarize_draft(*row) if row is not None else None


def draft_files(draft: Draft) -> list[Attachment]:
    """The files uploaded for the draft: named in one of its fields, uploaded for that field, in no dossier."""
    wanted = {(name, i) for name, value in (draft.data or {}).items() for i in ids_of(value)}
    if not wanted:
        return []
    rows = db.session.scalars(
        select(Attachment).where(
            Attachment.id.in_({i for _name, i in wanted}),
            Attachment.uploaded_by_id == draft.user_id,
            Attachment.dossier_id.is_(None),
        )
    )
    return [a for a in rows if (a.field, a.id) in wanted]


def discard_draft(user: User, draft: Draft) -> list[str]:
    """Delete the user's draft and the files uploaded for it, in the caller's transaction, with an audit line.

    Returns the storage keys of the deleted files: the caller removes them from disk once the deletion is
    committed (a rollback leaves the rows and their files as they were).
    """
    if draft.user_id != user.id:
        raise NotAllowed(_("This draft is not yours."))
    files = draft_files(draft)
    procedure = db.session.get(Procedure, draft.procedure_id)
    audit.record(
        "draft.discard", user, draft, procedure=procedure.key if procedure else None, files=[a.id for a in files]
    )
    for attachment in files:
        db.session.delete(attachment)
    db.session.delete(draft)
    db.session.flush()
    return [a.storage_key for a in files]


def raw_values(fields: list[FormFieldSpec], formdata: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted values of a step's fields, as typed: the service layer validates and converts them."""
    return {spec.id: formdata.get(spec.id) for spec in fields}


# -- attachments named by a form ------------------------------------------------------------------------


def owned_files(user: User, ids: list[int], dossier: Dossier | None = None) -> list[Attachment]:
    """The user's own files among `ids` that are free or already in `dossier` (others are silently left out)."""
    if not ids:
        return []
    rows = db.session.scalars(select(Attachment).where(Attachment.id.in_(ids), Attachment.uploaded_by_id == user.id))
    allowed = (None, dossier.id if dossier else None)
    by_id = {a.id: a for a in rows if a.dossier_id in allowed}
    return [by_id[i] for i in ids if i in by_id]


def ids_of(value: object) -> list[int]:
    text = str(value or "").strip()
    return [int(part) for part in text.split(",")] if IDS.match(text) else []


def check_files(
    fields: list[FormFieldSpec], values: Mapping[str, Any], user: User, dossier: Dossier | None = None
) -> None:
    """Count limits per field and per application, and the types each field takes; raises InvalidInput."""
    per_field = current_app.config["CITIZEN_MAX_FILES_PER_FIELD"]
    per_dossier = current_app.config["CITIZEN_MAX_FILES_PER_DOSSIER"]
    errors: dict[str, list[str]] = {}
    total = 0
    for spec in file_specs(fields):
        ids = ids_of(values.get(spec.id))
        total += len(ids)
        if len(ids) > per_field:
            errors[spec.id] = [_("Attach at most %(n)d files here.", n=per_field)]
            continue
        wrong = [a.filename for a in owned_files(user, ids, dossier) if a.content_type not in accepted(spec)]
        if wrong:
            errors[spec.id] = [
                _("%(names)s: this field takes only %(types)s files.", names=", ".join(wrong), types=type_names(spec))
            ]
    if total > per_dossier:
        raise InvalidInput(_("An application can have at most %(n)d files.", n=per_dossier), errors)
    if errors:
        raise InvalidInput(_("Please correct the highlighted fields."), errors)


def pending_uploads(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(Attachment.uploaded_by_id == user.id, Attachment.dossier_id.is_(None))
        )
        or 0
    )


# -- applying, answering, withdrawing ----------------------------------------------------------------------


def apply(procedure: Procedure, user: User, values: Mapping[str, Any]) -> Dossier:
    """File the application: check the files, submit the dossier, forget the draft."""
    version = apply_version(procedure)
    if version is None:
        raise NotAllowed(_("This procedure does not take online applications at the moment."))
    step = submit_step(version)
    check_files(step.form, values, user)
    dossier = dossiers.submit_dossier(version, user, raw_values(step.form, values))
    delete_draft(user, procedure)
    return dossier


def open_applicant_tasks(user: User, dossier_ids: list[int]) -> dict[int, Task]:
    """The step each dossier waits for its applicant to do, if any: "what is expected of me now"."""
    if not dossier_ids:
        return {}
    stmt = (
        select(Task)
        .where(
            Task.dossier_id.in_(dossier_ids),
            Task.state == TaskState.READY,
            Task.role == APPLICANT_ROLE,
            Task.assignee_id == user.id,
        )
        .order_by(Task.id)
    )
    return {task.dossier_id: task for task in db.session.scalars(stmt)}


def applicant_task(dossier: Dossier, task_id: int, user: User) -> Task | None:
    """The dossier's waiting step `task_id`, when it is this user's to do (else None: the page is a 404)."""
    task = db.session.get(Task, task_id)
    if task is None or task.dossier_id != dossier.id or task.role != APPLICANT_ROLE or task.assignee_id != user.id:
        return None
    return task


def answer(task: Task, user: User, values: Mapping[str, Any], step: StepSpec) -> Dossier:
    check_files(step.form, values, user, task.dossier)
    return dossiers.complete_task(task.id, user, raw_values(step.form, values))


def withdraw(dossier: Dossier, user: User, reason: str) -> Dossier:
    result = dossiers.withdraw_dossier(dossier.id, user, reason)
    audit.record("dossier.withdraw", user, result, code=result.code)
    return result


def can_withdraw(dossier: Dossier, user: User) -> bool:
    return dossier.applicant_id == user.id and not dossier.is_ended and dossier.status in dossiers.WITHDRAWABLE


# -- rating ---------------------------------------------------------------------------------------------


def rating_of(dossier: Dossier) -> Rating | None:
    return db.session.scalar(select(Rating).where(Rating.dossier_id == dossier.id))


def can_rate(dossier: Dossier, user: User) -> bool:
    """Once, by the applicant, when the dossier is over (finished, returned, refused or stopped)."""
    if dossier.applicant_id != user.id or dossier.status == Status.WITHDRAWN:
        return False
    return (dossier.status in RATEABLE or dossier.is_ended) and rating_of(dossier) is None


def rate(dossier: Dossier, user: User, level: int, comment: str | None) -> Rating:
    if dossier.applicant_id != user.id:
        raise NotAllowed(_("Only the applicant can rate this dossier."))
    if not can_rate(dossier, user):
        raise ServiceError(_("This dossier cannot be rated now, or it was rated already."))
    if level not in (1, 2, 3):
        raise InvalidInput(
            _("Please choose one of the three answers."), {"level": [_("Please choose one of the three answers.")]}
        )
    rating = Rating(dossier_id=dossier.id, user_id=user.id, level=level, comment=(comment or "").strip() or None)
    try:
        with db.session.begin_nested():  # a savepoint: only this insert is undone if it loses a race
            db.session.add(rating)
    except IntegrityError:  # rated at the same moment in another tab
        raise ServiceError(_("This dossier cannot be rated now, or it was rated already.")) from None
    return rating
