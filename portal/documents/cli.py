"""`flask documents …`: the demo CA and agency keys that sign issued documents in the embedded default."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.extensions import db
from portal.models import Agency

from . import signing

documents_cli = AppGroup("documents", help="Signed documents: keys and certificates.")

CA_CERT = "demo-ca.pem"
CA_KEY = "demo-ca-key.pem"
CA_YEARS = 10
AGENCY_YEARS = 3


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, common[:64]),
        ]
    )


def _write_private(path: Path, data: bytes) -> None:
    """A secret file readable by its owner only, written whole (no half-written key on a crash)."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    temporary.replace(path)


def _ca(folder: Path) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """The demo CA in `folder`, made on first use; its certificate is also the portal's trust root."""
    cert_path, key_path = folder / CA_CERT, folder / CA_KEY
    if cert_path.is_file() and key_path.is_file():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise click.ClickException(f"{key_path} is not the demo CA's RSA key")
        return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name("MotCua Demo CA (not for production)", "MotCua demo")
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(
        key_path,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def agency_p12(agency: Agency, ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate, passphrase: bytes) -> bytes:
    """A signing key and certificate for the agency, issued by the CA, as PKCS#12 with the CA in its chain."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(agency.name, agency.name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * AGENCY_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )  # digitalSignature, nonRepudiation (contentCommitment)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(passphrase)
    return pkcs12.serialize_key_and_certificates(agency.code.encode(), key, cert, [ca_cert], encryption)


@documents_cli.command("demo-ca")
@click.option("--force", is_flag=True, help="Replace the agencies' existing keys (the CA is kept).")
def demo_ca_command(force: bool) -> None:
    """Make a demo CA and a signing key + certificate for each agency, in DOCUMENT_KEYS_DIR (not for production)."""
    folder = signing.keys_dir()
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca(folder)
    roots = signing.trust_roots_path()
    pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    if not roots.is_file() or pem not in roots.read_bytes():
        with roots.open("ab") as handle:
            handle.write(pem)
    if not current_app.config.get("DOCUMENT_KEY_PASSPHRASE"):
        raise click.ClickException("set DOCUMENT_KEY_PASSPHRASE: it protects the agencies' keys")
    passphrase = str(current_app.config["DOCUMENT_KEY_PASSPHRASE"]).encode()
    made = kept = 0
    for agency in db.session.scalars(select(Agency).order_by(Agency.code)):
        path = signing.key_path(agency.code)
        if path.is_file() and not force:
            kept += 1
            continue
        _write_private(path, agency_p12(agency, ca_key, ca_cert, passphrase))
        made += 1
    db.session.rollback()
    click.echo(f"demo CA: {folder / CA_CERT}; trust roots: {roots}; agency keys made: {made}, kept: {kept}")


@documents_cli.command("import-key")
@click.argument("agency_code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--password",
    prompt="Password of the key file",
    hide_input=True,
    default="",
    show_default=False,
    help="The PKCS#12 file's password (asked for when not given).",
)
def import_key_command(agency_code: str, file: Path, password: str) -> None:
    """Install FILE (a PKCS#12, .p12 or .pfx) as the agency's signing key, as its admin page does: the file is
    checked, stored in the database re-encrypted with DOCUMENT_KEY_PASSPHRASE, and the previous key kept as history."""
    from portal.admin.services.signing_keys import MAX_BYTES, install_key
    from portal.core.errors import ServiceError
    from portal.core.web import unit_of_work

    agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise click.ClickException(f"there is no agency with the code {agency_code!r}")
    with file.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    try:
        with unit_of_work():
            key = install_key(agency, data, password, None)
            summary = f"{key.subject}; SHA-256 {key.fingerprint}; valid until {key.not_after:%Y-%m-%d}"
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"signing key of {agency.code} installed: {summary}")
