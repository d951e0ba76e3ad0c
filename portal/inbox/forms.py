"""Forms of the officer pages: the step's own form (built from the BPMN), comments, filters, bulk actions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, Field, HiddenField, RadioField, SelectField, TextAreaField, validators
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2

from forms.base import PortalForm
from forms.builder import FILE_IDS_PATTERN, make_field
from forms.validators import Length
from portal.core.filter_forms import NOT_IN_LIST, FilterDateField, FilterSelectField
from portal.core.filter_forms import FilterForm as BaseFilterForm
from portal.core.presentation import STATUS_LABELS
from portal.dossiers.services import REASON_REQUIRED
from workflows.bpmn_model import StepSpec

MAX_ID = 2**31 - 1  # ids are INTEGER columns; a larger number is no id and must not reach the query

# Decisions in plain words (English); in Vietnamese the procedure's own option labels are shown.
DECISION_WORDS = {
    "accept": _l("Accept the dossier"),
    "supplement": _l("Ask the applicant for more documents (say which, all at once)"),
    "refuse": _l("Refuse the dossier (say why)"),
    "approve": _l("Approve"),
    "reject": _l("Send back for review (say why)"),
    "forward": _l("Forward to the next step"),
}
UPLOAD_SUFFIX = "__upload"


def _validate_with_reason(form: PortalForm, extra_validators: Any = None) -> bool:
    """Nobody is turned away or asked for more without being told why. A form-level check: the reason field
    is optional (its Optional validator would stop a field-level check on a blank), and blanks count as none."""
    ok = PortalForm.validate(form, extra_validators)
    if form.decision.data in REASON_REQUIRED and not (form.reason.data or "").strip():
        form.reason.errors = [*list(form.reason.errors or []), _l("Please give the reason for this decision.")]
        return False
    return ok


def step_form_class(step: StepSpec, english: bool = False) -> type[PortalForm]:
    """The step's BPMN form as a web form: decisions as radio buttons, files as uploads plus kept ids."""
    attrs: dict[str, Any] = {}
    for spec in step.form:
        if english and spec.label_en:
            spec = replace(spec, label=spec.label_en)
        if spec.id == "decision" and spec.type == "enum":
            choices = [
                SelectChoice(v, str(DECISION_WORDS.get(v, label)) if english else label) for v, label in spec.options
            ]
            attrs[spec.id] = RadioField(
                spec.label, choices=choices, validators=[validators.InputRequired(_l("Please choose a decision."))]
            )
        elif spec.widget == "file":
            # Files already uploaded for this step travel in a hidden field, so an error elsewhere loses nothing.
            kept = [validators.Optional(), validators.Regexp(FILE_IDS_PATTERN)]
            attrs[spec.id] = HiddenField(spec.label, validators=kept)
            attrs[spec.id + UPLOAD_SUFFIX] = FileField(spec.label, description=spec.help or "")
        else:
            attrs[spec.id] = make_field(spec)
    names = {spec.id for spec in step.form}
    if {"decision", "reason"} <= names:
        attrs["validate"] = _validate_with_reason
    return type("TaskForm", (PortalForm,), attrs)


class CommentForm(PortalForm):
    text = TextAreaField(
        _l("Comment"),
        validators=[validators.InputRequired(_l("Please write a comment.")), Length(max=2000)],
        description=_l("Seen by the officers of the agency, not by the applicant."),
    )


class ActionForm(PortalForm):
    """Claim or release: the CSRF token is the whole form."""


class IntListField(Field):
    """Every value of a repeated input (checkboxes), as whole numbers; anything else is an error."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = []
        for value in valuelist:
            if not value.isdigit():
                raise ValueError(_l("Not a valid task."))
            self.data.append(int(value))

    def _value(self) -> str:
        return ""


class BulkForm(PortalForm):
    task_ids = IntListField(_l("Tasks"), default=list)
    assignee_id = SelectField(_l("Reassign to"), choices=[], validate_choice=False)
    action = SelectField(
        _l("Action"),
        choices=[SelectChoice("claim", _l("Claim")), SelectChoice("reassign", _l("Reassign"))],
        validate_choice=True,
    )

    def validate_task_ids(self, field: Field) -> None:
        if not field.data:
            raise validators.ValidationError(_l("Choose at least one task."))

    def assignee(self) -> int | None:
        value = self.assignee_id.data or ""
        return int(value) if str(value).isdigit() else None


class FilterForm(BaseFilterForm):
    """The inbox's filters: none is an error when absent or empty; a bad value is told next to its filter."""

    tab = HiddenField(default="new")  # an unknown tab shows the first one (views.py): it is no filter to correct
    procedure = SelectField(_l("Procedure"), choices=[], validate_choice=False)
    status = FilterSelectField(
        _l("Dossier status"),
        choices=[SelectChoice("", _l("Any status"))]
        + [SelectChoice(str(c), label) for c, label in STATUS_LABELS.items()],
    )
    due_before = FilterDateField(_l("Due on or before"), validators=[validators.Optional()])
    mine = BooleanField(_l("Only tasks I claimed"))
    sort = FilterSelectField(
        _l("Sort by"),
        choices=[
            SelectChoice("due", _l("Due date, soonest first")),
            SelectChoice("-due", _l("Due date, latest first")),
            SelectChoice("created", _l("Arrived in the inbox, oldest first")),
            SelectChoice("-created", _l("Arrived in the inbox, newest first")),
            SelectChoice("received", _l("Received, oldest first")),
            SelectChoice("-received", _l("Received, newest first")),
        ],
        default="due",
    )

    def validate_procedure(self, field: Field) -> None:
        # Any procedure id filters (one with no task of mine shows an empty list); a non-number, or a number no
        # id can be (the database's integer range), is an error.
        if field.data and (not str(field.data).isdigit() or int(field.data) > MAX_ID):
            raise validators.ValidationError(NOT_IN_LIST)
