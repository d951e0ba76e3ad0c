"""Fixtures and a driver for the single sign-on tests (no tests here).

A real identity provider (pysaml2, portal/sso/testidp.py) runs on a free loopback port; a real HTTP client
(requests) plays the browser at the IdP, the Flask test client plays it at the portal. Key pairs are
throwaway ones generated into the test run's temporary directory.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import AuditLog, Group, RoleMapping
from portal.sso import config as sso_config
from portal.sso.testidp import TestIdP, demo_users

IDP = "tinh"
PASSWORD = "MotCua@2026"
OTHER_SP = "https://other-portal.example/sp"


@pytest.fixture(scope="session")
def sso_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sso-keys")


def configure(app: Flask, metadata: Path, keys: Path, **idp_settings: object) -> None:
    app.config.update(
        SSO_SP_CERT=str(keys / "sp.crt"),
        SSO_SP_KEY=str(keys / "sp.key"),
        SSO_SP_GENERATE_KEYS=True,
        SSO_IDPS={IDP: {"metadata": str(metadata), **idp_settings}},
    )
    sso_config.load(app)


@pytest.fixture
def idp(app: Flask, sso_keys: Path, tmp_path: Path) -> Iterator[TestIdP]:
    """The portal configured for one provider "tinh", and that provider running on loopback."""
    metadata = tmp_path / "idp-metadata.xml"
    configure(app, metadata, sso_keys)
    sp_metadata = app.test_client().get(f"/sso/{IDP}/metadata").data
    # Another service provider the IdP also serves, so that it can make a response meant for that one.
    other_sp = sp_metadata.replace(
        f'entityID="http://localhost/sso/{IDP}/metadata"'.encode(), f'entityID="{OTHER_SP}"'.encode()
    )
    server = TestIdP(sso_keys, [sp_metadata, other_sp], users=demo_users(PASSWORD), quiet=True)
    metadata.write_text(server.metadata_xml(), encoding="utf-8")
    configure(app, metadata, sso_keys, cert_fingerprint=server.cert_fingerprint())
    with server:
        yield server


def set_idp_option(app: Flask, **settings: object) -> None:
    conf = dict(app.config["SSO_IDPS"][IDP], **settings)
    app.config["SSO_IDPS"] = {IDP: conf}
    sso_config.load(app)


@dataclass
class IdpAnswer:
    acs_url: str
    saml_response: str
    relay_state: str


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} in the page: {page[:300]}"
    return html.unescape(match.group(1))


def start_login(client: FlaskClient, next_url: str | None = None) -> str:
    """Press the portal's button: the redirect to the IdP with a signed AuthnRequest."""
    response = client.get(f"/sso/{IDP}/login", query_string={"next": next_url} if next_url else None)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def sign_in_at_idp(redirect_url: str, username: str, password: str = PASSWORD) -> IdpAnswer:
    """What a browser does at the IdP: open the sign-in page, post the form, receive the auto-post form."""
    browser = requests.Session()
    page = browser.get(redirect_url, timeout=10)
    assert page.status_code == 200, page.text[:300]
    answer = browser.post(
        urlsplit(redirect_url)._replace(path="/sso/login", query="").geturl(),
        data={"query": _hidden(page.text, "query"), "username": username, "password": password},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text[:300]
    action = re.search(r'action="([^"]*)"', answer.text)
    assert action
    relay = re.search(r'name="RelayState" value="([^"]*)"', answer.text)
    return IdpAnswer(
        html.unescape(action.group(1)), _hidden(answer.text, "SAMLResponse"), relay.group(1) if relay else ""
    )


def post_answer(client: FlaskClient, answer: IdpAnswer | str, **headers: str):
    """What the auto-submitting form does: POST the SAMLResponse to the portal's assertion consumer."""
    saml = answer.saml_response if isinstance(answer, IdpAnswer) else answer
    return client.post(f"/sso/{IDP}/acs", data={"SAMLResponse": saml}, headers=headers)


def sso_login(client: FlaskClient, username: str, next_url: str | None = None) -> tuple:
    """The whole sign-in; returns the portal's answer to the POST and what the IdP sent."""
    answer = sign_in_at_idp(start_login(client, next_url), username)
    assert urlsplit(answer.acs_url).path == f"/sso/{IDP}/acs"
    return post_answer(client, answer), answer


def map_role(value: str, role: str, attribute: str = "roles") -> Group:
    group = db.session.scalar(db.select(Group).where(Group.role == role))
    assert group is not None, role
    db.session.add(RoleMapping(idp=IDP, attribute=attribute, value=value, group_id=group.id))
    db.session.commit()
    return group


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def audit_actions(action: str) -> list[AuditLog]:
    return list(db.session.scalars(db.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
