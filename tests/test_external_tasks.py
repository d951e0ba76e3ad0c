"""External service tasks (camunda:type="external"): a topic handler runs after the step's commit, its outputs
land in the dossier's data and the process goes on; failures are retried per the task's cycle, then an incident
opens that administrators retry or cancel; validation refuses what could not run."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.external import registry
from portal.external.jobs import run_due
from portal.external.registry import ExternalCall, HandlerError
from portal.models import Dossier, DossierEvent, ExternalJob, Incident, IncidentState, JobState, Status
from portal.procedures.services import compiled, deploy
from tests.helpers import COMMUNE, TESTS, deploy_file, open_task, open_tasks, submit, vn
from tests.web import csrf, login
from workflows.engine import Instance
from workflows.validation import validate_bpmn

TEMPLATE = (TESTS / "bpmn_templates" / "external.bpmn").read_text(encoding="utf-8")
TOPIC = "test.lookup"
INPUTS = """
          <camunda:inputParameter name="name">${full_name}</camunda:inputParameter>
          <camunda:inputParameter name="cid">${citizen_id}</camunda:inputParameter>
          <camunda:inputParameter name="source">portal</camunda:inputParameter>"""
KEY = "external_lookup"
APPLICATION = {"full_name": "Nguyễn Văn An", "citizen_id": "001090000001"}
ADMIN, DESK = "admin@motcua.demo", "tiepnhan@motcua.demo"
EN = {"Cookie": "lang=en"}  # a person who chose English


def bpmn_text(topic: str = TOPIC, cycle: str = "R3/PT5M", inputs: str = INPUTS, key: str = KEY) -> str:
    return (
        TEMPLATE.replace("KEY_PLACEHOLDER", key)
        .replace("TOPIC_PLACEHOLDER", topic)
        .replace("CYCLE_PLACEHOLDER", cycle)
        .replace("INPUTS_PLACEHOLDER", inputs)
    )


def deploy_external(tmp_path: Path, **kwargs: Any) -> None:
    path = tmp_path / f"{KEY}.bpmn"
    path.write_text(bpmn_text(**kwargs), encoding="utf-8")
    deploy_file(path)


class Handler:
    """A test topic handler: records its calls; fails while `failures` is above zero, or always if `broken`."""

    def __init__(self, outputs: dict[str, Any] | None = None) -> None:
        self.calls: list[ExternalCall] = []
        self.failures = 0
        self.broken = False
        self.outputs = outputs if outputs is not None else {"registered": True, "registry": {"ward": "Phường 1"}}

    def __call__(self, call: ExternalCall) -> dict[str, Any]:
        self.calls.append(call)
        if self.broken or self.failures > 0:
            self.failures -= 1
            raise HandlerError("the population registry answered 503")
        return {**self.outputs, "not_declared": "dropped"}


@pytest.fixture
def handler(demo: Flask) -> Iterator[Handler]:
    fake = Handler()
    registry.register(TOPIC, fake)
    try:
        yield fake
    finally:
        registry.unregister(TOPIC)


def data_of(dossier: Dossier) -> dict[str, Any]:
    db.session.refresh(dossier)
    return Instance.load(compiled(dossier.version), dossier.workflow_state, {}).data()


def job_of(dossier: Dossier) -> ExternalJob:
    job = db.session.scalar(select(ExternalJob).where(ExternalJob.dossier_id == dossier.id))
    assert job is not None
    db.session.refresh(job)
    return job


def signed_in(app: Flask, who: str):
    client = app.test_client()
    login(client, who)
    return client


# -- the happy path ---------------------------------------------------------------------------------------------


def test_the_handler_runs_after_the_submission_and_the_process_goes_on(
    demo: Flask, handler: Handler, tmp_path: Path
) -> None:
    deploy_external(tmp_path)
    dossier = submit(KEY, APPLICATION, vn(2026, 12, 1, 9))

    assert len(handler.calls) == 1
    call = handler.calls[0]
    # Only the declared inputs: `${name}` is the variable's value, other text is literal.
    assert call.variables == {"name": "Nguyễn Văn An", "cid": "001090000001", "source": "portal"}
    assert (call.topic, call.element_id, call.dossier_code, call.attempt) == (TOPIC, "lookup", dossier.code, 1)
    data = data_of(dossier)
    assert data["registered"] is True
    assert data["registry"] == {"ward": "Phường 1"}
    assert "not_declared" not in data  # camunda:outputParameter lists what is kept
    task = open_task(dossier, "receive")
    assert task.group is not None
    assert task.group.role == "reception"
    job = job_of(dossier)
    assert (job.state, job.attempts, job.next_attempt_at) == (JobState.DONE, 1, None)
    kinds = [e.kind for e in db.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id))]
    assert "external_started" in kinds
    assert "external_completed" in kinds

    desk = signed_in(demo, DESK)
    inbox = desk.get("/inbox/").get_data(as_text=True)
    assert dossier.code in inbox


def test_without_declared_inputs_the_handler_gets_all_the_data(demo: Flask, handler: Handler, tmp_path: Path) -> None:
    deploy_external(tmp_path, inputs="")
    submit(KEY, APPLICATION, vn(2026, 12, 1, 9))
    assert handler.calls[0].variables == APPLICATION


def test_outputs_steer_the_process(demo: Flask, handler: Handler, tmp_path: Path) -> None:
    handler.outputs = {"registered": False}
    deploy_external(tmp_path)
    dossier = submit(KEY, APPLICATION, vn(2026, 12, 1, 9))
    db.session.refresh(dossier)
    assert dossier.status == Status.NOT_ACCEPTED
    assert open_tasks(dossier) == []


# -- retries ----------------------------------------------------------------------------------------------------


def test_two_failures_then_success_follow_the_retry_cycle(demo: Flask, handler: Handler, tmp_path: Path) -> None:
    handler.failures = 2
    deploy_external(tmp_path, cycle="R3/PT5M")
    start = utcnow()
    dossier = submit(KEY, APPLICATION, vn(2026, 12, 1, 9))  # attempt 1, at once after the commit: fails

    job = job_of(dossier)
    assert (job.state, job.attempts, job.max_attempts) == (JobState.PENDING, 1, 3)
    assert "503" in (job.last_error or "")
    first_retry = job.next_attempt_at
    assert first_retry is not None
    assert timedelta(minutes=5) <= first_retry - start < timedelta(minutes=6)
    assert open_tasks(dossier) == []

    assert run_due(start + timedelta(minutes=2)) == {}  # not due yet: nothing runs
    assert len(handler.calls) == 1

    later = first_retry + timedelta(seconds=1)
    assert run_due(later) == {JobState.PENDING: 1}  # attempt 2 fails too
    job = job_of(dossier)
    assert job.attempts == 2
    assert job.next_attempt_at == later + timedelta(minutes=5)

    assert run_due(later + timedelta(minutes=5)) == {JobState.DONE: 1}  # attempt 3 goes through
    assert len(handler.calls) == 3
    assert handler.calls[-1].attempt == 3
    assert data_of(dossier)["registered"] is True
    open_task(dossier, "receive")
    assert db.session.scalar(select(Incident)) is None


# -- incidents --------------------------------------------------------------------------------------------------


def _exhaust(handler: Handler, tmp_path: Path) -> tuple[Dossier, Incident]:
    handler.broken = True
    deploy_external(tmp_path, cycle="R2/PT1M")
    dossier = submit(KEY, APPLICATION, vn(2026, 12, 1, 9))
    assert run_due(utcnow() + timedelta(minutes=2)) == {JobState.INCIDENT: 1}
    job = job_of(dossier)
    assert (job.state, job.attempts, job.next_attempt_at) == (JobState.INCIDENT, 2, None)
    incident = db.session.get(Incident, job.incident_id)
    assert incident is not None
    assert incident.state == IncidentState.OPEN
    assert (incident.dossier_id, incident.element_id, incident.operation) == (dossier.id, "lookup", "external")
    assert "attempt 2 of 2" in incident.message
    assert "503" in incident.message
    assert run_due(utcnow() + timedelta(days=1)) == {}  # nothing is tried again by itself
    return dossier, incident


def test_retries_used_up_open_an_incident_that_an_administrator_retries(
    demo: Flask, handler: Handler, tmp_path: Path
) -> None:
    dossier, incident = _exhaust(handler, tmp_path)

    desk = signed_in(demo, DESK)
    page = html.unescape(desk.get(f"/inbox/dossiers/{dossier.id}", headers=EN).get_data(as_text=True))
    assert "could not reach the external system" in page
    assert "503" in page

    admin = signed_in(demo, ADMIN)
    listing = admin.get("/admin/incidents").get_data(as_text=True)
    assert dossier.code in listing
    assert "lookup" in listing
    detail = html.unescape(admin.get(f"/admin/incidents/{incident.id}", headers=EN).get_data(as_text=True))
    assert "503" in detail
    assert "Cancel the external step" in detail

    token = csrf(admin, f"/admin/incidents/{incident.id}")
    failed = admin.post(
        f"/admin/incidents/{incident.id}/retry", data={"csrf_token": token}, headers=EN, follow_redirects=True
    )
    assert "503" in html.unescape(failed.get_data(as_text=True))
    db.session.refresh(incident)
    assert incident.state == IncidentState.OPEN
    assert incident.occurrences == 2

    handler.broken = False  # the registry is back
    token = csrf(admin, f"/admin/incidents/{incident.id}")
    admin.post(f"/admin/incidents/{incident.id}/retry", data={"csrf_token": token})
    db.session.refresh(incident)
    assert incident.state == IncidentState.RESOLVED
    assert job_of(dossier).state == JobState.DONE
    assert data_of(dossier)["registered"] is True
    open_task(dossier, "receive")


def test_an_administrator_cancels_the_external_step(demo: Flask, handler: Handler, tmp_path: Path) -> None:
    dossier, incident = _exhaust(handler, tmp_path)
    admin = signed_in(demo, ADMIN)
    token = csrf(admin, f"/admin/incidents/{incident.id}")
    admin.post(f"/admin/incidents/{incident.id}/resolve", data={"csrf_token": token})
    db.session.refresh(incident)
    assert incident.state == IncidentState.RESOLVED
    assert job_of(dossier).state == JobState.CANCELLED
    assert run_due(utcnow() + timedelta(days=1)) == {}
    desk = signed_in(demo, DESK)
    page = html.unescape(desk.get(f"/inbox/dossiers/{dossier.id}", headers=EN).get_data(as_text=True))
    assert "was cancelled by an administrator" in page


def test_outputs_that_cannot_merge_open_an_incident_at_once(demo: Flask, handler: Handler, tmp_path: Path) -> None:
    handler.outputs = {"bad name": 1, "__class__": 2}
    deploy_external(tmp_path)
    dossier = submit(KEY, APPLICATION, vn(2026, 12, 1, 9))
    job = job_of(dossier)
    assert (job.state, job.attempts) == (JobState.INCIDENT, 1)  # retrying the same handler cannot help
    assert "output names must be plain identifiers: __class__, bad name" in (job.last_error or "")
    assert open_tasks(dossier) == []


def test_a_withdrawn_dossier_cancels_its_waiting_job(demo: Flask, handler: Handler, tmp_path: Path) -> None:
    from portal.dossiers.services import withdraw_dossier
    from tests.helpers import user

    handler.failures = 1
    deploy_external(tmp_path)
    dossier = submit(KEY, APPLICATION, vn(2026, 12, 1, 9))
    assert job_of(dossier).state == JobState.PENDING
    withdraw_dossier(dossier.id, user("congdan@motcua.demo"), "Nộp nhầm")
    db.session.commit()
    assert job_of(dossier).state == JobState.CANCELLED
    assert run_due(utcnow() + timedelta(hours=1)) == {}


# -- validation -------------------------------------------------------------------------------------------------


def test_validation_refuses_a_topic_without_handler(demo: Flask) -> None:
    with force_locale("en"):
        problems = validate_bpmn(
            bpmn_text(topic="land.lookup").encode(), "x.bpmn", known_topics=registry.known_topics()
        )
    assert [(p.element_id, p.line) for p in problems] == [("lookup", 42)]
    assert "topic land.lookup has no handler" in problems[0].reason
    assert "http.json" in problems[0].reason
    result = deploy(bpmn_text(topic="land.lookup").encode(), "x.bpmn", [], agency_code=COMMUNE)
    assert not result.ok
    assert "land.lookup" in str(result.problems[0])


def test_validation_speaks_vietnamese_first(demo: Flask) -> None:
    xml = bpmn_text(topic="land.lookup").encode()
    with demo.test_request_context():
        reason = validate_bpmn(xml, "x.bpmn", known_topics={"http.json"})[0].reason
    assert reason == "chủ đề land.lookup chưa có bộ xử lý trong cổng này (các chủ đề có bộ xử lý: http.json)"
    with demo.test_request_context(), force_locale("en"):
        reason = validate_bpmn(xml, "x.bpmn", known_topics={"http.json"})[0].reason
    assert reason.startswith("topic land.lookup has no handler")


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (f'camunda:type="external" camunda:topic="{TOPIC}"', "", "must be an external task"),
        (f'camunda:topic="{TOPIC}"', "", "no camunda:topic"),
        ("R3/PT5M", "every five minutes", "failedJobRetryTimeCycle"),
        ("R3/PT5M", "R50/PT1M", "1 to 20 attempts"),
        (">${citizen_id}<", ">số ${citizen_id}<", "variable alone"),
        (
            '<camunda:outputParameter name="registry" />',
            '<camunda:outputParameter name="registry">${x}</camunda:outputParameter>',
            "leave its value empty",
        ),
    ],
)
def test_validation_refuses_what_cannot_run(old: str, new: str, words: str) -> None:
    text = bpmn_text()
    assert old in text
    problems = validate_bpmn(text.replace(old, new).encode(), "x.bpmn", known_topics={TOPIC})
    assert len(problems) == 1, [str(p) for p in problems]
    assert problems[0].element_id in ("lookup", "-") or words in problems[0].reason
    assert words in problems[0].reason


def test_a_valid_external_task_passes_and_declared_outputs_are_known_names() -> None:
    assert validate_bpmn(bpmn_text().encode(), "x.bpmn", known_topics={TOPIC}) == []


def test_input_output_elsewhere_is_refused() -> None:
    text = bpmn_text().replace(
        '<camunda:property name="kind" value="reception" />',
        '<camunda:property name="kind" value="reception" /></camunda:properties><camunda:inputOutput />'
        "<camunda:properties>",
    )
    problems = validate_bpmn(text.encode(), "x.bpmn", known_topics={TOPIC})
    assert any("only supported on external service tasks" in p.reason for p in problems)


def test_topics_come_from_entry_points_too(monkeypatch: pytest.MonkeyPatch) -> None:
    class Point:
        name, value = "land.lookup", "pkg:handler"

        def load(self) -> Callable[[ExternalCall], dict[str, Any]]:
            return lambda call: {}

    monkeypatch.setattr(
        registry, "entry_points", lambda group: [Point()] if group == registry.ENTRY_POINT_GROUP else []
    )
    monkeypatch.setattr(registry, "_loaded", False)
    try:
        assert "land.lookup" in registry.known_topics()
        assert "http.json" in registry.known_topics()
    finally:
        registry.unregister("land.lookup")


# -- dry runs ---------------------------------------------------------------------------------------------------


def test_a_dry_run_takes_the_outputs_from_the_administrator(demo: Flask, handler: Handler, client) -> None:
    import re

    from tests.test_admin_support import as_admin, post, procedure, upload

    as_admin(client)
    upload(client, (f"{KEY}.bpmn", bpmn_text().encode()))
    proc = procedure(KEY)
    run_url = post(client, f"/admin/procedures/{proc.id}/versions/1/dry-run").headers["Location"]
    page = client.get(run_url, headers=EN).get_data(as_text=True)
    action = re.search(r'action="(/admin/dry-runs/\d+/steps/[^"]+)"', page).group(1)  # type: ignore[union-attr]
    prefix = re.search(r'name="(s[0-9a-f]{8})-', page).group(1)  # type: ignore[union-attr]
    post(client, action, {f"{prefix}-full_name": "An", f"{prefix}-citizen_id": "1"}, page=run_url)
    page = html.unescape(client.get(run_url, headers=EN).get_data(as_text=True))
    assert "Waiting service task: Tra cứu cơ sở dữ liệu dân cư" in page
    assert f"Topic {TOPIC}" in page
    external = re.search(r'action="(/admin/dry-runs/\d+/external/[^"]+)"', page).group(1)  # type: ignore[union-attr]

    wrong = post(client, external, {"outputs": "[1]"}, page=run_url, follow_redirects=True)
    assert "must be a JSON object" in html.unescape(wrong.get_data(as_text=True))
    post(client, external, {"outputs": '{"registered": true, "other": 1}'}, page=run_url)
    page = client.get(run_url, headers=EN).get_data(as_text=True)
    assert "Waiting step: Tiếp nhận hồ sơ" in page
    assert handler.calls == []  # no system was called
    assert db.session.scalar(select(ExternalJob)) is None
