"""Versions: one version's steps, its BPMN, publish and retire, what changed between two, form previews."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import ActionForm
from portal.admin.services import procedures as procedure_services
from portal.admin.services import versions as services
from portal.admin.web import attempt, found
from portal.attachments.names import content_disposition
from portal.citizen.forms import accept_attribute, step_form_class, type_names
from portal.dossiers.named import named_texts
from portal.extensions import db
from portal.models import Dossier, ProcedureVersion
from portal.procedures.services import has_layout, publish_version, retire_version


def _version(procedure_id: int, number: int) -> ProcedureVersion:
    procedure = found(procedure_services.get_procedure, procedure_id)
    return found(services.get_version, procedure, number)


def dossier_count(version: ProcedureVersion) -> int:
    return db.session.scalar(select(func.count()).where(Dossier.procedure_version_id == version.id)) or 0


@bp.get("/procedures/<int:procedure_id>/versions/<int:number>")
@admin_required
def version(procedure_id: int, number: int):
    v = _version(procedure_id, number)
    return render_template(
        "admin/version.html",
        version=v,
        model=services.model_of(v),
        dossiers=dossier_count(v),
        action=ActionForm(),
        has_layout=has_layout(v.bpmn_xml),
    )


@bp.get("/procedures/<int:procedure_id>/versions/<int:number>/diagram.bpmn")
@admin_required
def version_bpmn(procedure_id: int, number: int):
    v = _version(procedure_id, number)
    # An attachment, never a page: the XML came from an upload and must not render in the portal's origin.
    headers = {
        "Content-Type": "application/xml; charset=utf-8",
        "Content-Disposition": content_disposition(f"{v.process_id}-v{v.number}.bpmn", inline=False),
    }
    return v.bpmn_xml, 200, headers


@bp.post("/procedures/<int:procedure_id>/versions/<int:number>/publish")
@admin_required
def publish(procedure_id: int, number: int):
    v = _version(procedure_id, number)
    if ActionForm().validate_on_submit() and attempt(lambda: publish_version(v, current_user)):
        flash(_("Version %(n)d is published: new dossiers use it.", n=v.number), "success")
    return redirect(url_for("admin.procedure", procedure_id=procedure_id))


@bp.post("/procedures/<int:procedure_id>/versions/<int:number>/retire")
@admin_required
def retire(procedure_id: int, number: int):
    v = _version(procedure_id, number)
    if ActionForm().validate_on_submit() and attempt(lambda: retire_version(v, current_user)):
        flash(_("Version %(n)d is retired; dossiers that use it carry on with it.", n=v.number), "success")
    return redirect(url_for("admin.procedure", procedure_id=procedure_id))


@bp.get("/procedures/<int:procedure_id>/diff")
@admin_required
def diff(procedure_id: int):
    procedure = found(procedure_services.get_procedure, procedure_id)
    numbers = [v.number for v in procedure.versions]
    if len(numbers) < 2:
        flash(_("There is only one version: nothing to compare yet."), "info")
        return redirect(url_for("admin.procedure", procedure_id=procedure_id))
    a = request.args.get("a", type=int) or numbers[-2]
    b = request.args.get("b", type=int) or numbers[-1]
    old, new = found(services.get_version, procedure, a), found(services.get_version, procedure, b)
    return render_template(
        "admin/diff.html", procedure=procedure, old=old, new=new, diff=services.diff_versions(old, new), numbers=numbers
    )


@bp.route("/procedures/<int:procedure_id>/versions/<int:number>/preview/<step_id>", methods=["GET", "POST"])
@admin_required
def preview(procedure_id: int, number: int, step_id: str):
    """The step's form as the citizen or officer sees it; posting checks sample values, nothing is stored."""
    v = _version(procedure_id, number)
    step = services.model_of(v).steps.get(step_id)
    if step is None:
        abort(404)
    form = step_form_class(step.form)()
    accepted = None
    if request.method == "POST" and form.validate():
        accepted = {spec.id: form[spec.id].data for spec in step.form}
    files = {s.id: {"types": type_names(s), "accept": accept_attribute(s)} for s in step.form if s.widget == "file"}
    page = render_template(
        "admin/preview.html", version=v, step=step, form=form, files=files, accepted=accepted, named=named_texts(step)
    )
    return page, 422 if form.errors else 200
