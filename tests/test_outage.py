"""The database is unreachable: a real server answers 503 with Retry-After, in the person's language, without
touching the database (not even to load the signed-in user or to render an error page); /healthz says so.

This file needs no PostgreSQL: the server's database URL names a PostgreSQL port where nothing listens (refused
at once, as when the database is down). tests/test_outage_postgres.py cuts and restores a real connection.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from portal import create_app
from portal.extensions import db
from tests.browser import LiveServer
from tests.test_inbox_pages import CITIZEN
from tests.web import login

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VI = {"Accept-Language": "vi"}
EN = {"lang": "en"}  # the cookie of a person who chose English (the portal does not follow Accept-Language)
AGENT = "motcua-outage-test"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_app(database_url: str, tmp_path: Path) -> Flask:
    """The app as production runs it: exceptions are handled, never propagated to the server."""
    return create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "PROPAGATE_EXCEPTIONS": False,
        }
    )


def assert_unavailable(response: requests.Response, english: bool = False) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    if response.headers["Content-Type"].startswith("application/json"):
        assert response.json()["error"] == "unavailable"
        return
    assert ("Service briefly unavailable" if english else "Dịch vụ tạm thời gián đoạn") in response.text
    assert "Traceback" not in response.text
    assert "OperationalError" not in response.text


def assert_health(response: requests.Response, database: str) -> dict:
    body = response.json()
    assert response.status_code == (200 if database == "ok" else 503)
    assert body["status"] == database
    assert body["checks"]["database"]["status"] == database
    assert isinstance(body["checks"]["database"]["latency_ms"], float)
    assert body["checks"]["broker"]["status"] == "ok"
    return body


@pytest.fixture
def signed_in_cookie(demo: Flask) -> str:
    """A citizen's session cookie, made while the database was up (the same SECRET_KEY signs both apps)."""
    client = demo.test_client()
    client.environ_base["HTTP_USER_AGENT"] = AGENT  # Flask-Login's "strong" protection ties it to the agent
    login(client, CITIZEN)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[LiveServer]:
    url = f"postgresql+psycopg://motcua:not-a-secret@127.0.0.1:{closed_port()}/motcua"
    app = server_app(url, tmp_path)
    with LiveServer(app) as server:
        yield server
    with app.app_context():
        db.engine.dispose()


def test_pages_answer_503_in_the_persons_language(unreachable: LiveServer) -> None:
    assert_unavailable(requests.get(f"{unreachable.url}/", headers=VI, timeout=10))
    assert_unavailable(requests.get(f"{unreachable.url}/procedures?q=khai+sinh", cookies=EN, timeout=10), english=True)
    session = requests.Session()
    switched = session.get(f"{unreachable.url}/lang/en?next=/procedures", headers=VI, timeout=10)
    assert_unavailable(switched, english=True)  # the language is taken from the session even now
    page = requests.get(f"{unreachable.url}/procedures", headers={"Accept": "application/json"}, timeout=10)
    assert_unavailable(page)


def test_a_signed_in_person_gets_the_503_page_not_a_bare_500(unreachable: LiveServer, signed_in_cookie: str) -> None:
    cookies = {"session": signed_in_cookie, **EN}
    # The user loader itself needs the database here, and the 404 page's template asks for the user too.
    for path in ("/my/dossiers", "/", "/no-such-page", "/inbox/"):
        headers = {"User-Agent": AGENT}
        response = requests.get(f"{unreachable.url}{path}", cookies=cookies, headers=headers, timeout=10)
        assert_unavailable(response, english=True)
        assert "What you just sent" not in response.text


def test_a_form_sent_during_the_outage_is_answered_truthfully(unreachable: LiveServer) -> None:
    session = requests.Session()
    session.cookies.update(EN)
    form = session.get(f"{unreachable.url}/login", timeout=10)
    token = TOKEN.search(form.text)
    data = {"identifier": CITIZEN, "password": "MotCua@2026", "csrf_token": token.group(1) if token else ""}
    response = session.post(f"{unreachable.url}/login", data=data, timeout=10)
    assert_unavailable(response, english=True)
    assert "What you just sent was not saved. What you typed is not lost" in response.text
    assert "Try again" not in response.text  # a POST is not repeated by a link; the Back button keeps the form


def test_healthz_reports_the_database_without_secrets(unreachable: LiveServer, demo: Flask) -> None:
    response = requests.get(f"{unreachable.url}/healthz", timeout=10)
    body = assert_health(response, "error")
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert response.headers["Retry-After"] == "30"
    for secret in ("not-a-secret", "motcua", "127.0.0.1", "postgresql"):
        assert secret not in response.text
    with LiveServer(demo) as healthy:  # and the same check on a working database
        assert_health(requests.get(f"{healthy.url}/healthz", timeout=10), "ok")


@pytest.mark.usefixtures("_schema")
def test_healthz_is_not_rate_limited(tmp_path: Path, database_url: str) -> None:
    from portal.extensions import limiter

    kept = list(limiter.limit_manager._default_limits)  # the limiter is one object for every app of the run
    try:
        limiter.limit_manager.set_default_limits([])
        app = server_app(database_url, tmp_path)
        app.config["RATELIMIT_DEFAULT"] = "3 per minute"
        limiter.init_app(app)  # a deployment with a limit on every route
        client = app.test_client()
        assert {client.get("/healthz").status_code for _ in range(20)} == {200}
        assert 429 in {client.get("/procedures").status_code for _ in range(5)}  # the limit does hold elsewhere
    finally:
        limiter.limit_manager.set_default_limits(kept)
        with app.app_context():
            db.engine.dispose()


@pytest.mark.usefixtures("_schema")
def test_healthz_reports_a_broker_that_is_down(tmp_path: Path, database_url: str) -> None:
    app = server_app(database_url, tmp_path)
    app.config["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    app.extensions["celery"].conf.broker_url = app.config["CELERY_BROKER_URL"]
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["broker"] == {
        "status": "error",
        "error": response.json["checks"]["broker"]["error"],
        "latency_ms": response.json["checks"]["broker"]["latency_ms"],
    }
    assert response.json["checks"]["database"]["status"] == "ok"
    assert "redis" not in response.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_a_broker_that_is_down_does_not_fail_a_submission(demo: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """Queueing happens after the commit: the application is saved, its messages wait in the outbox for the
    sweep, and the citizen gets the receipt as usual, quickly."""
    import time

    from portal.models import DeliveryStatus, Notification
    from tests.test_citizen_support import apply_online

    celery = demo.extensions["celery"]
    kept = {key: celery.conf[key] for key in ("broker_url", "task_always_eager")}
    celery.conf.update(broker_url=f"redis://127.0.0.1:{closed_port()}/0", task_always_eager=False)
    try:
        started = time.perf_counter()
        dossier = apply_online(demo.test_client())
        elapsed = time.perf_counter() - started
    finally:
        celery.conf.update(kept)
    assert dossier.code
    pending = db.session.scalars(
        db.select(Notification).where(Notification.dossier_id == dossier.id, Notification.channel != "in_app")
    ).all()
    assert pending
    assert {n.status for n in pending} == {DeliveryStatus.PENDING}
    assert elapsed < 10, elapsed
    assert "could not queue notifications" in caplog.text  # the broker was really tried, and was down
