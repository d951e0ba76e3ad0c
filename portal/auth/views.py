"""Sign in, sign out, register, reset a forgotten password, the account page, choose the language."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.wrappers import Response
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from forms.auth import ChangePasswordForm, ConfirmForm, ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from portal import LANGUAGE_COOKIE
from portal.auth import services
from portal.auth.sessions import fresh_session, sign_out_everywhere
from portal.auth.throttle import try_again_words
from portal.core.errors import InvalidInput
from portal.core.forms import required_text
from portal.core.web import put_errors_on, safe_next, unit_of_work
from portal.extensions import limiter
from portal.models import User

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _failed(response: Response) -> bool:
    # Only failed sign-ins count against the address: an office's colleagues signing in use none of it.
    return response.status_code != 302


def _home_endpoint(user: User) -> str:
    """Where a sign-in without a `next` lands: administrators on their pages, officers in their inbox."""
    if user.is_admin:
        return "admin.index"
    return "inbox.index" if user.is_officer else "main.index"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next())
    form = LoginForm()
    if form.validate_on_submit():
        with unit_of_work():  # the failure count and the audit line, whatever the outcome
            attempt = services.authenticate(required_text(form.identifier), required_text(form.password))
        if attempt.user is not None:
            fresh_session()  # no fixation
            login_user(attempt.user, remember=bool(form.remember.data))
            return redirect(safe_next(_home_endpoint(attempt.user)))
        if attempt.retry_after:
            message = _("Too many failed sign-ins with this email or phone number.")
            form.form_errors.append(f"{message} {try_again_words(attempt.retry_after)}")
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(attempt.retry_after)}
        if attempt.unconfirmed:
            form.form_errors.append(
                _("Your account is not confirmed yet: open the link we sent you when you registered.")
            )
        else:
            form.form_errors.append(_("The email/phone number or the password is not right."))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@login_required
def logout():
    # Signing out ends every session and "keep me signed in" cookie of the account, on every device.
    with unit_of_work():
        sign_out_everywhere(current_user._get_current_object())
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        # The same answer whether the address is taken: its owner is told by message instead.
        with unit_of_work():
            services.request_registration(
                required_text(form.full_name),
                form.email.data,
                form.phone.data,
                form.citizen_id.data,
                required_text(form.password),
            )
        flash(_("We have sent a message to the address you gave. Open the link in it to finish registering."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/register.html", form=form), 200 if not form.errors else 422


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
def confirm_registration(token: str):
    user = services.user_for_confirm_token(token)
    if user is None:
        flash(_("This link is not valid any more. Register again, or sign in if your account is ready."), "error")
        return redirect(url_for("auth.login"))
    form = ConfirmForm()
    if form.validate_on_submit():  # a button, so mail scanners that open links do not confirm or sign in
        with unit_of_work():
            services.confirm_account(user)
        fresh_session()
        login_user(user)
        flash(_("Your account is ready."), "success")
        return redirect(url_for("main.index"))
    return render_template("auth/confirm.html", form=form, user=user)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        with unit_of_work():  # a mailed link for an email address, a short link by SMS for a phone number
            services.send_reset_link(required_text(form.identifier))
        flash(
            _("If an account uses this email or phone number, a link to choose a new password is on its way."),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 200 if not form.errors else 422


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _choose_new_password(services.user_for_reset_token(token))


@bp.route("/p/<token>", methods=["GET", "POST"])
def reset_password_sms(token: str):
    """The short link of an SMS: the same page, for minutes instead of an hour."""
    return _choose_new_password(services.user_for_sms_reset_token(token))


def _choose_new_password(user: User | None):
    if user is None:
        flash(_("This link is not valid any more. Ask for a new one."), "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with unit_of_work():  # ends every session of the account
            services.set_new_password(user, required_text(form.password))
        fresh_session()
        flash(_("Your password is changed. Sign in with it."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)


@bp.get("/account")
@login_required
def account():
    return render_template("auth/account.html", form=ChangePasswordForm(), action=ConfirmForm())


@bp.post("/account/password")
@login_required
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit() and user.password_hash and not user.sso_only:
        try:
            with unit_of_work():  # ends every other session of the account
                services.change_password(user, required_text(form.current), required_text(form.password))
        except InvalidInput as error:
            put_errors_on(form, error)
        else:
            # This browser stays signed in, under the account's new session version.
            remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            login_user(user, remember=remember)
            flash(_("Your password is changed. Every other device is signed out."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, action=ConfirmForm()), 422


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere_view():
    if ConfirmForm().validate_on_submit():
        with unit_of_work():
            sign_out_everywhere(current_user._get_current_object())
        flash(_("You are signed out on every device."), "info")
        return redirect(url_for("main.index"))
    return redirect(url_for("auth.account"))


# Each language's name in itself, as the switch in the header shows it.
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


@bp.route("/lang/<code>", methods=["GET", "POST"])
def set_language(code: str):
    """The language switch: for this session, remembered by this browser for a year (a cookie) and, when the
    person is signed in, stored on the account (their other devices and the messages they are sent).

    Signed-in people switch with a form (POST, CSRF-checked), because it writes to their account; a plain link
    (GET) from anywhere changes only this browser's choice, never the account."""
    response = redirect(safe_next())
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        response.set_cookie(
            LANGUAGE_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            httponly=True,
            samesite="Lax",
        )
        if request.method == "POST" and current_user.is_authenticated and current_user.locale != code:
            with unit_of_work():
                services.set_preferred_language(current_user._get_current_object(), code)
    return response


@bp.app_context_processor
def inject_languages() -> dict:
    return {
        "languages": current_app.config["LANGUAGES"],
        "language_names": LANGUAGE_NAMES,
        "request_path": request.full_path.rstrip("?"),
    }
