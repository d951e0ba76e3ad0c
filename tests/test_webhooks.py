"""Webhooks: administrators register endpoints; dossier events reach them signed, in order, retried, logged and
replayable. The receiver is a loopback server that checks each signature as a real receiver must."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import AuditLog, Status, SyncState, WebhookDelivery, WebhookEndpoint
from portal.sync.webhooks import WEBHOOKS, sign, verify
from tests.helpers import do, submit, upload, vn
from tests.web import csrf, login

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
ADMIN = "admin@motcua.demo"
EN = {"Cookie": "lang=en"}


class Receiver:
    """Records each delivery with whether its signature checks out against `secret`; answers 500 on demand."""

    def __init__(self) -> None:
        self.secret = ""
        self.calls: list[dict[str, Any]] = []
        self.fail = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify(
                    receiver.secret,
                    self.headers.get("X-MotCua-Timestamp", ""),
                    raw,
                    self.headers.get("X-MotCua-Signature", ""),
                    time.time(),
                )
                failing = receiver.fail > 0
                receiver.fail -= int(failing)
                receiver.calls.append({"headers": dict(self.headers), "body": json.loads(raw), "valid": ok})
                self.send_response(500 if failing else (204 if ok else 401))
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/motcua"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(demo: Flask) -> Iterator[Receiver]:
    demo.config.update(WEBHOOK_TIMEOUT=2, WEBHOOK_RETRY_BASE=30, WEBHOOK_MAX_ATTEMPTS=3)
    # The stand-in receiver is plain http on loopback: allowed here only because the test lists it.
    demo.config.update(WEBHOOK_ALLOW_HTTP=True, WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
    stand_in = Receiver()
    try:
        yield stand_in
    finally:
        stand_in.stop()


def application() -> dict:
    return {
        "child_full_name": "Nguyễn Minh An",
        "child_birth_date": "2026-02-20",
        "child_sex": "male",
        "child_birth_place": "Bệnh viện Đa khoa tỉnh",
        "father_full_name": "Nguyễn Văn Bình",
        "mother_full_name": "Võ Thị Mai",
        "applicant_relationship": "mother",
        "birth_certificate_file": upload(CITIZEN, "giay-chung-sinh.pdf"),
    }


def admin_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    login(client, ADMIN)
    return client


def register(admin: FlaskClient, url: str, events: list[str]) -> str:
    """Add an endpoint through the admin page; the signing secret shown once."""
    token = csrf(admin, "/admin/webhooks")
    response = admin.post(
        "/admin/webhooks", data={"csrf_token": token, "url": url, "description": "Sở Tư pháp", "events": events}
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)
    start = html.index('value="whsec_') + len('value="')
    return html[start : html.index('"', start)]


def test_signed_events_in_order_and_the_delivery_log(receiver: Receiver, demo: Flask) -> None:
    admin = admin_client(demo)
    receiver.secret = register(admin, receiver.url, ["dossier.submitted", "dossier.status_changed"])
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.secret == receiver.secret
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "webhook.create"))

    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 30))

    assert [c["valid"] for c in receiver.calls] == [True] * 3
    bodies = [c["body"] for c in receiver.calls]
    assert [b["type"] for b in bodies] == ["dossier.submitted", "dossier.status_changed", "dossier.status_changed"]
    assert [b["data"]["dossier"]["status"] for b in bodies] == [Status.NEW, Status.RECEIVED, Status.IN_PROCESS]
    assert bodies[1]["data"]["dossier"]["from_status"] == Status.NEW
    assert all(b["data"]["dossier"]["code"] == dossier.code for b in bodies)
    assert "Võ Thị Mai" not in json.dumps(bodies, ensure_ascii=False)  # no personal data in events
    headers = receiver.calls[0]["headers"]
    assert headers["X-MotCua-Delivery"] == headers["Idempotency-Key"] == bodies[0]["id"]
    assert headers["X-MotCua-Event"] == "dossier.submitted"

    html = admin.get(f"/admin/webhooks/{endpoint.id}", headers=EN).get_data(as_text=True)
    assert html.count('data-state="sent"') == 3
    assert "Redeliver" in html


def test_a_tampered_or_old_request_does_not_verify() -> None:
    body = b'{"id":"whd_1"}'
    now = int(time.time())
    good = sign("s3cret", now, body)
    assert verify("s3cret", str(now), body, good, time.time())
    assert not verify("s3cret", str(now), body + b" ", good, time.time())
    assert not verify("other", str(now), body, good, time.time())
    assert not verify("s3cret", str(now - 3600), body, sign("s3cret", now - 3600, body), time.time())  # replay


def test_failures_are_retried_with_backoff_and_redelivery_keeps_the_id(receiver: Receiver, demo: Flask) -> None:
    admin = admin_client(demo)
    receiver.secret = register(admin, receiver.url, ["dossier.status_changed"])
    receiver.fail = 1
    dossier = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    assert receiver.calls == []  # not subscribed to dossier.submitted
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 30))
    rows = list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
    assert [(r.state, r.attempts, r.response_code) for r in rows] == [
        (SyncState.PENDING, 1, 500),
        (SyncState.PENDING, 0, None),  # waits behind the first: the order holds
    ]
    assert len(receiver.calls) == 1

    later = utcnow() + timedelta(seconds=31)
    assert sum(WEBHOOKS.push(scope, later) for scope in WEBHOOKS.due_scopes(later)) == 2
    db.session.expire_all()
    assert [r.state for r in rows] == [SyncState.SENT, SyncState.SENT]
    ids = [c["body"]["id"] for c in receiver.calls]
    assert ids == [rows[0].idempotency_key, rows[0].idempotency_key, rows[1].idempotency_key]

    endpoint_id = rows[0].endpoint_id
    token = csrf(admin, f"/admin/webhooks/{endpoint_id}")
    answer = admin.post(f"/admin/webhooks/{endpoint_id}/deliveries/{rows[0].id}/redeliver", data={"csrf_token": token})
    assert answer.status_code == 302
    assert receiver.calls[-1]["body"]["id"] == rows[0].idempotency_key  # the same delivery id, signed afresh
    assert receiver.calls[-1]["valid"]
    db.session.expire_all()
    assert rows[0].redelivered == 1
    assert rows[0].state == SyncState.SENT
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "webhook.redeliver"))


def test_deactivated_endpoints_get_nothing_and_bad_forms_are_refused(receiver: Receiver, demo: Flask) -> None:
    admin = admin_client(demo)
    receiver.secret = register(admin, receiver.url, ["dossier.submitted"])
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    token = csrf(admin, f"/admin/webhooks/{endpoint.id}")
    assert admin.post(f"/admin/webhooks/{endpoint.id}/active", data={"csrf_token": token}).status_code == 302
    submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    assert receiver.calls == []
    assert db.session.scalars(select(WebhookDelivery)).all() == []

    token = csrf(admin, "/admin/webhooks")
    bad = admin.post("/admin/webhooks", data={"csrf_token": token, "url": "ftp://x", "events": []}, headers=EN)
    assert bad.status_code == 422
    assert "Choose at least one event." in bad.get_data(as_text=True)
    citizen = demo.test_client()
    login(citizen, CITIZEN)
    assert citizen.get("/admin/webhooks").status_code in (403, 404)
