"""Birth registration: a same-day procedure with the 15:00 rule, reception supplement and refusal."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from portal.core.errors import InvalidInput, NotAllowed
from portal.extensions import db
from portal.models import Status, Task, TaskState
from tests.helpers import do, open_task, open_tasks, submit, upload, vn

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
CIVIL = "hotich@motcua.demo"
LEADER = "lanhdao@motcua.demo"


def application() -> dict:
    return {
        "child_full_name": "Nguyễn Minh An",
        "child_birth_date": "2026-02-20",
        "child_sex": "male",
        "child_birth_place": "Bệnh viện Đa khoa tỉnh",
        "father_full_name": "Nguyễn Văn Bình",
        "mother_full_name": "Võ Thị Mai",
        "applicant_relationship": "mother",
        "birth_certificate_file": upload(CITIZEN, "giay-chung-sinh.pdf"),
    }


def test_accepted_before_three_is_returned_the_same_day(demo: Flask) -> None:
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    assert re.fullmatch(r"000\.00\.31\.H56-260302-\d{4}", dossier.code)
    assert dossier.status == Status.NEW
    assert open_task(dossier).bpmn_id == "reception_check"
    assert len(dossier.attachments) == 1

    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 30))
    assert dossier.received_at == vn(2026, 3, 2, 9, 30)
    assert dossier.appointment_at == vn(2026, 3, 2, 17, 0)
    assert dossier.status == Status.IN_PROCESS

    do(
        dossier,
        "civil_status_review",
        CIVIL,
        {"decision": "approve", "registration_number": "12/2026"},
        vn(2026, 3, 2, 10, 30),
    )
    do(dossier, "leader_sign", LEADER, {"decision": "approve"}, vn(2026, 3, 2, 11, 0))
    assert dossier.status == Status.FINISHED
    do(dossier, "return_result", DESK, {"delivery_method": "counter"}, vn(2026, 3, 2, 14, 0))

    assert dossier.status == Status.RETURNED
    assert dossier.returned_at == vn(2026, 3, 2, 14, 0)
    assert dossier.timeliness == "on_time"
    assert dossier.is_ended
    assert dossier.next_timer_at is None
    steps = db.session.scalars(db.select(Task).where(Task.dossier_id == dossier.id).order_by(Task.id)).all()
    assert [t.bpmn_id for t in steps] == [
        "submit",
        "reception_check",
        "civil_status_review",
        "leader_sign",
        "return_result",
    ]
    assert all(t.state == TaskState.COMPLETED for t in steps)
    # Each officer step was done well inside its allowance.
    assert [t.timeliness for t in steps[1:]] == ["on_time"] * 4


def test_received_after_three_is_due_the_next_working_day(demo: Flask) -> None:
    dossier = submit("birth_registration", application(), vn(2026, 3, 6, 15, 10))  # a Friday
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 6, 15, 30))
    assert dossier.appointment_at == vn(2026, 3, 9, 17, 0)  # Monday


def test_refusal_needs_a_reason_and_ends_the_dossier(demo: Flask) -> None:
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    with pytest.raises(InvalidInput) as refused:
        do(dossier, "reception_check", DESK, {"decision": "refuse"}, vn(2026, 3, 2, 9, 30))
    assert "reason" in refused.value.errors
    db.session.rollback()

    do(
        dossier,
        "reception_check",
        DESK,
        {"decision": "refuse", "reason": "Trẻ không sinh tại địa bàn"},
        vn(2026, 3, 2, 9, 40),
    )
    assert dossier.status == Status.NOT_ACCEPTED
    assert dossier.is_ended
    assert dossier.received_at is None
    assert dossier.timeliness is None
    assert open_tasks(dossier) == []


def test_a_supplement_round_at_the_desk(demo: Flask) -> None:
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    do(
        dossier,
        "reception_check",
        DESK,
        {"decision": "supplement", "reason": "Thiếu giấy chứng sinh bản chính"},
        vn(2026, 3, 2, 9, 30),
    )
    assert dossier.status == Status.SUPPLEMENT
    waiting = open_task(dossier)
    assert waiting.bpmn_id == "reception_supplement"
    assert waiting.assignee_id == dossier.applicant_id

    # Nobody but the applicant may answer it.
    with pytest.raises(NotAllowed):
        do(dossier, "reception_supplement", DESK, {"supplement_documents": "1"}, vn(2026, 3, 2, 10, 0))
    db.session.rollback()

    files = upload(CITIZEN, "ban-chinh.pdf")
    do(dossier, "reception_supplement", CITIZEN, {"supplement_documents": files}, vn(2026, 3, 2, 10, 0))
    assert dossier.status == Status.NEW
    assert open_task(dossier).round == 2
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 10, 30))
    assert dossier.received_at == vn(2026, 3, 2, 10, 30)
    assert len(dossier.attachments) == 2


def test_the_application_form_is_validated(demo: Flask) -> None:
    data = application() | {"child_sex": "unknown", "child_full_name": ""}
    with pytest.raises(InvalidInput) as refused:
        submit("birth_registration", data, vn(2026, 3, 2, 9, 0))
    assert set(refused.value.errors) == {"child_sex", "child_full_name"}
    db.session.rollback()
    from portal.models import Dossier

    assert db.session.scalar(db.select(db.func.count()).select_from(Dossier)) == 0


def test_a_citizen_cannot_attach_someone_elses_file(demo: Flask) -> None:
    others = upload("tiepnhan@motcua.demo", "khac.pdf")
    with pytest.raises(InvalidInput) as refused:
        submit("birth_registration", application() | {"birth_certificate_file": others}, vn(2026, 3, 2, 9, 0))
    assert "birth_certificate_file" in refused.value.errors
