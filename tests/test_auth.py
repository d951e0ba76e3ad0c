"""Local accounts through real HTTP requests: sign in, rate limit, register, reset, sign out, headers."""

from __future__ import annotations

import re

from flask import Flask

from portal.extensions import db
from portal.models import AuditLog, User
from tests.web import csrf, login


def test_sign_in_with_email_or_phone(client, demo: Flask) -> None:
    login(client, "congdan@motcua.demo")
    assert "Võ Thị Mai" in client.get("/").get_data(as_text=True)
    client.get("/")  # keep the session
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    login(client, "+84 912 345 678")
    assert "Võ Thị Mai" in client.get("/").get_data(as_text=True)


def test_a_wrong_password_is_refused_plainly_and_audited(client, demo: Flask) -> None:
    token = csrf(client, "/login")
    response = client.post(
        "/login", data={"identifier": "congdan@motcua.demo", "password": "sai-mat-khau", "csrf_token": token}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert 'value="congdan@motcua.demo"' in page  # nothing typed is lost
    actions = db.session.scalars(db.select(AuditLog.action)).all()
    assert "auth.login_failed" in actions


def test_a_form_without_its_csrf_token_is_refused(client, demo: Flask) -> None:
    response = client.post("/login", data={"identifier": "congdan@motcua.demo", "password": "MotCua@2026"})
    assert response.status_code in (400, 422)
    assert "Võ Thị Mai" not in client.get("/").get_data(as_text=True)


def test_sign_in_is_rate_limited(client, demo: Flask) -> None:
    token = csrf(client, "/login")
    codes = [
        client.post("/login", data={"identifier": "x@example.vn", "password": "wrong", "csrf_token": token}).status_code
        for _ in range(6)
    ]
    # Five failures, then the name must wait (tests/test_auth_limits.py has the details). The first wait is one
    # second, so only the attempt right after the fifth is sure to fall inside it on a busy machine.
    assert codes == [422] * 5 + [429]


def test_register_then_sign_in(client, app: Flask) -> None:
    token = csrf(client, "/register")
    form = {
        "full_name": "Trần Thị Bích",
        "email": "bich@example.vn",
        "phone": "0987654321",
        "citizen_id": "079123456789",
        "password": "matkhau2026",
        "confirm": "matkhau2026",
        "csrf_token": token,
    }
    response = client.post("/register", data=form)
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "bich@example.vn"))
    assert user.kind == "citizen"
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("matkhau2026")


def test_registration_errors_are_listed_and_fields_kept(client, app: Flask) -> None:
    token = csrf(client, "/register")
    form = {
        "full_name": "Lê Văn C",
        "email": "",
        "phone": "12345",
        "citizen_id": "123",
        "password": "ngan",
        "confirm": "khac",
        "csrf_token": token,
    }
    response = client.post("/register", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="error-summary"' in page
    for field in ("phone", "citizen_id", "password", "confirm"):
        assert f'href="#{field}"' in page, field
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', page), field
    assert 'value="Lê Văn C"' in page
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_password_reset_by_email_link(client, demo: Flask, smtp) -> None:
    token = csrf(client, "/password/forgot")
    response = client.post("/password/forgot", data={"identifier": "congdan@motcua.demo", "csrf_token": token})
    assert response.status_code == 302
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["To"] == "congdan@motcua.demo"
    link = re.search(r"http://localhost(/password/reset/\S+)", smtp.bodies()[0])
    assert link, smtp.bodies()[0]
    path = link.group(1)
    response = client.post(
        path, data={"password": "matkhaumoi2026", "confirm": "matkhaumoi2026", "csrf_token": csrf(client, path)}
    )
    assert response.status_code == 302
    login(client, "congdan@motcua.demo", "matkhaumoi2026")
    # The link worked once; it is dead now that the password changed.
    assert client.get(path).status_code == 302
    assert "/password/forgot" in client.get(path).headers["Location"]


def test_an_unknown_email_gets_the_same_answer(client, demo: Flask, smtp) -> None:
    token = csrf(client, "/password/forgot")
    response = client.post("/password/forgot", data={"identifier": "khong-co@example.vn", "csrf_token": token})
    assert response.status_code == 302
    assert smtp.messages == []


def test_security_headers_and_cookie_flags(client, demo: Flask) -> None:
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    login(client, "congdan@motcua.demo")
    cookie = client.get_cookie("session")
    assert cookie.http_only


def test_an_inactive_account_cannot_sign_in(client, demo: Flask) -> None:
    user = db.session.scalar(db.select(User).where(User.email == "congdan@motcua.demo"))
    user.active = False
    db.session.commit()
    token = csrf(client, "/login")
    response = client.post(
        "/login", data={"identifier": "congdan@motcua.demo", "password": "MotCua@2026", "csrf_token": token}
    )
    assert response.status_code == 422


def test_registration_needs_an_email_or_a_phone(client, app: Flask) -> None:
    token = csrf(client, "/register")
    form = {"full_name": "Lê Văn D", "email": "", "phone": "", "password": "matkhau2026", "confirm": "matkhau2026"}
    response = client.post("/register", data={**form, "csrf_token": token})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#email"' in page
    assert "Hãy nhập địa chỉ email hoặc số điện thoại." in page
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_signing_in_lands_each_person_on_their_own_start_page(demo: Flask) -> None:
    for identifier, landing in [
        ("congdan@motcua.demo", "/"),
        ("tiepnhan@motcua.demo", "/inbox/"),
        ("admin@motcua.demo", "/admin/"),
    ]:
        client = demo.test_client()
        token = csrf(client, "/login")
        form = {"identifier": identifier, "password": "MotCua@2026", "csrf_token": token}
        response = client.post("/login", data=form)
        assert response.headers["Location"] == landing, identifier
        assert client.get(landing).status_code == 200
    client = demo.test_client()  # a `next` still wins
    token = csrf(client, "/login")
    form = {"identifier": "tiepnhan@motcua.demo", "password": "MotCua@2026", "csrf_token": token}
    assert client.post("/login?next=/procedures", data=form).headers["Location"] == "/procedures"
