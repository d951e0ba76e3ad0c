"""Attachments over HTTP: the upload endpoint of the forms, and viewing or downloading a stored file.

Who may read a file: for a file in a dossier, whoever may see the dossier (portal.dossiers.access); for a file
not yet in any dossier, only the person who uploaded it. Everyone else gets the same 404 as for a missing file.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.attachments.names import content_disposition
from portal.citizen.uploads import json_refusal, store_file
from portal.core.errors import InvalidInput
from portal.core.storage import StorageUnavailable, send_stored
from portal.core.web import unit_of_work
from portal.dossiers.access import can_view_dossier
from portal.extensions import csrf, db, limiter
from portal.models import Attachment

bp = Blueprint("attachments", __name__)
INLINE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})  # what browsers show themselves


def _upload_limit() -> str:
    return current_app.config["UPLOAD_RATE_LIMIT"]


@bp.post("/attachments/upload")
@csrf.exempt  # checked in json_refusal, after the sign-in check (see there why)
@limiter.limit(_upload_limit)
def upload():
    refused = json_refusal()
    if refused is not None:
        return refused
    posted = request.files.get("file")
    if posted is None or not posted.filename:
        return jsonify(error="invalid", message=_("Choose a file to upload.")), 422
    field = (request.form.get("field") or "")[:100] or None
    try:
        with unit_of_work():
            attachment = store_file(current_user, posted, field)
    except InvalidInput as error:
        return jsonify(error="invalid", message=error.message), 422
    except StorageUnavailable:
        current_app.logger.warning("file store unavailable for an upload", exc_info=True)
        message = _("The file could not be stored just now. Please try again in a minute.")
        return jsonify(error="unavailable", message=message), 503
    return jsonify(
        id=attachment.id,
        filename=attachment.filename,
        size=attachment.size,
        content_type=attachment.content_type,
    ), 201


def readable_attachment(attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    if attachment.dossier is not None:
        allowed = can_view_dossier(current_user, attachment.dossier)
    else:
        allowed = attachment.uploaded_by_id == current_user.id
    if not allowed:
        abort(404)
    return attachment


def _send(attachment: Attachment, as_attachment: bool) -> Response:
    response = send_stored(attachment.storage_key, attachment.content_type)  # the local folder or S3
    if response is None:
        abort(404)
    # Built here, not by send_file: its ASCII fallback folds "．．／" into "../" (portal/attachments/names.py).
    response.headers["Content-Disposition"] = content_disposition(attachment.filename, inline=not as_attachment)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"  # personal documents stay out of shared caches
    return response


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    return _send(readable_attachment(attachment_id), as_attachment=True)


@bp.get("/attachments/<int:attachment_id>/view")
@login_required
def view(attachment_id: int):
    attachment = readable_attachment(attachment_id)
    # HEIC (and anything unexpected) is offered as a download: most browsers cannot show it.
    return _send(attachment, as_attachment=attachment.content_type not in INLINE_TYPES)
