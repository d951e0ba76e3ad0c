"""Small helpers for reading validated WTForms fields with their real types."""

from __future__ import annotations

from wtforms import StringField


def required_text(field: StringField) -> str:
    """The text of a field whose validators refuse a missing value (InputRequired or DataRequired).

    WTForms types `data` as `str | None` because a field absent from the request keeps None; after a successful
    `validate()` such a field always holds a string. A None here means the field lost its required validator.
    """
    if field.data is None:
        raise ValueError(f"field {field.name!r} has no value: it needs an InputRequired or DataRequired validator")
    return field.data
