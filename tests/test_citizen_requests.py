"""What the citizen is told, over HTTP and the real SMTP server: a request for documents says what is missing and
why everywhere the citizen looks, with the request slip and the answer form; the first receipt says when the desk
will receive the dossier and that the appointment date follows; the reception sends the appointment date."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.core.presentation import when
from portal.extensions import db
from portal.models import Agency, Dossier, Notification, NotificationChannel, Task
from portal.sla.services import calendar_for
from tests.helpers import COMMUNE, open_task, submit, vn
from tests.test_citizen_support import CITIZEN, DESK, apply_online
from tests.test_inbox_pages import application
from tests.web import csrf, login

MISSING = [
    "Bản sao CCCD của chủ hộ: bản chụp bị mờ, không đọc được số",
    "Hợp đồng thuê địa điểm kinh doanh: chưa có chữ ký của bên cho thuê",
]


def notifications(kind: str, channel: str) -> list[Notification]:
    db.session.expire_all()
    stmt = select(Notification).where(Notification.kind == kind, Notification.channel == channel)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def decide(app: Flask, task: Task, data: dict[str, str]) -> None:
    """The desk officer decides the step through the inbox's form."""
    desk = app.test_client()
    login(desk, DESK)
    url = f"/inbox/tasks/{task.id}"
    response = desk.post(url, data={"csrf_token": csrf(desk, url), **data})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def mail_about(smtp, dossier: Dossier, words: str) -> list:
    return [m for m in smtp.messages if m["To"] == CITIZEN and dossier.code in m["Subject"] and words in m["Subject"]]


def test_a_request_for_documents_says_what_is_missing_everywhere(demo: Flask, client: FlaskClient, smtp) -> None:
    dossier = apply_online(client)
    decide(demo, open_task(dossier, "reception_check"), {"decision": "supplement", "reason": "\n".join(MISSING)})
    slip = f"/documents/dossiers/{dossier.id}/supplement-request"
    answer = f"/my/dossiers/{dossier.id}/answer"

    # The dossier page's status box: each item, the slip, and the way to answer.
    page = client.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)
    box = page.split('class="status-box"', 1)[1].split("</section>", 1)[0]
    assert "Giấy tờ cần bổ sung và lý do" in box
    for item in MISSING:
        assert f"<li>{item}</li>" in box
    assert f'href="{slip}"' in box
    step = open_task(dossier, "reception_supplement")
    assert f'href="/my/dossiers/{dossier.id}/steps/{step.id}"' in box
    english = client.get(f"/my/dossiers/{dossier.id}", headers={"Cookie": "lang=en"}).get_data(as_text=True)
    assert ">Supplement the dossier</a>" in english  # the step to do, by its English name
    english = client.get(f"/my/dossiers/{dossier.id}/steps/{step.id}", headers={"Cookie": "lang=en"})
    assert "<h1>Supplement the dossier</h1>" in english.get_data(as_text=True)
    # The appointment is never a bare label: it says why there is none yet.
    assert "Chưa có: ngày hẹn được xác định khi bộ phận một cửa tiếp nhận hồ sơ, sau khi bạn gửi đủ" in page

    # The slip lists the items and leads to the answer form, which the lasting link opens.
    printed = client.get(slip).get_data(as_text=True)
    assert all(item in printed for item in MISSING)
    assert f'href="{answer}"' in printed
    opened = client.get(answer)
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/my/dossiers/{dossier.id}/steps/{step.id}")

    # Email: the items, the slip and the answer form.
    [mail] = mail_about(smtp, dossier, "bổ sung")
    for body in (text_of(mail), html_of(mail)):
        assert all(item in body for item in MISSING)
        assert "http://127.0.0.1:5000" + slip in body
        assert "http://127.0.0.1:5000" + answer in body
    assert "1. " + MISSING[0] in text_of(mail)

    # SMS: the items and where to answer.
    [sms] = notifications("supplement", NotificationChannel.SMS)
    assert all(item in sms.body for item in MISSING)
    assert answer in sms.body

    # In-app: the items in the line itself, and links to the slip and the answer form.
    listing = client.get("/notifications/").get_data(as_text=True)
    assert f"Giấy tờ cần bổ sung và lý do: {MISSING[0]}; {MISSING[1]}" in listing
    assert f'href="{slip}"' in listing
    assert f'href="{answer}"' in listing


def test_with_nothing_to_answer_the_lasting_link_leads_to_the_dossier(demo: Flask, client: FlaskClient) -> None:
    dossier = apply_online(client)
    response = client.get(f"/my/dossiers/{dossier.id}/answer")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/my/dossiers/{dossier.id}")
    page = client.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)
    assert "Hiện không có việc nào bạn cần làm với hồ sơ này." in page


def test_the_first_receipt_says_when_the_desk_receives_it_and_that_the_appointment_follows(
    demo: Flask, client: FlaskClient, smtp
) -> None:
    dossier = apply_online(client)
    reception = open_task(dossier, "reception_check")
    by = when(reception.due_at)
    promise = f"Hồ sơ sẽ được tiếp nhận trong giờ hành chính, chậm nhất {by}"

    receipt = client.get(f"/my/dossiers/{dossier.id}/receipt").get_data(as_text=True)
    assert promise in receipt
    assert "Được xác định khi bộ phận một cửa tiếp nhận hồ sơ; khi đó chúng tôi sẽ gửi ngày hẹn cho bạn" in receipt
    page = client.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)
    assert promise in page  # the appointment row of the dossier page says the same

    [mail] = mail_about(smtp, dossier, "Đã nộp")
    for body in (text_of(mail), html_of(mail)):
        assert promise in body
        assert "Ngày hẹn trả kết quả được xác định khi bộ phận một cửa tiếp nhận hồ sơ" in body
    [in_app] = notifications("submitted", NotificationChannel.IN_APP)
    assert promise in in_app.body
    [sms] = notifications("submitted", NotificationChannel.SMS)
    assert by in sms.body


def _quiet_friday(agency: Agency) -> date:
    """A Friday at least two weeks ahead followed by an ordinary weekend and a working Monday."""
    calendar = calendar_for(agency)
    day = date.today() + timedelta(days=14)
    while not (
        day.weekday() == 4
        and calendar.is_working_day(day)
        and not calendar.is_working_day(day + timedelta(days=1))
        and not calendar.is_working_day(day + timedelta(days=2))
        and calendar.is_working_day(day + timedelta(days=3))
    ):
        day += timedelta(days=1)
    return day


def test_a_dossier_sent_late_on_friday_is_received_on_monday(demo: Flask, client: FlaskClient) -> None:
    agency = db.session.scalar(select(Agency).where(Agency.code == COMMUNE))
    friday = _quiet_friday(agency)
    dossier = submit("household_business", application(), vn(friday.year, friday.month, friday.day, 16, 0))
    # The desk has 4 working hours: one on Friday (16:00-17:00), three on Monday from 07:00.
    monday = friday + timedelta(days=3)
    due = datetime(monday.year, monday.month, monday.day, 10, 0)
    login(client, CITIZEN)
    receipt = client.get(f"/my/dossiers/{dossier.id}/receipt").get_data(as_text=True)
    expected = f"chậm nhất {due:%d/%m/%Y %H:%M} (ngày làm việc kế tiếp)"
    assert expected in receipt


def test_the_reception_sends_the_appointment_date(demo: Flask, client: FlaskClient, smtp) -> None:
    dossier = apply_online(client)
    decide(demo, open_task(dossier, "reception_check"), {"decision": "accept"})
    db.session.refresh(dossier)
    assert dossier.appointment_at is not None
    date_shown = when(dossier.appointment_at)
    day_shown = f"{dossier.appointment_at.astimezone(calendar_for(dossier.agency).settings.tz):%d/%m/%Y}"
    after_label = re.compile(r"hẹn trả kết quả:\s*(\S.*)", re.IGNORECASE)

    [in_app] = notifications("received", NotificationChannel.IN_APP)
    match = after_label.search(in_app.body)
    assert match, in_app.body
    assert match.group(1).startswith(date_shown)
    listing = client.get("/notifications/").get_data(as_text=True)
    assert f"Hẹn trả kết quả: {date_shown}" in listing
    assert f'href="/documents/dossiers/{dossier.id}/receipt"' in listing

    [mail] = mail_about(smtp, dossier, "tiếp nhận")
    assert day_shown in mail["Subject"]
    text = text_of(mail)
    assert f"Ngày hẹn trả kết quả: {date_shown}" in text
    assert "Thông báo của bạn: http://127.0.0.1:5000/notifications/" in text  # the plain part is translated too
    for line in text.splitlines():  # no label is left with nothing after it
        assert not re.search(r":\s*$", line.strip()) or line.strip() in ("--",), line
    [sms] = notifications("received", NotificationChannel.SMS)
    assert day_shown in sms.body
