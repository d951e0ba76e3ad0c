"""Issued documents: the signed PDFs the portal issued, found by dossier code or verification code, and revoking
one with a reason (shown on /verify; audited by `revoke_document`)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired

from forms.base import PortalForm
from forms.validators import Length
from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.web import attempt
from portal.core.filter_forms import TOO_LONG, FilterForm
from portal.documents import issuing, services
from portal.extensions import db
from portal.models import Dossier, IssuedDocument

MAX_PAGE = 10_000  # a deeper page is better reached by a search; a huge number must not reach SQL
PAGE_SIZE = 50


class DocumentSearchForm(FilterForm):
    q = StringField(_l("Dossier code or verification code"), validators=[Length(max=60, message=TOO_LONG)], default="")


class RevokeForm(PortalForm):
    reason = TextAreaField(
        _l("Reason for revoking"),
        description=_l("Shown to anyone who checks the document on /verify. Do not write personal data."),
        validators=[
            InputRequired(message=_l("Please give the reason for revoking the document.")),
            Length(max=issuing.MAX_REASON),
        ],
    )
    confirm = BooleanField(
        _l("I understand that the document will be shown as revoked to everyone, and that this cannot be undone."),
        validators=[InputRequired(message=_l("Please confirm that you want to revoke the document."))],
    )


def _search(text: str, page: int) -> tuple[list[IssuedDocument], int]:
    query = select(IssuedDocument).join(Dossier, Dossier.id == IssuedDocument.dossier_id)
    text = text.strip()
    if text:
        code = issuing.normalize_code(text)
        if code is not None:
            query = query.where((IssuedDocument.code == code) | (func.upper(Dossier.code) == text.upper()))
        else:
            query = query.where(func.upper(Dossier.code) == text.upper())
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.options(joinedload(IssuedDocument.dossier), joinedload(IssuedDocument.agency))
        .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return list(rows), total


def _document_or_404(code: str) -> IssuedDocument:
    found = issuing.find(code)
    if found is None:
        abort(404)
    return found


@bp.get("/documents")
@admin_required
def documents():
    form = DocumentSearchForm(request.args)
    form.validate()
    text = (form.q.data or "") if form.field_ok("q") else ""
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    rows, total = _search(text, page)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template(
        "admin/documents.html", form=form, rows=rows, total=total, page=page, pages=pages, titles=services.TITLES
    )


@bp.get("/documents/<code>")
@admin_required
def document(code: str):
    found = _document_or_404(code)
    return render_template("admin/document.html", document=found, title=services.TITLES[found.kind], form=RevokeForm())


@bp.post("/documents/<code>/revoke")
@admin_required
def document_revoke(code: str):
    found = _document_or_404(code)
    form = RevokeForm()
    if form.validate_on_submit():
        reason = form.reason.data or ""
        if attempt(lambda: issuing.revoke_document(found, reason, current_user), form):
            flash(_("The document %(code)s is revoked.", code=issuing.display_code(found.code)), "success")
            return redirect(url_for("admin.document", code=found.code))
    found = _document_or_404(code)  # reloaded: a refused revocation was rolled back
    page = render_template("admin/document.html", document=found, title=services.TITLES[found.kind], form=form)
    return page, 422  # invalid, or refused by the service (said in the flashed message)
