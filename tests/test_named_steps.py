"""Steps of named officers (camunda:assignee, camunda:candidateUsers) and of the applicant (`${initiator}`), end to
end through HTTP: who is told and reminded, what administrators, slips and timelines say about them, the inbox of
an officer of another agency, a leader's reassignment, and a clear refusal of ids SpiffWorkflow would confuse."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Notification, NotificationChannel, Task, User
from portal.notifications.reminders import send_due_reminders
from tests.helpers import open_task, user
from tests.test_admin_dryrun import step_form
from tests.test_admin_support import EN, as_admin, counts, post, procedure, upload
from tests.test_camunda_compat import CAMUNDA, NAMED, apply, do_step, listed, publish, signed_in
from tests.test_citizen_support import CITIZEN, LEADER, SPECIALIST, multipart
from tests.test_inbox_pages import DESK2, OUTSIDER, other_agency_officer
from tests.web import csrf

KEY = "camunda_named"
APPLICATION = {"full_name": "Võ Thị Mai", "purpose": "school", "copies": "1"}


def changed(*replacements: tuple[str, str]) -> bytes:
    """tests/bpmn_good/camunda_named.bpmn with text replacements (each must apply)."""
    text = CAMUNDA.decode("utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def told(kind: str, task: Task) -> list[str]:
    """Emails of the people who got an in-app notification of `kind` about the task."""
    stmt = (
        select(User.email)
        .join(Notification, Notification.user_id == User.id)
        .where(Notification.kind == kind, Notification.task_id == task.id)
        .where(Notification.channel == NotificationChannel.IN_APP)
    )
    return sorted(e or "" for e in db.session.scalars(stmt))


def to_citizen(kind: str) -> list[Notification]:
    stmt = select(Notification).join(User, User.id == Notification.user_id).where(User.email == CITIZEN)
    return list(db.session.scalars(stmt.where(Notification.kind == kind, Notification.channel == "in_app")))


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


# -- 1. notifications -----------------------------------------------------------------------------------------


def test_named_officers_hear_of_their_steps_and_the_citizen_of_the_request_once(demo: Flask) -> None:
    publish(demo, "camunda_named.bpmn", CAMUNDA, KEY)
    citizen = signed_in(demo, CITIZEN)
    dossier = apply(citizen, KEY, APPLICATION)

    review = open_task(dossier, "Task_review")
    assert told("task_assigned", review) == [NAMED]  # the assignee, though in no reception group
    named = signed_in(demo, NAMED)
    inbox = named.get("/notifications/").get_data(as_text=True)
    assert "Bước này đã được giao cho bạn." in inbox
    assert dossier.code in inbox

    # `${initiator}`: the supplement step is the citizen's; its status (5) is the request they are told of, once.
    assert do_step(named, review, {"decision": "supplement", "reason": "Thiếu bản chụp căn cước"}).status_code == 302
    assert len(to_citizen("supplement")) == 1
    assert to_citizen("applicant_step") == []
    fix = open_task(dossier, "Task_supplement")
    url = f"/my/dossiers/{dossier.id}/steps/{fix.id}"
    assert citizen.post(url, data={"supplement_note": "Đã gửi", "csrf_token": csrf(citizen, url)}).status_code == 302

    review = open_task(dossier, "Task_review")
    assert told("task_assigned", review) == [NAMED]  # the citizen answered: not them, the officer is told
    assert do_step(named, review, {"decision": "accept"}).status_code == 302

    # camunda:candidateUsers: each candidate is told; the reception desk and the officer who acted are not.
    approval = open_task(dossier, "Task_approve")
    assert told("task_assigned", approval) == sorted([LEADER, SPECIALIST])
    leader_inbox = signed_in(demo, LEADER).get("/notifications/").get_data(as_text=True)
    assert "bạn là một trong những cán bộ được chỉ định thực hiện bước này" in leader_inbox


def test_a_step_given_to_the_applicant_tells_the_citizen_where_to_do_it(demo: Flask) -> None:
    # The same step without the request's status and kind: a plain step of the applicant.
    content = changed(
        ('<camunda:property name="kind" value="supplement" />', ""),
        ('<camunda:property name="status" value="5" />', ""),
    )
    publish(demo, "camunda_named.bpmn", content, KEY)
    citizen = signed_in(demo, CITIZEN)
    dossier = apply(citizen, KEY, APPLICATION)
    assert to_citizen("applicant_step") == []  # the application itself says nothing of the sort
    named = signed_in(demo, NAMED)
    review = open_task(dossier, "Task_review")
    assert do_step(named, review, {"decision": "supplement", "reason": "Ghi rõ nơi cư trú"}).status_code == 302

    fix = open_task(dossier, "Task_supplement")
    [message] = to_citizen("applicant_step")
    assert message.subject == f"Hồ sơ {dossier.code}: có một bước đang chờ bạn thực hiện"
    assert "Bổ sung hồ sơ" in message.body
    sms = db.session.scalar(
        select(Notification).where(Notification.kind == "applicant_step", Notification.channel == "sms")
    )
    assert sms is not None
    assert f"/my/dossiers/{dossier.id}/answer" in sms.body

    page = citizen.get("/notifications/", headers=EN).get_data(as_text=True)
    assert "Do this step" in page
    answer = citizen.get(f"/my/dossiers/{dossier.id}/answer")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/my/dossiers/{dossier.id}/steps/{fix.id}")


def test_deadline_warnings_reach_named_officers(demo: Flask) -> None:
    content = changed(
        (
            '<camunda:property name="status" value="4" />',
            '<camunda:property name="status" value="4" />\n<camunda:property name="allowance" value="4h" />',
        )
    )
    publish(demo, "camunda_named.bpmn", content, KEY)
    dossier = apply(signed_in(demo, CITIZEN), KEY, APPLICATION)
    review = open_task(dossier, "Task_review")
    later = utcnow() + timedelta(days=30)
    assert send_due_reminders(now=later) == 2  # the reminder, then the escalation
    assert told("reminder", review) == [NAMED]
    assert told("escalation", review) == [LEADER]

    assert do_step(signed_in(demo, NAMED), review, {"decision": "accept"}).status_code == 302
    approval = open_task(dossier, "Task_approve")
    assert send_due_reminders(now=later) == 2
    assert told("reminder", approval) == sorted([LEADER, SPECIALIST])  # nobody claimed it: every candidate
    [escalation] = [
        n
        for n in db.session.scalars(select(Notification).where(Notification.task_id == approval.id))
        if n.kind == "escalation" and n.channel == "email"
    ]
    assert "Hoàng Văn Nam, Lê Thị Hoa" in escalation.body  # held by: the officers it names


# -- 2. the administrators' pages -----------------------------------------------------------------------------


def test_preview_and_dry_run_name_the_people_of_a_step(demo: Flask, client: FlaskClient) -> None:
    as_admin(client)
    assert upload(client, ("camunda_named.bpmn", CAMUNDA)).status_code == 302
    base = f"/admin/procedures/{procedure(KEY).id}/versions/1"

    review = text_of(client.get(f"{base}/preview/Task_review", headers=EN))
    assert "It is assigned to Trần Văn Minh (hotich@motcua.demo), who sees it and does it." in review
    assert "None" not in review
    approval = text_of(client.get(f"{base}/preview/Task_approve"))
    assert (
        "Các cán bộ được chỉ định có thể nhận bước này: Hoàng Văn Nam (lanhdao@motcua.demo), "
        "Lê Thị Hoa (dkkd@motcua.demo)." in approval
    )
    assert "The citizen sees this form." in text_of(client.get(f"{base}/preview/Task_supplement", headers=EN))
    version = client.get(base, headers=EN).get_data(as_text=True)
    assert "<code>hotich@motcua.demo</code>" in version

    run_url = post(client, f"{base}/dry-run", page=base).headers["Location"]
    page = client.get(run_url, headers=EN)
    words = text_of(page)
    assert "Waiting step: Xem xét hồ sơ" in words
    assert "It is assigned to Trần Văn Minh (hotich@motcua.demo)" in words
    assert "group None" not in words
    action, prefix = step_form(page.get_data(as_text=True))
    assert (
        post(client, action, {f"{prefix}-decision": "accept", f"{prefix}-reason": ""}, page=run_url).status_code == 302
    )
    words = text_of(client.get(run_url, headers=EN))
    assert "Waiting step: Phê duyệt" in words
    assert (
        "Officers named for it may take it: Hoàng Văn Nam (lanhdao@motcua.demo), Lê Thị Hoa (dkkd@motcua.demo)."
        in words
    )


# -- 3. the process-control slip and the citizen's timeline ----------------------------------------------------


def test_the_slip_and_the_timeline_give_the_unit_of_named_officers(demo: Flask) -> None:
    publish(demo, "camunda_named.bpmn", CAMUNDA, KEY)
    citizen = signed_in(demo, CITIZEN)
    dossier = apply(citizen, KEY, APPLICATION)
    named = signed_in(demo, NAMED)
    timeline = text_of(citizen.get(f"/my/dossiers/{dossier.id}", headers=EN))
    assert "Review the dossier Civil status officers" in timeline  # the named officer's unit

    assert (
        do_step(named, open_task(dossier, "Task_review"), {"decision": "supplement", "reason": "Thiếu"}).status_code
        == 302
    )
    fix = open_task(dossier, "Task_supplement")
    url = f"/my/dossiers/{dossier.id}/steps/{fix.id}"
    assert citizen.post(url, data={"supplement_note": "Đã gửi", "csrf_token": csrf(citizen, url)}).status_code == 302
    assert do_step(named, open_task(dossier, "Task_review"), {"decision": "accept"}).status_code == 302
    timeline = text_of(citizen.get(f"/my/dossiers/{dossier.id}", headers=EN))
    assert "Supplement the dossier You (the applicant)" in timeline
    assert "Approve Ward leaders, Business registration officers" in timeline  # nobody took it yet: both

    specialist = signed_in(demo, SPECIALIST)
    # Before anyone takes the approval, the slip hands the dossier over to every officer it names.
    last = control_rows(specialist, dossier.id)[-1]
    assert last[1:3] == [
        "Công chức Tư pháp – Hộ tịch / Trần Văn Minh",
        "Lãnh đạo UBND phường, Chuyên viên đăng ký kinh doanh / Hoàng Văn Nam, Lê Thị Hoa",
    ]
    assert do_step(specialist, open_task(dossier, "Task_approve"), {"approval": "approve"}).status_code == 302
    timeline = text_of(citizen.get(f"/my/dossiers/{dossier.id}", headers=EN))
    assert "Approve Business registration officers" in timeline

    # (by unit / person, to unit / person, note): the named officer's unit, never "Applicant", for their steps
    handovers = [(r[1], r[2], r[-1]) for r in control_rows(specialist, dossier.id)]
    assert handovers == [
        ("Người nộp hồ sơ / Võ Thị Mai", "Công chức Tư pháp – Hộ tịch / Trần Văn Minh", "Nộp đơn"),
        ("Công chức Tư pháp – Hộ tịch / Trần Văn Minh", "Người nộp hồ sơ / Võ Thị Mai", "Xem xét hồ sơ — Thiếu"),
        ("Người nộp hồ sơ / Võ Thị Mai", "Công chức Tư pháp – Hộ tịch / Trần Văn Minh", "Bổ sung hồ sơ"),
        ("Công chức Tư pháp – Hộ tịch / Trần Văn Minh", "Chuyên viên đăng ký kinh doanh / Lê Thị Hoa", "Xem xét hồ sơ"),
        ("Chuyên viên đăng ký kinh doanh / Lê Thị Hoa", "Đã xử lý xong", "Phê duyệt"),
    ]


def control_rows(officer: FlaskClient, dossier_id: int) -> list[list[str]]:
    """The rows of the dossier's process-control slip, as the officer reads it."""
    slip = officer.get(f"/documents/dossiers/{dossier_id}/process-control").get_data(as_text=True)
    rows = [cells(row) for row in re.findall(r"<tr>(.*?)</tr>", slip, re.DOTALL)]
    return [r for r in rows if r]  # the header row has no <td>


def cells(row: str) -> list[str]:
    """A table row's cells as text, a line break as " / "."""
    found = re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
    return [" ".join(re.sub(r"<[^>]+>", " ", c.replace("<br>", " / ")).split()) for c in found]


# -- 4. the inbox of an officer of another agency, and a leader's reassignment ---------------------------------


def test_an_officer_of_another_agency_finds_a_named_step_due_soon_and_waiting_for_the_citizen(demo: Flask) -> None:
    other_agency_officer()  # an officer of another ward, with no group in the procedure's agency
    content = changed(
        (f'camunda:assignee="{NAMED}"', f'camunda:assignee="{OUTSIDER}"'),
        ('<camunda:property name="allowance" value="1d" />', '<camunda:property name="allowance" value="2h" />'),
    )
    publish(demo, "camunda_named.bpmn", content, KEY)
    citizen = signed_in(demo, CITIZEN)
    dossier = apply(citizen, KEY, APPLICATION)
    review = open_task(dossier, "Task_review")
    outsider = signed_in(demo, OUTSIDER)
    assert listed(outsider, "new", review)
    assert listed(outsider, "due_soon", review)
    assert "Xác nhận tình trạng cư trú (mẫu Camunda)" in outsider.get("/inbox/").get_data(as_text=True)  # filter
    timeline = text_of(citizen.get(f"/my/dossiers/{dossier.id}"))
    assert "Một cửa phường Bên Cạnh – UBND phường Bên Cạnh" in timeline  # their unit, and their agency

    assert do_step(outsider, review, {"decision": "supplement", "reason": "Thiếu"}).status_code == 302
    waiting = outsider.get("/inbox/?tab=supplement").get_data(as_text=True)
    assert f'href="/inbox/dossiers/{dossier.id}"' in waiting


def test_a_leader_hands_a_named_step_to_another_officer_of_the_agency(demo: Flask) -> None:
    publish(demo, "camunda_named.bpmn", CAMUNDA, KEY)
    dossier = apply(signed_in(demo, CITIZEN), KEY, APPLICATION)
    review = open_task(dossier, "Task_review")
    leader = signed_in(demo, LEADER)
    assert listed(leader, "agency", review)
    page = leader.get(f"/inbox/tasks/{review.id}", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Nobody: back to the officers named for it" in html
    assert f'<option value="{user(DESK2).id}"' in html

    outsider = other_agency_officer()
    token = csrf(leader, f"/inbox/tasks/{review.id}")
    refused = leader.post(
        "/inbox/bulk",
        data={"csrf_token": token, "action": "reassign", "assignee_id": outsider.id, "task_ids": review.id},
        headers=EN,
    )
    assert refused.status_code == 422
    assert "Người Ngoài is neither an officer of UBND phường Trung Tâm nor named for Xem xét hồ sơ." in text_of(refused)
    db.session.refresh(review)
    assert review.assignee_id == user(NAMED).id

    response = leader.post(
        "/inbox/bulk",
        data={"csrf_token": token, "action": "reassign", "assignee_id": user(DESK2).id, "task_ids": review.id},
    )
    assert response.status_code == 302
    db.session.refresh(review)
    assert review.assignee_id == user(DESK2).id
    assert DESK2 in told("task_assigned", review)  # "this step was assigned to you"
    desk2, named = signed_in(demo, DESK2), signed_in(demo, NAMED)
    assert listed(desk2, "new", review)
    assert do_step(named, review, {"decision": "accept"}).status_code == 403  # no longer theirs
    assert do_step(desk2, review, {"decision": "accept"}).status_code == 302
    assert open_task(dossier, "Task_approve").name == "Phê duyệt"


# -- 5. an enum option with the id of a task -------------------------------------------------------------------


def test_an_option_with_the_id_of_a_task_is_refused_naming_both(demo: Flask, client: FlaskClient) -> None:
    content = changed(("Task_approve", "approve"))  # the approval step's option "approve" is now also a task id
    as_admin(client)
    before = counts()
    response = upload(client, ("camunda_named.bpmn", content))
    assert response.status_code == 422
    words = text_of(response).replace("&#39;", "'")
    assert (
        "option approve of the enum field approval has the same id as the element userTask approve (Phê duyệt); "
        "give one of them another id" in words
    )
    assert "SpiffWorkflow" not in words
    assert counts() == before

    token = csrf(client, "/admin/procedures/upload")
    body, content_type = multipart(
        {"csrf_token": token, "agency": "000.00.31.H56"}, [("bpmn", "camunda_named.bpmn", content)]
    )
    response = client.post("/admin/procedures/upload", data=body, content_type=content_type)
    assert response.status_code == 422
    assert "lựa chọn approve của trường danh sách approval trùng id với phần tử userTask approve" in text_of(response)


def test_a_form_field_with_the_id_of_a_task_is_refused_too(demo: Flask, client: FlaskClient) -> None:
    as_admin(client)
    content = changed(('formField id="copies"', 'formField id="Task_review"'))
    response = upload(client, ("camunda_named.bpmn", content))
    assert response.status_code == 422
    assert "form field Task_review has the same id as the element userTask Task_review" in text_of(response)
