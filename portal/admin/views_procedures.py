"""Procedures: the list, uploading Camunda Modeler files, the catalogue entry, decision tables, the modeler."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import CatalogueForm, DmnUploadForm, UploadForm, options
from portal.admin.services import agencies as agency_services
from portal.admin.services import procedures as services
from portal.admin.web import attempt, found, status_code
from portal.core.errors import InvalidInput
from portal.core.web import put_errors_on, unit_of_work
from portal.procedures.services import DeployResult, has_layout


@bp.get("/")
@admin_required
def index():
    return render_template("admin/index.html")


@bp.get("/procedures")
@admin_required
def procedures():
    return render_template("admin/procedures.html", procedures=services.procedures(), latest=services.latest_version)


def _agency_choices(blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [(a.code, f"{a.code} — {a.name}") for a in agency_services.agencies(active_only=True)]


def _deploy(action: Callable[[], DeployResult]) -> DeployResult:
    """Deploy in one unit of work: a good version is committed, a refused one rolled back (nothing stored)."""
    with unit_of_work() as work:
        result = action()
        if not result.ok:
            work.discard()
    return result


def _deployed(result: DeployResult) -> bool:
    """Say what a deployment stored; False for a refused one."""
    if not result.ok:
        return False
    version = result.deployed
    if result.unchanged:
        flash(_("These files are already version %(n)d; nothing new was stored.", n=version.number), "info")
    else:
        flash(_("Version %(n)d is saved as a draft. Check it, then publish it.", n=version.number), "success")
    return True


@bp.route("/procedures/upload", methods=["GET", "POST"])
@admin_required
def upload():
    form = UploadForm()
    form.agency.choices = options(_agency_choices(_("As the file says (process property 'agency')")))
    problems = []
    if form.validate_on_submit():
        try:
            bpmn, dmns = services.read_uploads(form.bpmn.data, request.files.getlist(form.dmn.name))
        except InvalidInput as error:
            put_errors_on(form, error)
        else:
            result = _deploy(lambda: services.deploy_upload(bpmn, dmns, form.agency.data or None, current_user))
            if _deployed(result):
                if not has_layout(bpmn.data):  # some tools export only the process; it is laid out where shown
                    flash(
                        _(
                            "The file has no diagram layout; the diagram is arranged automatically wherever it is "
                            "shown. Open it in the modeler and save it to keep that layout."
                        ),
                        "info",
                    )
                return redirect(url_for("admin.procedure", procedure_id=result.deployed.procedure_id))
            problems = result.problems
    code = 422 if form.errors or problems else 200
    return render_template("admin/upload.html", form=form, problems=problems), code


@bp.get("/procedures/<int:procedure_id>")
@admin_required
def procedure(procedure_id: int):
    proc = found(services.get_procedure, procedure_id)
    return render_template(
        "admin/procedure.html", procedure=proc, versions=list(reversed(proc.versions)), dmn_form=DmnUploadForm()
    )


@bp.route("/procedures/<int:procedure_id>/catalogue", methods=["GET", "POST"])
@admin_required
def catalogue(procedure_id: int):
    proc = found(services.get_procedure, procedure_id)
    form = CatalogueForm(obj=proc) if request.method == "GET" else CatalogueForm()
    if request.method == "GET":
        form.documents.data = "\n".join(proc.documents or [])
    form.agency_id.choices = options([(a.id, f"{a.code} — {a.name}") for a in agency_services.agencies()])
    if form.validate_on_submit():
        values = {name: form[name].data for name in form.data if name != "csrf_token"}
        values["name_en"] = values["name_en"] or None
        values["field"] = values["field"] or None
        if attempt(lambda: services.update_catalogue(proc, values, current_user), form):
            flash(_("The catalogue entry is saved."), "success")
            return redirect(url_for("admin.procedure", procedure_id=proc.id))
    return render_template("admin/catalogue.html", form=form, procedure=proc), status_code(form)


@bp.post("/procedures/<int:procedure_id>/dmn")
@admin_required
def upload_dmn(procedure_id: int):
    proc = found(services.get_procedure, procedure_id)
    form = DmnUploadForm()
    problems = []
    if form.validate_on_submit():
        try:
            dmns = [services.read_upload(f, ".dmn", "dmn") for f in request.files.getlist("dmn") if f.filename]
            result = _deploy(lambda: services.deploy_dmn(proc, dmns, current_user))
        except InvalidInput as error:
            put_errors_on(form, error)
        else:
            if _deployed(result):
                return redirect(url_for("admin.procedure", procedure_id=proc.id))
            problems = result.problems
    versions = list(reversed(proc.versions))
    page = render_template("admin/procedure.html", procedure=proc, versions=versions, dmn_form=form, problems=problems)
    return page, 422


@bp.get("/procedures/new/modeler")
@bp.get("/procedures/<int:procedure_id>/modeler")
@admin_required
def modeler(procedure_id: int | None = None):
    proc = found(services.get_procedure, procedure_id) if procedure_id else None
    number = request.args.get("version", type=int)
    version = None
    if proc is not None:
        version = next((v for v in proc.versions if v.number == number), None) or services.latest_version(proc)
    choices = _agency_choices(_("As the diagram says (process property 'agency')"))
    return render_template("admin/modeler.html", procedure=proc, version=version, agencies=choices)


@bp.get("/modeler/blank.bpmn")
@admin_required
def blank_diagram():
    return render_template("admin/blank.bpmn"), 200, {"Content-Type": "application/xml; charset=utf-8"}


@bp.post("/modeler/save")
@admin_required
def modeler_save():
    """Validate and store the modeler's diagram (JSON in, JSON out: the problems, or the new version)."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(
            ok=False, problems=[{"line": 1, "element_id": "-", "reason": _("Send the diagram as JSON.")}]
        ), 400
    proc = None
    if payload.get("procedure_id") is not None:
        proc = found(
            services.get_procedure, int(payload["procedure_id"]) if str(payload["procedure_id"]).isdigit() else 0
        )
    agency = payload.get("agency") if isinstance(payload.get("agency"), str) else None
    result = _deploy(lambda: services.save_from_modeler(proc, payload.get("xml"), agency, current_user))
    if not result.ok:
        problems = [
            {"line": p.line, "element_id": p.element_id, "element_name": p.element_name, "reason": p.reason}
            for p in result.problems
        ]
        return jsonify(ok=False, problems=problems), 422
    version = result.deployed
    return jsonify(
        ok=True,
        unchanged=result.unchanged,
        number=version.number,
        procedure_url=url_for("admin.procedure", procedure_id=version.procedure_id),
        modeler_url=url_for("admin.modeler", procedure_id=version.procedure_id, version=version.number),
    )
