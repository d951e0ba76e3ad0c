"""Officer pages: the inbox, bulk claim/reassign, the task page (do the step), the dossier page, comments."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2

from portal.core.errors import Conflict, InvalidInput, NotAllowed, ServiceError
from portal.core.forms import required_text
from portal.core.web import page_arg, put_errors_on, safe_next, unit_of_work

from . import services
from .forms import ActionForm, BulkForm, CommentForm, FilterForm
from .pages import officer_dossier_or_404, officer_task_or_404
from .queries import LEADER_TABS, TABS, InboxFilters, Scope, default_tab, inbox_page, procedures_of, scope_of
from .task_page import complete_from_form, render_dossier, render_task

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


def english() -> bool:
    return str(get_locale() or "") == "en"


def officer_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @login_required
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_officer:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _filters(form: FilterForm, scope: Scope) -> InboxFilters:
    form.validate()
    ok = form.field_ok
    return InboxFilters(
        tab=tab if (tab := request.args.get("tab", "")) in (*TABS, *LEADER_TABS) else default_tab(scope),
        procedure_id=int(form.procedure.data) if ok("procedure") and form.procedure.data else None,
        status=int(form.status.data) if ok("status") and form.status.data else None,
        due_before=form.due_before.data if ok("due_before") else None,
        mine=bool(form.mine.data),
        sort=form.sort.data if ok("sort") and form.sort.data else "due",
        page=page_arg(),
    )


def _render_inbox(bulk: BulkForm, status: int = 200) -> tuple[str, int]:
    scope = scope_of(current_user)
    form = FilterForm(formdata=request.args)
    form.procedure.choices = [SelectChoice("", _("All procedures"))] + [
        SelectChoice(str(i), n) for i, n in procedures_of(scope, english())
    ]
    filters = _filters(form, scope)
    page = inbox_page(scope, filters, english=english())
    candidates = services.reassign_candidates(scope.leader_agency_ids) if scope.is_leader else []
    bulk.assignee_id.choices = [SelectChoice("", _("Nobody: back to the group"))] + [
        SelectChoice(str(u.id), f"{u.full_name} — {g.name_en if english() and g.name_en else g.name}")
        for u, g in candidates
    ]
    return render_template(
        "inbox/index.html", page=page, form=form, bulk=bulk, scope=scope, args=request.args.to_dict()
    ), status


@bp.get("/")
@officer_required
def index():
    return _render_inbox(BulkForm(formdata=None))


@bp.post("/bulk")
@officer_required
def bulk():
    """Claim, or (leaders) reassign, the ticked tasks; errors come back on the inbox with the ticks kept."""
    form = BulkForm()
    form.assignee_id.choices = []
    if not form.validate_on_submit():
        return _render_inbox(form, 422)
    if form.action.data == "reassign":
        try:
            with unit_of_work():
                result = services.reassign_tasks(form.task_ids.data, current_user, form.assignee())
        except (InvalidInput, NotAllowed) as error:
            if isinstance(error, InvalidInput):
                put_errors_on(form, error)
            else:
                form.form_errors.append(error.message)
            return _render_inbox(form, 422 if isinstance(error, InvalidInput) else 403)
        who = result.assignee.full_name if result.assignee else _("their group")
        flash(_("%(n)d tasks reassigned to %(name)s.", n=len(result.tasks), name=who), "success")
        return redirect(safe_next("inbox.index"))
    return _bulk_claim(form)


def _bulk_claim(form: BulkForm):
    done, problems = 0, []
    with unit_of_work():  # the claims that went through are kept together
        for task_id in form.task_ids.data:
            try:
                services.claim_task(task_id, current_user)
                done += 1
            except ServiceError as error:
                problems.append(f"{task_id}: {error.message}")
    if done:
        flash(_("You claimed %(n)d tasks.", n=done), "success")
    if problems:
        form.form_errors.extend(problems)
        return _render_inbox(form, 409)
    return redirect(safe_next("inbox.index"))


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@officer_required
def task(task_id: int):
    task = officer_task_or_404(task_id, current_user)
    if request.method == "POST":
        return complete_from_form(task)
    return render_task(task)


@bp.post("/tasks/<int:task_id>/claim")
@officer_required
def claim(task_id: int):
    return _claim_or_release(task_id, services.claim_task, _("You claimed this step."))


@bp.post("/tasks/<int:task_id>/release")
@officer_required
def release(task_id: int):
    return _claim_or_release(task_id, services.release_task, _("You released this step; your group can take it."))


def _claim_or_release(task_id: int, action: Callable[..., Any], done: str):
    task = officer_task_or_404(task_id, current_user)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please send it again."), "error")
        return redirect(url_for("inbox.task", task_id=task.id))
    try:
        with unit_of_work():
            action(task.id, current_user)
    except ServiceError as error:
        flash(error.message, "error")
        status = 409 if isinstance(error, Conflict) else 403 if isinstance(error, NotAllowed) else 422
        return render_task(officer_task_or_404(task_id, current_user), status=status)
    flash(done, "success")
    return redirect(url_for("inbox.task", task_id=task.id))


@bp.get("/dossiers/<int:dossier_id>")
@officer_required
def dossier(dossier_id: int):
    return render_dossier(officer_dossier_or_404(dossier_id, current_user))


@bp.post("/dossiers/<int:dossier_id>/comments")
@officer_required
def comment(dossier_id: int):
    dossier = officer_dossier_or_404(dossier_id, current_user)
    task_id = request.form.get("task_id", type=int)
    task = officer_task_or_404(task_id, current_user) if task_id else None
    if task is not None and task.dossier_id != dossier.id:
        abort(404)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.add_comment(dossier, current_user, required_text(form.text))
        except InvalidInput as error:
            put_errors_on(form, error)
        else:
            flash(_("Your comment was added to the history."), "success")
            if task is not None:
                return redirect(url_for("inbox.task", task_id=task.id, _anchor="history"))
            return redirect(url_for("inbox.dossier", dossier_id=dossier.id, _anchor="history"))
    if task is not None:
        return render_task(task, comment_form=form, status=422)
    return render_dossier(dossier, comment_form=form, status=422)
