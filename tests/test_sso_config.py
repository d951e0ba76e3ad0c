"""SSO settings are checked when the portal starts: a mistake stops it with a message naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

import config as config_module
from portal import create_app
from portal.sso.config import SsoConfigError, parse_idp

PIN = "ab" * 32


@pytest.mark.parametrize(
    ("name", "settings", "message"),
    [
        ("Tỉnh!", {"metadata": "idp.xml"}, "not a valid provider name"),
        ("tinh", {}, "metadata"),
        ("tinh", {"metadata": "https://idp.tinh.gov.vn/metadata"}, "cert_fingerprint"),
        ("tinh", {"metadata": "http://idp.tinh.gov.vn/metadata", "cert_fingerprint": PIN}, "https"),
        ("tinh", {"metadata": "idp.xml", "cert_fingerprint": "12:34"}, "64 hex digits"),
        ("tinh", {"metadata": "idp.xml", "attributes": {"email": 5}}, "attributes.email"),
    ],
)
def test_a_broken_provider_setting_is_named(name, settings, message) -> None:
    with pytest.raises(SsoConfigError, match=message):
        parse_idp(name, settings)


def test_the_portal_refuses_to_start_with_a_broken_provider() -> None:
    with pytest.raises(SsoConfigError, match="cert_fingerprint"):
        create_app({"ENV": "testing", "SSO_IDPS": {"tinh": {"metadata": "https://idp.example/md"}}})


def test_without_key_generation_the_key_pair_must_exist(tmp_path: Path) -> None:
    settings = {
        "ENV": "testing",
        "SSO_IDPS": {"tinh": {"metadata": str(tmp_path / "idp.xml")}},
        "SSO_SP_GENERATE_KEYS": False,
        "SSO_SP_CERT": str(tmp_path / "missing.crt"),
        "SSO_SP_KEY": str(tmp_path / "missing.key"),
    }
    with pytest.raises(SsoConfigError, match="SSO_SP_CERT"):
        create_app(settings)


def test_a_metadata_url_with_its_pin_is_accepted_and_colons_are_ignored() -> None:
    pin = ":".join(PIN[i : i + 2] for i in range(0, 64, 2)).upper()
    idp = parse_idp("tinh", {"metadata": "https://idp.tinh.gov.vn/metadata", "cert_fingerprint": pin})
    assert idp.cert_fingerprints == (PIN,)
    assert idp.metadata_is_url


def test_providers_come_from_the_file_named_by_sso_config(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "sso.toml"
    path.write_text('[idps.tinh]\nmetadata = "/etc/motcua/idp.xml"\nallow_unsolicited = true\n', encoding="utf-8")
    monkeypatch.setenv("SSO_CONFIG", str(path))
    assert config_module._sso_idps() == {"tinh": {"metadata": "/etc/motcua/idp.xml", "allow_unsolicited": True}}
    monkeypatch.delenv("SSO_CONFIG")
    monkeypatch.setenv("SSO_IDP_METADATA", "https://idp.tinh.gov.vn/metadata")
    monkeypatch.setenv("SSO_IDP_CERT_FINGERPRINT", PIN)
    assert config_module._sso_idps()["tinh"]["cert_fingerprint"] == PIN
