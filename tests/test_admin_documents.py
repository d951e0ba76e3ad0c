"""Administrators find issued documents by dossier code or verification code, and revoke one with a reason
(confirmed, CSRF-protected, audited); /verify then says "revoked" with that reason. Nobody else reaches the pages."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditLog, IssuedDocument
from tests.test_signed_documents import keys_dir, receipt_of, received, signing_demo  # noqa: F401  (fixtures)
from tests.web import csrf, login

ADMIN = "admin@motcua.demo"


def status_of(html: str, code: str) -> str:
    row = re.search(rf'<tr data-code="{code}">.*?data-status="([a-z]+)"', html, re.DOTALL)
    assert row, f"no row for {code}"
    return row.group(1)


def test_an_administrator_finds_and_revokes_a_document(signing_demo: Flask, client: FlaskClient) -> None:  # noqa: F811
    first, second = received(), received()
    document, other = receipt_of(first), receipt_of(second)
    login(client, ADMIN)

    listing = client.get("/admin/documents")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "Văn bản đã cấp" in html  # Vietnamese first
    assert status_of(html, document.code) == "valid"
    assert status_of(html, other.code) == "valid"

    by_dossier = client.get("/admin/documents", query_string={"q": first.code}).get_data(as_text=True)
    assert document.code in by_dossier
    assert other.code not in by_dossier
    typed = f"{document.code[:5].lower()}-{document.code[5:]}"  # as read off the paper
    by_code = client.get("/admin/documents", query_string={"q": typed}).get_data(as_text=True)
    assert document.code in by_code
    assert other.code not in by_code
    assert "Không có văn bản nào" in client.get("/admin/documents?q=NOPE").get_data(as_text=True)

    page = client.get(f"/admin/documents/{document.code}")
    assert page.status_code == 200
    token = csrf(client, f"/admin/documents/{document.code}")
    url = f"/admin/documents/{document.code}/revoke"

    # No CSRF token: refused; no reason or no confirmation: shown again with the problem, nothing revoked.
    assert client.post(url, data={"reason": "Cấp nhầm", "confirm": "y"}).status_code == 400
    no_reason = client.post(url, data={"csrf_token": token, "reason": "  ", "confirm": "y"})
    assert no_reason.status_code == 422
    assert "Vui lòng nêu lý do thu hồi văn bản" in no_reason.get_data(as_text=True)
    unconfirmed = client.post(url, data={"csrf_token": token, "reason": "Cấp nhầm hồ sơ"})
    assert unconfirmed.status_code == 422
    db.session.expire_all()
    assert db.session.get(IssuedDocument, document.id).revoked_at is None

    done = client.post(url, data={"csrf_token": token, "reason": "Cấp nhầm hồ sơ", "confirm": "y"})
    assert done.status_code == 302
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'data-status="revoked"' in shown
    assert "Cấp nhầm hồ sơ" in shown

    db.session.expire_all()
    revoked = db.session.get(IssuedDocument, document.id)
    assert revoked.revoked_at is not None
    assert revoked.revoked_reason == "Cấp nhầm hồ sơ"
    assert revoked.revoked_by.email == ADMIN
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "document.revoke")).all()
    assert len(audit) == 1

    html = client.get("/admin/documents").get_data(as_text=True)
    assert status_of(html, document.code) == "revoked"
    assert status_of(html, other.code) == "valid"
    verify = client.get(f"/verify/{document.code}").get_data(as_text=True)
    assert 'data-verdict="revoked"' in verify
    assert "Cấp nhầm hồ sơ" in verify

    again = client.post(url, data={"csrf_token": token, "reason": "Lần nữa", "confirm": "y"})
    assert again.status_code in (302, 422)  # the form is gone; a replayed post changes nothing
    db.session.expire_all()
    assert db.session.get(IssuedDocument, document.id).revoked_reason == "Cấp nhầm hồ sơ"
    assert client.get("/admin/documents/ABCDE23456").status_code == 404


@pytest.mark.parametrize("who", ["congdan@motcua.demo", "tiepnhan@motcua.demo", "lanhdao@motcua.demo"])
def test_others_cannot_see_or_revoke(signing_demo: Flask, client: FlaskClient, who: str) -> None:  # noqa: F811
    document = receipt_of(received())
    login(client, who)
    token = csrf(client, "/")
    assert client.get("/admin/documents").status_code == 403
    assert client.get(f"/admin/documents/{document.code}").status_code == 403
    answer = client.post(
        f"/admin/documents/{document.code}/revoke", data={"csrf_token": token, "reason": "x", "confirm": "y"}
    )
    assert answer.status_code == 403
    db.session.expire_all()
    assert db.session.get(IssuedDocument, document.id).revoked_at is None
