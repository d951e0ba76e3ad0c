"""The citizen's dossiers: the list, one dossier with its timeline and diagram, the receipt, answering a step
the dossier waits for, withdrawing, rating.

Every page loads the dossier through portal.dossiers.access (404 for another person's dossier); every action
is also checked by its service (only the applicant withdraws, answers, rates).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal.catalogue.services import model_of
from portal.citizen import services, timeline
from portal.citizen.blueprint import bp
from portal.citizen.docstore_views import store_choices, store_offers
from portal.citizen.forms import RatingForm, WithdrawForm, step_form_class
from portal.citizen.pages import add_upload_errors, apply_errors, step_page
from portal.citizen.uploads import take_posted_files
from portal.core.errors import ServiceError
from portal.core.forms import required_text
from portal.core.web import unit_of_work
from portal.docstore.services import record_uses, take_store_choices
from portal.documents.services import available_documents, decision_task
from portal.dossiers.access import get_dossier_or_404
from portal.dossiers.appointment import appointment_text, expected_reception, reception_promise
from portal.extensions import db
from portal.models import Dossier, TaskState

PER_PAGE = 20


@bp.get("/my/dossiers")
@login_required
def my_dossiers():
    asked = request.args.get("page", "1")
    page = int(asked) if asked.isdigit() and len(asked) < 6 else 1
    mine = Dossier.applicant_id == current_user.id
    total = db.session.scalar(select(func.count()).where(mine)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    stmt = select(Dossier).where(mine).order_by(Dossier.created_at.desc(), Dossier.id.desc())
    dossiers = list(db.session.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    expected = services.open_applicant_tasks(current_user, [d.id for d in dossiers])
    return render_template(
        "citizen/my_dossiers.html",
        dossiers=dossiers,
        expected=expected,
        page=page,
        pages=pages,
        total=total,
        drafts=services.drafts_of(current_user),
    )


@bp.get("/my/dossiers/<int:dossier_id>")
@login_required
def dossier(dossier_id: int):
    found = get_dossier_or_404(dossier_id, current_user)
    model = model_of(found.version)
    return render_template(
        "citizen/dossier.html",
        dossier=found,
        rows=timeline.timeline(found),
        documents=timeline.documents(found),
        labels=timeline.field_labels(model, english=str(get_locale()) == "en"),
        expected=services.open_applicant_tasks(current_user, [found.id]).get(found.id),
        can_withdraw=services.can_withdraw(found, current_user),
        can_rate=services.can_rate(found, current_user),
        rating=services.rating_of(found),
        current_steps=timeline.current_step_ids(found),
        done_steps=timeline.done_step_ids(found),
        open_request=timeline.open_request(found),
        external_waits=timeline.external_waits(found),
        refusal=decision_task(found, "refuse") if found.is_ended else None,
        appointment=appointment_text(found),
        # The slips addressed to the citizen; the receipt is already linked (its citizen page).
        slips=[s for s in available_documents(found, officer=False) if s[0] != "documents.receipt"],
    )


@bp.get("/my/dossiers/<int:dossier_id>/answer")
@login_required
def answer_request(dossier_id: int):
    """A lasting link for messages: the form of the step the dossier waits for me to do, or the dossier page."""
    found = get_dossier_or_404(dossier_id, current_user)
    expected = services.open_applicant_tasks(current_user, [found.id]).get(found.id)
    if expected is None:
        flash(_("Nothing is waiting for you on this dossier now."), "info")
        return redirect(url_for("citizen.dossier", dossier_id=found.id))
    return redirect(url_for("citizen.answer", dossier_id=found.id, task_id=expected.id))


@bp.get("/my/dossiers/<int:dossier_id>/receipt")
@login_required
def receipt(dossier_id: int):
    found = get_dossier_or_404(dossier_id, current_user)
    model = model_of(found.version)
    return render_template(
        "citizen/receipt.html",
        dossier=found,
        documents=timeline.documents(found),
        labels=timeline.field_labels(model, english=str(get_locale()) == "en"),
        appointment=appointment_text(found),
        reception=reception_promise(expected_reception(found)),
    )


@bp.get("/my/dossiers/<int:dossier_id>/diagram.bpmn")
@login_required
def diagram(dossier_id: int):
    """The BPMN of the version the dossier runs, for the diagram viewer on the dossier page."""
    found = get_dossier_or_404(dossier_id, current_user)
    response = Response(found.version.bpmn_xml, mimetype="application/xml")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/my/dossiers/<int:dossier_id>/steps/<int:task_id>", methods=["GET", "POST"])
@login_required
def answer(dossier_id: int, task_id: int):
    """A step the dossier waits for its applicant to do, most often a request for supplementary documents."""
    found = get_dossier_or_404(dossier_id, current_user)
    task = services.applicant_task(found, task_id, current_user)
    if task is None:
        abort(404)
    if task.state != TaskState.READY:
        flash(_("This step is already done."), "info")
        return redirect(url_for("citizen.dossier", dossier_id=found.id))
    step = model_of(found.version).steps.get(task.bpmn_id)
    if step is None:
        abort(404)
    form_class = step_form_class(step.form)
    context: dict[str, Any] = {"dossier": found, "task": task, "reason": timeline.request_reason(task)}
    if request.method == "GET":
        store = store_offers(current_user, step.form)  # a requested document may already be in the store
        return step_page("citizen/answer.html", step.form, form_class(formdata=None), store=store, **context)
    formdata = request.form.copy()
    with unit_of_work():  # files that were fine are kept, whatever happens to the rest of the form
        upload_errors = take_posted_files(current_user, step.form, formdata)
        for name, messages in take_store_choices(current_user, store_choices(step.form), formdata).items():
            upload_errors.setdefault(name, []).extend(messages)
    form = form_class(formdata=formdata)
    if form.validate() and not upload_errors:
        try:
            with unit_of_work():
                services.answer(task, current_user, formdata, step)
                record_uses(found, current_user)
        except ServiceError as error:
            apply_errors(form, error)
        else:
            flash(_("Your answer was sent to the agency."), "success")
            return redirect(url_for("citizen.dossier", dossier_id=found.id))
    add_upload_errors(form, upload_errors)
    store = store_offers(current_user, step.form)
    return step_page("citizen/answer.html", step.form, form, 422, store=store, **context)


@bp.route("/my/dossiers/<int:dossier_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(dossier_id: int):
    found = get_dossier_or_404(dossier_id, current_user)
    if not services.can_withdraw(found, current_user):
        flash(_("This dossier can no longer be withdrawn."), "error")
        return redirect(url_for("citizen.dossier", dossier_id=found.id))
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.withdraw(found, current_user, required_text(form.reason))
        except ServiceError as error:
            apply_errors(form, error)
        else:
            flash(_("Your dossier is withdrawn."), "success")
            return redirect(url_for("citizen.dossier", dossier_id=found.id))
    return render_template("citizen/withdraw.html", dossier=found, form=form), 422 if form.errors else 200


@bp.route("/my/dossiers/<int:dossier_id>/rate", methods=["GET", "POST"])
@login_required
def rate(dossier_id: int):
    found = get_dossier_or_404(dossier_id, current_user)
    if not services.can_rate(found, current_user):
        flash(_("This dossier cannot be rated now, or it was rated already."), "error")
        return redirect(url_for("citizen.dossier", dossier_id=found.id))
    form = RatingForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.rate(found, current_user, int(form.level.data), form.comment.data)
        except ServiceError as error:
            apply_errors(form, error)
        else:
            flash(_("Thank you for your rating."), "success")
            return redirect(url_for("citizen.dossier", dossier_id=found.id))
    return render_template("citizen/rate.html", dossier=found, form=form), 422 if form.errors else 200
