"""What identity providers other than pysaml2's defaults do: transient or odd NameIDs, attributes named only by
OID, unsigned logout messages, long-lived SP metadata; sign-out ending every session; RelayState and `next`
never sending the browser elsewhere. The real pysaml2 IdP on loopback plays each of them."""

from __future__ import annotations

import base64
import logging
import re
import zlib
from datetime import UTC, datetime, timedelta

import pytest
import requests
from flask import Flask
from lxml import etree
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_TRANSIENT

from portal.extensions import db
from portal.models import Membership, SsoIdentity, User
from portal.sso.config import SsoConfigError, parse_idp
from portal.sso.testidp import DemoUser
from tests import test_sso_helpers as helpers
from tests.test_sso_helpers import (
    IDP,
    PASSWORD,
    audit_actions,
    map_role,
    post_answer,
    query_of,
    set_idp_option,
    sign_in_at_idp,
    sso_login,
    start_login,
)
from tests.web import csrf

idp = helpers.idp
sso_keys = helpers.sso_keys

EN = {"Cookie": "lang=en"}  # a person who chose English (the portal does not follow Accept-Language)
VI = {"Accept-Language": "vi"}
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
OID_ENTITLEMENT = "urn:oid:1.3.6.1.4.1.5923.1.1.1.7"


def _users() -> int:
    return db.session.scalar(db.select(db.func.count(User.id)))


def _refused(response, reason: str, status: int) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:400]
    assert f'data-reason="{reason}"' in page
    assert audit_actions("sso.refused")[-1].details["reason"] == reason
    return page


def _answer_with(client, idp, username: str = "tiepnhan", **behaviour):
    with idp.misbehave(**behaviour):
        return sign_in_at_idp(start_login(client), username)


# -- NameID ------------------------------------------------------------------------------------------------


def test_a_transient_name_id_is_refused_and_creates_no_account(client, app: Flask, idp, caplog) -> None:
    before = _users()
    for _ in range(2):  # it used to make a new officer account at every sign-in
        answer = _answer_with(app.test_client(), idp, name_id_format=NAMEID_FORMAT_TRANSIENT)
        fresh = app.test_client()
        with caplog.at_level(logging.WARNING, logger="portal.sso.services"):
            response = post_answer(fresh, answer, **EN)
        assert response.status_code in (400, 403)
    assert _users() == before
    assert db.session.scalar(db.select(db.func.count(SsoIdentity.id))) == 0
    assert f"SSO {IDP}: refused (name_id_format)" in caplog.text
    assert NAMEID_FORMAT_TRANSIENT in caplog.text  # the log names the format it got

    page = _refused(
        post_answer(client, _answer_with(client, idp, name_id_format=NAMEID_FORMAT_TRANSIENT), **EN),
        "name_id_format",
        403,
    )
    assert "only a temporary identity" in page
    page = _refused(
        post_answer(client, _answer_with(client, idp, name_id_format=NAMEID_FORMAT_TRANSIENT), **VI),
        "name_id_format",
        403,
    )
    assert "định danh tạm thời" in page


def test_an_email_name_id_is_accepted_only_where_configured(client, app: Flask, idp) -> None:
    email_id = {"name_id_format": NAMEID_FORMAT_EMAILADDRESS, "name_id_text": "tiepnhan.sso@tinh.demo"}
    _refused(post_answer(client, _answer_with(client, idp, **email_id)), "name_id_format", 403)

    set_idp_option(app, name_id_format="emailAddress")
    metadata = client.get(f"/sso/{IDP}/metadata").get_data(as_text=True)
    assert f"<md:NameIDFormat>{NAMEID_FORMAT_EMAILADDRESS}</md:NameIDFormat>" in metadata
    fresh = app.test_client()
    assert query_of(start_login(fresh))  # the AuthnRequest asks for it too
    assert post_answer(fresh, _answer_with(fresh, idp, **email_id)).status_code == 302
    identity = db.session.scalar(db.select(SsoIdentity))
    assert identity.name_id == "tiepnhan.sso@tinh.demo"
    # …and now a persistent one is the odd one out.
    _refused(post_answer(app.test_client(), _answer_with(app.test_client(), idp)), "name_id_format", 403)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"),
        ("persistent", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"),
        ("emailAddress", NAMEID_FORMAT_EMAILADDRESS),
        (
            "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
        ),
    ],
)
def test_name_id_format_setting(value, expected) -> None:
    assert parse_idp("tinh", {"metadata": "idp.xml", "name_id_format": value}).name_id_format == expected


@pytest.mark.parametrize("value", ["transient", NAMEID_FORMAT_TRANSIENT, "x509SubjectName", 5])
def test_a_name_id_format_that_cannot_name_an_account_is_refused_at_start(value) -> None:
    with pytest.raises(SsoConfigError, match="name_id_format"):
        parse_idp("tinh", {"metadata": "idp.xml", "name_id_format": value})


@pytest.mark.parametrize(
    "behaviour",
    [
        {"name_id_text": ""},  # an empty NameID
        {"sp_name_qualifier": helpers.OTHER_SP},  # named for another service provider
        {"name_qualifier": "https://another-idp.example/idp"},  # qualified by another identity provider
    ],
    ids=["empty", "sp-name-qualifier", "name-qualifier"],
)
def test_an_unusable_name_id_is_refused_plainly(client, idp, behaviour) -> None:
    before = _users()
    page = _refused(post_answer(client, _answer_with(client, idp, **behaviour), **EN), "name_id", 400)
    assert "did not say clearly who you are" in page
    assert _users() == before


# -- attributes by OID ---------------------------------------------------------------------------------------


def _oid_user(idp, attributes: dict[str, list[str]]) -> None:
    idp.users["oidnguoi"] = DemoUser(PASSWORD, attributes)


def test_attributes_named_only_by_oid_fill_the_account_and_match_friendly_role_mappings(client, demo, idp) -> None:
    _oid_user(
        idp,
        {
            "urn:oid:2.16.840.1.113730.3.1.241": ["Đỗ Văn Oid"],
            "urn:oid:0.9.2342.19200300.100.1.3": ["oid.officer@tinh.demo"],
            "urn:oid:0.9.2342.19200300.100.1.41": ["0901000077"],
            OID_ENTITLEMENT: ["reception"],
            "urn:oid:1.2.840.113556.1.2.102": ["cn=lanhdao,ou=groups"],
        },
    )
    map_role("reception", "reception", attribute="eduPersonEntitlement")
    map_role("cn=lanhdao,ou=groups", "leader", attribute="memberOf")
    response, answer = sso_login(client, "oidnguoi")
    xml = base64.b64decode(answer.saml_response).decode()
    assert f'Name="{OID_ENTITLEMENT}"' in xml  # OIDs only, as the IdP sent
    assert "FriendlyName" not in xml
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "oid.officer@tinh.demo"))
    assert (user.full_name, user.phone, user.kind) == ("Đỗ Văn Oid", "0901000077", "officer")
    roles = {m.group.role for m in db.session.scalars(db.select(Membership).where(Membership.user_id == user.id))}
    assert roles == {"reception", "leader"}


def test_friendly_names_match_role_mappings_written_with_the_oid(client, demo, idp) -> None:
    _oid_user(idp, {"givenName": ["Văn Bạn"], "sn": ["Đoàn"], "eduPersonEntitlement": ["civil_status"]})
    map_role("civil_status", "civil_status", attribute=OID_ENTITLEMENT)
    map_role("x", "leader", attribute="1.3.6.1.4.1.5923.1.1.1.7")  # the bare OID works too (no match here)
    response, _ = sso_login(client, "oidnguoi")
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.full_name == "Đoàn Văn Bạn"))  # family name first
    assert {m.group.role for m in user.memberships} == {"civil_status"}


# -- SP metadata ---------------------------------------------------------------------------------------------


def test_the_metadata_does_not_expire_and_says_how_long_to_cache_it(client, app: Flask, idp) -> None:
    root = etree.fromstring(client.get(f"/sso/{IDP}/metadata").data)
    assert root.tag == f"{MD}EntityDescriptor"
    assert root.get("validUntil") is None
    assert root.get("cacheDuration") == "P1D"

    app.config.update(SSO_METADATA_VALID_DAYS=3650, SSO_METADATA_CACHE_DURATION="PT6H")
    root = etree.fromstring(client.get(f"/sso/{IDP}/metadata").data)
    until = datetime.strptime(root.get("validUntil"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert until - datetime.now(UTC) > timedelta(days=3649)
    assert root.get("cacheDuration") == "PT6H"


# -- single logout ------------------------------------------------------------------------------------------


def _version(email: str) -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(User.session_version).where(User.email == email))


def test_portal_sign_out_ends_every_session_of_the_account(client, app: Flask, idp) -> None:
    sso_login(client, "tiepnhan")
    other = app.test_client()
    sso_login(other, "tiepnhan")
    assert "Nguyễn Văn Tiếp" in other.get("/").get_data(as_text=True)
    version = _version("tiepnhan.sso@tinh.demo")
    assert client.post("/logout", data={"csrf_token": csrf(client, "/")}).status_code == 200
    assert _version("tiepnhan.sso@tinh.demo") == version + 1
    assert "Nguyễn Văn Tiếp" not in other.get("/").get_data(as_text=True)


def test_idp_sign_out_ends_every_session_of_the_account_even_in_another_browser(client, app: Flask, idp) -> None:
    sso_login(client, "lanhdao")
    other = app.test_client()
    sso_login(other, "lanhdao")
    to_portal = requests.get(f"{idp.base_url}/logout", params={"user": "lanhdao"}, allow_redirects=False, timeout=10)
    # The IdP's LogoutRequest arrives in a third browser with no portal session at all.
    third = app.test_client()
    answer = third.get(to_portal.headers["Location"].removeprefix("http://localhost"))
    assert answer.status_code == 302
    assert "SAMLResponse" in query_of(answer.headers["Location"])
    for browser in (client, other):
        assert "Trần Văn Lãnh" not in browser.get("/").get_data(as_text=True)
    assert audit_actions("sso.logout")[-1].details["started_by"] == "identity provider"


def test_unsigned_logout_messages_are_refused_even_where_responses_may_be_unsigned(client, app: Flask, idp) -> None:
    set_idp_option(app, want_messages_signed=False)
    sso_login(client, "lanhdao")
    with idp.misbehave(sign_logout=False):
        url = requests.get(f"{idp.base_url}/logout", params={"user": "lanhdao"}, allow_redirects=False, timeout=10)
    to_portal = url.headers["Location"]
    assert "Signature" not in query_of(to_portal)
    _refused(client.get(to_portal.removeprefix("http://localhost")), "unsigned", 400)
    assert "Trần Văn Lãnh" in client.get("/").get_data(as_text=True)  # still signed in

    # The IdP's unsigned answer to our own LogoutRequest is refused too.
    page = client.post("/logout", data={"csrf_token": csrf(client, "/")}).get_data(as_text=True)
    to_idp = re.search(r'id="continue-logout" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    with idp.misbehave(sign_logout=False):
        back = requests.get(to_idp, allow_redirects=False, timeout=10).headers["Location"]
    _refused(client.get(back.removeprefix("http://localhost")), "unsigned", 400)


def test_unsigned_logout_messages_are_accepted_only_when_configured(client, app: Flask, idp) -> None:
    set_idp_option(app, want_messages_signed=False, want_logout_signed=False)
    sso_login(client, "lanhdao")
    with idp.misbehave(sign_logout=False):
        url = requests.get(f"{idp.base_url}/logout", params={"user": "lanhdao"}, allow_redirects=False, timeout=10)
    assert client.get(url.headers["Location"].removeprefix("http://localhost")).status_code == 302
    assert "Trần Văn Lãnh" not in client.get("/").get_data(as_text=True)


def _authn_request_xml(redirect_url: str) -> str:
    return zlib.decompress(base64.b64decode(query_of(redirect_url)["SAMLRequest"]), -15).decode()


def test_when_the_idp_cannot_be_told_the_next_sign_in_asks_for_the_password(client, idp, sso_keys, tmp_path) -> None:
    assert 'ForceAuthn="true"' not in _authn_request_xml(start_login(client))
    sso_login(client, "tiepnhan")
    metadata = tmp_path / "no-slo.xml"
    metadata.write_text(re.sub(r"<[^>]*SingleLogoutService[^>]*/>", "", idp.metadata_xml()), encoding="utf-8")
    helpers.configure(client.application, metadata, sso_keys, cert_fingerprint=idp.cert_fingerprint())
    response = client.post("/logout", data={"csrf_token": csrf(client, "/")}, headers=EN)
    assert response.status_code == 302
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert "could not be reached" in page
    assert "will ask for your password again" in page
    assert 'role="alert"' in page
    assert 'ForceAuthn="true"' in _authn_request_xml(start_login(client))
    sso_login(client, "tiepnhan")  # a completed sign-in clears it
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert 'ForceAuthn="true"' in _authn_request_xml(start_login(client))


# -- where the browser is sent -------------------------------------------------------------------------------


@pytest.mark.parametrize("relay", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "/%0d%0aX:1"])
def test_relay_state_never_chooses_where_the_acs_sends_the_browser(client, idp, relay) -> None:
    answer = sign_in_at_idp(start_login(client, "/track"), "congdan")
    response = client.post(f"/sso/{IDP}/acs", data={"SAMLResponse": answer.saml_response, "RelayState": relay})
    assert response.headers["Location"] == "/track"


@pytest.mark.parametrize(
    "query",
    [
        "next=/%0d%0aX:1",
        "next=/%0d%0aSet-Cookie:x=1",
        "next=/%5Cevil.example",
        "next=%5C%5Cevil.example",
        "next=/%09/evil.example",
    ],
)
def test_a_next_with_control_characters_or_backslashes_goes_home(client, app: Flask, idp, query) -> None:
    start = client.get(f"/sso/{IDP}/login?{query}")
    assert start.status_code == 302
    response = post_answer(client, sign_in_at_idp(start.headers["Location"], "congdan"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_relay_state_on_the_logout_answer_is_not_followed(client, idp) -> None:
    sso_login(client, "tiepnhan")
    page = client.post("/logout", data={"csrf_token": csrf(client, "/")}).get_data(as_text=True)
    to_idp = re.search(r'id="continue-logout" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert query_of(to_idp).get("RelayState", "").startswith("http://localhost/")  # ours, if any
    back = requests.get(to_idp, allow_redirects=False, timeout=10).headers["Location"]
    evil = back + "&RelayState=https%3A%2F%2Fevil.example%2F"  # outside the signature: must be ignored anyway
    response = client.get(evil.removeprefix("http://localhost"))
    assert response.headers.get("Location") in ("/", None)
