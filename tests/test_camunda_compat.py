"""Camunda Modeler files closer to as-is, through real HTTP requests: the start event's form is the application
form, `camunda:assignee` / `camunda:candidateUsers` give a step to named officers (only they see and do it) or, as
`${initiator}`, to the applicant, and a file in Activiti's namespace reads as the Camunda one."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import Dossier, Status, Task, TaskState
from tests.helpers import TESTS, open_task, user
from tests.test_admin_support import EN, as_admin, counts, post, procedure, upload
from tests.test_citizen_support import CITIZEN, DESK, LEADER, SPECIALIST, multipart
from tests.web import csrf, login
from workflows.bpmn_model import read_model
from workflows.validation import validate_bpmn

CAMUNDA = (TESTS / "bpmn_good" / "camunda_named.bpmn").read_bytes()
ACTIVITI = (TESTS / "bpmn_good" / "activiti_named.bpmn").read_bytes()
NAMED = "hotich@motcua.demo"  # camunda:assignee of the review step (a civil status officer, not of reception)
# camunda:candidateUsers of the approval step: LEADER and SPECIALIST


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    login(client, email)
    return client


def publish(app: Flask, name: str, content: bytes, key: str) -> None:
    admin = as_admin(app.test_client())
    response = upload(admin, (name, content))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    page = f"/admin/procedures/{procedure(key).id}"
    assert post(admin, f"{page}/versions/1/publish", page=page).status_code == 302
    assert procedure(key).versions[0].status == "published"


def apply(citizen: FlaskClient, key: str, data: dict[str, str]) -> Dossier:
    url = f"/procedures/{key}/apply"
    response = citizen.post(url, data={**data, "csrf_token": csrf(citizen, url)})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    found = re.search(r"/my/dossiers/(\d+)/receipt", response.headers["Location"])
    assert found is not None
    dossier = db.session.get(Dossier, int(found.group(1)))
    assert dossier is not None
    return dossier


def do_step(officer: FlaskClient, task: Task, data: dict[str, str]):
    url = f"/inbox/tasks/{task.id}"
    page = officer.get(url)
    token = csrf(officer, url) if page.status_code == 200 else "no-page"
    return officer.post(url, data={**data, "csrf_token": token})


def listed(officer: FlaskClient, tab: str, task: Task) -> bool:
    """Whether the officer's inbox tab lists the task (a link to its page; flashes name dossiers too)."""
    return f'href="/inbox/tasks/{task.id}' in officer.get(f"/inbox/?tab={tab}").get_data(as_text=True)


def test_a_camunda_modeler_file_runs_end_to_end(demo: Flask, client: FlaskClient) -> None:
    publish(demo, "camunda_named.bpmn", CAMUNDA, "camunda_named")

    # The citizen applies through the start event's form: there is no submit step in the file.
    login(client, CITIZEN)
    form = client.get("/procedures/camunda_named/apply").get_data(as_text=True)
    assert "Họ và tên người đề nghị" in form
    assert 'name="purpose"' in form
    assert "Applicant&#39;s full name" in client.get("/procedures/camunda_named/apply", headers=EN).get_data(
        as_text=True
    )
    refused = client.post(
        "/procedures/camunda_named/apply",
        data={"full_name": "", "csrf_token": csrf(client, "/procedures/camunda_named/apply")},
    )
    assert refused.status_code == 422  # the start form's own constraints hold
    assert db.session.scalar(select(Dossier)) is None
    dossier = apply(client, "camunda_named", {"full_name": "Võ Thị Mai", "purpose": "school", "copies": "2"})
    assert dossier.form_data["full_name"] == "Võ Thị Mai"
    assert dossier.form_data["copies"] == 2
    assert "Võ Thị Mai" in client.get(f"/my/dossiers/{dossier.id}/receipt").get_data(as_text=True)

    # camunda:assignee: the review waits for the named officer only, though they are in no reception group.
    review = open_task(dossier, "Task_review")
    assert review.assignee_id == user(NAMED).id
    assert review.group_id is None
    named = signed_in(demo, NAMED)
    assert listed(named, "new", review)
    desk = signed_in(demo, DESK)  # the reception desk of the same agency
    assert not listed(desk, "new", review)
    assert desk.get(f"/inbox/tasks/{review.id}").status_code == 404
    assert do_step(desk, review, {"decision": "accept"}).status_code in (400, 404)
    assert open_task(dossier, "Task_review").state == TaskState.READY

    # He asks for more; `${initiator}` makes the supplement step the applicant's.
    response = do_step(named, review, {"decision": "supplement", "reason": "Thiếu bản chụp căn cước"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    fix = open_task(dossier, "Task_supplement")
    assert (fix.role, fix.assignee_id) == ("applicant", dossier.applicant_id)
    page = client.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)
    assert f"/my/dossiers/{dossier.id}/steps/{fix.id}" in page  # among the dossier's requests
    assert named.get(f"/inbox/tasks/{fix.id}").status_code == 404 or "Do this step" not in named.get(
        f"/inbox/tasks/{fix.id}", headers=EN
    ).get_data(as_text=True)
    step_url = f"/my/dossiers/{dossier.id}/steps/{fix.id}"
    response = client.post(step_url, data={"supplement_note": "Đã gửi bản chụp", "csrf_token": csrf(client, step_url)})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]

    # Back to the same named officer, who accepts.
    review = open_task(dossier, "Task_review")
    assert review.assignee_id == user(NAMED).id
    assert do_step(named, review, {"decision": "accept"}).status_code == 302

    # camunda:candidateUsers: the two candidates see the approval; nobody else does.
    approval = open_task(dossier, "Task_approve")
    assert (approval.group_id, approval.assignee_id) == (None, None)
    leader, specialist = signed_in(demo, LEADER), signed_in(demo, SPECIALIST)
    assert listed(leader, "in_process", approval)
    assert listed(specialist, "in_process", approval)
    assert not listed(desk, "in_process", approval)
    assert not listed(named, "in_process", approval)
    assert named.get(f"/inbox/tasks/{approval.id}").status_code == 404
    claim = f"/inbox/tasks/{approval.id}/claim"
    assert desk.post(claim, data={"csrf_token": csrf(desk, "/inbox/")}).status_code == 404
    task_page = f"/inbox/tasks/{approval.id}"
    assert specialist.post(claim, data={"csrf_token": csrf(specialist, task_page)}).status_code == 302
    db.session.refresh(approval)
    assert approval.assignee_id == user(SPECIALIST).id
    # Claimed: the other candidate can read it but not do it.
    refused = do_step(leader, approval, {"approval": "approve"})
    assert refused.status_code == 403
    assert open_task(dossier, "Task_approve").state == TaskState.READY
    assert do_step(specialist, approval, {"approval": "approve"}).status_code == 302
    db.session.refresh(dossier)
    assert dossier.status == Status.FINISHED
    db.session.refresh(approval)
    assert approval.completed_by_id == user(SPECIALIST).id
    finished = specialist.get("/inbox/?tab=finished").get_data(as_text=True)
    assert f'href="/inbox/dossiers/{dossier.id}"' in finished  # the dossier page, which they may open
    assert specialist.get(f"/inbox/dossiers/{dossier.id}").status_code == 200
    assert desk.get("/inbox/?tab=finished").get_data(as_text=True).count(f"/inbox/dossiers/{dossier.id}") == 0


def test_a_step_of_named_officers_stays_theirs_without_a_claim(demo: Flask) -> None:
    """The named assignee need not claim; a candidate who did not claim may do the step at once."""
    publish(demo, "camunda_named.bpmn", CAMUNDA, "camunda_named")
    dossier = apply(signed_in(demo, CITIZEN), "camunda_named", {"full_name": "Võ Thị Mai"})
    named = signed_in(demo, NAMED)
    page = named.get(f"/inbox/tasks/{open_task(dossier, 'Task_review').id}", headers=EN).get_data(as_text=True)
    assert "Named officers" in page
    assert do_step(named, open_task(dossier, "Task_review"), {"decision": "accept"}).status_code == 302
    leader = signed_in(demo, LEADER)
    assert do_step(leader, open_task(dossier, "Task_approve"), {"approval": "reject"}).status_code == 302
    db.session.refresh(dossier)
    assert dossier.status == Status.STOPPED


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (f'camunda:assignee="{NAMED}"', 'camunda:assignee="nobody@example.vn"', "nobody@example.vn, who is not"),
        (f'camunda:assignee="{NAMED}"', f'camunda:assignee="{CITIZEN}"', f"{CITIZEN}, who is not an active officer"),
        ("lanhdao@motcua.demo, dkkd", "lanhdao@motcua.demo, ghost@example.vn, dkkd", "ghost@example.vn"),
        (f'camunda:assignee="{NAMED}"', 'camunda:assignee="${approver}"', "other expressions are not supported"),
        (
            'camunda:assignee="${initiator}"',
            f'camunda:candidateUsers="${{initiator}}, {NAMED}"',
            "cannot also name officers",
        ),
    ],
)
def test_people_nobody_knows_are_refused_naming_the_element(demo: Flask, client, old, new, words) -> None:
    as_admin(client)
    text = CAMUNDA.decode("utf-8")
    assert old in text
    before = counts()
    response = upload(client, ("camunda_named.bpmn", text.replace(old, new).encode("utf-8")))
    assert response.status_code == 422
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert words in page
    element = "Task_review" if "assignee" in old and "initiator" not in old else "Task_"
    assert element in page
    assert counts() == before


def test_the_refusal_of_an_unknown_assignee_is_in_vietnamese_too(demo: Flask, client) -> None:
    as_admin(client)
    content = CAMUNDA.replace(f'camunda:assignee="{NAMED}"'.encode(), b'camunda:assignee="nobody@example.vn"')
    token = csrf(client, "/admin/procedures/upload")
    body, content_type = multipart(
        {"csrf_token": token, "agency": "000.00.31.H56"}, [("bpmn", "camunda_named.bpmn", content)]
    )
    response = client.post("/admin/procedures/upload", data=body, content_type=content_type)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Task_review" in page
    assert "nobody@example.vn, người này không phải là cán bộ" in page


def test_a_start_form_and_a_submit_step_are_two_application_forms(demo: Flask, client) -> None:
    submit_step = (
        '<bpmn:userTask id="Task_supplement" name="Bổ sung hồ sơ" camunda:assignee="${initiator}">\n'
        "      <bpmn:extensionElements>\n"
        '        <camunda:properties><camunda:property name="kind" value="submit" /></camunda:properties>'
    )
    text = CAMUNDA.decode("utf-8").replace(
        '<bpmn:userTask id="Task_supplement" name="Bổ sung hồ sơ" camunda:assignee="${initiator}">\n'
        "      <bpmn:extensionElements>",
        submit_step,
    )
    text = text.replace('<camunda:property name="kind" value="supplement" />', "")
    as_admin(client)
    response = upload(client, ("camunda_named.bpmn", text.encode("utf-8")))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "a second application form" in page
    assert "StartEvent_apply" in page


def test_an_activiti_file_reads_as_the_camunda_one(demo: Flask) -> None:
    # The same file, with Activiti's namespace and prefix: the same model, the same findings.
    text = CAMUNDA.decode("utf-8")
    activiti_text = text.replace(
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"', 'xmlns:activiti="http://activiti.org/bpmn"'
    )
    activiti_text = activiti_text.replace("camunda:", "activiti:")
    assert "activiti:assignee" in activiti_text
    assert "camunda:" not in activiti_text
    assert "camunda.org/schema/1.0/bpmn" not in activiti_text
    as_activiti = activiti_text.encode("utf-8")
    assert read_model(as_activiti) == read_model(CAMUNDA)
    people = {NAMED, "lanhdao@motcua.demo"}  # dkkd@ left out: both files get the same finding about it
    camunda_findings = [(p.line, p.element_id, p.reason) for p in validate_bpmn(CAMUNDA, "f", known_people=people)]
    activiti_findings = [(p.line, p.element_id, p.reason) for p in validate_bpmn(as_activiti, "f", known_people=people)]
    assert camunda_findings == activiti_findings
    assert [e for _line, e, _reason in camunda_findings] == ["Task_approve"]


def test_an_activiti_designer_file_runs_end_to_end(demo: Flask) -> None:
    """Written the Activiti way: activiti:formProperty forms, activiti:initiator naming the applicant's variable."""
    publish(demo, "activiti_named.bpmn", ACTIVITI, "activiti_named")
    citizen = signed_in(demo, CITIZEN)
    form = citizen.get("/procedures/activiti_named/apply").get_data(as_text=True)
    assert "Họ và tên người đề nghị" in form
    refused = citizen.post(
        "/procedures/activiti_named/apply",
        data={"full_name": "", "csrf_token": csrf(citizen, "/procedures/activiti_named/apply")},
    )
    assert refused.status_code == 422  # required="true"
    dossier = apply(citizen, "activiti_named", {"full_name": "Võ Thị Mai", "purpose": "work"})
    named, desk = signed_in(demo, NAMED), signed_in(demo, DESK)
    review = open_task(dossier, "review")
    assert listed(named, "new", review)
    assert not listed(desk, "new", review)
    assert do_step(named, review, {"decision": "supplement", "reason": "Thiếu giấy tờ"}).status_code == 302
    fix = open_task(dossier, "fix")  # activiti:assignee="${applicantId}", the start event's activiti:initiator
    assert fix.assignee_id == dossier.applicant_id
    step_url = f"/my/dossiers/{dossier.id}/steps/{fix.id}"
    response = citizen.post(step_url, data={"supplement_note": "Đã bổ sung", "csrf_token": csrf(citizen, step_url)})
    assert response.status_code == 302
    assert do_step(named, open_task(dossier, "review"), {"decision": "accept"}).status_code == 302
    leader, approval = signed_in(demo, LEADER), open_task(dossier, "approve_step")
    assert listed(leader, "in_process", approval)
    assert do_step(desk, approval, {"approval": "approve"}).status_code in (400, 404)
    assert do_step(leader, approval, {"approval": "approve"}).status_code == 302
    db.session.refresh(dossier)
    assert dossier.status == Status.FINISHED
