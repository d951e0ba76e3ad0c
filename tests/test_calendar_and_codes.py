"""Admins' calendar days reach the deadlines at once; dossier codes follow the configured format."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.models import Agency, AuditLog
from portal.sla.services import remove_calendar_day, set_calendar_day
from tests.helpers import do, submit, user, vn
from tests.test_household_business import application

DESK = "tiepnhan@motcua.demo"


def commune() -> Agency:
    return db.session.scalar(db.select(Agency).where(Agency.code == "000.00.31.H56"))


def received_on_friday(at_minute: int) -> object:
    dossier = submit("household_business", application(), vn(2026, 3, 6, 8, at_minute))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 6, 9, at_minute))
    return dossier


def test_a_day_off_set_by_an_admin_moves_new_appointments(demo: Flask) -> None:
    before = received_on_friday(0)
    assert before.appointment_at == vn(2026, 3, 11, 9, 0)  # 3 working days: Mon, Tue, Wed → Wednesday 09:00

    admin = user("admin@motcua.demo")
    row = set_calendar_day(commune(), date(2026, 3, 9), "off", "Nghỉ bù theo quyết định của UBND tỉnh", admin)
    db.session.commit()
    after = received_on_friday(1)
    assert after.appointment_at == vn(2026, 3, 12, 9, 1)  # Monday is off now: Thursday

    # A make-up Saturday gives the day back.
    set_calendar_day(None, date(2026, 3, 7), "work", "Làm bù", admin)
    db.session.commit()
    again = received_on_friday(2)
    assert again.appointment_at == vn(2026, 3, 11, 9, 2)

    remove_calendar_day(row, admin)
    db.session.commit()
    actions = db.session.scalars(db.select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-3:] == ["calendar.set_day", "calendar.set_day", "calendar.remove_day"]


def test_a_calendar_day_is_off_or_work(demo: Flask) -> None:
    with pytest.raises(InvalidInput):
        set_calendar_day(commune(), date(2026, 3, 9), "holiday", None, None)


def test_the_dossier_code_format_is_configurable(demo: Flask) -> None:
    demo.config["DOSSIER_CODE_FORMAT"] = "{unit}-{date:%Y%m%d}-{seq:06d}"
    dossier = submit("household_business", application(), vn(2026, 3, 6, 8, 0))
    assert dossier.code == "000.00.31.H56-20260306-000001"
    second = submit("household_business", application(), vn(2026, 3, 6, 23, 30))
    assert second.code == "000.00.31.H56-20260306-000002"
    # The day is the Vietnamese date: 00:30 on the 7th in Vietnam is still the 6th in UTC.
    third = submit("household_business", application(), vn(2026, 3, 7, 0, 30))
    assert third.code == "000.00.31.H56-20260307-000001"
