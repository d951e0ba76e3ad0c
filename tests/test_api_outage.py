"""REST API v1 during a database outage: every call under /api/v1 answers an RFC 9457 problem, 503 with
Retry-After, in the caller's language (Accept-Language) — the token check itself reads the database first, so a
call with a token fails there; a call whose token was checked fails in the operation. Never the HTML page, never
a 500. Like tests/test_outage.py: a real server whose database URL names a port where nothing listens; the
PostgreSQL variant cuts a real connection (tests/test_outage_postgres.py's proxy)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from portal.extensions import db
from tests.api import make_token
from tests.browser import LiveServer
from tests.test_outage import unreachable  # noqa: F401  (fixture)
from tests.test_outage_postgres import TcpProxy, proxied  # noqa: F401  (fixture)

TOKEN = "mc_" + "x" * 40


def assert_api_unavailable(response: requests.Response, english: bool = False) -> dict[str, Any]:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Language"] == ("en" if english else "vi")
    body = response.json()
    assert body["status"] == 503
    assert body["type"] == "/api/v1/problems/unavailable"
    if english:
        assert body["title"] == "Service unavailable"
        assert body["detail"] == "The service is briefly unavailable; please try again later."
    else:
        assert body["title"] != "Service unavailable"
        assert "tạm thời" in body["detail"], body
    for leak in ("OperationalError", "Traceback", "127.0.0.1", "postgresql"):
        assert leak not in response.text
    return body


def test_api_calls_with_a_token_answer_a_problem_in_the_callers_language(
    unreachable: LiveServer,  # noqa: F811
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for path in ("/api/v1/procedures", "/api/v1/dossiers/HS-1", "/api/v1/statistics/2026-01"):
        english = requests.get(f"{unreachable.url}{path}", headers={**auth, "Accept-Language": "en"}, timeout=10)
        assert_api_unavailable(english, english=True)
        assert_api_unavailable(requests.get(f"{unreachable.url}{path}", headers=auth, timeout=10))
    posted = requests.post(
        f"{unreachable.url}/api/v1/dossiers",
        json={"procedure": "birth_registration"},
        headers={**auth, "Idempotency-Key": "k-1", "Accept-Language": "en-GB,en;q=0.9"},
        timeout=10,
    )
    assert_api_unavailable(posted, english=True)


def test_what_needs_no_database_still_answers(unreachable: LiveServer) -> None:  # noqa: F811
    assert requests.get(f"{unreachable.url}/api/v1/openapi.json", timeout=10).status_code == 200
    no_token = requests.get(f"{unreachable.url}/api/v1/procedures", timeout=10)
    assert no_token.status_code == 401  # decided before any database access
    assert no_token.headers["Content-Type"].startswith("application/problem+json")


@pytest.fixture
def failing_after_auth(demo: Flask) -> Iterator[tuple[LiveServer, str]]:
    """A working server whose database goes away once the token was checked: every statement that does not read
    the service accounts fails as a refused connection does."""
    token = make_token(["catalogue:read", "dossiers:read", "dossiers:submit", "stats:read"])

    def refuse(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM service_accounts" not in statement:
            raise sa_exc.OperationalError(statement, None, ConnectionRefusedError("connection refused"))

    with LiveServer(demo) as server:
        event.listen(db.engine, "before_cursor_execute", refuse)
        try:
            yield server, token
        finally:
            event.remove(db.engine, "before_cursor_execute", refuse)


def test_an_outage_inside_the_operation_is_a_503_problem(failing_after_auth: tuple[LiveServer, str]) -> None:
    server, token = failing_after_auth
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/procedures", "/api/v1/procedures/birth_registration", "/api/v1/statistics/2026-01"):
        assert_api_unavailable(requests.get(f"{server.url}{path}", headers=auth, timeout=10))
        english = requests.get(f"{server.url}{path}", headers={**auth, "Accept-Language": "en"}, timeout=10)
        assert_api_unavailable(english, english=True)


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"), reason="needs TEST_DATABASE_URL"
)
def test_postgresql_goes_away_under_api_clients(proxied: tuple[LiveServer, TcpProxy]) -> None:  # noqa: F811
    server, proxy = proxied
    token = make_token(["catalogue:read"])
    auth = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    assert requests.get(f"{server.url}/api/v1/procedures", headers=auth, timeout=10).status_code == 200
    proxy.stop()  # the database restarts: every connection drops, new ones are refused
    for _ in range(2):  # the pooled connections, then fresh attempts
        assert_api_unavailable(requests.get(f"{server.url}/api/v1/procedures", headers=auth, timeout=10), True)
    proxy.start()
    assert requests.get(f"{server.url}/api/v1/procedures", headers=auth, timeout=10).status_code == 200
