"""Single sign-on against a real SAML identity provider on loopback: metadata, sign-in creating and updating
accounts and their groups, single logout started by the portal and by the identity provider."""

from __future__ import annotations

import html
import re

from flask import Flask

from portal.extensions import db
from portal.models import Group, Membership, SsoIdentity, User
from portal.sso.services import is_vneid_verified
from tests import test_sso_helpers as helpers
from tests.test_sso_helpers import (
    IDP,
    audit_actions,
    configure,
    map_role,
    query_of,
    set_idp_option,
    sso_login,
    start_login,
)
from tests.web import csrf, login

# The shared fixtures, used by name in this module's tests.
idp = helpers.idp
sso_keys = helpers.sso_keys

EN = {"Cookie": "lang=en"}  # a person who chose English (the portal does not follow Accept-Language)


def _only_user(email: str) -> User:
    users = db.session.scalars(db.select(User).where(User.email == email)).all()
    assert len(users) == 1, users
    return users[0]


def _groups(user: User) -> dict[str, str]:
    rows = db.session.scalars(db.select(Membership).where(Membership.user_id == user.id)).all()
    return {m.group.role: m.source for m in rows}


def test_metadata_is_signed_and_asks_for_signed_assertions(client, idp) -> None:
    response = client.get(f"/sso/{IDP}/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/samlmetadata+xml"
    xml = response.get_data(as_text=True)
    assert "<ds:Signature" in xml
    assert 'AuthnRequestsSigned="true"' in xml
    assert 'WantAssertionsSigned="true"' in xml
    assert f'Location="http://localhost/sso/{IDP}/acs"' in xml
    assert f'Location="http://localhost/sso/{IDP}/sls"' in xml
    assert "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" in xml
    assert client.get("/sso/unknown/metadata").status_code == 404


def test_the_sign_in_page_offers_the_provincial_account(client, idp) -> None:
    page = client.get("/login?next=/track", headers=EN).get_data(as_text=True)
    assert "Sign in with the provincial account" in page
    assert f'href="/sso/{IDP}/login?next=/track"' in page


def test_the_authn_request_is_signed_with_sha256(client, idp) -> None:
    params = query_of(start_login(client))
    assert params["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert params["Signature"]


def test_first_sign_in_creates_the_officer_with_mapped_groups(client, demo: Flask, idp) -> None:
    map_role("reception", "reception")
    map_role("leader", "leader")  # a mapping this person's attributes do not match
    response, _ = sso_login(client, "tiepnhan")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Nguyễn Văn Tiếp" in client.get("/").get_data(as_text=True)

    user = _only_user("tiepnhan.sso@tinh.demo")
    assert (user.full_name, user.phone, user.kind) == ("Nguyễn Văn Tiếp", "0901000001", "officer")
    assert user.sso_only
    assert user.password_hash is None
    assert _groups(user) == {"reception": "sso"}
    identity = db.session.scalar(db.select(SsoIdentity).where(SsoIdentity.user_id == user.id))
    assert identity.idp == IDP
    assert len(identity.name_id) == 40
    assert identity.last_login_at is not None
    assert identity.attributes["department"] == ["Một cửa"]
    [entry] = audit_actions("sso.login")
    assert entry.actor_id == user.id
    assert entry.details["created"] is True


def test_second_sign_in_updates_the_account_and_its_groups(client, app: Flask, demo: Flask, idp) -> None:
    map_role("reception", "reception")
    map_role("civil_status", "civil_status")
    map_role("Lãnh đạo", "leader", attribute="department")  # by the mapped department key
    sso_login(client, "tiepnhan")
    user = _only_user("tiepnhan.sso@tinh.demo")
    assert _groups(user) == {"reception": "sso"}
    reception_id = user.memberships[0].group_id
    # An administrator adds a local membership; SSO must leave it alone.
    ktht = db.session.scalar(db.select(Group).where(Group.role == "ktht_specialist"))
    db.session.add(Membership(user_id=user.id, group_id=ktht.id, source="local"))
    db.session.commit()

    idp.users["tiepnhan"].attributes.update(
        displayName=["Nguyễn Văn Tiếp Mới"], role=["civil_status"], ou=["Lãnh đạo"], mobile=["0901999999"]
    )
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    fresh = app.test_client()
    response, _ = sso_login(fresh, "tiepnhan")
    assert response.status_code == 302

    user = _only_user("tiepnhan.sso@tinh.demo")
    assert (user.full_name, user.phone) == ("Nguyễn Văn Tiếp Mới", "0901999999")
    assert _groups(user) == {"civil_status": "sso", "leader": "sso", "ktht_specialist": "local"}
    assert db.session.scalar(db.select(db.func.count(SsoIdentity.id))) == 1
    second = audit_actions("sso.login")[-1]
    assert second.details["created"] is False
    assert second.details["groups_removed"] == [reception_id]


def test_a_citizen_through_vneid_gets_a_citizen_account(client, demo: Flask, idp) -> None:
    map_role("reception", "reception")
    response, _ = sso_login(client, "congdan")
    assert response.status_code == 302
    user = _only_user("congdan.vneid@tinh.demo")
    assert (user.kind, user.citizen_id, user.sso_only) == ("citizen", "079190000001", False)
    assert _groups(user) == {}
    assert is_vneid_verified(user)


def test_the_page_asked_for_before_sign_in_is_where_it_ends(client, app: Flask, idp) -> None:
    response, _ = sso_login(client, "congdan", next_url="/lang/en?next=/")
    assert response.headers["Location"] == "/lang/en?next=/"
    response, _ = sso_login(app.test_client(), "hotich", next_url="https://evil.example/")
    assert response.headers["Location"] == "/"


def test_an_sso_only_officer_cannot_use_a_local_password(client, app: Flask, idp) -> None:
    sso_login(client, "hotich")
    user = _only_user("hotich.sso@tinh.demo")
    user.set_password("a-password-2026")
    db.session.commit()
    other = app.test_client()
    token = csrf(other, "/login")
    form = {"identifier": "hotich.sso@tinh.demo", "password": "a-password-2026", "csrf_token": token}
    assert other.post("/login", data=form).status_code == 422


def test_first_sign_in_links_an_existing_account_by_email_when_allowed(client, app: Flask, demo: Flask, idp) -> None:
    set_idp_option(app, link_by_email=True)
    idp.users["hotich"].attributes["mail"] = ["hotich@motcua.demo"]  # the demo officer's local account
    before = db.session.scalar(db.select(db.func.count(User.id)))
    response, _ = sso_login(client, "hotich")
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(User.id))) == before
    local = _only_user("hotich@motcua.demo")
    assert local.full_name == "Lê Thị Hộ"
    assert _groups(local) == {"civil_status": "local"}  # the demo membership, still local
    assert audit_actions("sso.account_linked")


def test_an_administrator_account_is_never_linked_by_email(client, app: Flask, demo: Flask, idp) -> None:
    set_idp_option(app, link_by_email=True)
    idp.users["hotich"].attributes["mail"] = ["admin@motcua.demo"]
    response, _ = sso_login(client, "hotich")
    assert response.status_code == 302
    admin = _only_user("admin@motcua.demo")
    assert admin.full_name != "Lê Thị Hộ"
    linked = db.session.scalar(db.select(SsoIdentity).where(SsoIdentity.idp == IDP))
    assert linked.user_id != admin.id
    assert linked.user.email is None  # the address belongs to the administrator; not copied


def test_sign_out_at_the_portal_signs_out_at_the_identity_provider(client, idp) -> None:
    sso_login(client, "tiepnhan")
    assert len(idp.sessions) == 1
    response = client.post("/logout", data={"csrf_token": csrf(client, "/")})
    # A page that continues to the IdP (not a redirect, which the CSP's form-action would block in a browser).
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    to_idp = html.unescape(re.search(r'id="continue-logout" href="([^"]+)"', page).group(1))
    assert f'<meta http-equiv="refresh" content="0;url={html.escape(to_idp)}">' in page
    assert to_idp.startswith(f"{idp.base_url}/slo/redirect?")
    assert {"SAMLRequest", "Signature", "SigAlg"} <= query_of(to_idp).keys()
    assert "Nguyễn Văn Tiếp" not in client.get("/").get_data(as_text=True)  # signed out here at once

    import requests

    at_idp = requests.get(to_idp, allow_redirects=False, timeout=10)
    assert at_idp.status_code == 302, at_idp.text
    assert idp.sessions == {}
    assert idp.logged_out == ["sp-request:tiepnhan"]
    back = at_idp.headers["Location"]
    assert back.startswith(f"http://localhost/sso/{IDP}/sls?")
    assert "Signature=" in back
    done = client.get(back.removeprefix("http://localhost"), headers=EN)
    assert done.status_code == 302, done.get_data(as_text=True)
    assert "signed out of the portal and of the sign-in service" in client.get("/", headers=EN).get_data(as_text=True)
    [entry] = audit_actions("sso.logout")
    assert entry.details["started_by"] == "portal"


def test_sign_out_at_the_identity_provider_ends_the_portal_session(client, idp) -> None:
    import requests

    sso_login(client, "lanhdao")
    assert "Trần Văn Lãnh" in client.get("/").get_data(as_text=True)
    start = requests.get(f"{idp.base_url}/logout", params={"user": "lanhdao"}, allow_redirects=False, timeout=10)
    to_portal = start.headers["Location"]
    assert to_portal.startswith(f"http://localhost/sso/{IDP}/sls?")
    assert {"SAMLRequest", "Signature"} <= query_of(to_portal).keys()

    answer = client.get(to_portal.removeprefix("http://localhost"))
    assert answer.status_code == 302
    reply = answer.headers["Location"]
    assert reply.startswith(f"{idp.base_url}/slo/redirect?")
    assert {"SAMLResponse", "Signature"} <= query_of(reply).keys()
    assert "Trần Văn Lãnh" not in client.get("/").get_data(as_text=True)
    assert requests.get(reply, timeout=10).status_code == 200
    assert idp.logged_out == ["sp-response:Success"]
    [entry] = audit_actions("sso.logout")
    assert entry.details["started_by"] == "identity provider"


def test_a_local_sign_in_is_not_sent_to_the_identity_provider(client, demo: Flask, idp) -> None:
    login(client, "congdan@motcua.demo")
    response = client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert response.headers["Location"] == "/"
    assert idp.logged_out == []


def test_a_second_provider_can_be_configured_beside_the_first(client, app: Flask, idp, tmp_path) -> None:
    from portal.sso import config as sso_config

    app.config["SSO_IDPS"] = {**app.config["SSO_IDPS"], "so-ban-nganh": {"metadata": str(tmp_path / "none.xml")}}
    sso_config.load(app)
    page = client.get("/login", headers=EN).get_data(as_text=True)
    assert f'href="/sso/{IDP}/login"' in page
    assert 'href="/sso/so-ban-nganh/login"' in page
    assert client.get("/sso/so-ban-nganh/metadata").status_code == 200
    response, _ = sso_login(client, "congdan")
    assert response.status_code == 302


def test_without_a_logout_service_at_the_provider_sign_out_is_local(client, idp, sso_keys, tmp_path) -> None:
    sso_login(client, "tiepnhan")
    metadata = tmp_path / "no-slo.xml"
    metadata.write_text(re.sub(r"<[^>]*SingleLogoutService[^>]*/>", "", idp.metadata_xml()), encoding="utf-8")
    configure(client.application, metadata, sso_keys, cert_fingerprint=idp.cert_fingerprint())
    response = client.post("/logout", data={"csrf_token": csrf(client, "/")}, headers=EN)
    assert response.headers["Location"] == "/"
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert "could not be reached" in page
    assert "Nguyễn Văn Tiếp" not in page
