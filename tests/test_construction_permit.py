"""Construction permit: 15 working days, site inspection, rework, supplement, refusal and the apology timer."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask

from portal.core.errors import ServiceError
from portal.dossiers.timers import run_due_timers
from portal.extensions import db
from portal.models import DossierEvent, Status
from tests.helpers import do, open_task, open_tasks, submit, upload, vn

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
KTHT = "ktht@motcua.demo"
LEADER = "lanhdao@motcua.demo"


def application() -> dict:
    return {
        "owner_full_name": "Võ Thị Mai",
        "owner_citizen_id": "001190012345",
        "phone": "0912345678",
        "construction_address": "Thửa 45, tờ bản đồ 12, phường Trung Tâm",
        "land_parcel_number": "45",
        "map_sheet_number": "12",
        "floor_area": 180,
        "floors": 3,
        "land_use_certificate": upload(CITIZEN, "so-do.pdf"),
        "design_drawings": upload(CITIZEN, "ban-ve.pdf"),
    }


def inspect(dossier, when: datetime) -> None:
    do(
        dossier,
        "site_inspection",
        KTHT,
        {"inspection_date": "2026-03-04", "findings": "Đúng hiện trạng", "site_ok": True},
        when,
    )


def test_full_path_with_rework_by_the_leader(demo: Flask) -> None:
    dossier = submit("construction_permit", application(), vn(2026, 3, 2, 8, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    # 15 working days from Monday 2 March 09:00 (no holiday in between): Monday 23 March 09:00.
    assert dossier.appointment_at == vn(2026, 3, 23, 9, 0)
    assert open_task(dossier).due_at == vn(2026, 3, 5, 9, 0)  # site inspection: 3 working days

    inspect(dossier, vn(2026, 3, 4, 15, 0))
    do(dossier, "appraisal", KTHT, {"decision": "approve"}, vn(2026, 3, 10, 9, 0))
    do(
        dossier,
        "leader_approval",
        LEADER,
        {"decision": "reject", "reason": "Thiếu ý kiến về chỉ giới xây dựng"},
        vn(2026, 3, 11, 9, 0),
    )
    rework = open_task(dossier)
    assert (rework.bpmn_id, rework.round) == ("appraisal", 2)
    do(dossier, "appraisal", KTHT, {"decision": "approve", "comment": "Đã bổ sung chỉ giới"}, vn(2026, 3, 12, 9, 0))
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, vn(2026, 3, 13, 9, 0))
    do(
        dossier,
        "return_permit",
        DESK,
        {"permit_number": "GPXD-15/2026", "delivery_method": "counter", "fee_paid": True},
        vn(2026, 3, 16, 9, 0),
    )
    assert dossier.status == Status.RETURNED
    assert dossier.timeliness == "early"


def test_supplement_during_appraisal_then_refusal(demo: Flask) -> None:
    dossier = submit("construction_permit", application(), vn(2026, 3, 2, 8, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    inspect(dossier, vn(2026, 3, 3, 9, 0))
    do(
        dossier,
        "appraisal",
        KTHT,
        {"decision": "supplement", "reason": "Bản vẽ mặt đứng thiếu chữ ký"},
        vn(2026, 3, 4, 9, 0),
    )
    assert dossier.status == Status.SUPPLEMENT
    do(
        dossier,
        "appraisal_supplement",
        CITIZEN,
        {"supplement_documents": upload(CITIZEN, "ban-ve-2.pdf")},
        vn(2026, 3, 5, 9, 0),
    )
    assert dossier.sla_paused_hours == pytest.approx(8)
    assert dossier.appointment_at == vn(2026, 3, 24, 9, 0)
    do(dossier, "appraisal", KTHT, {"decision": "refuse", "reason": "Vi phạm quy hoạch"}, vn(2026, 3, 6, 9, 0))
    assert dossier.status == Status.STOPPED
    assert open_tasks(dossier) == []


def test_the_apology_timer_fires_before_the_due_date(demo: Flask) -> None:
    dossier = submit("construction_permit", application(), vn(2026, 1, 5, 8, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 1, 5, 9, 0))
    assert dossier.appointment_at == vn(2026, 1, 26, 9, 0)  # 15 working days
    inspect(dossier, vn(2026, 1, 6, 9, 0))
    # One working day before the appointment: Friday 23 January, 09:00.
    assert dossier.next_timer_at == vn(2026, 1, 23, 9, 0)
    old_appointment = dossier.appointment_at

    assert run_due_timers(now=vn(2026, 1, 23, 8, 59)) == (0, 0)  # not yet
    assert open_tasks(dossier)[0].bpmn_id == "appraisal"
    fired, failed = run_due_timers(now=vn(2026, 1, 23, 9, 0, 5))
    assert (fired, failed) == (1, 0)
    db.session.expire_all()
    apology = open_task(dossier, "apology")
    assert apology.role == "ktht_specialist"
    assert open_task(dossier, "appraisal")  # the appraisal still waits beside it
    assert dossier.next_timer_at is None

    with pytest.raises(ServiceError, match="phải sau ngày hẹn hiện tại"):
        do(dossier, "apology", KTHT, {"new_appointment": "2026-01-02", "reason": "Chờ ý kiến"}, vn(2026, 1, 26, 9, 0))
    db.session.rollback()

    do(
        dossier,
        "apology",
        KTHT,
        {"new_appointment": "2026-02-06", "reason": "Chờ ý kiến Sở Xây dựng"},
        vn(2026, 1, 26, 9, 0),
    )
    assert dossier.appointment_at == vn(2026, 2, 6, 17, 0)
    assert dossier.appointment_at > old_appointment
    event = db.session.scalar(
        db.select(DossierEvent).where(DossierEvent.dossier_id == dossier.id, DossierEvent.kind == "apology")
    )
    assert event.note == "Chờ ý kiến Sở Xây dựng"
    # Nothing else is due; a later pass does nothing.
    assert run_due_timers(now=vn(2026, 1, 27, 9, 0)) == (0, 0)


def test_the_supplement_loop_is_capped(demo: Flask) -> None:
    from portal.models import Procedure

    procedure = db.session.scalar(db.select(Procedure).where(Procedure.key == "construction_permit"))
    procedure.max_rounds = 3
    db.session.commit()
    dossier = submit("construction_permit", application(), vn(2026, 3, 2, 8, 0))
    for round_ in range(3):
        do(
            dossier,
            "reception_check",
            DESK,
            {"decision": "supplement", "reason": "Thiếu bản vẽ"},
            vn(2026, 3, 2, 9, round_),
        )
        if round_ < 2:
            do(
                dossier,
                "reception_supplement",
                CITIZEN,
                {"supplement_documents": upload(CITIZEN)},
                vn(2026, 3, 2, 10, round_),
            )
    # The third answer would open the desk's check a fourth time: refused, and nothing of it is kept.
    files = upload(CITIZEN)
    with pytest.raises(ServiceError, match="đã lặp lại 3 lần"):
        do(dossier, "reception_supplement", CITIZEN, {"supplement_documents": files}, vn(2026, 3, 2, 11, 0))
    db.session.rollback()
    assert open_task(dossier).bpmn_id == "reception_supplement"


def test_many_supplement_rounds_keep_the_stored_state_small(demo: Flask) -> None:
    from portal.models import Procedure

    procedure = db.session.scalar(db.select(Procedure).where(Procedure.key == "construction_permit"))
    procedure.max_rounds = 100
    db.session.commit()
    dossier = submit("construction_permit", application(), vn(2026, 3, 2, 8, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    inspect(dossier, vn(2026, 3, 3, 9, 0))
    sizes = []
    for n in range(12):
        do(dossier, "appraisal", KTHT, {"decision": "supplement", "reason": f"Lần {n + 1}"}, vn(2026, 3, 4, 9, n))
        do(dossier, "appraisal_supplement", CITIZEN, {"supplement_documents": upload(CITIZEN)}, vn(2026, 3, 4, 10, n))
        sizes.append(len(dossier.workflow_state))
    # The engine's history is compacted: the twelfth round stores no more than the second (give or take ids).
    assert sizes[-1] < sizes[1] * 1.1
    assert open_task(dossier).round == 13
    do(dossier, "appraisal", KTHT, {"decision": "approve"}, vn(2026, 3, 5, 9, 0))
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, vn(2026, 3, 5, 10, 0))
    do(dossier, "return_permit", DESK, {"permit_number": "GP-2", "delivery_method": "post"}, vn(2026, 3, 5, 11, 0))
    assert dossier.status == Status.RETURNED
    assert dossier.sla_paused_hours == pytest.approx(12 * 1)
