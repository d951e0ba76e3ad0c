"""Agencies' signing keys configured by administrators: a PKCS#12 uploaded on the agency's admin page (or imported
with `flask documents import-key`) is checked, stored in the database re-encrypted with the portal's passphrase,
and signs the agency's documents from then on; a replaced key stays as history and what it signed still verifies."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from flask import Flask
from flask.testing import FlaskClient
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select

from portal.core.storage import storage
from portal.extensions import db
from portal.models import Agency, AgencySigningKey, AuditLog
from tests.test_signed_documents import pyhanko_status, receipt_of, received, upload, verdict
from tests.web import csrf, login, logout

ADMIN = "admin@motcua.demo"
DESK = "tiepnhan@motcua.demo"
COMMUNE = "000.00.31.H56"  # the agency of the household business dossiers (tests/test_signed_documents.received)
EN = {"Cookie": "lang=en"}
PASSWORD = "Mật-khẩu 2026"


@pytest.fixture
def ca(demo: Flask, tmp_path: Path) -> Path:
    """The demo CA (its certificate is the portal's trust root) and no agency key file: agencies sign with the
    keys administrators upload, nothing else."""
    folder = tmp_path / "document-keys"
    demo.config["DOCUMENT_KEYS_DIR"] = str(folder)
    result = demo.test_cli_runner().invoke(args=["documents", "demo-ca"])
    assert result.exit_code == 0, result.output
    for made in folder.glob("*.p12"):
        made.unlink()
    return folder


def ca_pair(folder: Path) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = serialization.load_pem_private_key((folder / "demo-ca-key.pem").read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key, x509.load_pem_x509_certificate((folder / "demo-ca.pem").read_bytes())


def certificate(
    key,
    issuer: tuple | None,
    *,
    name: str = "UBND xã Thử Nghiệm",
    starts: timedelta = timedelta(days=-1),
    ends: timedelta = timedelta(days=365),
    usage: str = "sign",
) -> x509.Certificate:
    """A certificate for `key`, issued by (CA key, CA certificate), or self-signed when `issuer` is None."""
    now = datetime.now(UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    signer_key, issuer_name = (issuer[0], issuer[1].subject) if issuer else (key, subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + starts)
        .not_valid_after(now + ends)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    bits = {  # digitalSignature, nonRepudiation, keyEncipherment
        "sign": (True, True, False),
        "digital": (True, False, False),
        "encipher": (False, False, True),
    }
    if usage in bits:
        builder = builder.add_extension(x509.KeyUsage(*bits[usage], False, False, False, False, False, False), True)
    return builder.sign(signer_key, hashes.SHA256())


def p12(key, cert, chain=None, password: str = PASSWORD) -> bytes:
    encryption = serialization.BestAvailableEncryption(password.encode())
    return pkcs12.serialize_key_and_certificates(b"test", key, cert, chain, encryption)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def agency_id(code: str = COMMUNE) -> int:
    found = db.session.scalar(select(Agency.id).where(Agency.code == code))
    assert found is not None
    return found


def install(client: FlaskClient, data: bytes, password: str = PASSWORD, name: str = "khoa.p12", headers=None):
    page = f"/admin/agencies/{agency_id()}"
    token = csrf(client, page)
    return client.post(
        f"{page}/signing-key",
        data={"csrf_token": token, "file": (BytesIO(data), name, "application/x-pkcs12"), "password": password},
        content_type="multipart/form-data",
        headers=headers or {},
    )


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def signer_fingerprint(pdf: bytes) -> str:
    signature = PdfFileReader(BytesIO(pdf)).embedded_signatures[0]
    return hashlib.sha256(signature.signer_cert.dump()).hexdigest()


def keys() -> list[AgencySigningKey]:
    db.session.expire_all()
    return list(db.session.scalars(select(AgencySigningKey).order_by(AgencySigningKey.id)))


def test_an_administrator_installs_a_key_and_the_agency_signs_with_it(ca: Path, client: FlaskClient) -> None:
    login(client, ADMIN)
    page = client.get(f"/admin/agencies/{agency_id()}", headers=EN).get_data(as_text=True)
    assert 'data-signing-key="none"' in page
    assert "No signing key" in page

    key = new_key()
    cert = certificate(key, ca_pair(ca))
    uploaded = p12(key, cert, [ca_pair(ca)[1]])
    answer = install(client, uploaded, headers=EN)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    assert answer.headers["Location"].endswith(f"/admin/agencies/{agency_id()}#signing-key")

    page = client.get(f"/admin/agencies/{agency_id()}", headers=EN).get_data(as_text=True)
    assert "The signing key is installed" in page
    assert f'data-signing-key="{fingerprint(cert)}"' in page
    assert fingerprint(cert) in page
    assert "UBND xã Thử Nghiệm" in page  # the subject
    assert "MotCua Demo CA" in page  # the issuer
    assert 'data-trusted="yes"' in page
    assert 'data-status="current"' in page
    vietnamese = client.get(f"/admin/agencies/{agency_id()}").get_data(as_text=True)
    assert "Khóa ký số" in vietnamese

    [row] = keys()
    assert row.active
    assert row.agency_id == agency_id()
    assert row.fingerprint == fingerprint(cert)
    assert row.uploaded_by.email == ADMIN
    assert row.pkcs12 != uploaded  # re-encrypted: the administrator's password does not open it, the portal's does
    with pytest.raises(ValueError):  # noqa: PT011
        pkcs12.load_key_and_certificates(row.pkcs12, PASSWORD.encode())
    stored = pkcs12.load_key_and_certificates(row.pkcs12, b"motcua-demo")
    assert stored[1] is not None
    assert fingerprint(stored[1]) == fingerprint(cert)
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "admin.signing_key_installed")).one()
    assert audit.object_id == str(row.id)
    assert audit.details["fingerprint"] == fingerprint(cert)
    assert PASSWORD not in str(audit.details)

    dossier = received()  # the receipt is issued by the job queued at the desk's commit: no key file, a database key
    assert dossier.agency.code == COMMUNE
    data = storage().get(receipt_of(dossier).storage_key)
    assert signer_fingerprint(data) == fingerprint(cert)
    assert pyhanko_status(data, ca).bottom_line
    assert "UBND xã Thử Nghiệm" in receipt_of(dossier).signer_subject
    check = upload(client, data, headers=EN)
    assert verdict(check.get_data(as_text=True)) == "valid"


def bad_files(ca: Path) -> dict[str, tuple[bytes, str, str]]:
    """(file, password, the English message) of each refused upload."""
    authority = ca_pair(ca)
    key = new_key()
    good = certificate(key, authority)
    other = certificate(new_key(), authority)
    return {
        "not a PKCS#12": (b"%PDF-1.7\nthis is a PDF, not a key\n" * 20, PASSWORD, "is not a PKCS#12 key file"),
        "empty": (b"", PASSWORD, "The file is empty"),
        "wrong password": (p12(key, good), "not the password", "The password does not open this key file"),
        "no password given": (p12(key, good), "", "The password does not open this key file"),
        "no private key": (p12(None, good), PASSWORD, "holds no private key"),
        "no certificate": (p12(key, None), PASSWORD, "holds no certificate"),
        "key and certificate mismatch": (p12(key, None, [other]), PASSWORD, "does not belong to its private key"),
        "expired": (
            p12(key, certificate(key, authority, starts=timedelta(days=-400), ends=timedelta(days=-1))),
            PASSWORD,
            "The certificate has expired",
        ),
        "not yet valid": (
            p12(key, certificate(key, authority, starts=timedelta(days=2), ends=timedelta(days=400))),
            PASSWORD,
            "The certificate is not valid yet",
        ),
        "too large": (b"0" * (64 * 1024 + 1), PASSWORD, "too large for a key file (at most 64 KiB)"),
        "not for signatures": (
            p12(key, certificate(key, authority, usage="encipher")),
            PASSWORD,
            "not for digital signatures",
        ),
        "DSA-like garbage in DER": (b"\x30\x82\x00\x05\x02\x01\x03\x30\x00", PASSWORD, "is not a PKCS#12 key file"),
    }


def test_bad_key_files_are_refused_plainly_and_nothing_is_stored(ca: Path, client: FlaskClient) -> None:
    login(client, ADMIN)
    for case, (data, password, message) in bad_files(ca).items():
        answer = install(client, data, password, headers=EN)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 422, case
        assert message in html, (case, re.findall(r'class="error-message"[^>]*>([^<]*)', html))
        assert "data-error-summary" in html, case
        assert keys() == [], case
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action.like("%signing%"))) == 0

    # Vietnamese first, and the file field's own check
    answer = install(client, bad_files(ca)["wrong password"][0], "sai")
    assert answer.status_code == 422
    assert "Mật khẩu không mở được tệp khóa này" in answer.get_data(as_text=True)
    token = csrf(client, f"/admin/agencies/{agency_id()}")
    missing = client.post(
        f"/admin/agencies/{agency_id()}/signing-key",
        data={"csrf_token": token, "password": PASSWORD},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 422
    assert keys() == []


def test_only_administrators_install_keys(ca: Path, client: FlaskClient) -> None:
    key = new_key()
    data = p12(key, certificate(key, ca_pair(ca)))
    target = f"/admin/agencies/{agency_id()}/signing-key"
    anonymous = client.post(target, data={"file": (BytesIO(data), "k.p12"), "password": PASSWORD})
    assert anonymous.status_code in (302, 400, 401, 403)
    login(client, DESK)
    token = csrf(client, "/")
    assert client.get(f"/admin/agencies/{agency_id()}").status_code == 403
    answer = client.post(
        target,
        data={"csrf_token": token, "file": (BytesIO(data), "k.p12"), "password": PASSWORD},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 403
    logout(client)
    login(client, ADMIN)
    no_token = client.post(
        target, data={"file": (BytesIO(data), "k.p12"), "password": PASSWORD}, content_type="multipart/form-data"
    )
    assert no_token.status_code in (400, 422)
    assert keys() == []


def test_replacing_a_key_keeps_history_and_what_the_old_key_signed(ca: Path, client: FlaskClient) -> None:
    login(client, ADMIN)
    first_key, second_key = new_key(), new_key()
    first = certificate(first_key, ca_pair(ca), name="UBND xã Khóa Cũ")
    second = certificate(second_key, ca_pair(ca), name="UBND xã Khóa Mới")
    assert install(client, p12(first_key, first)).status_code == 302
    old_document = storage().get(receipt_of(received()).storage_key)
    assert signer_fingerprint(old_document) == fingerprint(first)

    assert install(client, p12(second_key, second)).status_code == 302
    new_document = storage().get(receipt_of(received()).storage_key)
    assert signer_fingerprint(new_document) == fingerprint(second)

    rows = keys()
    assert [(r.fingerprint, r.active) for r in rows] == [(fingerprint(first), False), (fingerprint(second), True)]
    page = client.get(f"/admin/agencies/{agency_id()}", headers=EN).get_data(as_text=True)
    assert f'data-signing-key="{fingerprint(second)}"' in page
    assert "Key history" in page
    assert f'data-key="{fingerprint(first)}"' in page
    assert "Replaced" in page
    for document in (old_document, new_document):
        assert verdict(upload(client, document).get_data(as_text=True)) == "valid"
    installs = db.session.scalars(select(AuditLog).where(AuditLog.action == "admin.signing_key_installed")).all()
    assert [a.details["replaced"] for a in installs] == [[], [rows[0].id]]


def test_an_untrusted_or_expiring_key_is_installed_with_a_warning(ca: Path, client: FlaskClient) -> None:
    login(client, ADMIN)
    key = new_key()
    answer = install(client, p12(key, certificate(key, None, ends=timedelta(days=10))), headers=EN)
    assert answer.status_code == 302
    page = client.get(f"/admin/agencies/{agency_id()}", headers=EN).get_data(as_text=True)
    assert "The portal does not trust this certificate" in page
    assert 'data-trusted="no"' in page
    assert 'data-status="expiring"' in page
    assert re.search(r"Expires in (9|10) days", page)

    ec_key = ec.generate_private_key(ec.SECP256R1())  # an EC key from the trusted CA, for digital signatures only
    assert install(client, p12(ec_key, certificate(ec_key, ca_pair(ca), usage="digital"))).status_code == 302
    page = client.get(f"/admin/agencies/{agency_id()}", headers=EN).get_data(as_text=True)
    assert 'data-trusted="yes"' in page
    data = storage().get(receipt_of(received()).storage_key)
    assert signer_fingerprint(data) == keys()[-1].fingerprint
    assert verdict(upload(client, data).get_data(as_text=True)) == "valid"


def test_operators_import_a_key_from_the_command_line(ca: Path, client: FlaskClient, tmp_path: Path) -> None:
    runner = client.application.test_cli_runner()
    key = new_key()
    cert = certificate(key, ca_pair(ca))
    path = tmp_path / "ubnd.pfx"
    path.write_bytes(p12(key, cert))

    refused = runner.invoke(args=["documents", "import-key", COMMUNE, str(path), "--password", "wrong"])
    assert refused.exit_code != 0
    assert keys() == []
    unknown = runner.invoke(args=["documents", "import-key", "no-such-agency", str(path), "--password", PASSWORD])
    assert unknown.exit_code != 0
    assert "no-such-agency" in unknown.output

    prompted = runner.invoke(args=["documents", "import-key", COMMUNE, str(path)], input=f"{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert fingerprint(cert) in prompted.output
    [row] = keys()
    assert row.active
    assert row.uploaded_by_id is None
    assert row.fingerprint == fingerprint(cert)
    installs = select(func.count()).select_from(AuditLog).where(AuditLog.object_type == "AgencySigningKey")
    assert db.session.scalar(installs) == 1

    data = storage().get(receipt_of(received()).storage_key)
    assert signer_fingerprint(data) == fingerprint(cert)
    login(client, ADMIN)
    assert fingerprint(cert) in client.get(f"/admin/agencies/{agency_id()}").get_data(as_text=True)
