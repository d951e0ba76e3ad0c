"""National public service portal sync: each status change pushed in order, once, to a stand-in portal on loopback
that records calls and fails on demand (500s, 500 after storing, time-outs, slow answers)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Dossier, NationalSync, Status, SyncState
from portal.sync.delivery import due_dossiers, push
from tests.helpers import do, submit, upload, vn
from tests.web import login

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
CIVIL = "hotich@motcua.demo"
LEADER = "lanhdao@motcua.demo"
TOKEN = "national-portal-test-token"


class StandInPortal:
    """The national portal's status endpoint: stores each Idempotency-Key once, as a real receiver must.

    `plan` holds what to do with the next calls: "500" (refuse without storing), "store-500" (store, then answer
    500: the sender cannot know it went through), "hang" (store, answer after the sender gave up), "slow"
    (answer late but within the time-out); an empty plan answers 200.
    """

    def __init__(self, hang: float = 1.0, slow: float = 0.2) -> None:
        self.calls: list[dict[str, Any]] = []
        self.stored: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []  # keys in the order they were first stored
        self.plan: list[str] = []
        self.hang, self.slow = hang, slow
        self.lock = threading.Lock()
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                with portal.lock:
                    action = portal.plan.pop(0) if portal.plan else "ok"
                    portal.calls.append({"key": key, "body": body, "headers": dict(self.headers), "action": action})
                    if action != "500" and key not in portal.stored:
                        portal.stored[key] = body
                        portal.order.append(key)
                if action == "hang":
                    time.sleep(portal.hang)
                elif action == "slow":
                    time.sleep(portal.slow)
                code = 500 if action in ("500", "store-500") else 200
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": true}' if code == 200 else b'{"error": "busy"}')
                except OSError:  # the sender gave up (time-out)
                    pass

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/dongbo/trangthai"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def keys(self) -> list[str]:
        return [c["key"] for c in self.calls]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def portal(demo: Flask) -> Iterator[StandInPortal]:
    stand_in = StandInPortal()
    demo.config.update(
        NATIONAL_PORTAL_URL=stand_in.url,
        NATIONAL_PORTAL_TOKEN=TOKEN,
        NATIONAL_PORTAL_TIMEOUT=0.5,
        NATIONAL_PORTAL_RETRY_BASE=30,
        NATIONAL_PORTAL_RETRY_MAX=600,
        NATIONAL_PORTAL_MAX_ATTEMPTS=4,
    )
    try:
        yield stand_in
    finally:
        stand_in.stop()


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


def journey(dossier: Dossier) -> None:
    """Reception, review, signature and return: the rest of a birth registration."""
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 30))
    do(
        dossier,
        "civil_status_review",
        CIVIL,
        {"decision": "approve", "registration_number": "12/2026"},
        vn(2026, 3, 2, 10, 30),
    )
    do(dossier, "leader_sign", LEADER, {"decision": "approve"}, vn(2026, 3, 2, 11, 0))
    do(dossier, "return_result", DESK, {"delivery_method": "counter"}, vn(2026, 3, 2, 14, 0))


def rows(dossier: Dossier) -> list[NationalSync]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(NationalSync).where(NationalSync.dossier_id == dossier.id).order_by(NationalSync.seq))
    )


def sweep(now: datetime) -> int:
    """What the beat job does, at a chosen moment."""
    return sum(push(dossier_id, now=now) for dossier_id in due_dossiers(now))


def test_each_status_reaches_the_portal_once_in_order_with_its_fields(portal: StandInPortal) -> None:
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    journey(dossier)

    statuses = [c["body"]["TrangThaiHoSo"] for c in portal.calls]
    assert statuses == [Status.NEW, Status.RECEIVED, Status.IN_PROCESS, Status.FINISHED, Status.RETURNED]
    assert portal.keys() == [f"{dossier.code}.{n}" for n in range(1, 6)]
    assert len(set(portal.keys())) == 5  # nothing twice
    assert all(r.state == SyncState.SENT and r.attempts == 1 for r in rows(dossier))

    first, received, last = portal.calls[0]["body"], portal.calls[1]["body"], portal.calls[-1]["body"]
    assert first["MaHoSo"] == dossier.code
    assert first["SoThuTu"] == 1
    assert first["MaTTHC"] == dossier.version.procedure.code
    assert first["KenhThucHien"] == 2
    assert first["ChuHoSo"] == "Võ Thị Mai"
    assert first["DonViXuLy"] == "000.00.31.H56"
    assert first["NgayNopHoSo"] == "20260302090000"  # local time, yyyyMMddHHmmss
    assert first["NgayTiepNhan"] is None
    assert first["QuaTrinhXuLy"] == []
    assert received["NgayTiepNhan"] == "20260302093000"
    assert received["NgayHenTra"] == "20260302170000"
    assert last["NgayTra"] == "20260302140000"
    assert last["NgayKetThucXuLy"] == "20260302110000"
    assert [s["PhongBanXuLy"] is not None for s in last["QuaTrinhXuLy"]] == [True] * 4
    assert last["QuaTrinhXuLy"][0]["ThoiDiemXuLy"] == "20260302093000"
    headers = portal.calls[0]["headers"]
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Idempotency-Key"] == f"{dossier.code}.1"


def test_failures_are_retried_later_in_order_and_never_stored_twice(portal: StandInPortal) -> None:
    portal.plan = ["500"]
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    (row,) = rows(dossier)
    assert row.state == SyncState.PENDING
    assert row.attempts == 1
    assert "HTTP 500" in (row.last_error or "")
    backoff_until = row.next_attempt_at
    assert backoff_until is not None
    assert backoff_until > utcnow() + timedelta(seconds=25)

    # The next status change waits behind the one that failed: nothing is sent out of order.
    portal.plan = ["store-500"]
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 30))
    assert portal.keys() == [f"{dossier.code}.1"]
    assert [r.state for r in rows(dossier)] == [SyncState.PENDING] * 3
    assert sweep(utcnow()) == 0  # not before its backoff

    # Second attempt: the portal stores it but answers 500; the third carries the same key and the rest follow.
    assert sweep(backoff_until + timedelta(seconds=1)) == 0
    later = utcnow() + timedelta(seconds=30 + 60 + 5)
    assert sweep(later) == 3
    code = dossier.code
    assert portal.keys() == [f"{code}.1", f"{code}.1", f"{code}.1", f"{code}.2", f"{code}.3"]
    assert portal.order == [f"{code}.1", f"{code}.2", f"{code}.3"]  # what the receiver keeps: each once, in order
    assert [r.attempts for r in rows(dossier)] == [3, 1, 1]
    assert sweep(later + timedelta(hours=1)) == 0  # nothing left


def test_time_outs_and_slow_answers(portal: StandInPortal) -> None:
    portal.plan = ["slow"]  # within the time-out: delivered
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    assert [r.state for r in rows(dossier)] == [SyncState.SENT]

    portal.plan = ["hang"]  # past the time-out: the portal stored it, the sender cannot know
    started = time.monotonic()
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 30))
    assert time.monotonic() - started < 5
    _sent, waiting, behind = rows(dossier)
    assert waiting.state == SyncState.PENDING
    assert waiting.last_error == "no answer within 0.5 s"
    assert behind.state == SyncState.PENDING
    assert behind.attempts == 0

    assert sweep(utcnow() + timedelta(seconds=31)) == 2
    assert portal.keys().count(f"{dossier.code}.2") == 2
    assert portal.order == [f"{dossier.code}.{n}" for n in (1, 2, 3)]


def test_a_row_that_keeps_failing_is_kept_failed_and_shown(portal: StandInPortal, demo: Flask) -> None:
    portal.plan = ["500"] * 10
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    moment = utcnow()
    for _ in range(5):
        moment += timedelta(seconds=600)
        sweep(moment)
    (row,) = rows(dossier)
    assert row.state == SyncState.FAILED
    assert row.attempts == 4
    assert row.next_attempt_at is None
    assert due_dossiers(moment + timedelta(days=1)) == []

    officer = demo.test_client()
    login(officer, DESK)
    task = dossier_task(dossier)
    html = officer.get(f"/inbox/tasks/{task}", headers={"Cookie": "lang=en"}).get_data(as_text=True)
    assert 'class="notice national-sync" data-state="failed"' in html
    assert "after 4 attempts" in html
    assert "HTTP 500" in html

    result = demo.test_cli_runner().invoke(args=["national-sync", "retry-failed"])
    assert "1 row(s) back in line" in result.output
    portal.plan = []
    assert sweep(utcnow() + timedelta(seconds=1)) == 1
    html = officer.get(f"/inbox/tasks/{task}").get_data(as_text=True)
    assert 'data-state="sent"' in html
    assert "Đã đồng bộ" in html


def test_officers_see_the_waiting_state(portal: StandInPortal, demo: Flask) -> None:
    portal.plan = ["500"]
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    officer = demo.test_client()
    login(officer, DESK)
    html = officer.get(f"/inbox/tasks/{dossier_task(dossier)}", headers={"Cookie": "lang=en"}).get_data(as_text=True)
    assert 'data-state="pending"' in html
    assert "1 status change(s) to send" in html


def test_nothing_is_written_when_the_sync_is_off(demo: Flask) -> None:
    assert not demo.config["NATIONAL_PORTAL_URL"]
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    assert rows(dossier) == []


def test_a_rolled_back_change_writes_and_pushes_nothing(portal: StandInPortal) -> None:
    from portal.dossiers.services import submit_dossier
    from tests.helpers import user, version_of

    submit_dossier(version_of("birth_registration"), user(CITIZEN), application(), now=vn(2026, 3, 2, 9, 0))
    db.session.rollback()
    assert db.session.scalars(select(NationalSync)).all() == []
    assert portal.calls == []


def dossier_task(dossier: Dossier) -> int:
    from tests.helpers import open_task

    return open_task(dossier).id


def test_administrators_see_failed_rows_and_retry_them(portal: StandInPortal, demo: Flask) -> None:
    from portal.models import AuditLog
    from tests.web import csrf

    demo.config["NATIONAL_PORTAL_MAX_ATTEMPTS"] = 1
    portal.plan = ["500"]
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 30))
    assert [r.state for r in rows(dossier)] == [SyncState.FAILED, SyncState.PENDING, SyncState.PENDING]

    admin = demo.test_client()
    login(admin, "admin@motcua.demo")
    html = admin.get("/admin/national-sync", headers={"Cookie": "lang=en"}).get_data(as_text=True)
    assert dossier.code in html
    assert 'data-state="failed"' in html
    token = csrf(admin, "/admin/national-sync")
    response = admin.post(f"/admin/national-sync/{dossier.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    assert [r.state for r in rows(dossier)] == [SyncState.SENT] * 3  # pushed right after the commit, in order
    assert portal.order == [f"{dossier.code}.{n}" for n in (1, 2, 3)]
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "national_sync.retry"))
    assert "Every status change was sent." in admin.get("/admin/national-sync", headers={"Cookie": "lang=en"}).get_data(
        as_text=True
    )
    assert admin.post(f"/admin/national-sync/{dossier.id}/retry", data={"csrf_token": token}).status_code == 302
    citizen = demo.test_client()
    login(citizen, CITIZEN)
    assert citizen.get("/admin/national-sync").status_code in (403, 404)


def test_the_bpmn_topic_waits_for_delivery(portal: StandInPortal, demo: Flask) -> None:
    from portal.external.registry import ExternalCall, HandlerError, handler_for, known_topics

    assert "national-portal.sync" in known_topics()
    handler = handler_for("national-portal.sync")
    assert handler is not None
    portal.plan = ["500"]
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    call = ExternalCall("national-portal.sync", {}, dossier.id, dossier.code, "sync", 1, 1, demo.config)
    with pytest.raises(HandlerError, match="not delivered"):
        handler(call)
    sweep(utcnow() + timedelta(seconds=31))
    assert handler(call)["national_portal_synced"] is True


def test_a_row_left_by_a_dead_worker_is_taken_over_with_the_same_key(portal: StandInPortal, demo: Flask) -> None:
    from portal.sync.delivery import NATIONAL

    portal.plan = ["500"]
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    (row,) = rows(dossier)
    now = utcnow() + timedelta(seconds=31)
    assert NATIONAL.claim(row.id, now) is not None  # a worker claims it, then dies before answering
    db.session.commit()
    assert sweep(now + timedelta(seconds=60)) == 0  # within the lease: nobody else touches it
    assert sweep(now + timedelta(seconds=121)) == 1  # the lease ran out: taken over
    assert portal.keys() == [f"{dossier.code}.1"] * 2
    assert rows(dossier)[0].attempts == 3


def test_dossiers_from_the_national_portal_are_marked(portal: StandInPortal, demo: Flask) -> None:
    from portal.dossiers.services import submit_dossier
    from portal.models import Channel, Origin
    from tests.helpers import user, version_of

    dossier = submit_dossier(
        version_of("birth_registration"),
        user(CITIZEN),
        application(),
        channel=Channel.ONLINE,
        origin=Origin.NATIONAL_PORTAL,
        now=vn(2026, 3, 2, 9, 0),
    )
    db.session.commit()
    assert portal.calls[0]["body"]["NguonHoSo"] == "national_portal"
    assert portal.calls[0]["body"]["KenhThucHien"] == Channel.ONLINE
    officer = demo.test_client()
    login(officer, DESK)
    html = officer.get(f"/inbox/tasks/{dossier_task(dossier)}").get_data(as_text=True)
    assert "Hồ sơ nộp qua Cổng dịch vụ công quốc gia." in html
