"""Limits that hold without locking out an office: a growing delay per account, a generous ceiling per address
(failures only), limits on register and reset, a 429 page that says when to try again, counters in Redis
shared by every process."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask

from portal import create_app
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import User
from tests.web import csrf, login

ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/6"
CITIZEN = "congdan@motcua.demo"
EN = {"Cookie": "lang=en"}  # a person who chose English (the portal does not follow Accept-Language)


def attempt(client, identifier: str, password: str = "sai-mat-khau", headers: dict | None = None, token: str = ""):  # noqa: S107
    token = token or csrf(client, "/login")
    return client.post(
        "/login", data={"identifier": identifier, "password": password, "csrf_token": token}, headers=headers or EN
    )


def account(email: str = CITIZEN) -> User:
    return db.session.scalar(db.select(User).where(User.email == email))


def test_failed_sign_ins_slow_one_account_down_and_say_when_to_try_again(client, demo: Flask) -> None:
    token = csrf(client, "/login")  # one token, so the sixth attempt comes within the first one-second wait
    codes = [attempt(client, CITIZEN, token=token).status_code for _ in range(5)]
    assert codes == [422] * 5
    waiting = attempt(client, CITIZEN, "MotCua@2026", token=token)  # even the right password waits
    assert waiting.status_code == 429
    assert waiting.headers["Retry-After"] == "1"
    assert "Try again in 1 second." in waiting.get_data(as_text=True)
    assert account().failed_logins == 5

    # A sixth failure once the wait is over doubles it.
    account().last_failed_login_at = utcnow() - timedelta(seconds=2)
    db.session.commit()
    assert attempt(client, CITIZEN, token=token).status_code == 422
    assert attempt(client, CITIZEN, token=token).headers["Retry-After"] == "2"

    # Success after the wait starts the count over.
    account().last_failed_login_at = utcnow() - timedelta(seconds=3)
    db.session.commit()
    assert attempt(client, CITIZEN, "MotCua@2026").status_code == 302
    assert (account().failed_logins, account().last_failed_login_at) == (0, None)


def test_the_delay_is_capped_and_worded_in_minutes(client, demo: Flask) -> None:
    user = account()
    user.failed_logins, user.last_failed_login_at = 40, utcnow()
    db.session.commit()
    response = attempt(client, CITIZEN)
    assert response.headers["Retry-After"] == "900"
    assert "Try again in 15 minutes." in response.get_data(as_text=True)
    vi = attempt(client, CITIZEN, headers={"Accept-Language": "vi"})
    assert "Thử lại sau 15 phút." in vi.get_data(as_text=True)


def test_an_unknown_name_is_slowed_exactly_like_an_account(client, demo: Flask) -> None:
    # One token for all, so the sixth attempt follows the fifth within the one-second wait even on a busy machine.
    token = csrf(client, "/login")
    known = [attempt(client, CITIZEN, token=token) for _ in range(6)]
    unknown = [attempt(client, "khong-co-ai@example.vn", token=token) for _ in range(6)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [422] * 5 + [429]
    assert known[-1].headers["Retry-After"] == unknown[-1].headers["Retry-After"]
    strip = lambda r: r.get_data(as_text=True).replace(CITIZEN, "X").replace("khong-co-ai@example.vn", "X")  # noqa: E731
    assert strip(known[-1]).split('name="csrf_token"')[0] == strip(unknown[-1]).split('name="csrf_token"')[0]


def test_many_guesses_at_once_get_one_password_check_past_the_threshold(app: Flask, demo: Flask) -> None:
    """Parallel requests cannot slip between two delays: the attempt is claimed before the hash."""
    user = account()
    user.failed_logins, user.last_failed_login_at = 5, utcnow() - timedelta(seconds=5)
    db.session.commit()
    from portal.auth import services

    calls = []
    original = User.check_password
    User.check_password = lambda self, pw: calls.append(pw) or original(self, pw)  # type: ignore[method-assign]
    try:
        with app.test_request_context():
            results = [services.authenticate(CITIZEN, f"guess-{n}") for n in range(5)]
            db.session.commit()
    finally:
        User.check_password = original  # type: ignore[method-assign]
    assert len(calls) == 1
    assert [r.retry_after > 0 for r in results] == [False, True, True, True, True]


def test_an_office_behind_one_address_is_not_locked_out(app: Flask, demo: Flask) -> None:
    """Colleagues signing in successfully use none of the address's ceiling; only failures count."""
    app.config["LOGIN_RATE_LIMIT"] = "3 per hour"
    people = ["hotich@motcua.demo", "tiepnhan@motcua.demo", "lanhdao@motcua.demo", "ktht@motcua.demo", CITIZEN]
    for email in people * 2:
        client = app.test_client()
        login(client, email)
    client = app.test_client()
    for n in range(3):
        assert attempt(client, f"guess{n}@example.vn").status_code == 422
    over = attempt(client, "guess9@example.vn")
    assert over.status_code == 429
    assert int(over.headers["Retry-After"]) > 60
    assert "Too many attempts in a short time." in over.get_data(as_text=True)


def test_the_429_page_speaks_the_persons_language_and_renders_for_anyone(app: Flask, demo: Flask) -> None:
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "1 per hour"
    client = app.test_client()
    for expected in (302, 429):
        token = csrf(client, "/password/forgot")
        response = client.post("/password/forgot", data={"identifier": "a@example.vn", "csrf_token": token})
        assert response.status_code == expected
    page = response.get_data(as_text=True)
    assert "Thử lại sau" in page  # Vietnamese by default
    assert 0 < int(response.headers["Retry-After"]) <= 3601  # the hour window, rounded up
    client.get("/lang/en")
    token = csrf(client, "/password/forgot")
    english = client.post("/password/forgot", data={"identifier": "a@example.vn", "csrf_token": token})
    assert english.status_code == 429
    assert "Try again in" in english.get_data(as_text=True)
    as_json = client.post(
        "/password/forgot",
        data={"identifier": "a@example.vn", "csrf_token": token},
        headers={"Accept": "application/json"},
    )
    assert as_json.get_json()["retry_after"] > 0


def test_registration_is_rate_limited_per_address(app: Flask, demo: Flask) -> None:
    app.config["REGISTER_RATE_LIMIT"] = "2 per hour"
    client = app.test_client()
    codes = []
    for n in range(3):
        form = {
            "full_name": "Người Thử",
            "email": f"thu{n}@example.vn",
            "password": "matkhau2026",
            "confirm": "matkhau2026",
            "csrf_token": csrf(client, "/register"),
        }
        codes.append(client.post("/register", data=form).status_code)
    assert codes == [302, 302, 429]


# -- counters shared by every process and host --------------------------------------------------------------

HOST_B = """
import json, sys
from portal import create_app
app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": sys.argv[1], "RATELIMIT_STORAGE_URI": sys.argv[2],
                  "LOGIN_RATE_LIMIT": "4 per hour", "WTF_CSRF_ENABLED": False})
client = app.test_client()
codes = [client.post("/login", data={"identifier": f"b{n}@example.vn", "password": "x"}).status_code for n in range(2)]
print(json.dumps(codes))
"""


def _other_host(database: str, storage: str) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", HOST_B, database, storage], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _this_host(database: str, storage: str) -> list[int]:
    here = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database,
            "RATELIMIT_STORAGE_URI": storage,
            "LOGIN_RATE_LIMIT": "4 per hour",
            "WTF_CSRF_ENABLED": False,
        }
    )
    client = here.test_client()
    with here.app_context():
        try:
            return [
                client.post("/login", data={"identifier": f"a{n}@example.vn", "password": "x"}).status_code
                for n in range(3)
            ]
        finally:
            db.session.remove()
            db.engine.dispose()  # this second app's pool, or its connections outlive the test


@pytest.fixture
def shared_redis():
    store = redis.Redis.from_url(REDIS)
    store.flushdb()
    yield store
    store.flushdb()


def test_two_processes_share_one_limit_in_redis(app: Flask, shared_redis) -> None:
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    assert _other_host(database, REDIS) == [422, 422]  # another process (host) uses 2 of the 4
    assert _this_host(database, REDIS) == [422, 422, 429]  # so this one has 2 left
    assert shared_redis.keys("*")  # the counters are in Redis


def test_with_memory_storage_each_process_counts_alone(app: Flask) -> None:
    """What the probe found: memory:// lets every process allow the whole limit (so production refuses it)."""
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    assert _other_host(database, "memory://") == [422, 422]
    assert _this_host(database, "memory://") == [422, 422, 422]
