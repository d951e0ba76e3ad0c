"""Printable documents of a dossier, and its attachments (inline preview), for whoever may see the dossier."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.attachments.names import content_disposition
from portal.core.storage import send_stored
from portal.core.web import unit_of_work
from portal.dossiers.access import get_dossier_or_404
from portal.extensions import db
from portal.models import Attachment, DocumentKind, Dossier, Status

from . import issuing, results, services, signing

bp = Blueprint("documents", __name__, url_prefix="/documents")

# A PDF shown inline may be framed by our own pages; every other response keeps frame-ancestors 'none'.
INLINE_PDF_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'self'"
INLINE_IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _dossier_for(dossier_id: int, name: str) -> Dossier:
    dossier = get_dossier_or_404(dossier_id, current_user)
    if not services.may_see(current_user, dossier, name):
        abort(404)
    if not services.is_available(dossier, name):
        abort(404, description=_("This dossier has no such document yet."))
    return dossier


def _page(name: str, dossier: Dossier, **extra: object) -> str:
    try:
        context = services.document_context(dossier, name)
    except LookupError:  # _dossier_for saw the decision; it can only vanish in between
        abort(404)
    issued = issuing.latest_issued(dossier, name)
    pending = issued is None and _on_its_way(dossier, name)
    return render_template(
        f"documents/{name}.html", issued=issued, pending=pending, document_name=name, **context, **extra
    )


def _on_its_way(dossier: Dossier, name: str) -> bool:
    """Will a signed PDF of this document appear by itself (its job queued at the commit, or the sweep)? The
    process-control slip is issued only once the dossier has closed."""
    if not current_app.config["DOCUMENTS_ISSUE_AUTOMATICALLY"]:
        return False
    if name == DocumentKind.PROCESS_CONTROL and dossier.closed_at is None:
        return False
    return signing.has_key(dossier.agency.code)


@bp.get("/dossiers/<int:dossier_id>/<name>/signed-status")
@login_required
def signed_status(dossier_id: int, name: str):
    """Is the signed PDF of this document ready? Asked by the document page while it says it is being prepared."""
    kind = name.replace("-", "_")
    if kind not in DocumentKind.ALL:
        abort(404)
    dossier = _dossier_for(dossier_id, kind)
    issued = issuing.latest_issued(dossier, kind)
    response = jsonify(ready=issued is not None)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/dossiers/<int:dossier_id>/receipt")
@login_required
def receipt(dossier_id: int):
    return _page("receipt", _dossier_for(dossier_id, "receipt"))


@bp.get("/dossiers/<int:dossier_id>/supplement-request")
@login_required
def supplement_request(dossier_id: int):
    dossier = _dossier_for(dossier_id, "supplement_request")
    # The applicant who still owes the documents gets the way to send them under the slip.
    can_answer = dossier.applicant_id == current_user.id and dossier.status == Status.SUPPLEMENT
    return _page("supplement_request", dossier, can_answer=can_answer)


@bp.get("/dossiers/<int:dossier_id>/refusal")
@login_required
def refusal(dossier_id: int):
    return _page("refusal", _dossier_for(dossier_id, "refusal"))


@bp.get("/dossiers/<int:dossier_id>/process-control")
@login_required
def process_control(dossier_id: int):
    return _page("process_control", _dossier_for(dossier_id, "process_control"))


@bp.get("/dossiers/<int:dossier_id>/result")
@login_required
def result(dossier_id: int):
    try:
        return _page("result", _dossier_for(dossier_id, "result"))
    except results.TemplateRefused as exc:  # a broken template: say so, never a 500
        abort(409, description=str(exc))


@bp.get("/dossiers/<int:dossier_id>/apology")
@login_required
def apology(dossier_id: int):
    return _page("apology", _dossier_for(dossier_id, "apology"))


@bp.get("/dossiers/<int:dossier_id>/signed/<code>.pdf")
@login_required
def signed_pdf(dossier_id: int, code: str):
    """An issued, signed PDF of a dossier I may see, with the same rules as its HTML page."""
    dossier = get_dossier_or_404(dossier_id, current_user)
    found = issuing.find(code)
    if found is None or found.dossier_id != dossier.id or not services.may_see(current_user, dossier, found.kind):
        abort(404)
    response = send_stored(found.storage_key, "application/pdf")
    if response is None:
        abort(404, description=_("The file is missing from the store; please tell the administrator."))
    if found.kind == DocumentKind.RESULT and dossier.applicant_id == current_user.id and not found.is_revoked:
        try:
            with unit_of_work():  # the applicant's first download returns an online result (status 10), once
                results.record_download(dossier, current_user)
        except BaseException:
            response.close()
            raise
    name = f"{found.kind.replace('_', '-')}-{dossier.code}-{found.code}.pdf"
    response.headers["Content-Disposition"] = content_disposition(name, inline=False)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/dossiers/<int:dossier_id>/attachments/<int:attachment_id>")
@login_required
def attachment(dossier_id: int, attachment_id: int):
    """An attachment of a dossier I may see: images and PDFs inline when asked, anything else downloaded."""
    dossier = get_dossier_or_404(dossier_id, current_user)
    found = db.session.get(Attachment, attachment_id)
    if found is None or found.dossier_id != dossier.id:
        abort(404)
    response = send_stored(found.storage_key, found.content_type)  # the local folder or S3
    if response is None:
        abort(404, description=_("The file is missing from the store; please tell the administrator."))
    previewable = found.content_type in ("application/pdf", "image/jpeg", "image/png")
    inline = previewable and request.args.get("inline") == "1"
    response.headers["Content-Disposition"] = content_disposition(found.filename, inline=inline)  # safe names
    response.headers["Cache-Control"] = "private, no-store"
    if inline:
        is_pdf = found.content_type == "application/pdf"
        response.headers["Content-Security-Policy"] = INLINE_PDF_CSP if is_pdf else INLINE_IMAGE_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
