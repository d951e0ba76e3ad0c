"""The public /verify pages: what a document's QR code opens, and a check of an uploaded PDF. No sign-in;
rate-limited, as the codes are short enough to type (guessing must be slow). No personal data is shown: the
issuer, the document type, the dossier code, the date and the hash."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, validators

from forms.base import PortalForm
from forms.validators import Length
from portal.extensions import limiter

from . import issuing, services

bp = Blueprint("verify", __name__, url_prefix="/verify")


class CodeForm(PortalForm):
    class Meta:
        csrf = False  # a GET form: it only opens /verify/<code>

    code = StringField(
        _l("Verification code"),
        description=_l("The code printed under the QR code, e.g. ABCDE-23456."),
        validators=[validators.InputRequired(message=_l("Please enter the verification code.")), Length(max=40)],
    )


class UploadForm(PortalForm):
    document = FileField(
        _l("PDF document"),
        description=_l("A PDF the portal issued; it is checked, not kept."),
        validators=[FileRequired(message=_l("Please choose a PDF file."))],
    )


def _lookup_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


def _upload_limit() -> str:
    return current_app.config["VERIFY_UPLOAD_RATE_LIMIT"]


def _page(upload: UploadForm | None = None, check: issuing.UploadCheck | None = None, status: int = 200):
    code_form = CodeForm(request.args)
    return (
        render_template(
            "verify/index.html", code_form=code_form, form=upload or UploadForm(), check=check, titles=services.TITLES
        ),
        status,
    )


@bp.get("")
@limiter.limit(_lookup_limit)
def index():
    """The check page; `?code=…` (the form) opens the code's page."""
    if "code" in request.args:
        form = CodeForm(request.args)
        if form.validate():
            typed = (form.code.data or "").strip()[:40]
            if not typed:
                form.code.errors = [_("Please enter the verification code.")]
                return _page(status=422)
            return redirect(url_for("verify.document", code=issuing.normalize_code(typed) or typed))
        return _page(status=422)
    return _page()


@bp.get("/<code>")
@limiter.limit(_lookup_limit)
def document(code: str):
    found = issuing.find(code)
    if found is None:
        return render_template("verify/unknown.html", code=code[:40]), 404
    return render_template("verify/document.html", document=found, title=services.TITLES[found.kind])


@bp.post("")
@limiter.limit(_upload_limit)
def upload():
    """Check an uploaded PDF: a signature that validates against the portal's trust roots, and the exact bytes of
    a document the portal issued. The file is read into memory, checked and forgotten."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    limit = int(current_app.config["VERIFY_MAX_BYTES"])
    data = form.document.data.stream.read(limit + 1)
    if len(data) > limit:
        form.document.errors = [_("The file is larger than %(size)s MB.", size=limit // (1024 * 1024))]
        return _page(form, status=413)
    check = issuing.check_upload(data)
    if check.verdict == issuing.Verdict.NOT_PDF:
        form.document.errors = [_("This file is not a PDF document, or it is damaged and cannot be read.")]
        return _page(form, status=422)
    return _page(form, check=check)
