"""Tasks through the API (`tasks:act`): a back-office system lists the waiting steps of the groups its account
was given, claims one, and completes it with the step's form, as an officer of those groups would.

The account acts as a user of kind `service` made with it (portal/api/accounts.py), so the inbox's own rules
(portal/inbox/services.py, portal/dossiers/services.py) decide what it may do, and the claims, the dossier's
history and the audit trail name it like any officer. Tasks of other groups are a 404, as missing ones.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from marshmallow import RAISE
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.api import accounts, queries
from portal.api.auth import current_account, requires
from portal.api.form_schema import form_schema
from portal.api.idempotency import IDEMPOTENCY_KEY, answer_once
from portal.api.problems import ApiProblem
from portal.api.schemas import (
    CompletionSchema,
    DossierSchema,
    ProblemSchema,
    TaskDetailSchema,
    TaskListArgs,
    TaskPageSchema,
    TaskSchema,
)
from portal.api.submissions import check_data, store_files
from portal.api.views import COMMON_ERRORS, blp, documented
from portal.catalogue.services import localized
from portal.citizen.services import check_files, raw_values
from portal.core.errors import NotAllowed
from portal.core.web import unit_of_work
from portal.dossiers.services import complete_task
from portal.extensions import db
from portal.inbox import services as inbox
from portal.models import Dossier, Group, Procedure, ProcedureVersion, ServiceAccount, Task, TaskState, User
from portal.procedures.services import compiled
from workflows.bpmn_model import StepSpec


def _actor(account: ServiceAccount) -> User:
    """The account's user; one made before accounts had them gets it on its first task call."""
    user = accounts.acting_user(account)
    if user is None:
        with unit_of_work():
            user = accounts.ensure_acting_user(account)
    return user


def _groups(account: ServiceAccount) -> dict[int, Group]:
    ids = [int(i) for i in account.group_ids or []]
    if not ids:
        return {}
    return {
        g.id: g for g in db.session.scalars(select(Group).where(Group.id.in_(ids)).options(selectinload(Group.agency)))
    }


def _task(task_id: int, account: ServiceAccount) -> Task:
    task = db.session.get(Task, task_id)
    if task is None or task.group_id is None or task.group_id not in set(account.group_ids or []):
        raise ApiProblem(404, None, _("There is no task with this id that this account may act on."))
    return task


def _step(task: Task) -> StepSpec | None:
    return compiled(task.dossier.version).model.steps.get(task.bpmn_id)


def task_body(task: Task, group: Group | None, actor: User, code: str, procedure: Procedure) -> dict[str, Any]:
    assignee = task.assignee
    return {
        "id": task.id,
        "state": task.state,
        "step": {"id": task.bpmn_id, "name": task.name},
        "role": task.role,
        "group": {"id": group.id, "name": localized(group), "agency": group.agency.code} if group else None,
        "dossier": {"code": code, "url": url_for("api.dossier", code=code)},
        "procedure": {"key": procedure.key, "name": localized(procedure)},
        "assignee": {"name": assignee.full_name, "is_this_account": assignee.id == actor.id} if assignee else None,
        "created_at": task.created_at,
        "due_at": task.due_at,
        "completed_at": task.completed_at,
        "url": url_for("api.task", task_id=task.id),
    }


def _detail(task: Task, account: ServiceAccount, actor: User) -> dict[str, Any]:
    dossier = task.dossier
    procedure = dossier.version.procedure
    body = task_body(task, task.group, actor, dossier.code, procedure)
    step = _step(task)
    submit = compiled(dossier.version).model.submit_step
    wanted = {spec.id for spec in submit.form} if submit else set()
    body["application"] = {k: v for k, v in (dossier.form_data or {}).items() if k in wanted}
    body["form"] = (
        form_schema(step.form, title=localized(step), schema_id=url_for("api.task", task_id=task.id, _external=True))
        if step is not None and task.is_open
        else None
    )
    return body


@blp.route("/tasks")
@requires("tasks:act")
@blp.arguments(TaskListArgs, location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, TaskPageSchema)
@documented()
def tasks(limit: int, cursor: str | None = None, group: int | None = None, assigned: str = "anyone"):
    """The waiting steps of the account's groups, oldest first (cursor pagination). `group` keeps one group;
    `assigned`: `nobody` (free to claim), `me` (claimed by this account) or `anyone`."""
    account = current_account()
    actor = _actor(account)
    groups = _groups(account)
    wanted = [group] if group is not None else list(groups)
    if group is not None and group not in groups:
        raise ApiProblem(422, "invalid-input", None, [{"field": "group", "message": _("Not a group of this account.")}])
    stmt = (
        select(Task, Dossier.code, Procedure)
        .join(Dossier, Dossier.id == Task.dossier_id)
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(Task.state == TaskState.READY, Task.group_id.in_(wanted))
        .options(selectinload(Task.assignee))
        .order_by(Task.id)
        .limit(limit + 1)
    )
    if assigned == "nobody":
        stmt = stmt.where(Task.assignee_id.is_(None))
    elif assigned == "me":
        stmt = stmt.where(Task.assignee_id == actor.id)
    if cursor:
        stmt = stmt.where(Task.id > queries.decode_cursor(cursor))
    rows = list(db.session.execute(stmt))
    more = len(rows) > limit
    items = [task_body(t, groups.get(t.group_id or 0), actor, code, p) for t, code, p in rows[:limit]]
    return {"items": items, "next_cursor": queries.encode_cursor(items[-1]["id"]) if more and items else None}


@blp.route("/tasks/<int:task_id>")
@requires("tasks:act")
@blp.response(200, TaskDetailSchema)
@documented(404)
def task(task_id: int):
    """One task of the account's groups: its step, dossier, the application's values, and, while it waits, its
    step's form as JSON Schema (draft 2020-12): what POST …/complete takes in `data`."""
    account = current_account()
    return _detail(_task(task_id, account), account, _actor(account))


POST_ERRORS = {
    **COMMON_ERRORS,
    400: "malformed JSON, or no Idempotency-Key",
    404: "no task of the account's groups with this id",
    409: "the task was claimed by someone else, or already handled",
    422: "invalid input (one `errors` entry per field), or the key was used for another request",
}


def _documented_post() -> Any:
    responses = {
        code: {"description": text, "content": {"application/problem+json": {"schema": ProblemSchema}}}
        for code, text in POST_ERRORS.items()
    }
    return blp.doc(parameters=[IDEMPOTENCY_KEY], responses=responses)


def _taken(refused: NotAllowed) -> ApiProblem:
    """The inbox's refusals on a task of the account's groups: another officer has it, or (release) this
    account does not. Either way the state of the task, not the request, is in the way."""
    return ApiProblem(409, None, refused.message)


def _already_done(task: Task) -> ApiProblem:
    who = task.completed_by.full_name if task.completed_by else None
    if who and task.state == TaskState.COMPLETED:
        return ApiProblem(409, None, _("This step was already handled by %(name)s.", name=who))
    return ApiProblem(409, None, _("This step is no longer waiting: it was already handled."))


@blp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@requires("tasks:act")
@blp.response(200, TaskSchema)
@_documented_post()
def claim(task_id: int):
    """Take a waiting task, so no officer does it at the same time; claiming it again is no change."""
    return _on_task(task_id, inbox.claim_task)


@blp.route("/tasks/<int:task_id>/release", methods=["POST"])
@requires("tasks:act")
@blp.response(200, TaskSchema)
@_documented_post()
def release(task_id: int):
    """Give a task this account claimed back to its group."""
    return _on_task(task_id, inbox.release_task)


def _on_task(task_id: int, action: Any):
    account = current_account()
    actor = _actor(account)
    _task(task_id, account)

    def work() -> tuple[int, str, str | None]:
        try:
            done = action(task_id, actor)
        except NotAllowed as refused:
            raise _taken(refused) from None
        dossier = done.dossier
        body = task_body(done, done.group, actor, dossier.code, dossier.version.procedure)
        return 200, TaskSchema().dumps(body), None

    return answer_once(account, {}, work)


@blp.route("/tasks/<int:task_id>/complete", methods=["POST"])
@requires("tasks:act")
@blp.arguments(CompletionSchema, location="json", unknown=RAISE)
@blp.response(200, DossierSchema)
@_documented_post()
def complete(body: dict[str, Any], task_id: int):
    """Complete a waiting task with its step's form (`data`, as GET /tasks/{id} `form` describes it) and files.
    Answers the dossier as it stands after the step (its status and the steps it now waits at)."""
    account = current_account()
    actor = _actor(account)
    found = _task(task_id, account)
    step = _step(found)

    def work() -> tuple[int, str, str | None]:
        if step is None or not found.is_open:  # checked here, so a retry of a completion gets its answer again
            raise _already_done(found)
        check_data(step.form, body["data"])
        values = {**body["data"], **store_files(step.form, body.get("attachments") or [], actor)}
        check_files(step.form, values, actor, found.dossier)
        try:
            dossier = complete_task(task_id, actor, raw_values(step.form, values))
        except NotAllowed as refused:
            raise _taken(refused) from None
        return 200, DossierSchema().dumps(queries.dossier_body(dossier)), None

    return answer_once(account, body, work)
