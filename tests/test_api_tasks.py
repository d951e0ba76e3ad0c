"""Tasks through the API (`tasks:act`): a back-office system lists its groups' waiting steps, reads one with its
form, claims it, completes it with the step's form, exactly once per Idempotency-Key; officers see who did it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditLog, Dossier, Group, Task, TaskState, User
from tests.api import COMMUNE, assert_problem, bearer, get, make_token
from tests.test_api_submit import post as submit
from tests.test_api_submit import submission
from tests.web import login

OFFICER = "tiepnhan@motcua.demo"  # the commune's reception desk (demo data)


def group(role: str) -> Group:
    found = db.session.scalar(
        select(Group).join(Group.agency).where(Group.role == role, Group.agency.has(code=COMMUNE))
    )
    assert found is not None
    return found


@pytest.fixture
def token(demo) -> str:
    return make_token(["tasks:act", "dossiers:read"], agencies=[COMMUNE], group_ids=[group("reception").id])


@pytest.fixture
def code(demo, client) -> str:
    """A dossier filed through the API, waiting at the commune's reception desk."""
    filer = make_token(["dossiers:submit"], agencies=[COMMUNE])
    answer = submit(client, filer, submission(), key="filed")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()["code"]


def act(client, token: str, url: str, body: dict | None = None, key: str | None = "a-1"):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        url, data=json.dumps(body or {}), content_type="application/json", headers=bearer(token, **headers)
    )


def waiting(client, token: str, **args: str) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    answer = get(client, f"/api/v1/tasks?{query}", token)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["items"]


def test_a_system_lists_claims_and_completes_a_reception_step(client, token, code) -> None:
    [item] = waiting(client, token)
    assert item["dossier"]["code"] == code
    assert item["step"]["id"] == "reception_check"
    assert item["assignee"] is None
    assert item["group"]["agency"] == COMMUNE

    detail = get(client, item["url"], token).get_json()
    assert detail["application"]["child_full_name"] == "Nguyễn Minh An"
    decision = detail["form"]["properties"]["decision"]
    assert {o["const"] for o in decision["oneOf"]} == {"accept", "supplement", "refuse"}

    claimed = act(client, token, f"/api/v1/tasks/{item['id']}/claim", key="c-1")
    assert claimed.status_code == 200, claimed.get_data(as_text=True)
    assert claimed.get_json()["assignee"] == {"name": "Hệ thống thử (API)", "is_this_account": True}
    assert [t["id"] for t in waiting(client, token, assigned="me")] == [item["id"]]
    assert waiting(client, token, assigned="nobody") == []

    done = act(client, token, f"/api/v1/tasks/{item['id']}/complete", {"data": {"decision": "accept"}}, key="d-1")
    assert done.status_code == 200, done.get_data(as_text=True)
    dossier = done.get_json()
    assert dossier["code"] == code
    assert dossier["status"]["code"] == 4  # received, now being processed
    assert [s["id"] for s in dossier["current_steps"]] == ["civil_status_review"]
    assert waiting(client, token) == []  # the next step is another group's

    task = db.session.get(Task, item["id"])
    assert task is not None
    assert task.state == TaskState.COMPLETED
    assert task.completed_by is not None
    assert task.completed_by.full_name == "Hệ thống thử (API)"
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.actor_id == task.completed_by_id)))
    assert "task.claim" in actions

    # The officers' dossier page names the system that received it.
    officer = client.application.test_client()
    login(officer, OFFICER)
    dossier_id = db.session.scalar(select(Dossier.id).where(Dossier.code == code))
    page = officer.get(f"/inbox/dossiers/{dossier_id}").get_data(as_text=True)
    assert "Hệ thống thử (API)" in page


def test_a_retried_completion_answers_the_same_and_a_new_key_is_a_conflict(client, token, code) -> None:
    [item] = waiting(client, token)
    url = f"/api/v1/tasks/{item['id']}/complete"
    first = act(client, token, url, {"data": {"decision": "accept"}}, key="same")
    again = act(client, token, url, {"data": {"decision": "accept"}}, key="same")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()

    other = act(client, token, url, {"data": {"decision": "accept"}}, key="other")
    assert assert_problem(other, 409)["detail"]


def test_a_step_claimed_by_an_officer_is_a_conflict_for_the_system(client, token, code) -> None:
    [item] = waiting(client, token)
    officer = db.session.scalar(select(User).where(User.email == OFFICER))
    assert officer is not None
    from portal.inbox.services import claim_task

    claim_task(item["id"], officer)
    db.session.commit()

    claimed = act(client, token, f"/api/v1/tasks/{item['id']}/claim")
    assert officer.full_name in assert_problem(claimed, 409)["detail"]
    done = act(client, token, f"/api/v1/tasks/{item['id']}/complete", {"data": {"decision": "accept"}}, key="x")
    assert_problem(done, 409)
    assert db.session.get(Task, item["id"]).state == TaskState.READY


def test_bad_step_data_is_told_per_field_and_nothing_changes(client, token, code) -> None:
    [item] = waiting(client, token)
    url = f"/api/v1/tasks/{item['id']}/complete"
    cases = [
        ({"data": {"decision": "maybe"}}, "data.decision"),
        ({"data": {"decision": "refuse"}}, "data.reason"),  # a refusal says why
        ({"data": {"decision": 7}}, "data.decision"),
        ({"data": {"colour": "red"}}, "data.colour"),
        ({"data": "accept"}, "data"),
        ({"decision": "accept"}, "data"),
    ]
    for n, (body, field) in enumerate(cases):
        answer = act(client, token, url, body, key=f"bad-{n}")
        problem = assert_problem(answer, 422)
        assert field in {e["field"] for e in problem["errors"]}, (body, problem)
    assert db.session.get(Task, item["id"]).state == TaskState.READY
    # a key refused with bad data may carry the corrected request
    assert act(client, token, url, {"data": {"decision": "accept"}}, key="bad-0").status_code == 200


def test_other_groups_tasks_and_missing_rights_are_refused(client, code) -> None:
    stranger = make_token(["tasks:act"], agencies=[COMMUNE], group_ids=[group("leader").id])
    reader = make_token(["dossiers:read"], agencies=[COMMUNE])
    task_id = db.session.scalar(select(Task.id).where(Task.bpmn_id == "reception_check"))
    assert waiting(client, stranger) == []
    assert_problem(get(client, f"/api/v1/tasks/{task_id}", stranger), 404)
    assert_problem(act(client, stranger, f"/api/v1/tasks/{task_id}/claim"), 404)
    assert_problem(get(client, f"/api/v1/tasks/{task_id + 1000}", stranger), 404)
    assert_problem(get(client, "/api/v1/tasks", reader), 403)
    assert_problem(get(client, f"/api/v1/tasks?group={group('reception').id}", stranger), 422)
    assert_problem(get(client, "/api/v1/tasks?assigned=whoever", stranger), 422)
    assert_problem(act(client, stranger, f"/api/v1/tasks/{task_id}/claim", key=None), 404)


def test_every_post_needs_an_idempotency_key(client, token, code) -> None:
    task_id = db.session.scalar(select(Task.id).where(Task.bpmn_id == "reception_check"))
    for action in ("claim", "release", "complete"):
        answer = act(client, token, f"/api/v1/tasks/{task_id}/{action}", {"data": {"decision": "accept"}}, key=None)
        assert "Idempotency-Key" in {e["field"] for e in assert_problem(answer, 400)["errors"]}
    assert db.session.get(Task, task_id).assignee_id is None


def test_a_revoked_account_no_longer_acts_and_its_user_cannot_sign_in(client, token, code) -> None:
    from portal.api.accounts import revoke_account
    from portal.models import ServiceAccount

    account = db.session.scalar(select(ServiceAccount).where(ServiceAccount.user_id.is_not(None)))
    admin = db.session.scalar(select(User).where(User.email == "admin@motcua.demo"))
    assert account is not None
    assert admin is not None
    revoke_account(account, admin)
    db.session.commit()
    assert_problem(get(client, "/api/v1/tasks", token), 401)
    user = db.session.get(User, account.user_id)
    assert user is not None
    assert not user.active
    assert user.email is None
    assert user.password_hash is None
