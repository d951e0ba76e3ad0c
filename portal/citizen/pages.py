"""Helpers shared by the citizen pages that show a BPMN step's form (applying, answering a step)."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.citizen import services
from portal.citizen.forms import accept_attribute, file_specs, type_names
from portal.core.errors import InvalidInput, ServiceError
from portal.core.web import put_errors_on
from portal.models import Dossier
from workflows.bpmn_model import FormFieldSpec


def file_widgets(fields: list[FormFieldSpec], form: FlaskForm, dossier: Dossier | None = None) -> dict:
    """What the template needs to draw each file field: accepted types and the files already attached."""
    return {
        spec.id: {
            "accept": accept_attribute(spec),
            "types": type_names(spec),
            "files": services.owned_files(current_user, services.ids_of(form[spec.id].data), dossier),
        }
        for spec in file_specs(fields)
    }


def step_page(
    template: str, fields: list[FormFieldSpec], form: FlaskForm, status: int = 200, **context: object
) -> tuple[str, int]:
    dossier = context.get("dossier")  # answering a step has one; applying does not yet
    return render_template(
        template,
        form=form,
        fields=fields,
        files=file_widgets(fields, form, dossier if isinstance(dossier, Dossier) else None),
        max_files=current_app.config["CITIZEN_MAX_FILES_PER_FIELD"],
        **context,
    ), status


def apply_errors(form: FlaskForm, error: ServiceError) -> None:
    """Show a refusal on the form (the unit of work has already rolled the step back)."""
    if isinstance(error, InvalidInput):
        put_errors_on(form, error)
    else:
        form.form_errors.append(error.message)


def add_upload_errors(form: FlaskForm, errors: dict[str, list[str]]) -> None:
    for name, messages in errors.items():
        form[name].errors = [*list(form[name].errors or []), *messages]
