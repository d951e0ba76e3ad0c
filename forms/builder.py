"""Turn a BPMN step's form fields (`camunda:formData`) into a WTForms class, and validate data with it.

The same classes serve the web pages (as FlaskForm subclasses, with CSRF) and the service layer (plain
`wtforms.Form`), so a value the page accepts is exactly a value the engine accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, Form, IntegerField, SelectField, StringField, TextAreaField, validators
from wtforms.fields import Field
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2

from forms.base import PlainForm
from forms.validators import Length, NumberRange
from workflows.bpmn_model import FormFieldSpec

CITIZEN_ID_PATTERN = r"^\d{12}$"
PHONE_PATTERN = r"^(\+84|0)\d{9,10}$"
# File fields carry the ids of attachments already uploaded to the dossier ("12,15").
FILE_IDS_PATTERN = r"^\d+(,\d+)*$"
# Bounds of the fields whose BPMN sets none: a draft keeps this many characters of a field (MAX_DRAFT_VALUE in
# portal/citizen/services.py), so no valid text is ever cut; whole numbers fit a BIGINT column.
DEFAULT_MAX_TEXT = 5000
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def _validators(spec: FormFieldSpec) -> list[Any]:
    found: list[Any] = []
    if spec.required and spec.type != "boolean":
        found.append(validators.InputRequired(message=_l("This field is required.")))
    else:
        found.append(validators.Optional())
    c = spec.constraints
    if spec.type == "string" or "minlength" in c or "maxlength" in c:
        found.append(Length(min=int(c.get("minlength", -1)), max=int(c.get("maxlength", DEFAULT_MAX_TEXT))))
    if spec.type == "long" or "min" in c or "max" in c:
        found.append(NumberRange(min=int(c.get("min", BIGINT_MIN)), max=int(c.get("max", BIGINT_MAX))))
    if spec.widget == "email":
        found.append(validators.Email(message=_l("Not a valid email address.")))
    elif spec.widget == "phone":
        found.append(validators.Regexp(PHONE_PATTERN, message=_l("Not a valid phone number.")))
    elif spec.widget == "citizen_id":
        found.append(validators.Regexp(CITIZEN_ID_PATTERN, message=_l("A citizen ID number has 12 digits.")))
    elif spec.widget == "file":
        found.append(validators.Regexp(FILE_IDS_PATTERN, message=_l("Not a valid attachment.")))
    return found


def make_field(spec: FormFieldSpec) -> Field:
    label = spec.label or spec.id
    kwargs: dict[str, Any] = {"label": label, "validators": _validators(spec), "description": spec.help or ""}
    if spec.default not in (None, ""):
        kwargs["default"] = spec.default
    if spec.type == "long":
        return IntegerField(**kwargs)
    if spec.type == "boolean":
        kwargs["default"] = str(spec.default).lower() == "true"
        return BooleanField(**kwargs)
    if spec.type == "date":
        return DateField(**kwargs)
    if spec.type == "enum":
        return SelectField(choices=[SelectChoice(value, label) for value, label in spec.options], **kwargs)
    if spec.widget == "textarea":
        return TextAreaField(**kwargs)
    return StringField(**kwargs)


def build_form_class(
    fields: Iterable[FormFieldSpec], base: type[Form] = PlainForm, name: str = "StepForm"
) -> type[Form]:
    attrs = {spec.id: make_field(spec) for spec in fields}
    return type(name, (base,), attrs)


def _as_formdata(data: Mapping[str, Any]) -> MultiDict:
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        if value is None or value is False:
            continue  # an unchecked box is absent from a real form post as well
        if value is True:
            value = "y"
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        pairs.append((key, str(value)))
    return MultiDict(pairs)


def clean_value(value: Any) -> Any:
    """Task data is stored as JSON: dates become ISO strings."""
    return value.isoformat() if isinstance(value, date) else value


# Form classes of the steps of cached process versions, by the identity of their field list. The entry keeps the
# list itself, so an id reused after garbage collection is never mistaken for it.
_classes: dict[int, tuple[list[FormFieldSpec], type[Form]]] = {}
MAX_CACHED_CLASSES = 4096


def form_class_for(fields: list[FormFieldSpec]) -> type[Form]:
    entry = _classes.get(id(fields))
    if entry is not None and entry[0] is fields:
        return entry[1]
    if len(_classes) >= MAX_CACHED_CLASSES:
        _classes.clear()
    cls = build_form_class(fields)
    _classes[id(fields)] = (fields, cls)
    return cls


def validate_data(fields: list[FormFieldSpec], data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate raw values against a step's fields. Returns (clean data, errors by field id)."""
    form = form_class_for(fields)(formdata=_as_formdata(data))
    if not form.validate():
        return {}, {k: [str(m) for m in v] for k, v in form.errors.items()}
    return {spec.id: clean_value(form[spec.id].data) for spec in fields}, {}
