"""Agencies' signing keys: an administrator (or `flask documents import-key`) installs a PKCS#12 for an agency.

The file is checked thoroughly before anything is stored: a PKCS#12 that opens with the given password, with one
private key and its certificate, valid today, usable for digital signatures. It is stored re-encrypted with the
portal's DOCUMENT_KEY_PASSPHRASE (portal/documents/signing.py signs with it); the previous key stays as history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal.core import audit
from portal.core.errors import InvalidInput, ServiceError
from portal.core.time import utcnow
from portal.documents import signing
from portal.extensions import db
from portal.models import Agency, AgencySigningKey, User

MAX_BYTES = 64 * 1024  # a key and a chain of a few certificates: a few KiB
EXPIRING_DAYS = 30
SIGNING_KEY_TYPES = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)


def _bad_file(message: str) -> InvalidInput:
    return InvalidInput(message, {"file": [message]})


@dataclass(frozen=True)
class CheckedKey:
    """A PKCS#12 that passed every check, re-encrypted for storage, with what the page shows of it."""

    pkcs12: bytes
    certificates: str  # PEM: the signing certificate, then the chain that came with it
    subject: str
    issuer: str
    serial: str
    fingerprint: str
    not_before: datetime
    not_after: datetime


def _public(key: Any) -> bytes:
    return bytes(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _public_of(cert: x509.Certificate) -> bytes:
    """The certificate's public key, or nothing for a key of an algorithm cryptography does not know."""
    try:
        return _public(cert.public_key())
    except Exception:
        return b""


def _open(data: bytes, password: str) -> tuple[Any, x509.Certificate | None, list[x509.Certificate]]:
    """Key, certificate and other certificates of the file; a refusal that says which of the two is wrong."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    try:  # the structure first: a file that is not a PKCS#12 at all is not "a wrong password"
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        pfx["version"].native, pfx["auth_safe"]["content_type"].native
    except Exception as error:
        raise _bad_file(_("This file is not a PKCS#12 key file (.p12 or .pfx).")) from error
    attempts = [password.encode()] if password else [None, b""]
    last: Exception | None = None
    for secret in attempts:
        try:
            key, cert, others = pkcs12.load_key_and_certificates(data, secret)
        except Exception as error:  # cryptography: ValueError, or an unsupported algorithm
            last = error
            continue
        return key, cert, list(others)
    if last is not None and "password" in str(last).lower():
        message = _("The password does not open this key file.")
        raise InvalidInput(message, {"password": [message]}) from last
    raise _bad_file(_("This key file cannot be read: it is damaged or uses an encryption the portal does not support."))


def _pick_certificate(
    key: Any, cert: x509.Certificate | None, others: list[x509.Certificate]
) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The key's certificate and the chain: the file's own pairing, or the certificate whose public key is the key's."""
    mine = _public(key.public_key())
    if cert is None:
        if not others:
            raise _bad_file(_("The key file holds no certificate."))
        matching = [c for c in others if _public_of(c) == mine]
        if not matching:
            raise _bad_file(_("The certificate in the file does not belong to its private key."))
        cert = matching[0]
        others = [c for c in others if c is not cert]
    elif _public_of(cert) != mine:
        raise _bad_file(_("The certificate in the file does not belong to its private key."))
    return cert, others


def _check_usable(cert: x509.Certificate, now: datetime) -> None:
    if cert.not_valid_before_utc > now:
        raise _bad_file(
            _(
                "The certificate is not valid yet (valid from %(day)s).",
                day=cert.not_valid_before_utc.date().isoformat(),
            )
        )
    if cert.not_valid_after_utc <= now:
        raise _bad_file(
            _("The certificate has expired (valid until %(day)s).", day=cert.not_valid_after_utc.date().isoformat())
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    except ValueError as error:  # a malformed extension
        raise _bad_file(_("The certificate's key usage cannot be read.")) from error
    if not usage.digital_signature:
        raise _bad_file(_("The certificate is not for digital signatures (its key usage lacks digitalSignature)."))


def check_pkcs12(data: bytes, password: str, label: str = "") -> CheckedKey:
    """Every check of an uploaded PKCS#12; InvalidInput (on the `file` or `password` field) says what is wrong."""
    if not data:
        raise _bad_file(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise _bad_file(_("The file is too large for a key file (at most %(n)d KiB).", n=MAX_BYTES // 1024))
    key, cert, others = _open(data, password)
    if key is None:
        raise _bad_file(_("The key file holds no private key."))
    if not isinstance(key, SIGNING_KEY_TYPES):
        raise _bad_file(_("This kind of key cannot sign documents (RSA, EC or EdDSA keys only)."))
    cert, chain = _pick_certificate(key, cert, others)
    _check_usable(cert, utcnow())
    passphrase = current_app.config.get("DOCUMENT_KEY_PASSPHRASE")
    if not passphrase:
        raise ServiceError(_("Signing is not set up on this portal (DOCUMENT_KEY_PASSPHRASE is missing)."))
    try:  # what signing will do with it: pyHanko must read back what is stored
        stored = pkcs12.serialize_key_and_certificates(
            label.encode()[:64] or None,
            key,
            cert,
            chain or None,
            serialization.BestAvailableEncryption(str(passphrase).encode()),
        )
        loaded = signing.load_pkcs12_signer(stored, str(passphrase).encode())
        subject = str(loaded.signing_cert.subject.human_friendly)[:500]
        issuer = str(loaded.signing_cert.issuer.human_friendly)[:500]
        pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in [cert, *chain])
    except Exception as error:  # an odd key or certificate the libraries accept to read but not to use
        raise _bad_file(_("This key cannot be used for signing by the portal.")) from error
    return CheckedKey(
        pkcs12=stored,
        certificates=pem,
        subject=subject,
        issuer=issuer,
        serial=format(cert.serial_number, "X")[:100],
        fingerprint=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def install_key(agency: Agency, data: bytes, password: str, actor: User | None) -> AgencySigningKey:
    """Check the PKCS#12 and make it the agency's active key; the previous one stays, inactive. Flushes."""
    checked = check_pkcs12(data, password, agency.code)
    db.session.execute(select(Agency.id).where(Agency.id == agency.id).with_for_update())  # one install at a time
    previous = list(
        db.session.scalars(
            select(AgencySigningKey).where(AgencySigningKey.agency_id == agency.id, AgencySigningKey.active)
        )
    )
    for old in previous:
        old.active = False
    db.session.flush()  # before the insert: one active key per agency (uq_agency_signing_keys_active)
    row = AgencySigningKey(
        agency_id=agency.id,
        pkcs12=checked.pkcs12,
        certificates=checked.certificates,
        subject=checked.subject,
        issuer=checked.issuer,
        serial=checked.serial,
        fingerprint=checked.fingerprint,
        not_before=checked.not_before,
        not_after=checked.not_after,
        uploaded_by_id=actor.id if actor is not None else None,
        uploaded_at=utcnow(),
        active=True,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "admin.signing_key_installed",
        actor,
        row,
        agency=agency.code,
        fingerprint=checked.fingerprint,
        subject=checked.subject,
        not_after=checked.not_after.isoformat(),
        replaced=[old.id for old in previous],
    )
    signing.forget_cached_keys()
    return row


@dataclass(frozen=True)
class KeyState:
    """The active key as the agency page shows it."""

    key: AgencySigningKey
    trusted: bool
    expired: bool
    expiring_soon: bool
    days_left: int


def key_state(key: AgencySigningKey, now: datetime | None = None) -> KeyState:
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    now = now or datetime.now(UTC)
    certificates = [asn1_x509.Certificate.load(der) for _t, _h, der in pem.unarmor(key.certificates.encode(), True)]
    expired = key.not_after <= now
    return KeyState(
        key=key,
        trusted=signing.chain_trusted(certificates),
        expired=expired,
        expiring_soon=not expired and key.not_after - now <= timedelta(days=EXPIRING_DAYS),
        days_left=max((key.not_after - now).days, 0),
    )


def keys_of(agency: Agency) -> tuple[KeyState | None, list[AgencySigningKey]]:
    """The active key's state and every key the agency had, newest first (one query)."""
    rows = list(
        db.session.scalars(
            select(AgencySigningKey)
            .where(AgencySigningKey.agency_id == agency.id)
            .order_by(AgencySigningKey.uploaded_at.desc(), AgencySigningKey.id.desc())
        )
    )
    active = next((row for row in rows if row.active), None)
    return (key_state(active) if active is not None else None), rows
