"""Procedure code past its budget, through real HTTP requests: the person reads plain words in their language,
nothing is half-saved, an incident reaches the administrators, and their retry resolves it once fixed."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Attachment,
    AuditLog,
    Dossier,
    DossierCodeCounter,
    Draft,
    Incident,
    IncidentState,
    ProcedureVersion,
    Task,
    TaskState,
)
from tests.helpers import TESTS, deploy_file, open_task, submit, upload, vn
from tests.web import csrf, login
from workflows import sandbox

TEMPLATE = (TESTS / "bpmn_templates" / "budgeted.bpmn").read_text(encoding="utf-8")
CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
ADMIN = "admin@motcua.demo"
EN = {"Cookie": "lang=en"}  # a person who chose English (the portal does not follow Accept-Language)
RUNAWAY = "n = 0\nwhile n &gt;= 0:\n    n = n + 1"  # XML-escaped: a loop validation cannot prove endless
FIXED = "checked = True"
HUNGRY = 'len("a" * (size * 1000000)) &gt; 0'  # size MB of text
TIME_BUDGET_MS, MEMORY_BUDGET_MB = 300, 32
FIRST_FLOW = '<bpmn:sequenceFlow id="f2" sourceRef="apply" targetRef="check" />'


@pytest.fixture
def budgets(demo: Flask) -> Iterator[Flask]:
    """Small budgets, so a runaway step is stopped quickly; the app's own budgets again afterwards."""
    sandbox.configure(TIME_BUDGET_MS, MEMORY_BUDGET_MB)
    try:
        yield demo
    finally:
        sandbox.configure(demo.config["SCRIPT_TIME_BUDGET_MS"], demo.config["SCRIPT_MEMORY_BUDGET_MB"])


def deploy_budgeted(tmp_path: Path, script: str, condition: str = "size &gt;= 0", template: str = TEMPLATE) -> int:
    key = "budgeted"
    text = (
        template.replace("KEY_PLACEHOLDER", key)
        .replace("NAME_PLACEHOLDER", "Thủ tục thử giới hạn")
        .replace("SCRIPT_PLACEHOLDER", script)
        .replace("CONDITION_PLACEHOLDER", condition)
    )
    path = tmp_path / f"{key}-{abs(hash((script, condition)))}.bpmn"
    path.write_text(text, encoding="utf-8")
    return deploy_file(path).id


def signed_in(app: Flask, who: str) -> FlaskClient:
    client = app.test_client()
    login(client, who)
    return client


def send_application(client: FlaskClient, title: str, documents: str = "", **headers: str):
    token = csrf(client, "/procedures/budgeted/apply")
    data = {"title": title, "documents": documents, "csrf_token": token}
    return client.post("/procedures/budgeted/apply", data=data, headers=headers)


def counter_value() -> int:
    return db.session.scalar(select(func.coalesce(func.sum(DossierCodeCounter.value), 0))) or 0


def only_incident() -> Incident:
    incidents = db.session.scalars(select(Incident)).all()
    assert len(incidents) == 1, [(i.operation, i.element_id, i.kind) for i in incidents]
    return incidents[0]


def retry(admin: FlaskClient, incident: Incident):
    token = csrf(admin, f"/admin/incidents/{incident.id}")
    return admin.post(f"/admin/incidents/{incident.id}/retry", data={"csrf_token": token}, follow_redirects=True)


def test_a_runaway_script_at_submission_fails_plainly_and_leaves_nothing_half_saved(budgets, tmp_path) -> None:
    version_id = deploy_budgeted(tmp_path, RUNAWAY)
    citizen = signed_in(budgets, CITIZEN)
    attachment = upload(CITIZEN)

    response = send_application(citizen, "Đơn xin thử", attachment)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Không thể hoàn tất bước này: phần xử lý tự động của thủ tục chạy quá lâu." in page
    assert "Những gì bạn đã nhập không bị mất" in page
    for internal in ("while", "BudgetExceeded", "exceeded", "EngineError", "at check", "Traceback"):
        assert internal not in page, internal
    assert 'value="Đơn xin thử"' in page  # the form comes back as it was typed
    # Nothing half-saved: no dossier, the file not claimed, the agency's code counter not advanced ...
    assert db.session.scalar(select(func.count()).select_from(Dossier)) == 0
    assert db.session.get(Attachment, int(attachment)).dossier_id is None
    assert counter_value() == 0
    # ... and what was typed is kept as a draft on the server.
    draft = db.session.scalar(select(Draft))
    assert draft is not None
    assert draft.data["title"] == "Đơn xin thử"

    incident = only_incident()
    assert (incident.kind, incident.element_id, incident.operation) == ("time", "check", "submit")
    assert incident.procedure_version_id == version_id
    assert incident.dossier_id is None
    assert incident.detail["limit"] == f"{TIME_BUDGET_MS} ms"

    english = send_application(citizen, "Đơn xin thử", attachment, **EN)
    assert english.status_code == 422
    assert "This step could not be completed: the procedure's automatic processing took too long." in html.unescape(
        english.get_data(as_text=True)
    )
    db.session.expire_all()
    assert only_incident().occurrences == 2  # the same failure again is counted, not listed twice


def test_admins_see_the_incident_and_a_retry_after_a_fix_resolves_it(budgets, tmp_path) -> None:
    deploy_budgeted(tmp_path, RUNAWAY)
    citizen = signed_in(budgets, CITIZEN)
    assert send_application(citizen, "Đơn xin thử").status_code == 422
    incident = only_incident()
    admin = signed_in(budgets, ADMIN)

    listing = admin.get("/admin/incidents").get_data(as_text=True)
    assert "Thủ tục thử giới hạn" in listing
    assert "<code>check</code>" in listing
    assert f"Ngân sách thời gian ({TIME_BUDGET_MS} ms)" in listing
    assert 'href="/admin/incidents"' in admin.get("/admin/").get_data(as_text=True)

    # Retrying before the fix fails again: counted on the same incident, which stays open.
    failed = retry(admin, incident)
    assert "Thử lại vẫn không được" in failed.get_data(as_text=True)
    db.session.expire_all()
    incident = db.session.get(Incident, incident.id)
    assert (incident.state, incident.occurrences) == (IncidentState.OPEN, 2)

    # The administrator publishes a fixed version; the retry tries the application again, and resolves.
    deploy_budgeted(tmp_path, FIXED)
    page = retry(admin, incident).get_data(as_text=True)
    assert "Sự cố đã được giải quyết." in page
    assert "Võ Thị Mai" in page  # who must send the application again
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).state == IncidentState.RESOLVED
    assert db.session.scalar(select(func.count()).select_from(Dossier)) == 0  # a trial: nothing done for her
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"incident.retry_failed", "incident.resolve"} <= actions

    # And the citizen's own second try goes through on the new version.
    response = send_application(citizen, "Đơn xin thử")
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]


def test_a_condition_past_its_memory_budget_keeps_the_officers_step_waiting(budgets, tmp_path) -> None:
    deploy_budgeted(tmp_path, FIXED, HUNGRY)
    dossier = submit("budgeted", {"title": "Đơn"}, vn(2025, 3, 3, 9))
    task = open_task(dossier, "receive")
    before = (dossier.workflow_state, dossier.status, dossier.lock_version)
    desk = signed_in(budgets, DESK)
    token = csrf(desk, f"/inbox/tasks/{task.id}")

    response = desk.post(f"/inbox/tasks/{task.id}", data={"csrf_token": token, "decision": "accept", "size": "64"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "phần xử lý tự động của thủ tục cần quá nhiều bộ nhớ" in page
    assert "MemoryError" not in page
    assert 'value="64"' in page  # the decision is still on the form, ready to be sent again
    db.session.expire_all()
    dossier = db.session.get(Dossier, dossier.id)
    assert (dossier.workflow_state, dossier.status, dossier.lock_version) == before
    assert db.session.get(Task, task.id).state == TaskState.READY
    incident = only_incident()
    assert (incident.kind, incident.element_id, incident.operation) == ("memory", "gate", "complete_task")
    assert incident.dossier_id == dossier.id
    assert incident.detail["retry"]["task_id"] == task.id

    admin = signed_in(budgets, ADMIN)
    detail = admin.get(f"/admin/incidents/{incident.id}").get_data(as_text=True)
    assert dossier.code in detail
    assert f"Ngân sách bộ nhớ ({MEMORY_BUDGET_MB} MB)" in detail

    sandbox.configure(TIME_BUDGET_MS, 256)  # the deployment raises the memory budget
    page = retry(admin, incident).get_data(as_text=True)
    assert "Sự cố đã được giải quyết." in page
    assert f"cần thực hiện lại bước Tiếp nhận hồ sơ của hồ sơ {dossier.code}" in page  # the officer, not the retry
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).state == IncidentState.RESOLVED
    assert db.session.get(Task, task.id).state == TaskState.READY  # the retry did not decide for the officer

    token = csrf(desk, f"/inbox/tasks/{task.id}")
    again = desk.post(f"/inbox/tasks/{task.id}", data={"csrf_token": token, "decision": "accept", "size": "64"})
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task.id).state == TaskState.COMPLETED


def test_incident_pages_are_for_administrators_only(budgets, tmp_path) -> None:
    deploy_budgeted(tmp_path, RUNAWAY)
    citizen = signed_in(budgets, CITIZEN)
    assert send_application(citizen, "Đơn").status_code == 422
    incident = only_incident()
    desk = signed_in(budgets, DESK)
    token = csrf(desk, "/")
    assert desk.get("/admin/incidents").status_code == 403
    for action in ("retry", "resolve"):
        response = desk.post(f"/admin/incidents/{incident.id}/{action}", data={"csrf_token": token})
        assert response.status_code == 403
    admin = signed_in(budgets, ADMIN)
    assert admin.post(f"/admin/incidents/{incident.id}/resolve").status_code == 400  # no CSRF token
    token = csrf(admin, f"/admin/incidents/{incident.id}")
    response = admin.post(f"/admin/incidents/{incident.id}/resolve", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).state == IncidentState.RESOLVED
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "incident.resolve")) is not None
    assert re.search(r"Đã giải quyết", admin.get("/admin/incidents").get_data(as_text=True))


def test_a_runaway_script_after_a_timer_becomes_an_incident_of_the_periodic_job(budgets, tmp_path) -> None:
    """The Celery timer pass rolls the dossier back and records the incident; the admin's retry fires again."""
    from portal.notifications.timers import fire_batch

    timer = (
        '<bpmn:sequenceFlow id="f2" sourceRef="apply" targetRef="wait" />'
        '<bpmn:intermediateCatchEvent id="wait" name="Chờ"><bpmn:timerEventDefinition>'
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">after_start("1h")</bpmn:timeDate>'
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        '<bpmn:sequenceFlow id="f2b" sourceRef="wait" targetRef="check" />'
    )
    deploy_budgeted(tmp_path, RUNAWAY, template=TEMPLATE.replace(FIRST_FLOW, timer))
    dossier = submit("budgeted", {"title": "Đơn"}, vn(2025, 3, 3, 9))
    due, state = dossier.next_timer_at, dossier.workflow_state
    assert due is not None

    assert fire_batch([dossier.id], now=vn(2025, 3, 3, 12)) == (0, 1)

    db.session.expire_all()
    dossier = db.session.get(Dossier, dossier.id)
    assert (dossier.next_timer_at, dossier.workflow_state) == (due, state)  # rolled back, still due
    incident = only_incident()
    assert (incident.operation, incident.kind, incident.element_id) == ("timer", "time", "check")
    assert incident.dossier_id == dossier.id

    admin = signed_in(budgets, ADMIN)
    assert "Thử lại vẫn không được" in retry(admin, incident).get_data(as_text=True)  # fired for real, failed again
    db.session.expire_all()
    incident = db.session.get(Incident, incident.id)
    assert (incident.state, incident.occurrences) == (IncidentState.OPEN, 2)


def test_a_dry_run_tells_the_administrator_where_and_what_and_records_no_incident(budgets, tmp_path) -> None:
    from tests.test_admin_dryrun import step_form

    version_id = deploy_budgeted(tmp_path, RUNAWAY)
    version = db.session.get(ProcedureVersion, version_id)
    admin = signed_in(budgets, ADMIN)
    version_page = f"/admin/procedures/{version.procedure_id}/versions/{version.number}"
    started = admin.post(f"{version_page}/dry-run", data={"csrf_token": csrf(admin, version_page)})
    run_url = started.headers["Location"]
    action, prefix = step_form(admin.get(run_url).get_data(as_text=True))

    response = admin.post(action, data={"csrf_token": csrf(admin, run_url), f"{prefix}-title": "Thử"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"Quy trình dừng ở phần tử check: chạy lâu hơn ngân sách thời gian ({TIME_BUDGET_MS} ms)." in page
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0  # they are the one to act
