"""A procedure's application form (its BPMN start form or `kind=submit` step, `camunda:formData`) as JSON Schema
draft 2020-12: the same fields, types and bounds the portal's own form builder (forms/builder.py) enforces."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale

from forms.builder import (
    BIGINT_MAX,
    BIGINT_MIN,
    CITIZEN_ID_PATTERN,
    DEFAULT_MAX_TEXT,
    FILE_IDS_PATTERN,
    PHONE_PATTERN,
)
from workflows.bpmn_model import FormFieldSpec

DIALECT = "https://json-schema.org/draft/2020-12/schema"
WIDGET_PATTERNS = {"phone": PHONE_PATTERN, "citizen_id": CITIZEN_ID_PATTERN, "file": FILE_IDS_PATTERN}


def _english() -> bool:
    return str(get_locale() or "vi") == "en"


def _int(value: str | None, fallback: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return fallback


def _default(spec: FormFieldSpec) -> Any:
    if spec.default in (None, ""):
        return None
    if spec.type == "long":
        return _int(spec.default, 0)
    if spec.type == "boolean":
        return str(spec.default).lower() == "true"
    return spec.default


def field_schema(spec: FormFieldSpec) -> dict[str, Any]:
    c = spec.constraints
    schema: dict[str, Any] = {"title": (spec.label_en if _english() and spec.label_en else spec.label) or spec.id}
    if spec.help:
        schema["description"] = spec.help
    if spec.type == "long":
        schema |= {
            "type": "integer",
            "minimum": _int(c.get("min"), BIGINT_MIN),
            "maximum": _int(c.get("max"), BIGINT_MAX),
        }
    elif spec.type == "boolean":
        schema["type"] = "boolean"
    elif spec.type == "date":
        schema |= {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    elif spec.type == "enum":
        schema |= {"type": "string", "oneOf": [{"const": value, "title": label} for value, label in spec.options]}
    else:
        schema |= {"type": "string", "maxLength": _int(c.get("maxlength"), DEFAULT_MAX_TEXT)}
        if "minlength" in c:
            schema["minLength"] = _int(c.get("minlength"), 0)
        if spec.widget == "email":
            schema["format"] = "email"
        elif spec.widget in WIDGET_PATTERNS:
            schema["pattern"] = WIDGET_PATTERNS[spec.widget]
        if spec.widget == "file":
            schema["description"] = "; ".join(
                filter(None, [schema.get("description"), "ids of uploaded attachments, comma-separated"])
            )
        if spec.widget == "textarea":
            schema["x-widget"] = "textarea"
    default = _default(spec)
    if default is not None:
        schema["default"] = default
    if "readonly" in c:
        schema["readOnly"] = True
    return schema


def form_schema(fields: list[FormFieldSpec], *, title: str, schema_id: str) -> dict[str, Any]:
    """The whole form: an object with one property per field, required ones listed, nothing else allowed.
    A required box (boolean) is not listed: the portal's form accepts it unticked as well (forms/builder.py)."""
    return {
        "$schema": DIALECT,
        "$id": schema_id,
        "title": title,
        "type": "object",
        "properties": {spec.id: field_schema(spec) for spec in fields},
        "required": [spec.id for spec in fields if spec.required and spec.type != "boolean"],
        "additionalProperties": False,
    }
