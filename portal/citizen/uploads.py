"""Receiving files from the citizen's browser: the JSON endpoint (with progress) and the no-JavaScript post."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms.validators import ValidationError

from portal.attachments.services import MAX_FILE_BYTES, store_upload
from portal.citizen.forms import file_specs
from portal.citizen.services import ids_of, pending_uploads
from portal.core.errors import InvalidInput
from portal.models import Attachment, User
from workflows.bpmn_model import FormFieldSpec

UPLOAD_SUFFIX = "__upload"  # the file input of field `x` is named `x__upload`


def json_refusal() -> ResponseReturnValue | None:
    """For the JSON endpoints the page's scripts call: 401 when signed out, 400 when the token is stale.

    Checked in this order on purpose: a signed-out session has lost its CSRF token too, and the script must
    learn "sign in again" (the draft is kept on the server), not a bare "bad request".
    """
    if not current_user.is_authenticated:
        message = _("You are signed out. Sign in again in another tab: your draft is kept.")
        return jsonify(error="signed_out", message=message), 401
    token = request.headers.get("X-CSRFToken") or request.form.get("csrf_token")
    try:
        validate_csrf(token)
    except (ValidationError, CSRFError):
        return jsonify(error="csrf", message=_("The page expired. Reload it to continue.")), 400
    return None


def store_file(user: User, upload: FileStorage, field: str | None) -> Attachment:
    """Check and store one uploaded file for `user`; raises InvalidInput with a plain message."""
    if pending_uploads(user) >= current_app.config["CITIZEN_MAX_PENDING_UPLOADS"]:
        raise InvalidInput(_("You have uploaded too many files that are not in any application yet."))
    name = upload.filename or "file"
    try:
        data = upload.stream.read(MAX_FILE_BYTES + 1)  # one byte more than allowed is enough to refuse
    finally:
        upload.close()  # large uploads are spooled to a temporary file: free it now
    return store_upload(user, name, data, field)


def take_posted_files(user: User, fields: list[FormFieldSpec], formdata: MultiDict) -> dict[str, list[str]]:
    """The no-JavaScript path: files posted with the form are stored and their ids added to their fields.

    Returns the refusals by field; files that were fine are kept (their ids are in `formdata`), so the citizen
    only sends again the ones that were refused.
    """
    errors: dict[str, list[str]] = {}
    for spec in file_specs(fields):
        ids = [str(i) for i in ids_of(formdata.get(spec.id))]
        for upload in request.files.getlist(spec.id + UPLOAD_SUFFIX):
            if not upload or not upload.filename:
                continue  # the empty file input of a form sent without choosing a file
            try:
                ids.append(str(store_file(user, upload, spec.id).id))
            except InvalidInput as error:
                errors.setdefault(spec.id, []).append(error.message)
        formdata.setlist(spec.id, [",".join(ids)] if ids else [""])
    return errors
