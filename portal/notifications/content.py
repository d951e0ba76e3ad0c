"""What each notification says, written in the recipient's language (User.locale, Vietnamese by default).

A builder returns a `Content`: a subject, a few paragraphs, labelled facts (the slip's rows) and a short SMS
text. The email's text and HTML parts are rendered from the same `Content` by two templates, so the two never
disagree. Templates are rendered straight from the Jinja environment: there may be no request (in a worker).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from portal.core.presentation import day, status_label, when
from portal.documents.services import reason_lines
from portal.dossiers.appointment import appointment_text, expected_reception, reception_promise
from portal.models import Dossier, Task, User


@dataclass
class Content:
    subject: str
    paragraphs: list[str]
    facts: list[tuple[str, str]] = field(default_factory=list)
    sms: str = ""
    items: list[str] = field(default_factory=list)  # a numbered list after the paragraphs (what is missing)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, absolute URL)
    summary: str = ""  # the in-app line, when the first paragraph alone would not say enough


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    sms: str
    summary: str  # the in-app line: the first paragraph


def locale_of(user: User) -> str:
    wanted = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    return wanted if wanted in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def render(user: User, build: Callable[[], Content]) -> Rendered:
    """Build and render one message for `user`, in their language."""
    lang = locale_of(user)
    with force_locale(lang):
        content = build()
        context = {"content": content, "user": user, "link": link_to_notifications(), "lang": lang}
        env = current_app.jinja_env
        text = env.get_template("notifications/email.txt").render(context)
        html = env.get_template("notifications/email.html").render(context)
    summary = content.summary or content.paragraphs[0]
    return Rendered(content.subject, text, html, content.sms or content.subject, summary)


def link_to_notifications() -> str:
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + "/notifications/"


def portal_link(endpoint: str, **values: object) -> str:
    """An absolute link to a portal page, built without a request (messages are written in workers too)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + path


def _is_english() -> bool:
    return str(get_locale()) == "en"


def _procedure(dossier: Dossier) -> str:
    procedure = dossier.version.procedure
    return procedure.name_en if _is_english() and procedure.name_en else procedure.name


def _dossier_facts(dossier: Dossier) -> list[tuple[str, str]]:
    return [(_("Dossier code"), dossier.code), (_("Procedure"), _procedure(dossier))]


# -- to the citizen ------------------------------------------------------------------------------------------


def _dossier_link(dossier: Dossier) -> tuple[str, str]:
    return (_("Your dossier"), portal_link("citizen.dossier", dossier_id=dossier.id))


def submitted(dossier: Dossier, open_tasks: list[Task] | None = None) -> Content:
    """The first receipt: there is no appointment yet; say so, and when the desk will receive the dossier."""
    expected = expected_reception(dossier, open_tasks)
    promise = reception_promise(expected)
    unset = _(
        "The appointment date for the result is set when the desk receives your dossier; we will send it to you then."
    )
    sms = _(
        "MotCua: dossier %(code)s submitted. The appointment date is set when the desk receives it.", code=dossier.code
    )
    if expected is not None and not expected.late:
        sms = _(
            "MotCua: dossier %(code)s submitted. The desk receives it by %(when)s at the latest and then sets "
            "the appointment date.",
            code=dossier.code,
            when=when(expected.by),
        )
    return Content(
        subject=_("Dossier %(code)s submitted", code=dossier.code),
        paragraphs=[
            _("We have received your application for %(procedure)s.", procedure=_procedure(dossier)),
            _("This is your receipt. The desk will check your dossier."),
            *([promise] if promise else []),
            unset,
        ],
        facts=[
            *_dossier_facts(dossier),
            (_("Submitted at"), when(dossier.submitted_at)),
            (_("Status"), status_label(dossier.status)),
            (
                _("Appointment for the result"),
                appointment_text(dossier)
                if dossier.appointment_at is not None or not promise  # (the paragraphs say when otherwise)
                else _("Not set yet: it is set when the desk receives your dossier."),
            ),
        ],
        sms=sms,
        links=[_dossier_link(dossier)],
        summary=" ".join(p for p in (_("Your dossier was submitted."), promise, unset) if p),
    )


def received(dossier: Dossier) -> Content:
    if dossier.appointment_at is not None:
        due = _(
            "Your dossier was received on %(received)s. The result is due on %(date)s.",
            received=when(dossier.received_at),
            date=when(dossier.appointment_at),
        )
        subject = _(
            "Dossier %(code)s received, result due %(date)s", code=dossier.code, date=day(dossier.appointment_at)
        )
        sms = _(
            "MotCua: dossier %(code)s received; result due %(date)s.",
            code=dossier.code,
            date=day(dossier.appointment_at),
        )
    else:  # a procedure without a deadline: say so rather than leave the date blank
        due = _(
            "Your dossier was received on %(received)s. %(appointment)s",
            received=when(dossier.received_at),
            appointment=appointment_text(dossier),
        )
        subject = _("Dossier %(code)s received", code=dossier.code)
        sms = _("MotCua: dossier %(code)s received.", code=dossier.code)
    return Content(
        subject=subject,
        paragraphs=[due, _("Your receipt and appointment slip is linked below; bring it when you collect the result.")],
        facts=[
            *_dossier_facts(dossier),
            (_("Received at"), when(dossier.received_at)),
            (_("Appointment for the result"), appointment_text(dossier)),
        ],
        sms=sms,
        links=[
            (_("Receipt and appointment slip"), portal_link("documents.receipt", dossier_id=dossier.id)),
            _dossier_link(dossier),
        ],
    )


SMS_ITEMS_LIMIT = 300  # characters of the missing items an SMS carries; the links give the rest


def supplement(dossier: Dossier, reason: str | None) -> Content:
    """The request for documents: what is missing and why, the request slip, and where to answer."""
    items = reason_lines(reason)
    listed = "; ".join(items)
    missing = (
        _("What is missing and why: %(items)s.", items=listed.rstrip("."))
        if items
        else _("The officer did not list the missing documents; please contact the desk.")
    )
    short = listed if len(listed) <= SMS_ITEMS_LIMIT else listed[: SMS_ITEMS_LIMIT - 1].rstrip() + "…"
    answer = portal_link("citizen.answer_request", dossier_id=dossier.id)
    return Content(
        subject=_("Dossier %(code)s: more documents needed", code=dossier.code),
        paragraphs=[
            _("We need more documents before your dossier can go on. Please sign in and send what is missing."),
            _("What is missing and why:") if items else missing,
        ],
        items=items,
        facts=[
            *_dossier_facts(dossier),
            (_("Appointment for the result"), appointment_text(dossier)),
        ],
        sms=_(
            "MotCua: dossier %(code)s needs more documents: %(items)s. Send them at %(url)s",
            code=dossier.code,
            items=short or _("see the request slip"),
            url=answer,
        ),
        links=[
            (
                _("Request to supplement the dossier"),
                portal_link("documents.supplement_request", dossier_id=dossier.id),
            ),
            (_("Send the missing documents"), answer),
        ],
        summary=" ".join((_("We need more documents before your dossier can go on."), missing)),
    )


def applicant_step(dossier: Dossier, task: Task, name_en: str | None, reason: str | None) -> Content:
    """A step of the procedure that is the applicant's to do (not a request for documents): what and where."""
    step = name_en if name_en and _is_english() else task.name
    answer = portal_link("citizen.answer_request", dossier_id=dossier.id)
    return Content(
        subject=_("Dossier %(code)s: a step waits for you", code=dossier.code),
        paragraphs=[
            _("Your dossier waits for you to do this step: %(step)s. Please sign in and do it.", step=step),
            *([_("The officer wrote: %(reason)s", reason=reason)] if reason else []),
        ],
        facts=[
            *_dossier_facts(dossier),
            (_("Step"), step),
            *([(_("Due"), when(task.due_at))] if task.due_at else []),
        ],
        sms=_(
            "MotCua: dossier %(code)s waits for you: %(step)s. Do it at %(url)s",
            code=dossier.code,
            step=step,
            url=answer,
        ),
        links=[(_("Do this step"), answer), _dossier_link(dossier)],
    )


def refused(dossier: Dossier, reason: str | None) -> Content:
    return Content(
        subject=_("Dossier %(code)s: %(status)s", code=dossier.code, status=status_label(dossier.status)),
        paragraphs=[_("Your dossier cannot be processed further. The reason is given below.")],
        facts=[*_dossier_facts(dossier), (_("Status"), status_label(dossier.status)), (_("Reason"), reason or "")],
        sms=_(
            "MotCua: dossier %(code)s: %(status)s. Sign in to read the reason.",
            code=dossier.code,
            status=status_label(dossier.status),
        ),
    )


def result_ready(dossier: Dossier) -> Content:
    from portal.documents.results import delivered_online

    agency = dossier.agency
    agency_name = agency.name_en if _is_english() and agency.name_en else agency.name
    if delivered_online(dossier):
        how = _("Your result is issued electronically: download the signed PDF from your dossier's page.")
        sms_how = _("download it from your dossier's page")
    else:
        how = _(
            "Collect the paper result at the one-stop-shop desk of %(agency)s from %(date)s, bringing your "
            "identity card and the receipt.",
            agency=agency_name,
            date=day(dossier.appointment_at),
        )
        sms_how = _("collect it at the one-stop-shop desk of %(agency)s", agency=agency_name)
    return Content(
        subject=_("Dossier %(code)s: the result is ready", code=dossier.code),
        paragraphs=[_("Processing of your dossier is finished and the result is ready to be returned to you."), how],
        facts=[*_dossier_facts(dossier), (_("Status"), status_label(dossier.status))],
        sms=_("MotCua: the result of dossier %(code)s is ready: %(how)s.", code=dossier.code, how=sms_how),
        links=[_dossier_link(dossier)],
    )


def apology(dossier: Dossier, old: datetime | None, new: datetime | None, reason: str | None) -> Content:
    agency = dossier.agency
    return Content(
        subject=_("Dossier %(code)s: apology and new appointment date", code=dossier.code),
        paragraphs=[
            _("Apology and new appointment for the result"),
            _(
                "%(agency)s apologises: your dossier could not be processed by the appointment date. "
                "The result will be ready by the new date below.",
                agency=agency.name_en if _is_english() and agency.name_en else agency.name,
            ),
        ],
        facts=[
            *_dossier_facts(dossier),
            (_("Applicant"), dossier.applicant.full_name),
            (_("Former appointment"), when(old)),
            (_("New appointment"), when(new)),
            (_("Reason for the delay"), reason or ""),
        ],
        sms=_(
            "MotCua: we apologise, dossier %(code)s is delayed. New appointment: %(date)s.",
            code=dossier.code,
            date=day(new),
        ),
        links=[
            (_("Apology and new appointment slip"), portal_link("documents.apology", dossier_id=dossier.id)),
            _dossier_link(dossier),
        ],
    )


# -- to officers ---------------------------------------------------------------------------------------------


def _task_facts(task: Task, dossier: Dossier) -> list[tuple[str, str]]:
    return [*_dossier_facts(dossier), (_("Step"), task.name), (_("Due"), when(task.due_at))]


def task_assigned(task: Task, dossier: Dossier, personal: bool, named: bool = False) -> Content:
    """`personal`: the step is theirs; `named`: the step names them among others (camunda:candidateUsers)."""
    if personal:
        intro = _("This step was assigned to you.")
    elif named:
        intro = _("A new step is waiting in your inbox: you are one of the officers named to do it.")
    else:
        intro = _("A new step is waiting in your group's inbox.")
    return Content(
        subject=_("New task: %(step)s, dossier %(code)s", step=task.name, code=dossier.code),
        paragraphs=[intro],
        facts=_task_facts(task, dossier),
    )


def reminder(task: Task, dossier: Dossier) -> Content:
    return Content(
        subject=_("Deadline approaching: %(step)s, dossier %(code)s", step=task.name, code=dossier.code),
        paragraphs=[_("This step is due soon. Please finish it before the deadline.")],
        facts=_task_facts(task, dossier),
    )


def escalation(task: Task, dossier: Dossier, holder: str) -> Content:
    return Content(
        subject=_("Overdue: %(step)s, dossier %(code)s", step=task.name, code=dossier.code),
        paragraphs=[_("A step of a dossier of your agency is past its deadline.")],
        facts=[*_task_facts(task, dossier), (_("Held by"), holder)],
    )
