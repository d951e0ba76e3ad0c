"""Household business registration: 3 working days, the clock stopped during a supplement, a DMN fee."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.core.errors import Conflict, ServiceError
from portal.dossiers.services import complete_task, withdraw_dossier
from portal.extensions import db
from portal.models import Status, Task, TaskState
from tests.helpers import do, open_task, open_tasks, submit, upload, user, vn

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
SPECIALIST = "dkkd@motcua.demo"
LEADER = "lanhdao@motcua.demo"


def application(capital: int = 50_000_000) -> dict:
    return {
        "business_name": "Tạp hóa Mai Anh",
        "business_address": "12 Lê Lợi, phường Trung Tâm",
        "business_line": "retail",
        "capital": capital,
        "owner_full_name": "Võ Thị Mai",
        "owner_citizen_id": "001190012345",
        "phone": "0912345678",
        "documents": upload(CITIZEN, "giay-de-nghi.pdf"),
    }


def test_the_clock_stops_while_the_citizen_supplements(demo: Flask) -> None:
    dossier = submit("household_business", application(), vn(2026, 3, 2, 8, 0))  # Monday
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    assert dossier.appointment_at == vn(2026, 3, 5, 9, 0)  # 3 working days = 24 working hours

    do(
        dossier,
        "specialist_review",
        SPECIALIST,
        {"decision": "supplement", "reason": "Thiếu hợp đồng thuê nhà"},
        vn(2026, 3, 3, 10, 0),
    )
    assert dossier.status == Status.SUPPLEMENT
    assert dossier.sla_paused_at == vn(2026, 3, 3, 10, 0)

    # The citizen answers three working days later: the appointment moves by those 24 working hours.
    files = upload(CITIZEN, "hop-dong-thue.pdf")
    do(
        dossier,
        "specialist_supplement",
        CITIZEN,
        {"supplement_documents": files, "supplement_note": "Đã bổ sung"},
        vn(2026, 3, 6, 10, 0),
    )
    assert dossier.status == Status.IN_PROCESS
    assert dossier.sla_paused_at is None
    assert dossier.sla_paused_hours == pytest.approx(24)
    assert dossier.appointment_at == vn(2026, 3, 10, 9, 0)

    do(
        dossier,
        "specialist_review",
        SPECIALIST,
        {"decision": "approve", "registration_number": "HKD-0042"},
        vn(2026, 3, 9, 9, 0),
    )
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, vn(2026, 3, 9, 10, 0))
    assert dossier.fee == 100_000  # from the DMN table
    do(dossier, "return_result", DESK, {"delivery_method": "online", "fee_paid": True}, vn(2026, 3, 9, 14, 0))
    assert dossier.status == Status.RETURNED
    assert dossier.timeliness == "early"


def test_the_fee_table_charges_more_for_large_capital(demo: Flask) -> None:
    dossier = submit("household_business", application(capital=250_000_000), vn(2026, 3, 2, 8, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    do(dossier, "specialist_review", SPECIALIST, {"decision": "approve"}, vn(2026, 3, 2, 10, 0))
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, vn(2026, 3, 2, 11, 0))
    assert dossier.fee == 150_000


def test_refused_by_the_specialist_stops_processing(demo: Flask) -> None:
    dossier = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    do(
        dossier,
        "specialist_review",
        SPECIALIST,
        {"decision": "refuse", "reason": "Ngành nghề cấm kinh doanh"},
        vn(2026, 3, 3, 9, 0),
    )
    assert dossier.status == Status.STOPPED
    assert dossier.is_ended
    assert open_tasks(dossier) == []
    assert dossier.timeliness == "early"


def test_withdrawal_cancels_the_waiting_step(demo: Flask) -> None:
    dossier = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    waiting = open_task(dossier, "specialist_review")

    with pytest.raises(ServiceError):
        withdraw_dossier(dossier.id, user(SPECIALIST), "không phải hồ sơ của tôi", now=vn(2026, 3, 2, 10, 0))
    db.session.rollback()

    withdraw_dossier(dossier.id, user(CITIZEN), "Tôi đổi địa điểm kinh doanh", now=vn(2026, 3, 2, 10, 0))
    db.session.commit()
    assert dossier.status == Status.WITHDRAWN
    assert dossier.is_ended
    assert dossier.timeliness is None
    assert db.session.get(Task, waiting.id).state == TaskState.CANCELLED

    with pytest.raises(Conflict, match="không còn chờ xử lý"):
        complete_task(waiting.id, user(SPECIALIST), {"decision": "approve"}, now=vn(2026, 3, 2, 11, 0))
    db.session.rollback()
    with pytest.raises(ServiceError, match="không thể rút được nữa"):
        withdraw_dossier(dossier.id, user(CITIZEN), "lần nữa", now=vn(2026, 3, 2, 11, 0))


def test_an_officer_of_another_group_cannot_decide(demo: Flask) -> None:
    from portal.core.errors import NotAllowed

    dossier = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    with pytest.raises(NotAllowed):
        do(dossier, "reception_check", SPECIALIST, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
