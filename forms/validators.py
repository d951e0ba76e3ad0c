"""Length and number limits said in the person's language, with the limit and what was typed.

WTForms' own `Length` draws a `maxlength` attribute, with which a browser cuts pasted text silently, and says
"Field cannot be longer than 255 characters." in English. These are checked on the server only, and a value out of
bounds stops the field's other checks: one message a field.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from flask_babel import gettext as _
from wtforms import validators
from wtforms.validators import StopValidation

# Numbers are written the Vietnamese way whatever the page's language (like portal.core.presentation.number).
NUMBER_LOCALE = "vi"


def number(value: float | Decimal) -> str:
    return format_decimal(value, format="#,##0.#", locale=NUMBER_LOCALE)


class Length(validators.Length):
    """At least `min` and at most `max` characters (-1: no bound)."""

    def __init__(self, min: int = -1, max: int = -1, message: Any = None) -> None:
        super().__init__(min, max, message)
        self.field_flags: dict[str, Any] = {}  # no maxlength/minlength attribute: the browser would cut the text

    def __call__(self, form: Any, field: Any) -> None:
        length = len(field.data) if field.data else 0
        if (self.min == -1 or length >= self.min) and (self.max == -1 or length <= self.max):
            return
        typed = number(length)
        if self.message is not None:  # WTForms' placeholders, as its own Length fills them
            message = str(self.message) % {"min": self.min, "max": self.max, "length": length}
        elif self.min == self.max:
            message = _("Exactly %(n)s characters (you entered %(length)s).", n=number(self.max), length=typed)
        elif self.max != -1 and length > self.max:
            message = _("At most %(max)s characters (you entered %(length)s).", max=number(self.max), length=typed)
        else:
            message = _("At least %(min)s characters (you entered %(length)s).", min=number(self.min), length=typed)
        raise StopValidation(message)


class NumberRange(validators.NumberRange):
    """A number within bounds, saying the bound it breaks. A value that is not a number was already refused by
    its field: no second message."""

    def __call__(self, form: Any, field: Any) -> None:
        data = field.data
        if data is None or (isinstance(data, float) and math.isnan(data)):
            raise StopValidation() if field.process_errors else StopValidation(_("Enter a number."))
        if (self.min is None or data >= self.min) and (self.max is None or data <= self.max):
            return
        if self.message is not None:
            message = str(self.message) % {"min": self.min, "max": self.max}
        elif self.min is not None and data < self.min:
            message = _("Enter a number of at least %(min)s.", min=number(self.min))
        else:
            assert self.max is not None  # noqa: S101  (the value is within the minimum, so over the maximum)
            message = _("Enter a number of at most %(max)s.", max=number(self.max))
        raise StopValidation(message)
