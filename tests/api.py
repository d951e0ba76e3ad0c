"""Helpers for the REST API tests: service accounts made by the real service, calls with their token."""

from __future__ import annotations

from collections.abc import Iterable

from flask.testing import FlaskClient
from sqlalchemy import select

from portal.api.accounts import create_account
from portal.extensions import db
from portal.models import Agency, User

COMMUNE = "000.00.31.H56"


def make_token(scopes: Iterable[str], agencies: Iterable[str] = (), **kwargs) -> str:
    admin = db.session.scalar(select(User).where(User.email == "admin@motcua.demo"))
    assert admin is not None
    ids = [a.id for a in db.session.scalars(select(Agency).where(Agency.code.in_(list(agencies))))]
    created = create_account("Hệ thống thử", scopes, admin, agency_ids=ids, **kwargs)
    db.session.commit()
    return created.token


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def get(client: FlaskClient, url: str, token: str, **headers: str):
    return client.get(url, headers=bearer(token, **headers))


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body
