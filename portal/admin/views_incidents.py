"""Incidents: steps whose procedure code failed or went past a budget; retry them, or mark them resolved."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import ActionForm
from portal.admin.services import incidents as services
from portal.admin.web import attempt, found
from portal.core.errors import ServiceError, StepFailed
from portal.core.web import unit_of_work
from portal.models import Incident


def exceeded(incident: Incident) -> str:
    """What went wrong, in a few words: the budget that was exceeded, or an error in the code."""
    limit = (incident.detail or {}).get("limit")
    if incident.kind == "time":
        return _("Time budget (%(limit)s)", limit=limit) if limit else _("Time budget")
    if incident.kind == "memory":
        return _("Memory budget (%(limit)s)", limit=limit) if limit else _("Memory budget")
    if incident.operation == "external":
        return _("External system")
    return _("Error in the code")


def operation_label(operation: str) -> str:
    labels = {
        "submit": _("Sending an application"),
        "complete_task": _("Doing a step"),
        "withdraw": _("Withdrawing a dossier"),
        "timer": _("A timer"),
        "dry_run": _("Dry run"),
        "external": _("An external service task"),
    }
    return labels.get(operation, operation)


@bp.context_processor
def incident_helpers() -> dict:
    return {"incident_exceeded": exceeded, "incident_operation": operation_label}


@bp.get("/incidents")
@admin_required
def incidents():
    page = services.incidents_page(max(request.args.get("page", 1, type=int) or 1, 1))
    return render_template("admin/incidents.html", result=page)


@bp.get("/incidents/<int:incident_id>")
@admin_required
def incident(incident_id: int):
    row = found(services.get_incident, incident_id)
    return render_template("admin/incident.html", row=row, trial=services.is_trial(row.incident), action=ActionForm())


@bp.post("/incidents/<int:incident_id>/retry")
@admin_required
def incident_retry(incident_id: int):
    row = found(services.get_incident, incident_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        # A person's step is tried and rolled back; a timer is fired for real. A new failure is counted on
        # the incident by the unit of work, after the rollback.
        with unit_of_work(trial=services.is_trial(row.incident)):
            told = services.rerun(row.incident)
    except StepFailed as failed:
        kind, words = failed.kind, exceeded_words(failed)
        attempt(lambda: services.record_failed_retry(incident_id, current_user, kind))
        flash(_("The retry failed again: %(what)s. The incident stays open.", what=words), "error")
    except ServiceError as error:
        flash(error.message, "error")
    else:
        if attempt(lambda: services.resolve(incident_id, current_user, retried=True)):
            flash(told + " " + _("The incident is resolved."), "success")
    return redirect(url_for("admin.incident", incident_id=incident_id))


def exceeded_words(failed: StepFailed) -> str:
    if failed.operation == "external":
        return failed.message
    if failed.kind == "time":
        return _("the time budget (%(limit)s) was exceeded", limit=failed.limit or "—")
    if failed.kind == "memory":
        return _("the memory budget (%(limit)s) was exceeded", limit=failed.limit or "—")
    return _("the code raised an error")


@bp.post("/incidents/<int:incident_id>/resolve")
@admin_required
def incident_resolve(incident_id: int):
    row = found(services.get_incident, incident_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if attempt(lambda: services.resolve(incident_id, current_user, retried=False)):
        if row.incident.operation == "external":
            flash(_("The external step is cancelled: it will not be tried again."), "success")
        else:
            flash(_("The incident is marked resolved."), "success")
    return redirect(url_for("admin.incidents"))
