"""The task page: the dossier, its history, and the step's form; doing the step from the posted form."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.attachments.services import store_upload
from portal.citizen.blueprint import step_name
from portal.core.errors import Conflict, InvalidInput, NotAllowed, ServiceError
from portal.core.time import utcnow
from portal.core.web import put_errors_on, unit_of_work
from portal.dossiers.access import APPLICANT_ROLE, NAMED_ROLE, can_act_on_task
from portal.dossiers.named import is_named_task, named_officers
from portal.dossiers.named import step_of as step_of_task
from portal.dossiers.services import complete_task
from portal.extensions import db
from portal.models import Dossier, Task
from portal.sla.services import calendar_for

from . import pages, services
from .forms import UPLOAD_SUFFIX, ActionForm, CommentForm, step_form_class
from .queries import scope_of
from .timeleft import time_left


def _english() -> bool:
    return str(get_locale() or "") == "en"


def _dossier_context(dossier: Dossier, comment_form: CommentForm | None) -> dict[str, Any]:
    from portal.citizen.timeline import field_labels
    from portal.docstore.services import store_origin
    from portal.documents.services import available_documents
    from portal.external.jobs import jobs_of
    from portal.procedures.services import compiled

    return {
        "dossier": dossier,
        "fields": pages.application_fields(dossier, _english()),
        "attachments": sorted(dossier.attachments, key=lambda a: a.id),
        # attachments taken from the citizen's document store, and who verified them (no query when none is)
        "from_store": store_origin(dossier.attachments),
        # which form field each file came with: the application, a supplement, the result
        "file_labels": field_labels(compiled(dossier.version).model, _english()),
        "events": pages.timeline(dossier),
        "open_steps": pages.open_steps(dossier),
        "external_jobs": jobs_of(dossier.id),
        "documents": available_documents(dossier, officer=True),
        "comment_form": comment_form or CommentForm(formdata=None),
    }


def render_dossier(dossier: Dossier, comment_form: CommentForm | None = None, status: int = 200):
    return render_template("inbox/dossier.html", **_dossier_context(dossier, comment_form)), status


def may_take(task: Task) -> bool:
    """The step is of one of my groups or names me (camunda:assignee, camunda:candidateUsers)."""
    return task.role != APPLICANT_ROLE and can_act_on_task(current_user, task)


def can_do(task: Task) -> bool:
    return task.is_open and may_take(task) and task.assignee_id in (None, current_user.id)


def render_task(task: Task, form: FlaskForm | None = None, comment_form: CommentForm | None = None, status: int = 200):
    dossier = task.dossier
    step = pages.step_of(task)
    if form is None and step is not None and task.is_open:
        form = step_form_class(step, _english())(formdata=None)
    left = time_left(calendar_for(dossier.agency), utcnow(), task.due_at) if task.due_at and task.is_open else None
    scope = scope_of(current_user)
    candidates: list[tuple[Any, Any]] = []
    if task.is_open and task.group_id is not None and scope.is_leader:
        candidates = [(u, g) for u, g in services.reassign_candidates(scope.leader_agency_ids) if g.id == task.group_id]
    elif task.is_open and is_named_task(task) and dossier.agency_id in scope.leader_agency_ids:
        candidates = _named_step_candidates(task)
    context = _dossier_context(dossier, comment_form)
    return render_template(
        "inbox/task.html",
        task=task,
        step=step,
        form=form,
        can_do=can_do(task),
        may_take=task.is_open and may_take(task),
        named=task.group_id is None and task.role == NAMED_ROLE,
        left=left,
        action_form=ActionForm(formdata=None),
        candidates=candidates,
        requests=pages.supplement_requests(dossier),
        upload_suffix=UPLOAD_SUFFIX,
        **context,
    ), status


def _named_step_candidates(task: Task) -> list[tuple[Any, Any]]:
    """Whom a leader may hand a step of named officers to: the officers it names, then every officer of the
    dossier's agency (each once)."""
    named = [(u, None) for u in named_officers(step_of_task(task))]
    agency = services.reassign_candidates([task.dossier.agency_id])
    return list({u.id: (u, g) for u, g in [*named, *agency]}.values())


def _store_uploads(step: Any, form: FlaskForm) -> None:
    """Keep uploaded files (committed on their own, unclaimed, like a citizen's uploads before submitting),
    so their ids survive any error in the rest of the form."""
    for spec in step.form:
        if spec.widget != "file":
            continue
        upload = form[spec.id + UPLOAD_SUFFIX].data
        if upload is None or not getattr(upload, "filename", ""):
            continue
        try:
            with unit_of_work():
                attachment = store_upload(current_user, upload.filename, upload.read(), field=spec.id)
        except InvalidInput as error:  # shown next to the file input, not only at the top
            raise InvalidInput(error.message, {spec.id: [error.message]}) from None
        kept = [v for v in (form[spec.id].data or "").split(",") if v]
        form[spec.id].data = ",".join([*kept, str(attachment.id)])


def _move_file_errors(step: Any, form: FlaskForm) -> None:
    for spec in step.form:
        if spec.widget == "file" and form[spec.id].errors:
            upload = form[spec.id + UPLOAD_SUFFIX]
            upload.errors = [*list(upload.errors or []), *form[spec.id].errors]
            form[spec.id].errors = []


# The decision form posts to the task page with #do-step, so an error re-render opens at the form. A browser
# keeps the request's fragment across a redirect whose Location has none (RFC 9110, 10.2.2), so the redirects
# after a post name their own place: the top of the page, where the message is.
TOP = "main"


def complete_from_form(task: Task):
    step = pages.step_of(task)
    if step is None or not task.is_open:
        flash(_("This step is no longer waiting: it was already handled."), "error")
        return redirect(url_for("inbox.task", task_id=task.id, _anchor=TOP))
    form = step_form_class(step, _english())()
    valid = form.validate_on_submit()
    if "csrf_token" not in form.errors:
        try:  # files are kept even when another field has an error, so nothing has to be chosen again
            _store_uploads(step, form)
        except InvalidInput as error:
            put_errors_on(form, error)
            valid = False
    if not valid:
        _move_file_errors(step, form)
        return render_task(task, form, status=422)
    status = 200
    try:
        data = {spec.id: form[spec.id].data for spec in step.form}
        with unit_of_work():  # a failed step (StepFailed) keeps the task waiting and becomes an incident
            dossier = complete_task(task.id, current_user, data)
    except InvalidInput as error:
        put_errors_on(form, error)
        _move_file_errors(step, form)
        status = 422
    except (Conflict, NotAllowed, ServiceError) as error:
        form.form_errors.append(error.message)
        status = 409 if isinstance(error, Conflict) else 403 if isinstance(error, NotAllowed) else 422
    else:
        # "Refuse the dossier (say why)": the hint in brackets is for the form, not for the confirmation
        decision = re.sub(r"\s*\([^()]*\)$", "", _choice_label(form, "decision") or "")
        done = _("%(step)s is done for dossier %(code)s.", step=step_name(task), code=dossier.code)
        if decision:
            done += " " + _("Decision: %(decision)s.", decision=decision)
        flash(done + " " + pages.next_step_words(dossier), "success")
        return redirect(url_for("inbox.index", _anchor=TOP, **_back_to_tab()))
    return render_task(db.session.get(Task, task.id) or task, form, status=status)


def _back_to_tab() -> dict[str, Any]:  # Any: url_for's keyword parameters are not all str
    tab = request.args.get("tab")
    return {"tab": tab} if tab else {}


def _choice_label(form: FlaskForm, name: str) -> str | None:
    if name not in form:
        return None
    field = form[name]
    return next((str(c.label) for c in field.choices if c.value == field.data), None)
