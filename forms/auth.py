"""Sign-in, registration and password reset forms."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField, ValidationError
from wtforms.validators import Email, EqualTo, InputRequired, Optional, Regexp

from forms.base import PortalForm
from forms.builder import CITIZEN_ID_PATTERN, PHONE_PATTERN
from forms.validators import Length

MIN_PASSWORD = 10
MAX_PASSWORD = 200


def strong_password(form: PortalForm, field: PasswordField) -> None:
    """At least 10 characters with a letter and a digit: long enough to resist guessing, short enough to type."""
    value = field.data or ""
    if len(value) < MIN_PASSWORD or not re.search(r"[A-Za-zÀ-ỹ]", value) or not re.search(r"\d", value):
        raise ValidationError(_l("Use at least 10 characters, with letters and digits."))


class LoginForm(PortalForm):
    identifier = StringField(
        _l("Email or phone number"),
        validators=[InputRequired(_l("Enter your email or phone number.")), Length(max=255)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class RegisterForm(PortalForm):
    full_name = StringField(
        _l("Full name"),
        validators=[InputRequired(_l("Enter your full name.")), Length(max=255)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Email"),
        validators=[Optional(), Length(max=255), Email(_l("Not a valid email address."))],
        render_kw={"autocomplete": "email"},
    )
    phone = TelField(
        _l("Phone number"),
        validators=[Optional(), Regexp(PHONE_PATTERN, message=_l("Not a valid phone number."))],
        render_kw={"autocomplete": "tel"},
        description=_l("For example 0912345678."),
    )
    citizen_id = StringField(
        _l("Citizen ID number (optional)"),
        validators=[Optional(), Regexp(CITIZEN_ID_PATTERN, message=_l("A citizen ID number has 12 digits."))],
        render_kw={"inputmode": "numeric"},
        description=_l("The 12 digits on your chip-based ID card."),
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Choose a password.")), Length(max=MAX_PASSWORD), strong_password],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least 10 characters, with letters and digits."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(_l("Repeat the password.")), EqualTo("password", _l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )

    def validate(self, extra_validators: object = None) -> bool:
        # Not an inline validate_email: Optional() ends the field's chain when it is empty, so that never ran.
        valid = super().validate(extra_validators)
        if not self.email.data and not self.phone.data and not self.email.errors:
            self.email.errors = [_l("Give an email address or a phone number.")]
            return False
        return valid


# What may separate the groups of digits of a phone number as people type it: "0912 345 678", "0912.345.678".
PHONE_SEPARATORS = re.compile(r"[\s.\-()]")


def email_or_phone(form: PortalForm, field: StringField) -> None:
    """An email address, or a Vietnamese phone number (0912345678, +84 912 345 678)."""
    value = (field.data or "").strip()
    if "@" in value:
        Email(_l("Not a valid email address."))(form, field)
    elif not re.fullmatch(PHONE_PATTERN, PHONE_SEPARATORS.sub("", value)):
        raise ValidationError(_l("Not a valid email address or phone number."))


class ForgotPasswordForm(PortalForm):
    identifier = StringField(
        _l("Email or phone number"),
        validators=[InputRequired(_l("Enter your email or phone number.")), Length(max=255), email_or_phone],
        render_kw={"autocomplete": "username"},
        description=_l("For example mai@example.vn or 0912345678."),
    )


class ResetPasswordForm(PortalForm):
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(_l("Choose a password.")), Length(max=MAX_PASSWORD), strong_password],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(_l("Repeat the password.")), EqualTo("password", _l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(PortalForm):
    current = PasswordField(
        _l("Current password"),
        validators=[InputRequired(_l("Enter your current password.")), Length(max=MAX_PASSWORD)],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(_l("Choose a password.")), Length(max=MAX_PASSWORD), strong_password],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least 10 characters, with letters and digits."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(_l("Repeat the password.")), EqualTo("password", _l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class ConfirmForm(PortalForm):
    """A button that only needs its CSRF token."""
