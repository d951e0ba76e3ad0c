"""The citizen's document store pages ("Kho giấy tờ của tôi", /my/documents): list, add, download, delete; and
what the application form offers from it (portal/docstore/services.py does the work)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, StringField, validators

from forms.base import PortalForm
from forms.validators import Length
from portal.attachments.services import MAX_FILE_BYTES, remove_stored
from portal.citizen.blueprint import bp
from portal.citizen.forms import accepted, file_specs
from portal.core.errors import InvalidInput, NotFound
from portal.core.storage import send_stored
from portal.core.web import unit_of_work
from portal.docstore import services
from portal.models import StoredDocument, User
from workflows.bpmn_model import FormFieldSpec


class StoreUploadForm(PortalForm):
    title = StringField(
        _l("What is this document?"),
        description=_l("For example: Citizen identity card, Land-use right certificate."),
        validators=[validators.InputRequired(message=_l("Please name the document.")), Length(max=255)],
    )
    file = FileField(_l("File"), description=_l("PDF, JPEG, PNG or HEIC; up to 10 MB."))
    valid_until = DateField(
        _l("Valid until (optional)"),
        description=_l("Leave empty if the document does not expire."),
        validators=[validators.Optional()],
    )


def store_choices(fields: list[FormFieldSpec]) -> list[services.Choice]:
    return [services.Choice(spec.id, tuple(accepted(spec))) for spec in file_specs(fields)]


def store_offers(user: User, fields: list[FormFieldSpec]) -> dict[str, list[StoredDocument]]:
    """For each file field of a form: the citizen's stored documents it can take today (same field first)."""
    if not current_user.is_authenticated or not file_specs(fields):
        return {}
    choices = store_choices(fields)
    every = services.usable(user, {t for c in choices for t in c.content_types})  # one query for all the fields
    return {
        c.field: sorted((d for d in every if d.content_type in c.content_types), key=lambda d: d.kind != c.field)
        for c in choices
    }


def _page(form: StoreUploadForm, status: int = 200):
    documents = services.documents_of(current_user)
    return render_template("citizen/my_documents.html", documents=documents, form=form, today=services.today()), status


@bp.route("/my/documents", methods=["GET", "POST"])
@login_required
def my_documents():
    form = StoreUploadForm()
    if not form.is_submitted():
        return _page(form)
    if form.validate():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors = [_("Please choose a file.")]
        else:
            try:
                data = upload.stream.read(MAX_FILE_BYTES + 1)
                with unit_of_work():
                    stored = services.add_upload(
                        current_user, form.title.data or "", upload.filename, data, form.valid_until.data
                    )
            except InvalidInput as error:
                form.file.errors = [error.message]
            else:
                flash(_("%(title)s is in your store.", title=stored.title), "success")
                return redirect(url_for("citizen.my_documents"))
    return _page(form, 422)


@bp.get("/my/documents/<int:document_id>/file")
@login_required
def stored_document_file(document_id: int):
    document = services.own_document(current_user, document_id)
    if document is None:
        abort(404)  # someone else's document looks like a missing one
    response = send_stored(document.storage_key, document.content_type)
    if response is None:
        abort(404)
    response.headers["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quoted(document.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@bp.route("/my/documents/<int:document_id>/delete", methods=["GET", "POST"])
@login_required
def delete_stored_document(document_id: int):
    """Delete a document that is not legally kept, after a confirmation page (no script needed)."""
    document = services.own_document(current_user, document_id)
    if document is None:
        abort(404)
    form = FlaskForm()  # only the CSRF token: the button is the confirmation
    if document.legally_kept:
        flash(_("This document is kept as the law requires and cannot be deleted."), "error")
        return redirect(url_for("citizen.my_documents"))
    if form.validate_on_submit():
        title = document.title
        try:
            with unit_of_work():
                keys = services.delete(current_user, document_id)
        except (InvalidInput, NotFound) as error:
            flash(error.message, "error")
            return redirect(url_for("citizen.my_documents"))
        remove_stored(keys)  # only now that the deletion is committed
        flash(_("%(title)s was deleted from your store.", title=title), "success")
        return redirect(url_for("citizen.my_documents"))
    return render_template("citizen/delete_stored_document.html", document=document, form=form)
