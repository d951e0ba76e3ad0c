"""Sign in, sign out, register, reset a forgotten password, choose the language."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from forms.auth import ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from portal.auth import services
from portal.core.errors import InvalidInput
from portal.core.web import put_errors_on, safe_next
from portal.extensions import db, limiter

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next())
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.identifier.data, form.password.data)
        db.session.commit()  # the audit line, whatever the outcome
        if user is not None:
            session.clear()  # a fresh session on sign-in (no fixation)
            login_user(user, remember=form.remember.data)
            return redirect(safe_next())
        form.form_errors.append(_("The email/phone number or the password is not right."))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_citizen(
                form.full_name.data, form.email.data, form.phone.data, form.citizen_id.data, form.password.data
            )
        except InvalidInput as error:
            db.session.rollback()
            put_errors_on(form, error)
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            flash(_("Your account is ready."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/register.html", form=form), 200 if not form.errors else 422


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.send_reset_link(form.email.data)
        db.session.commit()
        flash(_("If an account uses this email, a link to choose a new password is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = services.user_for_reset_token(token)
    if user is None:
        flash(_("This link is not valid any more. Ask for a new one."), "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.set_new_password(user, form.password.data)
        db.session.commit()
        flash(_("Your password is changed. Sign in with it."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
    return redirect(safe_next())


@bp.app_context_processor
def inject_languages() -> dict:
    return {"languages": current_app.config["LANGUAGES"], "request_path": request.full_path.rstrip("?")}
