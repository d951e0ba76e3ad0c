"""No account discovery: register and "forgot password" answer alike (page, status, redirect, work done) whether
the address has an account; the owner is told by mail, through the outbox after the commit."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import AuditLog, DeliveryStatus, Notification, User
from tests.web import csrf

CITIZEN = "congdan@motcua.demo"
TOKEN = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')


def without_tokens(page: str) -> str:
    return TOKEN.sub(r"\1\2", page)


def answer(client: FlaskClient, path: str, form: dict) -> tuple[int, str, str, float]:
    """Status, Location, the page shown next (CSRF tokens blanked) and the seconds the POST took."""
    data = {**form, "csrf_token": csrf(client, path)}
    start = time.perf_counter()
    response = client.post(path, data=data)
    took = time.perf_counter() - start
    following = client.get(response.headers.get("Location", path)).get_data(as_text=True)
    return response.status_code, response.headers.get("Location", ""), without_tokens(following), took


@pytest.fixture
def counted_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password hash computed, so a test can see both branches do the same work."""
    import portal.models.user as user_module

    calls: list[str] = []
    original = user_module.generate_password_hash

    def counting(password: str, **kwargs):
        calls.append("hash")
        return original(password, **kwargs)

    monkeypatch.setattr(user_module, "generate_password_hash", counting)
    return calls


def registration(email: str) -> dict[str, str]:
    return {"full_name": "Nguyễn Văn Thử", "email": email, "password": "matkhau2026", "confirm": "matkhau2026"}


def test_register_answers_alike_whether_the_address_has_an_account(
    app: Flask, demo: Flask, smtp, counted_hashes: list[str]
) -> None:
    taken = answer(app.test_client(), "/register", registration(CITIZEN))
    hashes_taken = len(counted_hashes)
    free = answer(app.test_client(), "/register", registration("moi@example.vn"))
    assert taken[:3] == free[:3]  # status, redirect and the page after it, byte for byte
    assert taken[0] == 302
    assert hashes_taken == 1
    assert len(counted_hashes) == 2
    print(f"register: taken {taken[3] * 1000:.1f} ms, free {free[3] * 1000:.1f} ms")

    # The owner is told by mail (through the outbox, after the commit); the newcomer gets a link to confirm.
    by_address = {m["To"]: m for m in smtp.messages}
    assert set(by_address) == {CITIZEN, "moi@example.vn"}
    owner = smtp.bodies()[[m["To"] for m in smtp.messages].index(CITIZEN)]
    assert "Có người đã thử tạo tài khoản MotCua" in owner
    assert "/password/forgot" in owner
    assert db.session.scalar(db.select(User).where(User.email == CITIZEN)).full_name == "Võ Thị Mai"  # untouched
    kinds = db.session.scalars(db.select(Notification.kind).order_by(Notification.id)).all()
    assert kinds == ["register_attempt", "register_confirm"]
    assert set(db.session.scalars(db.select(Notification.status))) == {DeliveryStatus.SENT}


def test_a_new_account_is_confirmed_through_its_link_then_signed_in(app: Flask, demo: Flask, smtp) -> None:
    client = app.test_client()
    answer(client, "/register", registration("moi@example.vn"))
    user = db.session.scalar(db.select(User).where(User.email == "moi@example.vn"))
    assert user.confirmed is False
    # Not usable before the link: the right password is told to confirm first.
    token = csrf(client, "/login")
    refused = client.post(
        "/login", data={"identifier": "moi@example.vn", "password": "matkhau2026", "csrf_token": token}
    )
    assert refused.status_code == 422
    path = re.search(r"http://localhost(/register/confirm/\S+)", smtp.bodies()[0]).group(1)
    assert client.get(path).status_code == 200  # a page with a button: a mail scanner opening it confirms nothing
    assert db.session.get(User, user.id).confirmed is False
    response = client.post(path, data={"csrf_token": csrf(client, path)})
    assert response.status_code == 302
    assert db.session.get(User, user.id).confirmed is True
    assert client.get("/account").status_code == 200
    assert client.get(path).status_code == 302  # used once


def test_an_unconfirmed_address_is_taken_over_by_whoever_confirms_it(app: Flask, demo: Flask, smtp) -> None:
    """Someone who registers another person's address first cannot keep it: nobody proved it yet."""
    answer(app.test_client(), "/register", {**registration("nan-nhan@example.vn"), "full_name": "Kẻ Chiếm"})
    answer(
        app.test_client(),
        "/register",
        {**registration("nan-nhan@example.vn"), "password": "thatla2026x", "confirm": "thatla2026x"},
    )
    users = db.session.scalars(db.select(User).where(User.email == "nan-nhan@example.vn")).all()
    assert len(users) == 1
    assert users[0].full_name == "Nguyễn Văn Thử"
    assert users[0].check_password("thatla2026x")
    first, _second = (re.search(r"(/register/confirm/\S+)", body).group(1) for body in smtp.bodies())
    client = app.test_client()
    assert client.get(first).status_code == 302  # the squatter's link died with their password


def test_forgot_password_answers_alike_and_does_the_same_work(
    app: Flask, demo: Flask, smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.auth import services

    tokens: list[int | None] = []
    original = services.reset_token
    monkeypatch.setattr(services, "reset_token", lambda user: tokens.append(user.id) or original(user))
    known = answer(app.test_client(), "/password/forgot", {"identifier": CITIZEN})
    unknown = answer(app.test_client(), "/password/forgot", {"identifier": "khong-co@example.vn"})
    assert known[:3] == unknown[:3]
    assert known[0] == 302
    assert known[1] == "/login"
    assert len(tokens) == 2  # a link is made in both cases; only the real one is written
    print(f"forgot: known {known[3] * 1000:.1f} ms, unknown {unknown[3] * 1000:.1f} ms")
    assert [m["To"] for m in smtp.messages] == [CITIZEN]
    row = db.session.scalar(db.select(Notification).where(Notification.kind == "password_reset"))
    assert row.status == DeliveryStatus.SENT
    assert row.address == CITIZEN


def test_reset_mail_waits_for_the_commit(app: Flask, demo: Flask, smtp) -> None:
    """Written in the request's transaction: rolled back, nothing is sent."""
    from portal.auth import services

    with app.test_request_context():
        services.send_reset_link(CITIZEN)
        assert smtp.messages == []  # not sent from inside the transaction
        db.session.rollback()
    assert smtp.messages == []
    assert db.session.scalar(db.select(db.func.count()).select_from(Notification)) == 0


def test_mails_about_one_address_are_capped(app: Flask, demo: Flask, smtp) -> None:
    app.config["ACCOUNT_MAIL_LIMIT"] = "2 per hour"
    answers = [answer(app.test_client(), "/password/forgot", {"identifier": CITIZEN})[:3] for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    assert len(smtp.messages) == 2


def test_forgot_password_by_phone_answers_alike_and_does_the_same_work(
    app: Flask, demo: Flask, smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A phone number, known or not, gets the answer an email address gets; only a known one is sent an SMS."""
    from portal.auth import services
    from tests.test_auth_phone_reset import recording_sms

    sent = recording_sms(app)
    tokens: list[int | None] = []
    original = services.sms_reset_token
    monkeypatch.setattr(services, "sms_reset_token", lambda user: tokens.append(user.id) or original(user))
    known = answer(app.test_client(), "/password/forgot", {"identifier": "0912 345 678"})
    unknown = answer(app.test_client(), "/password/forgot", {"identifier": "+84 909 000 111"})
    by_email = answer(app.test_client(), "/password/forgot", {"identifier": CITIZEN})
    assert known[:3] == unknown[:3] == by_email[:3]
    assert known[0] == 302
    assert known[1] == "/login"
    assert len(tokens) == 2  # a short link is made in both cases; only the real one is sent
    print(f"forgot by phone: known {known[3] * 1000:.1f} ms, unknown {unknown[3] * 1000:.1f} ms")
    assert [phone for phone, _text, _id in sent] == ["0912345678"]
    assert [m["To"] for m in smtp.messages] == [CITIZEN]  # the email request, by mail
    actions = db.session.scalars(db.select(AuditLog.action).where(AuditLog.action == "auth.reset_requested")).all()
    assert len(actions) == 3  # one audit line each, known or not


def test_messages_about_one_phone_are_capped_however_it_is_written(app: Flask, demo: Flask, smtp) -> None:
    """ACCOUNT_MAIL_LIMIT counts SMS too, per account: the number written three ways is one account, and its
    email address shares the account's count."""
    from tests.test_auth_phone_reset import recording_sms

    sent = recording_sms(app)
    app.config["ACCOUNT_MAIL_LIMIT"] = "2 per hour"
    written = ["0912345678", "+84 912 345 678", "0912.345.678", CITIZEN]
    answers = [answer(app.test_client(), "/password/forgot", {"identifier": value})[:3] for value in written]
    assert answers[0] == answers[1] == answers[2] == answers[3]
    assert len(sent) == 2
    assert smtp.messages == []
    # An unknown number past its own count answers the same too.
    unknown = [answer(app.test_client(), "/password/forgot", {"identifier": "0909000111"})[:3] for _ in range(3)]
    assert unknown[0] == unknown[2] == answers[0]


def test_an_invitation_goes_through_the_outbox(app: Flask, demo: Flask, smtp) -> None:
    from tests.test_admin_support import as_admin, post

    admin = app.test_client()
    as_admin(admin)
    assert (
        post(
            admin, "/admin/people/new", {"full_name": "Lê Mời", "email": "moi.cb@motcua.demo"}, page="/admin/people/new"
        ).status_code
        == 302
    )
    row = db.session.scalar(db.select(Notification).where(Notification.kind == "invitation"))
    assert row is not None
    assert row.status == DeliveryStatus.SENT
    assert [m["To"] for m in smtp.messages] == ["moi.cb@motcua.demo"]
    assert "/password/reset/" in smtp.bodies()[0]
