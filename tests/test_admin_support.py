"""Helpers for the administration tests (and a test of the helpers' sample files themselves)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditLog, Procedure, ProcedureVersion
from tests.helpers import COMMUNE, TESTS
from tests.test_citizen_support import multipart
from tests.web import csrf, login

ADMIN = "admin@motcua.demo"
EN = {"Cookie": "lang=en"}  # a person who chose English (the portal does not follow Accept-Language)
MINIMAL = (TESTS / "bpmn_good" / "minimal.bpmn").read_bytes()
BAD = TESTS / "bpmn_bad"


def minimal(*changes: tuple[str, str]) -> bytes:
    """tests/bpmn_good/minimal.bpmn with text replacements (each must apply)."""
    text = MINIMAL.decode("utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def as_admin(client: FlaskClient) -> FlaskClient:
    login(client, ADMIN)
    return client


def upload(client: FlaskClient, bpmn: tuple[str, bytes], dmn: list[tuple[str, bytes]] = (), agency: str = COMMUNE):
    token = csrf(client, "/admin/procedures/upload")
    files = [("bpmn", bpmn[0], bpmn[1])] + [("dmn", name, content) for name, content in dmn]
    body, content_type = multipart({"csrf_token": token, "agency": agency}, files)
    return client.post("/admin/procedures/upload", data=body, headers=EN, content_type=content_type)


def counts() -> tuple[int, int, int]:
    """How many procedures, versions and audit lines exist: a refused action changes none of them."""
    return (
        db.session.scalar(select(func.count()).select_from(Procedure)),
        db.session.scalar(select(func.count()).select_from(ProcedureVersion)),
        db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action.like("procedure.%"))),
    )


def procedure(key: str) -> Procedure:
    found = db.session.scalar(select(Procedure).where(Procedure.key == key))
    assert found is not None, key
    return found


def post(client: FlaskClient, url: str, data: dict | None = None, page: str = "/admin/", **kwargs):
    """POST with a CSRF token taken from an admin page."""
    return client.post(url, data={"csrf_token": csrf(client, page), **(data or {})}, headers=EN, **kwargs)


def test_minimal_sample_is_valid_for_the_demo_agency(demo, client) -> None:
    as_admin(client)
    response = upload(client, ("minimal.bpmn", MINIMAL))
    assert response.status_code == 302
    assert procedure("minimal").versions[0].status == "draft"
