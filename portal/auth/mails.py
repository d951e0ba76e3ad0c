"""Messages about an account (reset links, invitations, registration), written to the notifications outbox.

They are rows in the request's transaction and are sent by a worker after the commit, so a request never waits
for the mail server, and the answer on screen does not depend on whether a message was due (no account
discovery by timing). Each is built in the recipient's language.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from portal.models import NotificationChannel, User
from portal.notifications.content import Content, render
from portal.notifications.outbox import notify


def _send(user: User, kind: str, content: Content, sms: bool = False) -> None:
    channels = [NotificationChannel.EMAIL] if user.email else []
    if sms and not user.email and user.phone:  # a phone-only account is reached by SMS
        channels = [NotificationChannel.SMS]
    if channels:
        notify(user, kind, lambda: content, channels=channels)


def _reset_content(link: str, by_sms: bool) -> Content:
    minutes = current_app.config["PASSWORD_RESET_SMS_MAX_AGE"] // 60
    return Content(
        subject=_("Reset your MotCua password"),
        paragraphs=[
            _("To choose a new password for MotCua, open this link within one hour:"),
            link,
            _("If you did not ask for this, ignore this message; your password stays as it is."),
        ],
        sms=_(
            "MotCua: to choose a new password, open %(link)s within %(minutes)d minutes. "
            "If you did not ask for this, ignore this message.",
            link=link,
            minutes=minutes,
        )
        if by_sms
        else "",
    )


def reset_link(user: User, link: str, by_sms: bool = False) -> None:
    """By mail, or by SMS when the person asked with their phone number (the link is then a short one)."""
    if by_sms:
        notify(user, "password_reset", lambda: _reset_content(link, True), channels=[NotificationChannel.SMS])
    else:
        _send(user, "password_reset", _reset_content(link, False))


def rehearse_reset_link(link: str, by_sms: bool = False) -> None:
    """Render the message without writing it: an unknown address costs the same work as a known one."""
    render(User(full_name=""), lambda: _reset_content(link, by_sms))


def invitation(user: User, link: str) -> None:
    _send(
        user,
        "invitation",
        Content(
            subject=_("Choose your MotCua password"),
            paragraphs=[
                _("An administrator of MotCua asked us to send you a link to choose your password."),
                _("Open it within one hour:"),
                link,
            ],
        ),
    )


def confirm_registration(user: User, link: str) -> None:
    _send(
        user,
        "register_confirm",
        Content(
            subject=_("Confirm your MotCua account"),
            paragraphs=[
                _("To finish creating your MotCua account, open this link within one day:"),
                link,
                _("If you did not register, ignore this message; no account is created."),
            ],
            sms=_("MotCua: open %(link)s to finish creating your account.", link=link),
        ),
        sms=True,
    )


def registration_attempt(user: User, sign_in: str, forgot: str) -> None:
    _send(
        user,
        "register_attempt",
        Content(
            subject=_("Someone tried to register with your address"),
            paragraphs=[
                _("Someone tried to create a MotCua account with your email address or phone number."),
                _("You already have an account. If it was you, sign in: %(link)s", link=sign_in),
                _("If you forgot your password, choose a new one: %(link)s", link=forgot),
                _("If it was not you, ignore this message; nothing has changed."),
            ],
            sms=_("MotCua: you already have an account. Sign in at %(link)s", link=sign_in),
        ),
        sms=True,
    )
