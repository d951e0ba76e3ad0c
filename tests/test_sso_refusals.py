"""Hostile or broken SAML messages: each is refused with a plain page (400/403), a log line and an audit line,
and no account is created or changed — never a 500. Replays are tried in the same session, in another session
and in another process."""

from __future__ import annotations

import base64
import logging

import pytest
import requests
from flask import Flask

from portal import create_app
from portal.extensions import db
from portal.models import SamlAssertionSeen, User
from portal.sso.testidp import TestIdP, demo_users
from tests import test_sso_helpers as helpers
from tests.test_sso_helpers import (
    IDP,
    OTHER_SP,
    PASSWORD,
    audit_actions,
    configure,
    post_answer,
    set_idp_option,
    sign_in_at_idp,
    sso_login,
    start_login,
)

# The shared fixtures, used by name in this module's tests.
idp = helpers.idp
sso_keys = helpers.sso_keys

EN = {"Cookie": "lang=en"}  # a person who chose English (the portal does not follow Accept-Language)


def _count_users() -> int:
    return db.session.scalar(db.select(db.func.count(User.id)))


def assert_refused(response, reason: str, status: int = 400) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert f'data-reason="{reason}"' in page
    assert "Back to the sign-in page" in page or "Quay lại trang đăng nhập" in page or "/login" in page
    refusals = audit_actions("sso.refused")
    assert refusals
    assert refusals[-1].details["reason"] == reason
    assert refusals[-1].details["idp"] == IDP


def _refused_with(client, idp, reason: str, status: int = 400, username: str = "tiepnhan", **behaviour):
    before = _count_users()
    with idp.misbehave(**behaviour):
        answer = sign_in_at_idp(start_login(client), username)
    response = post_answer(client, answer, **EN)
    assert_refused(response, reason, status)
    assert _count_users() == before
    assert "Nguyễn Văn Tiếp" not in client.get("/").get_data(as_text=True)
    return response


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ({"sign_assertion": False, "sign_response": False}, "unsigned"),
        ({"sign_assertion": False}, "unsigned"),  # only the envelope signed: the assertion itself must be
        ({"sign_response": False}, "unsigned"),  # the message must be signed too (want_messages_signed)
        ({"lifetime_minutes": -60}, "expired"),
        ({"audience": OTHER_SP}, "audience"),
        ({"destination": "https://other-portal.example/sso/acs"}, "destination"),
        ({"issuer": "https://evil.example/idp"}, "issuer"),
        ({"sign_alg": "http://www.w3.org/2000/09/xmldsig#rsa-sha1"}, "algorithm"),
        ({"digest_alg": "http://www.w3.org/2000/09/xmldsig#sha1"}, "algorithm"),
    ],
    ids=[
        "unsigned",
        "assertion-unsigned",
        "message-unsigned",
        "expired",
        "audience",
        "destination",
        "issuer",
        "sha1-signature",
        "sha1-digest",
    ],
)
def test_a_bad_response_is_refused(client, idp, behaviour, reason, caplog) -> None:
    # Alembic's fileConfig (migrations/env.py, run by the schema fixture) disables loggers that existed before.
    logging.getLogger("portal.sso.services").disabled = False
    with caplog.at_level(logging.WARNING, logger="portal.sso.services"):
        response = _refused_with(client, idp, reason, **behaviour)
    assert f"SSO {IDP}: refused ({reason})" in caplog.text
    assert "The answer from the sign-in service" in response.get_data(as_text=True) or reason == "issuer"


def test_a_tampered_response_is_refused_and_changes_nothing(client, app: Flask, idp) -> None:
    sso_login(client, "tiepnhan")
    client.post("/logout")  # (no token: stays signed in; a second browser does the rest)
    other = app.test_client()
    answer = sign_in_at_idp(start_login(other), "tiepnhan")
    xml = base64.b64decode(answer.saml_response).decode()
    assert "tiepnhan.sso@tinh.demo" in xml
    forged = base64.b64encode(xml.replace("tiepnhan.sso@tinh.demo", "attacker@evil.example").encode()).decode()
    assert_refused(post_answer(other, forged, **EN), "signature")
    assert db.session.scalars(db.select(User.email)).all() == ["tiepnhan.sso@tinh.demo"]


def test_a_response_signed_with_another_key_is_refused(client, idp, sso_keys) -> None:
    """Somebody else's IdP answers our request in the trusted IdP's name, signing with its own key."""
    forger = TestIdP(
        sso_keys,
        [client.get(f"/sso/{IDP}/metadata").data],
        users=demo_users(PASSWORD),
        key_name="forger",
        entity_id=idp.entity_id,
        quiet=True,
    )
    with forger:
        request_id, sp, acs = idp.read_authn_request(start_login(client))
        forged = base64.b64encode(forger.authn_response("tiepnhan", sp, acs, request_id).encode()).decode()
    assert_refused(post_answer(client, forged, **EN), "signature")
    assert _count_users() == 0


def test_a_replay_in_the_same_session_is_refused(client, idp) -> None:
    response, answer = sso_login(client, "tiepnhan")
    assert response.status_code == 302
    idp.users["tiepnhan"].attributes["displayName"] = ["Đã Đổi Tên"]  # would show if anything were re-applied
    assert_refused(post_answer(client, answer, **EN), "replayed")
    assert db.session.scalars(db.select(User.full_name)).all() == ["Nguyễn Văn Tiếp"]


def test_a_replay_in_another_session_is_refused(client, app: Flask, idp) -> None:
    _, answer = sso_login(client, "tiepnhan")
    thief = app.test_client()
    assert_refused(post_answer(thief, answer, **EN), "replayed")
    assert "Nguyễn Văn Tiếp" not in thief.get("/").get_data(as_text=True)


def test_a_replay_in_another_process_is_refused(client, app: Flask, idp) -> None:
    """A second application instance on the same database (another worker, another host)."""
    _, answer = sso_login(client, "tiepnhan")
    other = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    other.config.update({k: app.config[k] for k in ("SSO_SP_CERT", "SSO_SP_KEY", "SSO_IDPS")})
    from portal.sso import config as sso_config

    sso_config.load(other)
    with other.app_context():
        response = other.test_client().post(f"/sso/{IDP}/acs", data={"SAMLResponse": answer.saml_response})
        db.session.remove()
        db.engine.dispose()  # the other process's connections, closed
    assert response.status_code == 400
    assert 'data-reason="replayed"' in response.get_data(as_text=True)


def test_an_unsolicited_response_is_refused_unless_allowed(client, app: Flask, idp) -> None:
    acs = f"http://localhost/sso/{IDP}/acs"
    sp = f"http://localhost/sso/{IDP}/metadata"
    xml = idp.authn_response("congdan", sp, acs, in_response_to=None)
    unsolicited = base64.b64encode(xml.encode()).decode()
    assert_refused(post_answer(client, unsolicited, **EN), "unsolicited", 403)
    assert _count_users() == 0

    set_idp_option(app, allow_unsolicited=True)
    xml = idp.authn_response("congdan", sp, acs, in_response_to=None)
    allowed = base64.b64encode(xml.encode()).decode()
    assert post_answer(client, allowed).status_code == 302
    assert _count_users() == 1
    assert_refused(post_answer(app.test_client(), allowed, **EN), "replayed")  # allowed once, not twice


def test_an_answer_to_another_browsers_request_is_refused(client, app: Flask, idp) -> None:
    victim, attacker = client, app.test_client()
    start_login(victim)  # the victim has a sign-in pending
    answer = sign_in_at_idp(start_login(attacker), "tiepnhan")  # the attacker's own answer
    assert_refused(post_answer(victim, answer, **EN), "in_response_to")
    assert _count_users() == 0


@pytest.mark.parametrize("payload", ["", "not base64 at all!", base64.b64encode(b"<not-saml/>").decode(), "PD94"])
def test_garbage_is_refused_plainly(client, idp, payload) -> None:
    assert_refused(post_answer(client, payload, **EN), "malformed")


def test_a_locked_account_cannot_sign_in(client, app: Flask, idp) -> None:
    sso_login(client, "hotich")
    user = db.session.scalar(db.select(User))
    user.active = False
    db.session.commit()
    response, _ = sso_login(app.test_client(), "hotich")
    assert_refused(response, "account_disabled", 403)


def test_an_unreachable_identity_provider_gets_a_plain_page(client, app: Flask, idp, sso_keys, tmp_path) -> None:
    configure(app, tmp_path / "missing-metadata.xml", sso_keys)
    response = client.get(f"/sso/{IDP}/login", headers=EN)
    assert_refused(response, "unavailable", 503)
    assert "cannot be reached" in response.get_data(as_text=True)


def test_metadata_whose_certificate_does_not_match_the_pin_is_not_trusted(client, app: Flask, idp) -> None:
    set_idp_option(app, cert_fingerprint="00" * 32)
    assert_refused(client.get(f"/sso/{IDP}/login", headers=EN), "unavailable", 503)


def test_a_forged_logout_request_does_not_sign_anyone_out(client, idp) -> None:
    sso_login(client, "lanhdao")
    url = requests.get(f"{idp.base_url}/logout", params={"user": "lanhdao"}, allow_redirects=False, timeout=10)
    location = url.headers["Location"].removeprefix("http://localhost")
    tampered = location.replace("Signature=", "Signature=AAAA")
    assert_refused(client.get(tampered, headers=EN), "signature")
    assert "Trần Văn Lãnh" in client.get("/").get_data(as_text=True)
    unsigned = location.split("&Signature=")[0]
    assert_refused(client.get(unsigned, headers=EN), "unsigned")
    assert "Trần Văn Lãnh" in client.get("/").get_data(as_text=True)


def test_used_assertions_are_kept_in_the_database_until_they_expire(client, idp) -> None:
    sso_login(client, "tiepnhan")
    [seen] = db.session.scalars(db.select(SamlAssertionSeen)).all()
    assert seen.idp == IDP
    assert seen.assertion_id
    assert seen.not_on_or_after > seen.seen_at


def test_a_new_account_without_a_name_is_refused(client, idp) -> None:
    del idp.users["congdan"].attributes["displayName"]
    response, _ = sso_login(client, "congdan")
    assert_refused(response, "missing_attributes")
    assert _count_users() == 0


def test_invalid_attribute_values_are_left_out(client, idp) -> None:
    idp.users["congdan"].attributes.update(mail=["not-an-email"], citizenId=["12AB"], mobile=["call me"])
    response, _ = sso_login(client, "congdan")
    assert response.status_code == 302
    user = db.session.scalar(db.select(User))
    assert (user.full_name, user.email, user.citizen_id, user.phone) == ("Phạm Thị Dân", None, None, None)
