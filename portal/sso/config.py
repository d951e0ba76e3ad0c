"""The identity providers the portal trusts, read from `SSO_IDPS` (config.py) and checked when the app starts.

A mistake here stops the start with a message naming the provider and the setting, rather than failing at the
first sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from portal.sso.keys import normalize_fingerprint

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

# Where each piece of the profile is looked for, in order: SAML attribute names (OIDs as the urn:oid: form
# and the usual friendly names); the first one present wins. A provider's `attributes` table overrides a key.
DEFAULT_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "full_name": ("urn:oid:2.16.840.1.113730.3.1.241", "displayName", "urn:oid:2.5.4.3", "cn", "fullName"),
    "email": ("urn:oid:0.9.2342.19200300.100.1.3", "mail", "email"),
    "phone": ("urn:oid:0.9.2342.19200300.100.1.41", "mobile", "urn:oid:2.5.4.20", "telephoneNumber", "phone"),
    "citizen_id": ("citizenId", "soDinhDanh", "urn:oid:2.5.4.5", "serialNumber"),
    "vneid_verified": ("vneidVerified", "vneid_verified"),
    "department": ("urn:oid:2.5.4.11", "ou", "department"),
    "roles": ("urn:oid:1.3.6.1.4.1.5923.1.1.1.7", "eduPersonEntitlement", "role", "roles"),
    "user_type": ("userType", "loaiNguoiDung"),
}
# Values of `user_type` that make an account an officer (cán bộ); anyone else is a citizen unless a role
# mapping puts them in a group.
DEFAULT_OFFICER_VALUES = ("officer", "can_bo", "canbo", "civil_servant", "employee")

# The NameID formats that can name an account: the same person gets the same value at every sign-in. A transient
# NameID changes at every sign-in (each would make a new account), so it is not among them.
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
NAMEID_FORMATS = {
    "persistent": NAMEID_PERSISTENT,
    "emailaddress": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "unspecified": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
}


class SsoConfigError(RuntimeError):
    """The SSO configuration cannot work; the message names the provider and the setting."""


@dataclass(frozen=True)
class IdpConfig:
    name: str
    metadata: str  # a file path, or an https URL (http only on loopback)
    label: str = ""
    entity_id: str | None = None  # which entity, when the metadata describes several
    cert_fingerprints: tuple[str, ...] = ()  # SHA-256 pins of the signing certificate(s)
    allow_unsolicited: bool = False  # accept IdP-initiated sign-in (no AuthnRequest of ours)
    link_by_email: bool = False  # first sign-in may take over an unlinked local account with the same email
    want_messages_signed: bool = True  # the Response and logout messages must be signed, not only the assertion
    # Logout messages from the IdP must be signed even where `want_messages_signed` is off: an unsigned one
    # could be forged by any site to sign people out.
    want_logout_signed: bool = True
    name_id_format: str = NAMEID_PERSISTENT  # the only NameID format accepted (and asked for)
    sp_entity_id: str | None = None  # what the IdP registered us as, when not /sso/<idp>/metadata
    metadata_ttl: int = 3600  # seconds a fetched metadata document is reused (URLs only)
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    officer_values: tuple[str, ...] = DEFAULT_OFFICER_VALUES

    @property
    def metadata_is_url(self) -> bool:
        return self.metadata.startswith(("https://", "http://"))


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise SsoConfigError(f"{where} must be a string or a list of strings")
    return tuple(value)


def _check_metadata_source(name: str, source: str, pins: tuple[str, ...]) -> None:
    if not source.startswith(("https://", "http://")):
        return
    parts = urlsplit(source)
    if parts.scheme == "http" and parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SsoConfigError(f"SSO_IDPS[{name}].metadata: fetch metadata over https (http only on loopback)")
    if not pins:
        raise SsoConfigError(
            f"SSO_IDPS[{name}].cert_fingerprint: metadata from a URL needs the IdP certificate's SHA-256 pin"
        )


def _name_id_format(name: str, value: Any) -> str:
    """The configured NameID format as its URN: persistent (default), emailAddress or unspecified."""
    if value is None or value == "":
        return NAMEID_PERSISTENT
    if isinstance(value, str):
        short = value.rsplit(":", 1)[-1].casefold()
        full = NAMEID_FORMATS.get(short)
        if full is not None and value in (full, value.rsplit(":", 1)[-1]):
            return full
    raise SsoConfigError(
        f"SSO_IDPS[{name}].name_id_format: one of persistent, emailAddress, unspecified (or their URN); "
        "a transient NameID changes at every sign-in and cannot name an account"
    )


def parse_idp(name: str, raw: dict[str, Any]) -> IdpConfig:
    """One provider's settings, checked; raises SsoConfigError naming what is wrong."""
    if not NAME_RE.match(name):
        raise SsoConfigError(f"SSO_IDPS: {name!r} is not a valid provider name (a-z, 0-9, - and _)")
    if not isinstance(raw, dict) or not isinstance(raw.get("metadata"), str) or not raw["metadata"]:
        raise SsoConfigError(f"SSO_IDPS[{name}].metadata: give a metadata file path or URL")
    pins_raw = raw.get("cert_fingerprint") or raw.get("cert_fingerprints") or ()
    pins = tuple(normalize_fingerprint(p) for p in _names(pins_raw, f"SSO_IDPS[{name}].cert_fingerprint"))
    if any(not re.fullmatch(r"[0-9a-f]{64}", p) for p in pins):
        raise SsoConfigError(f"SSO_IDPS[{name}].cert_fingerprint: a SHA-256 fingerprint is 64 hex digits")
    _check_metadata_source(name, raw["metadata"], pins)
    attributes = dict(DEFAULT_ATTRIBUTES)
    for key, value in (raw.get("attributes") or {}).items():
        attributes[key] = _names(value, f"SSO_IDPS[{name}].attributes.{key}")
    officer_values = _names(raw.get("officer_values", DEFAULT_OFFICER_VALUES), f"SSO_IDPS[{name}].officer_values")
    return IdpConfig(
        name=name,
        metadata=raw["metadata"],
        label=str(raw.get("label") or ""),
        entity_id=raw.get("entity_id") or None,
        cert_fingerprints=pins,
        allow_unsolicited=bool(raw.get("allow_unsolicited", False)),
        link_by_email=bool(raw.get("link_by_email", False)),
        want_messages_signed=bool(raw.get("want_messages_signed", True)),
        want_logout_signed=bool(raw.get("want_logout_signed", True)),
        name_id_format=_name_id_format(name, raw.get("name_id_format")),
        sp_entity_id=raw.get("sp_entity_id") or None,
        metadata_ttl=int(raw.get("metadata_ttl", 3600)),
        attributes=attributes,
        officer_values=tuple(v.casefold() for v in officer_values),
    )


def load(app: Flask) -> dict[str, IdpConfig]:
    """Check every configured provider and keep the result on the app (called once at start)."""
    raw = app.config.get("SSO_IDPS") or {}
    idps = {name: parse_idp(name, conf) for name, conf in raw.items()}
    app.extensions["sso_idps"] = idps
    return idps


def configured() -> dict[str, IdpConfig]:
    """The providers of the running app (checked at start; `load` again after changing SSO_IDPS)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    idps = app.extensions.get("sso_idps")
    return idps if idps is not None else load(app)


def get_idp(name: str) -> IdpConfig | None:
    return configured().get(name)
