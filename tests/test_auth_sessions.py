"""Sessions end when they should: old session and remember cookies, replayed in a fresh browser, are refused
after sign-out, a password reset or change, a deactivation, and "sign out on all devices"."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from config import DevelopmentConfig, ProductionConfig
from portal.extensions import db
from portal.models import User
from tests.test_admin_support import as_admin, post
from tests.web import csrf, login

CITIZEN = "congdan@motcua.demo"
PASSWORD = "MotCua@2026"


def sign_in_remembered(client: FlaskClient, identifier: str = CITIZEN, password: str = PASSWORD) -> dict[str, str]:
    """Sign in with "keep me signed in"; the session and remember cookies the browser now holds."""
    token = csrf(client, "/login")
    form = {"identifier": identifier, "password": password, "remember": "y", "csrf_token": token}
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    cookies = {name: client.get_cookie(name).value for name in ("session", "remember_token")}
    assert all(cookies.values())
    return cookies


def replay(app: Flask, cookies: dict[str, str]) -> FlaskClient:
    """A fresh browser holding only the given cookies (an attacker who copied them)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def test_both_old_cookies_work_until_sign_out_and_never_after(app: Flask, demo: Flask) -> None:
    browser = app.test_client()
    cookies = sign_in_remembered(browser)
    assert signed_in(replay(app, cookies))  # the copy works while the person is signed in
    assert signed_in(replay(app, {"remember_token": cookies["remember_token"]}))

    browser.post("/logout", data={"csrf_token": csrf(browser, "/")})
    assert not signed_in(browser)
    assert not signed_in(replay(app, cookies))
    assert not signed_in(replay(app, {"remember_token": cookies["remember_token"]}))
    assert not signed_in(replay(app, {"session": cookies["session"]}))


def test_sign_out_also_deletes_the_remember_cookie_in_this_browser(app: Flask, demo: Flask) -> None:
    browser = app.test_client()
    sign_in_remembered(browser)
    response = browser.post("/logout", data={"csrf_token": csrf(browser, "/")})
    deleted = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
    assert deleted
    assert "Expires=Thu, 01 Jan 1970" in deleted[0]


def test_a_password_reset_ends_every_session(app: Flask, demo: Flask, smtp) -> None:
    phone, laptop = app.test_client(), app.test_client()
    cookies = sign_in_remembered(phone)
    token = csrf(laptop, "/password/forgot")
    laptop.post("/password/forgot", data={"identifier": CITIZEN, "csrf_token": token})
    path = re.search(r"http://localhost(/password/reset/\S+)", smtp.bodies()[-1]).group(1)
    form = {"password": "matkhaumoi2026", "confirm": "matkhaumoi2026", "csrf_token": csrf(laptop, path)}
    assert laptop.post(path, data=form).status_code == 302

    assert not signed_in(phone)
    assert not signed_in(replay(app, cookies))
    assert not signed_in(replay(app, {"remember_token": cookies["remember_token"]}))
    login(laptop, CITIZEN, "matkhaumoi2026")


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app: Flask, demo: Flask) -> None:
    other = app.test_client()
    cookies = sign_in_remembered(other)
    here = app.test_client()
    sign_in_remembered(here)
    form = {"current": PASSWORD, "password": "matkhaumoi2026", "confirm": "matkhaumoi2026"}
    response = here.post("/account/password", data={**form, "csrf_token": csrf(here, "/account")})
    assert response.status_code == 302
    assert signed_in(here)
    assert not signed_in(other)
    assert not signed_in(replay(app, cookies))
    # A wrong current password changes nothing.
    wrong = {**form, "current": "sai-mat-khau1", "csrf_token": csrf(here, "/account")}
    assert here.post("/account/password", data=wrong).status_code == 422
    assert db.session.scalar(db.select(User).where(User.email == CITIZEN)).check_password("matkhaumoi2026")


def test_sign_out_on_all_devices(app: Flask, demo: Flask) -> None:
    phone, laptop = app.test_client(), app.test_client()
    cookies = sign_in_remembered(phone)
    login(laptop, CITIZEN)
    page = laptop.get("/account").get_data(as_text=True)
    assert "/account/sign-out-everywhere" in page
    response = laptop.post("/account/sign-out-everywhere", data={"csrf_token": csrf(laptop, "/account")})
    assert response.status_code == 302
    assert not signed_in(laptop)
    assert not signed_in(phone)
    assert not signed_in(replay(app, cookies))


def test_deactivation_by_an_administrator_ends_every_session(app: Flask, demo: Flask) -> None:
    officer = app.test_client()
    cookies = sign_in_remembered(officer, "hotich@motcua.demo")
    admin = app.test_client()
    as_admin(admin)
    person = db.session.scalar(db.select(User).where(User.email == "hotich@motcua.demo"))
    page = f"/admin/people/{person.id}"
    assert post(admin, f"{page}/active", {"active": "0"}, page=page).status_code == 302
    post(admin, f"{page}/active", {"active": "1"}, page=page)  # active again: the old cookies stay dead
    assert officer.get("/inbox/").status_code == 302
    assert replay(app, cookies).get("/inbox/").status_code == 302
    assert replay(app, {"remember_token": cookies["remember_token"]}).get("/inbox/").status_code == 302


def test_the_remember_cookie_differs_at_every_sign_in_and_has_safe_attributes(app: Flask, demo: Flask) -> None:
    first, second = app.test_client(), app.test_client()
    token = csrf(first, "/login")
    form = {"identifier": CITIZEN, "password": PASSWORD, "remember": "y", "csrf_token": token}
    header = next(h for h in first.post("/login", data=form).headers.getlist("Set-Cookie") if "remember_token=" in h)
    assert "SameSite=Lax" in header
    assert "HttpOnly" in header
    expires = re.search(r"Expires=([^;]+)", header).group(1)
    from email.utils import parsedate_to_datetime

    lifetime = parsedate_to_datetime(expires).timestamp() - time.time()
    assert 13 * 86400 < lifetime <= 14 * 86400 + 5  # REMEMBER_DAYS, not a year
    cookies = sign_in_remembered(second)
    assert first.get_cookie("remember_token").value != cookies["remember_token"]
    # Secure wherever session cookies are (production: always, unless turned off for plain-HTTP loopback).
    assert ProductionConfig.REMEMBER_COOKIE_SECURE is ProductionConfig.SESSION_COOKIE_SECURE
    assert DevelopmentConfig.REMEMBER_COOKIE_SECURE is DevelopmentConfig.SESSION_COOKIE_SECURE
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_a_secure_deployment_marks_the_remember_cookie_secure(app: Flask, demo: Flask) -> None:
    app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"identifier": CITIZEN, "password": PASSWORD, "remember": "y", "csrf_token": token}
    over_https = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/login"}}
    response = client.post("/login", data=form, **over_https)
    assert response.status_code == 302
    headers = response.headers.getlist("Set-Cookie")
    remember = next(h for h in headers if "remember_token=" in h)
    assert "Secure" in remember
    assert "Secure" in next(h for h in headers if h.startswith("session="))


def test_the_server_refuses_a_remember_cookie_past_its_lifetime(app: Flask, demo: Flask) -> None:
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(seconds=1)
    cookies = sign_in_remembered(app.test_client())
    time.sleep(2.1)
    # The browser would have dropped it; a copied cookie is refused by the server too.
    assert not signed_in(replay(app, {"remember_token": cookies["remember_token"]}))


def test_a_session_id_from_before_the_change_is_refused(app: Flask, demo: Flask) -> None:
    """Cookies of the old format ("<id>" alone, signed with the same key) no longer sign anyone in."""
    from flask_login.utils import encode_cookie

    user = db.session.scalar(db.select(User).where(User.email == CITIZEN))
    with app.test_request_context():
        forged = encode_cookie(str(user.id))
    assert not signed_in(replay(app, {"remember_token": forged}))
