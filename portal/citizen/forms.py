"""Forms of the citizen pages: the BPMN step forms in the user's language, withdrawal and rating."""

from __future__ import annotations

from dataclasses import replace

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, TextAreaField, validators
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2

from forms.base import PortalForm
from forms.builder import build_form_class
from forms.validators import Length
from workflows.bpmn_model import FormFieldSpec

# `accept` values of a BPMN file field -> the content types the sniffer reports for them.
ACCEPT_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "png": "image/png",
    "heic": "image/heic",
}
ALL_TYPES = ("pdf", "jpeg", "png", "heic")
TYPE_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG", "image/heic": "HEIC"}


def accepted(spec: FormFieldSpec) -> list[str]:
    """The content types a file field takes (all four when the BPMN does not narrow it)."""
    kinds = [k.strip().lower() for k in (spec.accept or "").split(",") if k.strip()] or list(ALL_TYPES)
    return sorted({ACCEPT_TYPES[k] for k in kinds if k in ACCEPT_TYPES}) or sorted(set(ACCEPT_TYPES.values()))


def accept_attribute(spec: FormFieldSpec) -> str:
    """The file input's `accept`: types, plus `.heic` because phones often send HEIC without a type."""
    types = accepted(spec)
    return ",".join(types + ([".heic"] if "image/heic" in types else []))


def type_names(spec: FormFieldSpec) -> str:
    return ", ".join(TYPE_NAMES[t] for t in accepted(spec))


def localized_fields(fields: list[FormFieldSpec]) -> list[FormFieldSpec]:
    """The step's fields with English labels on an English page (the BPMN's `label_en`)."""
    if str(get_locale() or "vi") != "en":
        return fields
    return [replace(spec, label=spec.label_en or spec.label) for spec in fields]


def step_form_class(fields: list[FormFieldSpec]) -> type[PortalForm]:
    """A web form (with CSRF) for a BPMN step, built per request because its labels follow the language."""
    return build_form_class(localized_fields(fields), base=PortalForm, name="CitizenStepForm")  # type: ignore[return-value]


def file_specs(fields: list[FormFieldSpec]) -> list[FormFieldSpec]:
    return [spec for spec in fields if spec.widget == "file"]


class WithdrawForm(PortalForm):
    reason = TextAreaField(
        _l("Why do you withdraw this dossier?"),
        validators=[validators.InputRequired(message=_l("Please give a reason.")), Length(max=1000)],
    )
    confirm = BooleanField(
        _l("I understand that a withdrawn dossier cannot be resumed: I would have to apply again."),
        validators=[validators.DataRequired(message=_l("Please confirm that you want to withdraw."))],
    )


# The three national satisfaction levels (Không hài lòng / Hài lòng / Rất hài lòng).
RATING_LEVELS = [
    SelectChoice("1", _l("Unsatisfied")),
    SelectChoice("2", _l("Satisfied")),
    SelectChoice("3", _l("Very satisfied")),
]


class RatingForm(PortalForm):
    level = RadioField(
        _l("How satisfied are you with how your dossier was handled?"),
        choices=RATING_LEVELS,
        validators=[validators.InputRequired(message=_l("Please choose one of the three answers."))],
    )
    comment = TextAreaField(_l("Comment (optional)"), validators=[validators.Optional(), Length(max=1000)])
