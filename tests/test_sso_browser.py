"""Single sign-on and single logout in a real browser: Debian's Chromium (Playwright) against the portal on a
loopback port and the pysaml2 test IdP on another. Chromium applies the CSP's `form-action` to the redirects
that follow a form submission, which the Flask test client does not: only a browser shows whether the
sign-out really reaches the identity provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from portal.extensions import db
from portal.models import User
from portal.sso.testidp import TestIdP, demo_users
from tests import test_sso_helpers as helpers
from tests.browser import new_page, shot
from tests.test_sso_helpers import IDP, PASSWORD, configure

sso_keys = helpers.sso_keys


@pytest.fixture
def browser_idp(demo: Flask, live_server, sso_keys: Path, tmp_path: Path) -> Iterator[TestIdP]:
    """The live portal configured for the provider "tinh" at its own address, and that provider running."""
    metadata = tmp_path / "idp-metadata.xml"
    demo.config["SSO_SP_BASE_URL"] = live_server.url
    configure(demo, metadata, sso_keys)
    sp_metadata = demo.test_client().get(f"/sso/{IDP}/metadata").data
    server = TestIdP(sso_keys, [sp_metadata], users=demo_users(PASSWORD), quiet=True)
    metadata.write_text(server.metadata_xml(), encoding="utf-8")
    configure(demo, metadata, sso_keys, cert_fingerprint=server.cert_fingerprint())
    with server:
        yield server


def _sso_sign_in(page, base: str, username: str | None) -> None:
    """Press the provincial-account button; at the IdP type the password when `username` is given."""
    page.goto(f"{base}/login")
    page.get_by_role("link", name="Sign in with the provincial account").click()
    if username is not None:
        page.get_by_label("User").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/**")


def test_sign_out_in_chromium_ends_the_session_at_the_identity_provider(
    live_server, browser, browser_idp: TestIdP
) -> None:
    base = live_server.url
    page = new_page(browser, locale="en-GB")
    other_device = new_page(browser, locale="en-GB")
    _sso_sign_in(page, base, "tiepnhan")
    page.get_by_text("Nguyễn Văn Tiếp").wait_for()
    _sso_sign_in(other_device, base, "tiepnhan")
    other_device.get_by_text("Nguyễn Văn Tiếp").wait_for()
    assert browser_idp.password_forms == 2
    version = db.session.scalar(db.select(User.session_version).where(User.email == "tiepnhan.sso@tinh.demo"))

    page.get_by_role("button", name="Sign out").click()
    # Through the IdP and back: the portal shows that both sessions ended.
    page.get_by_text("You are signed out of the portal and of the sign-in service").wait_for(timeout=10_000)
    shot(page, "sso-signed-out")
    assert browser_idp.logged_out == ["sp-request:tiepnhan"]
    assert browser_idp.sessions == {}
    assert "Nguyễn Văn Tiếp" not in page.content()

    # Every session of the account ended, on the other device too.
    db.session.expire_all()
    user = db.session.scalar(db.select(User).where(User.email == "tiepnhan.sso@tinh.demo"))
    assert user.session_version > version
    other_device.goto(f"{base}/")
    assert "Nguyễn Văn Tiếp" not in other_device.content()

    # The next press of the button asks for the password at the IdP again.
    page.goto(f"{base}/login")
    page.get_by_role("link", name="Sign in with the provincial account").click()
    page.get_by_label("Password").wait_for()
    assert page.url.startswith(browser_idp.base_url)
    assert browser_idp.password_forms == 3


def test_the_identity_provider_signs_a_browser_in_again_while_its_session_lasts(
    live_server, browser, browser_idp: TestIdP
) -> None:
    """The control for the test above: without a sign-out at the IdP, the button signs in without a password
    (what made the blocked sign-out dangerous)."""
    base = live_server.url
    page = new_page(browser, locale="en-GB")
    _sso_sign_in(page, base, "hotich")
    page.get_by_text("Lê Thị Hộ").wait_for()
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {"name": "testidp_session", "value": next(iter(browser_idp.browser_sessions)), "url": browser_idp.base_url},
            {"name": "lang", "value": "en", "url": base},  # the portal's session is gone, the language choice kept
        ]
    )
    _sso_sign_in(page, base, None)
    page.get_by_text("Lê Thị Hộ").wait_for()
    assert browser_idp.password_forms == 1
