"""The engine through the service layer: state storage, locking, failures, versions."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from portal.core.errors import StepFailed
from portal.demo import seed_agencies, seed_people
from portal.extensions import db
from portal.models import Dossier, DossierEvent, Status, Task, TaskState
from tests.helpers import TESTS, deploy_file, do, open_task, submit, user, vn

FAILING = TESTS / "bpmn_good" / "failing_step.bpmn"


@pytest.fixture
def agency(app: Flask) -> Flask:
    seed_people(seed_agencies())
    db.session.commit()
    return app


def test_state_is_stored_without_the_spec(agency: Flask) -> None:
    deploy_file(FAILING)
    dossier = submit("failing_step", {"title": "Đơn thử"}, vn(2026, 3, 2, 8))
    state = json.loads(dossier.workflow_state)
    assert "spec" not in state
    assert "subprocess_specs" not in state
    assert state["serializer_version"]
    assert open_task(dossier).bpmn_id == "receive"


def test_a_failing_step_leaves_the_saved_state_usable(agency: Flask) -> None:
    deploy_file(FAILING)
    dossier = submit("failing_step", {"title": "Đơn thử"}, vn(2026, 3, 2, 8))
    before = (dossier.workflow_state, dossier.status, dossier.lock_version)
    task = open_task(dossier)

    with pytest.raises(StepFailed) as failed:
        do(dossier, "receive", "tiepnhan@motcua.demo", {"decision": "accept", "divisor": 0}, vn(2026, 3, 2, 9))
    db.session.rollback()
    # The person reads plain words; the engine's own text is kept for the administrators' incident.
    assert "ZeroDivisionError" not in failed.value.message
    assert "ZeroDivisionError" in (failed.value.detail or "")
    assert (failed.value.kind, failed.value.operation) == ("error", "complete_task")
    assert failed.value.dossier_id == dossier.id

    db.session.expire_all()
    dossier = db.session.get(Dossier, dossier.id)
    assert (dossier.workflow_state, dossier.status, dossier.lock_version) == before
    assert db.session.get(Task, task.id).state == TaskState.READY
    assert dossier.received_at is None

    # The same step, with good data, goes through from the state that was kept.
    do(dossier, "receive", "tiepnhan@motcua.demo", {"decision": "accept", "divisor": 4}, vn(2026, 3, 2, 9))
    assert dossier.status == Status.FINISHED
    assert open_task(dossier).bpmn_id == "return"
    do(dossier, "return", "tiepnhan@motcua.demo", {}, vn(2026, 3, 2, 10))
    assert dossier.status == Status.RETURNED
    assert dossier.timeliness == "early"


def test_a_script_cannot_escape_the_restricted_environment(agency: Flask) -> None:
    hostile = FAILING.read_text().replace("ratio = 100 / divisor", "ratio = ().__class__.__bases__")
    path = FAILING.parent.parent / "hostile_tmp.bpmn"
    path.write_text(hostile)
    try:
        from portal.procedures.services import deploy

        result = deploy(path.read_bytes(), str(path), agency_code="000.00.31.H56")
        assert not result.ok
        assert any(p.element_id == "compute" for p in result.problems)
    finally:
        path.unlink()


def test_the_timeline_records_each_step(agency: Flask) -> None:
    deploy_file(FAILING)
    dossier = submit("failing_step", {"title": "Đơn thử"}, vn(2026, 3, 2, 8))
    do(dossier, "receive", "tiepnhan@motcua.demo", {"decision": "accept", "divisor": 5}, vn(2026, 3, 2, 9))
    kinds = [e.kind for e in db.session.scalars(db.select(DossierEvent).where(DossierEvent.dossier_id == dossier.id))]
    assert kinds[:3] == ["step_started", "step_completed", "step_started"]
    assert "received" in kinds
    assert "submitted" in kinds
    assert dossier.applicant == user("congdan@motcua.demo")
