"""Sign-in, registration and password reset forms."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField, ValidationError
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional, Regexp

from forms.builder import CITIZEN_ID_PATTERN, PHONE_PATTERN

MIN_PASSWORD = 10


def strong_password(form: FlaskForm, field: PasswordField) -> None:
    """At least 10 characters with a letter and a digit: long enough to resist guessing, short enough to type."""
    value = field.data or ""
    if len(value) < MIN_PASSWORD or not re.search(r"[A-Za-zÀ-ỹ]", value) or not re.search(r"\d", value):
        raise ValidationError(_l("Use at least 10 characters, with letters and digits."))


class LoginForm(FlaskForm):
    identifier = StringField(
        _l("Email or phone number"),
        validators=[InputRequired(_l("Enter your email or phone number.")), Length(max=255)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Enter your password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class RegisterForm(FlaskForm):
    full_name = StringField(
        _l("Full name"),
        validators=[InputRequired(_l("Enter your full name.")), Length(max=255)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Email"),
        validators=[Optional(), Email(_l("Not a valid email address.")), Length(max=255)],
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
        validators=[InputRequired(_l("Choose a password.")), strong_password],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least 10 characters, with letters and digits."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(_l("Repeat the password.")), EqualTo("password", _l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_email(self, field: EmailField) -> None:
        if not field.data and not self.phone.data:
            raise ValidationError(_l("Give an email address or a phone number."))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[InputRequired(_l("Enter your email.")), Email(_l("Not a valid email address."))],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(_l("Choose a password.")), strong_password],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(_l("Repeat the password.")), EqualTo("password", _l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[InputRequired(_l("Enter your current password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(_l("Choose a password.")), strong_password],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least 10 characters, with letters and digits."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(_l("Repeat the password.")), EqualTo("password", _l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token."""
