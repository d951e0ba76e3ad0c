"""Dry runs of a version: step by step with sample data, in the admin's own dry-run record, no dossier."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import ActionForm
from portal.admin.services import dryrun as services
from portal.admin.services import versions as version_services
from portal.admin.views_versions import _version
from portal.admin.web import attempt, found
from portal.citizen.forms import step_form_class
from portal.dossiers.named import named_texts


@bp.post("/procedures/<int:procedure_id>/versions/<int:number>/dry-run")
@admin_required
def dry_run_start(procedure_id: int, number: int):
    v = _version(procedure_id, number)
    if not ActionForm().validate_on_submit():
        abort(400)
    run = attempt(lambda: services.start(v, current_user))
    if run is None:
        return redirect(url_for("admin.version", procedure_id=procedure_id, number=number))
    return redirect(url_for("admin.dry_run", run_id=run.id))


def _page(run, forms: dict | None = None, status: int = 200):  # noqa: ANN001
    version = services.version_of(run)
    model = version_services.model_of(version)
    state = services.view(run)
    forms = forms or {}
    steps = []
    for ready in state.ready:
        step = services.step_spec(model, ready.bpmn_id)
        form = forms.get(ready.spiff_id) or step_form_class(services.dry_fields(step))(prefix=f"s{ready.spiff_id[:8]}")
        steps.append((ready, step, form))
    named = {step.id: named_texts(step) for _ready, step, _form in steps}
    return render_template(
        "admin/dry_run.html",
        run=run,
        version=version,
        model=model,
        state=state,
        steps=steps,
        named=named,
        action=ActionForm(),
    ), status


@bp.get("/dry-runs/<int:run_id>")
@admin_required
def dry_run(run_id: int):
    return _page(found(services.get_run, run_id, current_user))


@bp.post("/dry-runs/<int:run_id>/steps/<spiff_id>")
@admin_required
def dry_run_step(run_id: int, spiff_id: str):
    run = found(services.get_run, run_id, current_user)
    version = services.version_of(run)
    ready = next((r for r in services.view(run).ready if r.spiff_id == spiff_id), None)
    if ready is None:
        return _page(run, status=409)
    step = services.step_spec(version_services.model_of(version), ready.bpmn_id)
    form = step_form_class(services.dry_fields(step))(prefix=f"s{spiff_id[:8]}")
    if not form.validate_on_submit():
        return _page(run, {spiff_id: form}, 422)
    raw = {spec.id: request.form.get(f"s{spiff_id[:8]}-{spec.id}") for spec in services.dry_fields(step)}
    raw = {key: value for key, value in raw.items() if value is not None}
    if attempt(lambda: services.complete(run, spiff_id, raw), form) is None:
        return _page(run, {spiff_id: form}, 422)
    return redirect(url_for("admin.dry_run", run_id=run.id))


@bp.post("/dry-runs/<int:run_id>/external/<spiff_id>")
@admin_required
def dry_run_external(run_id: int, spiff_id: str):
    """A service task in a dry run: completed with the outputs the administrator typed (no system is called)."""
    run = found(services.get_run, run_id, current_user)
    if not ActionForm().validate_on_submit():
        abort(400)
    if attempt(lambda: services.complete_external(run, spiff_id, request.form.get("outputs", ""))) is None:
        return _page(run, status=422)
    return redirect(url_for("admin.dry_run", run_id=run.id))
