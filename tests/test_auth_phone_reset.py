"""A citizen who registered with a phone number and no email resets a forgotten password by SMS: the form takes
an email or a phone number, the phone gets a short link that lives minutes, works once and ends every session."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Notification, NotificationChannel, User
from tests.test_auth_sessions import replay, sign_in_remembered, signed_in
from tests.web import csrf, login

PHONE = "0987654321"
PASSWORD = "matkhau2026"
NEW_PASSWORD = "matkhaumoi2026"
SHORT_LINK = re.compile(r"http://localhost(/p/\S+?)(?=\s|$)")


def recording_sms(app: Flask) -> list[tuple[str, str, str]]:
    """SMS as the operator's gateway receives them (phone, text, message id), sent after the commit."""
    sent: list[tuple[str, str, str]] = []
    app.config.update(SMS_GATEWAY="tests.test_notifications_outbox:RecordingGateway", TEST_SMS_SENT=sent)
    return sent


def ask_for_reset(client: FlaskClient, identifier: str):
    return client.post(
        "/password/forgot", data={"identifier": identifier, "csrf_token": csrf(client, "/password/forgot")}
    )


def register_by_phone(app: Flask, sent: list) -> FlaskClient:
    """Register with a phone number only and confirm through the SMS link; the browser that did is signed in."""
    client = app.test_client()
    form = {"full_name": "Đặng Văn Điện", "email": "", "phone": PHONE, "password": PASSWORD, "confirm": PASSWORD}
    response = client.post("/register", data={**form, "csrf_token": csrf(client, "/register")})
    assert response.status_code == 302
    path = re.search(r"http://localhost(/register/confirm/\S+)", sent[-1][1]).group(1)
    assert client.post(path, data={"csrf_token": csrf(client, path)}).status_code == 302
    assert signed_in(client)
    return client


def test_a_phone_only_account_chooses_a_new_password_through_the_sms_link(app: Flask, smtp) -> None:
    sent = recording_sms(app)
    registered = register_by_phone(app, sent)
    other_device = app.test_client()
    cookies = sign_in_remembered(other_device, PHONE, PASSWORD)

    client = app.test_client()
    page = client.get("/password/forgot").get_data(as_text=True)
    assert "Email hoặc số điện thoại" in page  # the field's label, in Vietnamese first
    response = ask_for_reset(client, "+84 987 654 321")  # written as people write it
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert "Nếu có tài khoản dùng email hoặc số điện thoại này" in client.get("/login").get_data(as_text=True)

    phone, text, _message_id = sent[-1]
    assert phone == PHONE
    assert "đặt mật khẩu mới" in text
    assert "15 phút" in text
    assert len(text) <= 160  # one SMS: a short link, not the hour-long mailed one
    assert smtp.messages == []  # there is no email to write to
    path = SHORT_LINK.search(text).group(1)

    assert client.get(path).status_code == 200
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf(client, path)}
    response = client.post(path, data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"

    login(client, PHONE, NEW_PASSWORD)
    old = app.test_client()
    refused = old.post("/login", data={"identifier": PHONE, "password": PASSWORD, "csrf_token": csrf(old, "/login")})
    assert refused.status_code == 422
    # Every earlier session ended: the browser that registered, the other device and copies of its cookies.
    assert not signed_in(registered)
    assert not signed_in(other_device)
    assert not signed_in(replay(app, cookies))
    # The link worked once.
    again = app.test_client().get(path)
    assert again.status_code == 302
    assert "/password/forgot" in again.headers["Location"]


def test_a_phone_number_gets_an_sms_even_when_the_account_also_has_an_email(app: Flask, demo: Flask, smtp) -> None:
    sent = recording_sms(app)
    assert ask_for_reset(app.test_client(), "0912 345 678").status_code == 302
    assert [phone for phone, _text, _id in sent] == ["0912345678"]
    assert smtp.messages == []
    rows = db.session.scalars(db.select(Notification).where(Notification.kind == "password_reset")).all()
    assert [(row.channel, row.address) for row in rows] == [(NotificationChannel.SMS, "0912345678")]


def test_the_sms_link_lives_minutes_and_cannot_be_altered(
    app: Flask, demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.auth import services

    sent = recording_sms(app)
    ask_for_reset(app.test_client(), "0912345678")
    path = SHORT_LINK.search(sent[-1][1]).group(1)
    client = app.test_client()

    user_id, issued, mac = path.removeprefix("/p/").split(".")
    altered = "A" if mac[0] != "A" else "B"
    assert client.get(f"/p/{user_id}.{issued}.{altered}{mac[1:]}").status_code == 302
    someone_else = db.session.scalar(db.select(User.id).where(User.email == "tiepnhan@motcua.demo"))
    assert client.get(f"/p/{services._base36(someone_else)}.{issued}.{mac}").status_code == 302
    assert client.get(f"/p/{'z' * 30}.{issued}.{mac}").status_code == 302  # past any id: refused, not an error

    real = time.time
    monkeypatch.setattr(services, "time", SimpleNamespace(time=lambda: real() + 14 * 60))
    assert client.get(path).status_code == 200
    monkeypatch.setattr(services, "time", SimpleNamespace(time=lambda: real() + 16 * 60))
    expired = client.get(path)
    assert expired.status_code == 302
    assert "/password/forgot" in expired.headers["Location"]


def test_the_form_says_when_the_entry_is_neither_an_email_nor_a_phone_number(app: Flask) -> None:
    client = app.test_client()
    response = ask_for_reset(client, "không phải số")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#identifier"' in page
    assert "Email hoặc số điện thoại không hợp lệ." in page
