"""Applying for a procedure: the form from the BPMN, its attachments, the autosaved draft, the receipt.

The dossier pages are in dossier_views.py, on the same blueprint.
"""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict

from portal.attachments.services import remove_stored
from portal.catalogue.services import localized, published_procedure
from portal.citizen import (
    docstore_views,  # noqa: F401  (registers the document store pages on the blueprint)
    dossier_views,  # noqa: F401  (registers the dossier pages on the blueprint)
    services,
)
from portal.citizen.blueprint import bp
from portal.citizen.docstore_views import store_choices, store_offers
from portal.citizen.forms import step_form_class
from portal.citizen.pages import add_upload_errors, apply_errors, step_page
from portal.citizen.uploads import json_refusal, take_posted_files
from portal.core.errors import ServiceError
from portal.core.web import unit_of_work
from portal.docstore.services import record_uses, take_store_choices
from portal.extensions import csrf
from portal.models import Procedure
from workflows.bpmn_model import StepSpec

__all__ = ["bp"]


def _application(key: str) -> tuple[Procedure, StepSpec]:
    procedure = published_procedure(key)
    version = services.apply_version(procedure) if procedure is not None else None
    if procedure is None or version is None:
        abort(404)
    return procedure, services.submit_step(version)


@bp.route("/procedures/<key>/apply", methods=["GET", "POST"])
@login_required
def apply(key: str):
    procedure, step = _application(key)
    form_class = step_form_class(step.form)
    context = {"procedure": procedure, "autosave": current_app.config["DRAFT_AUTOSAVE_SECONDS"]}
    if request.method == "GET":
        draft = services.get_draft(current_user, procedure)
        form = form_class(formdata=MultiDict(draft.data) if draft else None)
        summary = services.summarize_draft(draft, procedure) if draft else None
        store = store_offers(current_user, step.form)  # "use a document from my store", per file field
        return step_page("citizen/apply.html", step.form, form, draft=draft, summary=summary, store=store, **context)
    formdata = request.form.copy()
    with unit_of_work():  # files that were fine are kept, whatever happens to the rest of the form
        upload_errors = take_posted_files(current_user, step.form, formdata)
        for name, messages in take_store_choices(current_user, store_choices(step.form), formdata).items():
            upload_errors.setdefault(name, []).extend(messages)
    form = form_class(formdata=formdata)
    if form.validate() and not upload_errors:
        try:
            with unit_of_work():  # a failed step (StepFailed) leaves no dossier and becomes an incident
                dossier = services.apply(procedure, current_user, formdata)
                record_uses(dossier, current_user)  # the citizen's store: which dossier used which document
        except ServiceError as error:
            apply_errors(form, error)
        else:
            flash(_("Your application was sent. Keep the dossier code and the tracking secret."), "success")
            return redirect(url_for("citizen.receipt", dossier_id=dossier.id))
    add_upload_errors(form, upload_errors)
    with unit_of_work():
        draft = services.save_draft(current_user, procedure, step.form, formdata)  # nothing typed is lost
    store = store_offers(current_user, step.form)
    return step_page("citizen/apply.html", step.form, form, 422, draft=draft, store=store, **context)


@bp.route("/procedures/<key>/draft", methods=["GET", "POST"])
@csrf.exempt  # checked in json_refusal, after the sign-in check
def draft(key: str):
    """The apply page's autosave (POST JSON), and a fresh CSRF token with the saved draft (GET)."""
    if not current_user.is_authenticated:
        return json_refusal()
    procedure, step = _application(key)
    if request.method == "GET":
        saved = services.get_draft(current_user, procedure)
        return jsonify(csrf_token=generate_csrf(), data=saved.data if saved else {})
    refused = json_refusal()
    if refused is not None:
        return refused
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(error="invalid", message=_("The draft could not be read.")), 422
    with unit_of_work():
        saved = services.save_draft(current_user, procedure, step.form, payload)
    return jsonify(saved_at=saved.updated_at.isoformat())


@bp.route("/my/drafts/<int:draft_id>/discard", methods=["GET", "POST"])
@login_required
def discard_draft(draft_id: int):
    """Delete a draft and its uploaded files, after a confirmation page (no script needed)."""
    summary = services.own_draft(current_user, draft_id)
    if summary is None:
        abort(404)  # someone else's draft looks like a missing one
    form = FlaskForm()  # only the CSRF token: the button is the confirmation
    if form.validate_on_submit():
        name = localized(summary.procedure)
        with unit_of_work():
            stored = services.discard_draft(current_user, summary.draft)
        remove_stored(stored)  # only now that the rows are gone for good
        flash(_("The draft of %(name)s was deleted.", name=name), "success")
        return redirect(url_for("citizen.my_dossiers"))
    files = services.draft_files(summary.draft)
    return render_template("citizen/discard_draft.html", summary=summary, form=form, files=files)
