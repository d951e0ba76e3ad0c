"""The base of every form: WTForms' own messages in the person's language, and one message a field.

WTForms ships no Vietnamese catalog, so its built-in messages ("Not a valid integer value.") are looked up in the
portal's own catalog; the strings below are listed so that extraction keeps them there. After validation each
field keeps its first message only: a value that is not a number is not also "out of range".
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form

BUILT_IN_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
    _l("Not a valid date value."),
    _l("Not a valid datetime value."),
    _l("Not a valid time value."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Invalid value, must be one of: %(values)s."),
    _l("Invalid value, can't be any of: %(values)s."),
    _l("Field must be equal to %(other_name)s."),
    _l("The CSRF token is missing."),
    _l("The CSRF token is invalid."),
    _l("The CSRF token has expired."),
    _l("The CSRF tokens do not match."),
)


class PortalTranslations:
    """What WTForms asks for (`gettext`, `ngettext`), answered from the catalog of the request's language."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


TRANSLATIONS = PortalTranslations()


def keep_first_messages(form: Form) -> None:
    for field in form:
        if len(field.errors) > 1:
            field.errors = list(field.errors)[:1]


class _PortalMessages:
    """WTForms' messages from the portal's catalog, and one message a field after validation."""

    class Meta:
        def get_translations(self, form: Any) -> PortalTranslations:
            return TRANSLATIONS

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)  # type: ignore[misc]
        keep_first_messages(self)  # type: ignore[arg-type]
        return valid


class PlainForm(_PortalMessages, Form):
    """A form without CSRF, for the service layer (the BPMN step forms validated again there)."""


class PortalForm(_PortalMessages, FlaskForm):
    """A web form with CSRF; every form of the portal derives from it."""
