"""Notifications on the embedded default (no broker: jobs run in-process after the commit), over a real SMTP
server on loopback: who is told what, in which language, exactly once, and only after the commit."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import DeliveryStatus, Notification, NotificationChannel
from portal.notifications.tasks import send_notifications
from tests.helpers import do, submit, upload, user, vn
from tests.web import login

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
DESK2 = "tiepnhan2@motcua.demo"
CIVIL = "hotich@motcua.demo"
LEADER = "lanhdao@motcua.demo"


def birth_application() -> dict:
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


def mail_to(inbox, address: str) -> list:
    return [m for m in inbox.messages if m["To"] == address]


def rows(kind: str | None = None, channel: str | None = None) -> list[Notification]:
    stmt = select(Notification).order_by(Notification.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    if channel:
        stmt = stmt.where(Notification.channel == channel)
    db.session.expire_all()
    return list(db.session.scalars(stmt))


def test_submission_sends_the_receipt_once_in_vietnamese_and_tells_the_desk(demo: Flask, smtp) -> None:
    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))

    receipts = mail_to(smtp, CITIZEN)
    assert len(receipts) == 1
    receipt = receipts[0]
    assert receipt["Subject"] == f"Đã nộp hồ sơ {dossier.code}"  # the citizen's language: Vietnamese by default
    text = receipt.get_body(preferencelist=("plain",)).get_content()
    html = receipt.get_body(preferencelist=("html",)).get_content()
    assert dossier.code in text
    assert dossier.code in html
    assert f"Mã hồ sơ: {dossier.code}" in text  # the receipt's facts
    assert receipt["Message-ID"]
    # Both desk officers hear of the new step in their group's inbox.
    assert len(mail_to(smtp, DESK)) == 1
    assert len(mail_to(smtp, DESK2)) == 1
    assert all(r.status == DeliveryStatus.SENT for r in rows())
    sms = rows("submitted", NotificationChannel.SMS)
    assert len(sms) == 1
    assert sms[0].address == "0912345678"


def test_a_second_job_for_the_same_message_sends_nothing(demo: Flask, smtp) -> None:
    submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    emails = [r.id for r in rows(channel=NotificationChannel.EMAIL)]
    before = len(smtp.messages)

    assert send_notifications(emails) == 0  # a retried / re-delivered job
    assert len(smtp.messages) == before


def test_english_speakers_get_english(demo: Flask, smtp) -> None:
    citizen = user(CITIZEN)
    citizen.locale = "en"
    db.session.commit()
    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    receipt = mail_to(smtp, CITIZEN)[0]
    assert receipt["Subject"] == f"Dossier {dossier.code} submitted"
    assert "Dossier code: " + dossier.code in receipt.get_body(preferencelist=("plain",)).get_content()


def test_nothing_is_sent_for_a_change_that_rolls_back(demo: Flask, smtp) -> None:
    from portal.dossiers.services import submit_dossier
    from tests.helpers import version_of

    data = birth_application()
    submit_dossier(version_of("birth_registration"), user(CITIZEN), data, now=vn(2026, 3, 2, 9, 0))
    db.session.flush()
    db.session.rollback()
    assert smtp.messages == []
    assert rows() == []


def test_supplement_refusal_and_result_reach_the_citizen_with_the_reason(demo: Flask, smtp) -> None:
    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    do(
        dossier,
        "reception_check",
        DESK,
        {"decision": "supplement", "reason": "Thiếu giấy chứng sinh"},
        vn(2026, 3, 2, 9, 30),
    )
    supplement = [m for m in mail_to(smtp, CITIZEN) if "bổ sung" in m["Subject"].lower()]
    assert len(supplement) == 1
    assert "Thiếu giấy chứng sinh" in supplement[0].get_body(preferencelist=("plain",)).get_content()

    do(dossier, "reception_supplement", CITIZEN, {"supplement_documents": upload(CITIZEN)}, vn(2026, 3, 2, 10, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 10, 30))
    do(
        dossier,
        "civil_status_review",
        CIVIL,
        {"decision": "approve", "registration_number": "12/2026"},
        vn(2026, 3, 2, 11, 0),
    )
    do(dossier, "leader_sign", LEADER, {"decision": "approve"}, vn(2026, 3, 2, 11, 30))
    assert [r.kind for r in rows(channel=NotificationChannel.EMAIL) if r.user.email == CITIZEN] == [
        "submitted",
        "supplement",
        "received",
        "result_ready",
    ]


def test_refusal_tells_the_reason(demo: Flask, smtp) -> None:
    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    do(
        dossier,
        "reception_check",
        DESK,
        {"decision": "refuse", "reason": "Không thuộc thẩm quyền"},
        vn(2026, 3, 2, 9, 30),
    )
    refused = rows("refused", NotificationChannel.EMAIL)
    assert len(refused) == 1
    assert "Không thuộc thẩm quyền" in refused[0].body
    assert len([m for m in mail_to(smtp, CITIZEN) if dossier.code in m["Subject"]]) == 2


def test_a_failed_send_is_kept_and_retried_with_backoff(demo: Flask, smtp, app: Flask) -> None:
    from portal.core.time import utcnow
    from portal.notifications.delivery import due_for_retry
    from portal.notifications.tasks import sweep_notifications

    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1  # nothing listens there: every send fails
    submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    receipt = rows("submitted", NotificationChannel.EMAIL)[0]
    assert receipt.status == DeliveryStatus.PENDING
    assert receipt.attempts == 1
    assert receipt.last_error
    assert receipt.next_attempt_at > utcnow()
    assert smtp.messages == []

    app.config["MAIL_PORT"] = port
    assert receipt.id not in due_for_retry(utcnow())  # not before its backoff
    receipt.next_attempt_at = utcnow()
    db.session.commit()
    assert sweep_notifications() >= 1
    receipt = rows("submitted", NotificationChannel.EMAIL)[0]
    assert receipt.status == DeliveryStatus.SENT
    assert receipt.attempts == 2
    assert len(mail_to(smtp, CITIZEN)) == 1


def test_after_the_last_attempt_a_message_is_failed_not_dropped(demo: Flask, smtp, app: Flask) -> None:
    app.config.update(MAIL_PORT=1, NOTIFY_MAX_ATTEMPTS=1)
    submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    receipt = rows("submitted", NotificationChannel.EMAIL)[0]
    assert receipt.status == DeliveryStatus.FAILED
    assert "Error" in receipt.last_error or "refused" in receipt.last_error.lower()


@pytest.mark.parametrize("who", [CITIZEN, DESK])
def test_in_app_notifications_and_the_unread_badge(demo: Flask, client, who: str) -> None:
    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    login(client, who)
    page = client.get("/notifications/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert dossier.code in html
    # The badge in the menu, read out as "Notifications, 1 unread".
    assert 'aria-label="Thông báo, 1 chưa đọc">Thông báo <span class="tag">1</span></a>' in html

    mine = [r for r in rows(channel=NotificationChannel.IN_APP) if r.user.email == who]
    assert len(mine) == 1
    assert mine[0].read_at is None
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(f"/notifications/{mine[0].id}/read", data={"csrf_token": token})
    assert response.status_code == 302
    assert db.session.get(Notification, mine[0].id).read_at is not None
    assert '<span class="tag">' not in client.get("/notifications/").get_data(as_text=True)


def test_someone_elses_notification_cannot_be_marked(demo: Flask, client) -> None:
    submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    citizens = [r for r in rows(channel=NotificationChannel.IN_APP) if r.user.email == CITIZEN]
    login(client, DESK)
    page = client.get("/notifications/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(f"/notifications/{citizens[0].id}/read", data={"csrf_token": token}).status_code == 404
    assert client.post("/notifications/999999/read", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/notifications/{citizens[0].id}/read").status_code == 400  # no CSRF token
    assert rows(channel=NotificationChannel.IN_APP)[0].read_at is None


def test_the_page_needs_a_signed_in_user(client) -> None:
    assert client.get("/notifications/").status_code == 302


class RecordingGateway:
    """An SMS gateway plugged in through SMS_GATEWAY, as a province's operator adapter would be. It keeps what
    it sends in the app's config (the portal builds it from there), not in the class: pytest and importlib may
    load this module twice."""

    def __init__(self, config) -> None:
        self.sent = config["TEST_SMS_SENT"]

    def send(self, phone: str, text: str, message_id: str) -> None:
        self.sent.append((phone, text, message_id))


def test_sms_go_through_the_configured_gateway(demo: Flask, app: Flask) -> None:
    app.config.update(SMS_GATEWAY="tests.test_notifications_outbox:RecordingGateway", TEST_SMS_SENT=[])
    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    assert len(app.config["TEST_SMS_SENT"]) == 1
    phone, text, message_id = app.config["TEST_SMS_SENT"][0]
    assert phone == "0912345678"
    assert dossier.code in text
    assert len(text) <= 160 * 2  # one or two SMS parts
    assert message_id.startswith("<")


def test_the_default_sms_gateway_writes_to_the_log(demo: Flask, caplog) -> None:
    caplog.set_level("INFO", logger="portal.notifications.sms")
    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    assert any("0912345678" in r.getMessage() and dossier.code in r.getMessage() for r in caplog.records)
