"""Key material for SAML signing: self-signed certificates made with `cryptography`, and certificate pins.

Private keys are generated on the machine that uses them and written with owner-only permissions; none is ever
committed. Production installs its own key pair (SSO_SP_CERT / SSO_SP_KEY) and turns generation off.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CERT_VALID_DAYS = 3650


def ensure_keypair(cert_path: str | Path, key_path: str | Path, common_name: str) -> None:
    """Create a self-signed RSA-2048 certificate and its key at these paths unless both exist."""
    cert_file, key_file = Path(cert_path), Path(key_path)
    if cert_file.exists() and key_file.exists():
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=CERT_VALID_DAYS))
        .sign(key, hashes.SHA256())
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Owner-only from the first byte: the key never sits on disk readable by others.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def cert_body(pem_or_base64: str) -> str:
    """The base64 body of a certificate, without PEM armour or whitespace (the form SAML metadata uses)."""
    text = re.sub(r"-----(BEGIN|END) CERTIFICATE-----", "", pem_or_base64)
    return "".join(text.split())


def fingerprint(pem_or_base64: str) -> str:
    """SHA-256 of the certificate's DER bytes, as lowercase hex (what `openssl x509 -fingerprint -sha256` shows,
    without the colons)."""
    der = base64.b64decode(cert_body(pem_or_base64))
    return hashlib.sha256(der).hexdigest()


def normalize_fingerprint(value: str) -> str:
    return value.replace(":", "").replace(" ", "").strip().lower()
