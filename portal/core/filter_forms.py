"""Forms of the list pages' filters and searches (GET): they change nothing, so they have no CSRF token.

A plain visit, with no filter or empty ones, is never an error. A value that is not valid (a hand-edited link) is
left out of the search and told, next to its filter, in the portal's own words and the user's language.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import ValidationError

from forms.base import PortalForm

NOT_IN_LIST = _l("Choose one of the options in the list.")
NOT_A_DATE = _l("This is not a valid date.")
TOO_LONG = _l("Use at most %(max)d characters.")  # a WTForms Length message


class FilterForm(PortalForm):
    class Meta:
        csrf = False

    def field_ok(self, name: str) -> bool:
        """Whether the filter `name` may be used: validate() has run and found nothing wrong with it."""
        return not self[name].errors


class FilterSelectField(SelectField):
    """A filter chosen from a list: absent or empty means "any"; anything not in the list is an error."""

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            return
        if not any(str(value) == str(self.data) for value, *_rest in self.iter_choices()):
            raise ValidationError(NOT_IN_LIST)


class FilterDateField(DateField):
    """A date filter; what is not a date is said in plain words, not WTForms' English."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(NOT_A_DATE) from error
