"""Administrators edit a procedure version's result template, with a preview (HTML, and an unsigned PDF)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import TextAreaField

from forms.base import PortalForm
from portal.admin.access import admin_required
from portal.attachments.names import content_disposition
from portal.core.web import unit_of_work
from portal.extensions import db
from portal.models import ProcedureVersion

from . import pdf, results

bp = Blueprint("result_templates", __name__, url_prefix="/admin/procedures")


class TemplateForm(PortalForm):
    source = TextAreaField()


def _version(procedure_id: int, number: int) -> ProcedureVersion:
    version = db.session.scalar(
        select(ProcedureVersion).where(ProcedureVersion.procedure_id == procedure_id, ProcedureVersion.number == number)
    )
    if version is None:
        abort(404)
    return version


@bp.route("/<int:procedure_id>/versions/<int:number>/result-template", methods=["GET", "POST"])
@admin_required
def edit(procedure_id: int, number: int):
    version = _version(procedure_id, number)
    form = TemplateForm()
    if request.method == "GET":
        form.source.data = version.result_template or ""
    body, dossier, error, status = None, None, None, 200
    if request.method == "POST" and form.validate_on_submit():
        source = form.source.data or ""
        action = request.form.get("action", "preview")
        try:
            if action == "save":
                with unit_of_work():
                    saved = results.save_template(version, source, current_user)
                if saved.id == version.id:
                    flash(_("The result template of this draft version is saved."), "success")
                else:
                    flash(
                        _(
                            "Version %(old)d is published and cannot change: the template was saved in the new "
                            "draft version %(new)d. Publish it for new dossiers to use it.",
                            old=version.number,
                            new=saved.number,
                        ),
                        "success",
                    )
                return redirect(url_for(".edit", procedure_id=procedure_id, number=saved.number))
            body, dossier = results.preview(version, source)
            if action == "pdf":
                page = render_template("documents/result_preview.html", body=body, version=version)
                data = pdf.html_to_pdf(page)
                headers = {
                    "Content-Type": "application/pdf",
                    "Content-Disposition": content_disposition(
                        f"{version.process_id}-v{version.number}-preview.pdf", inline=False
                    ),
                    "Cache-Control": "private, no-store",
                }
                return data, 200, headers
        except results.TemplateRefused as exc:
            error, status = exc.message, 422
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "admin/result_template.html", version=version, form=form, body=body, dossier=dossier, error=error
        ),
        status,
    )
