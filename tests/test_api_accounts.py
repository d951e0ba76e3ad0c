"""Service accounts of the REST API: created by administrators (the token shown once, stored hashed), refused
when missing, unknown, expired or revoked (401), or without the operation's scope (403); every call audited."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import AuditLog, ServiceAccount
from tests.api import assert_problem, bearer, get, make_token
from tests.web import csrf, login

ADMIN = "admin@motcua.demo"


def _create_through_the_page(client, **fields) -> tuple[str, str]:
    login(client, ADMIN)
    token = csrf(client, "/admin/api-accounts")
    data = {"csrf_token": token, "name": "Cổng DVC quốc gia", "scopes": ["catalogue:read"], **fields}
    response = client.post("/admin/api-accounts", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 201, page[:2000]
    assert response.headers["Cache-Control"] == "no-store"
    found = re.findall(r'value="(mc_[A-Za-z0-9_-]{43})"', page)
    assert len(found) == 1
    return found[0], page


def test_an_administrator_creates_an_account_and_sees_its_token_once(demo, client) -> None:
    token, _page = _create_through_the_page(client, expires_on="")
    account = db.session.scalar(select(ServiceAccount))
    assert account is not None
    # Stored hashed: the token itself is nowhere in the row, nor in the audit trail.
    assert account.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str([getattr(account, c.key) for c in ServiceAccount.__table__.columns])
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "admin.api_account_created"))
    assert audit is not None
    assert token not in str(audit.details)
    # The list shows only the first characters; the token is never shown again.
    listing = client.get("/admin/api-accounts").get_data(as_text=True)
    assert account.token_hint in listing
    assert token not in listing
    assert get(client, "/api/v1/procedures", token).status_code == 200


def test_a_new_account_needs_a_name_and_a_permission(demo, client) -> None:
    login(client, ADMIN)
    token = csrf(client, "/admin/api-accounts")
    response = client.post("/admin/api-accounts", data={"csrf_token": token, "name": ""})
    assert response.status_code == 422
    assert db.session.scalar(select(ServiceAccount)) is None


def test_a_revoked_token_is_refused(demo, client) -> None:
    token, _page = _create_through_the_page(client)
    account = db.session.scalar(select(ServiceAccount))
    assert account is not None
    response = client.post(
        f"/admin/api-accounts/{account.id}/revoke", data={"csrf_token": csrf(client, "/admin/api-accounts")}
    )
    assert response.status_code == 302
    db.session.refresh(account)
    assert account.revoked_at is not None
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "admin.api_account_revoked")) is not None
    body = assert_problem(get(client, "/api/v1/procedures", token), 401)
    assert body["type"].endswith("/unauthorized")


def test_missing_unknown_and_expired_tokens_get_401(demo, client) -> None:
    response = client.get("/api/v1/procedures")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(get(client, "/api/v1/procedures", "mc_" + "x" * 43), 401)
    assert_problem(client.get("/api/v1/procedures", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}), 401)
    assert_problem(get(client, "/api/v1/procedures", "mc_" + "x" * 5000), 401)
    expired = make_token(["catalogue:read"], expires_at=utcnow() + timedelta(seconds=1))
    account = db.session.scalar(select(ServiceAccount))
    assert account is not None
    account.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_problem(get(client, "/api/v1/procedures", expired), 401)


def test_a_token_without_the_scope_gets_403(demo, client) -> None:
    token = make_token(["stats:read"])
    body = assert_problem(get(client, "/api/v1/procedures", token), 403)
    assert body["type"].endswith("/insufficient-scope")
    assert "catalogue:read" in body["detail"]
    # 403 comes before the operation reads its arguments.
    assert_problem(get(client, "/api/v1/procedures?limit=abc", token), 403)


def test_every_call_is_audited_and_counted(demo, client) -> None:
    token = make_token(["catalogue:read"])
    get(client, "/api/v1/procedures", token)
    get(client, "/api/v1/procedures/nope", token)
    account = db.session.scalar(select(ServiceAccount))
    assert account is not None
    db.session.refresh(account)
    assert account.calls == 2
    assert account.last_used_at is not None
    calls = list(db.session.scalars(select(AuditLog).where(AuditLog.action == "api.call").order_by(AuditLog.id)))
    assert [(c.object_id, c.details["status"]) for c in calls] == [(str(account.id), 200), (str(account.id), 404)]


def test_the_rate_limit_is_per_account(demo, client) -> None:
    demo.config["API_RATE_LIMIT"] = "3 per minute"
    first = make_token(["catalogue:read"])
    second = make_token(["catalogue:read"])
    for _ in range(3):
        assert get(client, "/api/v1/procedures", first).status_code == 200
    response = get(client, "/api/v1/procedures", first)
    body = assert_problem(response, 429)
    assert body["type"].endswith("/rate-limited")
    assert int(response.headers["Retry-After"]) >= 1
    assert get(client, "/api/v1/procedures", second).status_code == 200  # its own counter


def test_the_admin_page_is_for_administrators(demo, client) -> None:
    login(client, "tiepnhan@motcua.demo")
    assert client.get("/admin/api-accounts").status_code == 403
    assert client.get("/api/v1/procedures", headers=bearer("")).status_code == 401  # a session is not a token
