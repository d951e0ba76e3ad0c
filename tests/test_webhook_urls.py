"""Webhook addresses the portal refuses to call: http (unless WEBHOOK_ALLOW_HTTP), and hosts that are or resolve to
loopback, private, link-local or other internal addresses (unless on WEBHOOK_ALLOWED_HOSTS), or do not resolve —
when an administrator registers the endpoint (a field error in their language), and again before each delivery."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import select

from portal.core.outbound import is_internal
from portal.extensions import db
from portal.models import SyncState, WebhookDelivery, WebhookEndpoint
from tests.helpers import submit, vn
from tests.test_webhooks import EN, Receiver, admin_client, application, receiver, register  # noqa: F401
from tests.web import csrf

PUBLIC = "https://93.184.215.14/hooks"  # a global address: accepted without any DNS


def post_endpoint(demo: Flask, url: str, headers: dict[str, str] | None = None):
    admin = admin_client(demo)
    token = csrf(admin, "/admin/webhooks")
    data = {"csrf_token": token, "url": url, "description": "x", "events": ["dossier.submitted"]}
    return admin.post("/admin/webhooks", data=data, headers=headers or {})


@pytest.mark.parametrize(
    ("url", "english", "vietnamese"),
    [
        ("http://93.184.215.14/hooks", "Only https:// addresses are accepted.", "Chỉ chấp nhận địa chỉ https://."),
        ("https://10.0.0.1/hooks", "internal address (10.0.0.1)", "địa chỉ nội bộ (10.0.0.1)"),
        ("https://169.254.169.254/latest/meta-data", "internal address (169.254.169.254)", "(169.254.169.254)"),
        ("https://localhost:8443/hooks", "The host localhost is an internal address", "địa chỉ nội bộ"),
        ("https://[::1]/hooks", "internal address (::1)", "địa chỉ nội bộ (::1)"),
        ("https://192.168.1.20/hooks", "internal address (192.168.1.20)", "địa chỉ nội bộ"),
        ("https://nowhere.invalid/hooks", "The host nowhere.invalid could not be found.", "nowhere.invalid"),
    ],
)
def test_refused_addresses_get_a_field_error_in_the_admins_language(
    demo: Flask, url: str, english: str, vietnamese: str
) -> None:
    refused = post_endpoint(demo, url, EN)
    assert refused.status_code == 422
    assert english in refused.get_data(as_text=True)
    in_vietnamese = post_endpoint(demo, url)
    assert in_vietnamese.status_code == 422
    assert vietnamese in in_vietnamese.get_data(as_text=True)
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_public_https_and_listed_hosts_are_accepted(demo: Flask) -> None:
    assert post_endpoint(demo, PUBLIC).status_code == 200
    demo.config.update(WEBHOOK_ALLOWED_HOSTS=["localhost", "10.0.0.1:8443"])
    assert post_endpoint(demo, "https://localhost/hooks").status_code == 200
    assert post_endpoint(demo, "https://10.0.0.1:8443/hooks").status_code == 200
    assert post_endpoint(demo, "https://10.0.0.1/hooks").status_code == 422  # another port is not listed
    assert post_endpoint(demo, "http://localhost/hooks").status_code == 422  # still https only
    demo.config.update(WEBHOOK_ALLOW_HTTP=True)
    assert post_endpoint(demo, "http://localhost/hooks").status_code == 200
    assert len(db.session.scalars(select(WebhookEndpoint)).all()) == 4


def test_a_host_that_became_internal_gets_no_request(
    receiver: Receiver,  # noqa: F811
    demo: Flask,
    caplog: pytest.LogCaptureFixture,
) -> None:
    register(admin_client(demo), receiver.url, ["dossier.submitted"])
    demo.config.update(WEBHOOK_ALLOWED_HOSTS=[])  # as when its name now resolves to 127.0.0.1
    with caplog.at_level(logging.WARNING, logger="portal.sync.webhooks"):
        submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    assert receiver.calls == []  # nothing was sent
    row = db.session.scalars(select(WebhookDelivery)).one()
    assert row.state == SyncState.PENDING  # retried later, checked again then
    assert row.last_error is not None
    assert "internal address 127.0.0.1" in row.last_error
    assert "internal address 127.0.0.1" in caplog.text


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("100.64.0.1", True),  # carrier-grade NAT
        ("169.254.169.254", True),
        ("0.0.0.0", True),  # noqa: S104  (an address to judge, not to bind)
        ("::1", True),
        ("fe80::1%eth0", True),
        ("fd00::1", True),
        ("::ffff:10.0.0.1", True),
        ("224.0.0.1", True),
        ("93.184.215.14", False),
        ("2606:4700::1111", False),
    ],
)
def test_what_counts_as_internal(address: str, internal: bool) -> None:
    assert is_internal(address) is internal
