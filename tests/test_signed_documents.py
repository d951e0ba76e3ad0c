"""Signed one-stop-shop documents (issue 14, first slice): the receipt is issued as a signed PDF once the desk
receives the dossier; pyHanko validates it against the portal's trust roots; /verify tells anyone whether a code
or an uploaded PDF is a document the portal issued, valid or revoked."""

from __future__ import annotations

import hashlib
import re
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from portal.core.storage import storage
from portal.documents.issuing import revoke_document
from portal.documents.signing import outside_event_loop
from portal.extensions import db
from portal.models import DocumentKind, Dossier, IssuedDocument
from tests.helpers import do, submit, user, vn
from tests.test_citizen_support import other_citizen
from tests.test_household_business import application
from tests.web import csrf, login

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
ADMIN = "admin@motcua.demo"
EN = {"Cookie": "lang=en"}


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo CA and agency keys for the module (agency codes are the same in every test's demo data)."""
    return tmp_path_factory.mktemp("document-keys")


@pytest.fixture
def signing_demo(demo: Flask, keys_dir: Path) -> Flask:
    demo.config["DOCUMENT_KEYS_DIR"] = str(keys_dir)
    result = demo.test_cli_runner().invoke(args=["documents", "demo-ca"])
    assert result.exit_code == 0, result.output
    assert (keys_dir / "000.00.31.H56.p12").is_file()
    return demo


def received() -> Dossier:
    """A household business dossier the desk received: the receipt is issued by the job queued at that commit."""
    dossier = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    return do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))


def receipt_of(dossier: Dossier) -> IssuedDocument:
    found = db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.dossier_id == dossier.id, IssuedDocument.kind == "receipt")
    ).all()
    assert len(found) == 1, found
    return found[0]


def pyhanko_status(data: bytes, keys_dir: Path):
    """pyHanko's own verdict, with the demo CA as the only trust root (independent of the portal's checker)."""
    from asn1crypto import pem, x509

    _kind, _headers, der = pem.unarmor((keys_dir / "demo-ca.pem").read_bytes())
    context = ValidationContext(trust_roots=[x509.Certificate.load(der)], allow_fetching=False)
    reader = PdfFileReader(BytesIO(data))
    assert len(reader.embedded_signatures) == 1
    # Off the event loop a browser test may leave running in this thread (see signing.outside_event_loop).
    return outside_event_loop(lambda: validate_pdf_signature(reader.embedded_signatures[0], context))


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=30)
    return done.stdout.decode()


def tampered(data: bytes) -> bytes:
    """One byte changed inside the first content stream (the file still parses; the signed bytes differ)."""
    at = data.index(b"stream\n") + 20
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def upload(client: FlaskClient, data: bytes, name: str = "giay-tiep-nhan.pdf", headers: dict | None = None):
    token = csrf(client, "/verify")
    return client.post(
        "/verify",
        data={"csrf_token": token, "document": (BytesIO(data), name, "application/pdf")},
        content_type="multipart/form-data",
        headers=headers or {},
    )


def verdict(html: str) -> str:
    match = re.search(r'data-verdict="([a-z_]+)"', html)
    assert match, "no verdict on the page"
    return match.group(1)


def test_the_receipt_is_issued_as_a_signed_pdf_that_pyhanko_validates(signing_demo: Flask, tmp_path: Path) -> None:
    dossier = received()
    document = receipt_of(dossier)
    data = storage().get(document.storage_key)
    assert hashlib.sha256(data).hexdigest() == document.sha256
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}", document.code)

    status = pyhanko_status(data, Path(signing_demo.config["DOCUMENT_KEYS_DIR"]))
    assert status.intact, status.pretty_print_details()
    assert status.valid
    assert status.trusted
    assert status.bottom_line
    assert dossier.agency.name in str(status.signing_cert.subject.human_friendly)

    text = pdf_text(data, tmp_path)
    assert dossier.code in text
    assert dossier.applicant.full_name in text  # Vietnamese text, extracted: the fonts are embedded with their maps
    assert "GIẤY TIẾP NHẬN" in text.upper() or "Giấy tiếp nhận" in text
    assert f"{document.code[:5]}-{document.code[5:]}" in text  # the short code is printed
    assert "Đã ký số" in text or "ĐÃ KÝ SỐ" in text  # the visible signature block
    assert dossier.agency.name in text

    broken = pyhanko_status(tampered(data), Path(signing_demo.config["DOCUMENT_KEYS_DIR"]))
    assert not broken.intact
    assert not broken.bottom_line


def test_verify_page_shows_valid_then_revoked(signing_demo: Flask, client: FlaskClient) -> None:
    dossier = received()
    document = receipt_of(dossier)

    page = client.get(f"/verify/{document.code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert verdict(html) == "valid"
    assert "Còn hiệu lực" in html  # Vietnamese first
    assert dossier.code in html
    assert document.sha256 in html
    assert dossier.agency.name in html
    assert dossier.applicant.full_name not in html  # a public page: no personal data

    typed = client.get(f"/verify?code={document.code[:5].lower()}-{document.code[5:].lower()}")
    assert typed.status_code == 302
    assert typed.headers["Location"].endswith(f"/verify/{document.code}")

    revoke_document(document, "Cấp nhầm hồ sơ", user(ADMIN))
    db.session.commit()
    html = client.get(f"/verify/{document.code}", headers=EN).get_data(as_text=True)
    assert verdict(html) == "revoked"
    assert "Revoked" in html
    assert "Cấp nhầm hồ sơ" in html


def test_an_unknown_code_says_so(signing_demo: Flask, client: FlaskClient) -> None:
    page = client.get("/verify/ABCDE23456")
    assert page.status_code == 404
    assert verdict(page.get_data(as_text=True)) == "unknown"
    assert "Không tìm thấy mã xác thực" in page.get_data(as_text=True)
    english = client.get("/verify/not-a-code", headers=EN)
    assert english.status_code == 404
    assert "Unknown verification code" in english.get_data(as_text=True)


def test_uploading_a_pdf_checks_signature_and_hash(signing_demo: Flask, client: FlaskClient) -> None:
    document = receipt_of(received())
    data = storage().get(document.storage_key)

    good = upload(client, data, headers=EN)
    assert good.status_code == 200
    assert verdict(good.get_data(as_text=True)) == "valid"
    assert "Valid: this PDF is a document the portal issued" in good.get_data(as_text=True)

    bad = upload(client, tampered(data))
    assert bad.status_code == 200
    html = bad.get_data(as_text=True)
    assert verdict(html) == "not_valid"
    assert "Không hợp lệ" in html

    garbage = upload(client, b"MZ\x90\x00 this is not a pdf at all" * 40, name="invoice.pdf", headers=EN)
    assert garbage.status_code == 422
    assert "This file is not a PDF document" in garbage.get_data(as_text=True)

    hostile = (  # a broken cross-reference table and a self-referencing catalog
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\nxref\n0 99999999\n"
        b"trailer << /Root 1 0 R /Size -5 >>\nstartxref\n-1\n%%EOF\n"
    )
    answer = upload(client, hostile, headers=EN)  # a broken cross-reference table: never a 500
    assert answer.status_code == 422
    assert "it is damaged and cannot be read" in answer.get_data(as_text=True)

    deep = b"%PDF-1.7\n1 0 obj\n" + b"[" * 200_000 + b"\nendobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    assert upload(client, deep).status_code == 422  # pyHanko's parser gives up: still a plain answer

    from portal.documents.pdf import html_to_pdf

    unsigned = upload(client, html_to_pdf("<p>Giấy tiếp nhận hồ sơ</p>"), headers=EN)
    assert unsigned.status_code == 200
    assert verdict(unsigned.get_data(as_text=True)) == "not_valid"
    assert "It carries no digital signature." in unsigned.get_data(as_text=True)

    revoke_document(document, "Thay bằng bản cấp lại", user(ADMIN))
    db.session.commit()
    assert verdict(upload(client, data).get_data(as_text=True)) == "revoked"

    no_token = client.post("/verify", data={"document": (BytesIO(data), "a.pdf")}, content_type="multipart/form-data")
    assert no_token.status_code == 400


def test_the_receipt_page_offers_the_signed_pdf_to_those_who_may_see_it(
    signing_demo: Flask, client: FlaskClient
) -> None:
    dossier = received()
    document = receipt_of(dossier)
    login(client, CITIZEN)
    page = client.get(f"/documents/dossiers/{dossier.id}/receipt", headers=EN).get_data(as_text=True)
    assert "Download signed PDF" in page
    link = f"/documents/dossiers/{dossier.id}/signed/{document.code}.pdf"
    assert link in page
    download = client.get(link)
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.get_data() == storage().get(document.storage_key)
    download.close()

    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    login(client, other_citizen())
    assert client.get(link).status_code == 404  # another citizen: the same answer as for no such dossier


def test_issuing_twice_for_one_reception_gives_one_document(signing_demo: Flask) -> None:
    from portal.documents.issuing import issue_document

    dossier = received()
    first = receipt_of(dossier)
    again = issue_document(dossier, DocumentKind.RECEIPT)
    db.session.commit()
    assert again.id == first.id
    first.sha256 = "0" * 64
    with pytest.raises(ValueError, match="immutable"):
        db.session.flush()
    db.session.rollback()


def test_a_supplement_request_is_issued_when_the_specialist_asks(signing_demo: Flask, tmp_path: Path) -> None:
    dossier = received()
    do(
        dossier,
        "specialist_review",
        "dkkd@motcua.demo",
        {"decision": "supplement", "reason": "Thiếu hợp đồng thuê nhà"},
        vn(2026, 3, 3, 10, 0),
    )
    found = db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.dossier_id == dossier.id).order_by(IssuedDocument.id)
    ).all()
    assert [d.kind for d in found] == [DocumentKind.RECEIPT, DocumentKind.SUPPLEMENT_REQUEST]
    data = storage().get(found[1].storage_key)
    assert pyhanko_status(data, Path(signing_demo.config["DOCUMENT_KEYS_DIR"])).bottom_line
    text = pdf_text(data, tmp_path)
    assert "Thiếu hợp đồng thuê nhà" in text
    assert dossier.code in text


def test_looking_up_codes_is_rate_limited(app: Flask, client: FlaskClient) -> None:
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    answers = [client.get(f"/verify/ABCDE2345{n}").status_code for n in range(2, 6)]
    assert answers == [404, 404, 404, 429]


def test_a_pdf_signed_by_a_key_the_portal_does_not_trust_is_not_valid(
    signing_demo: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    from portal.documents.pdf import html_to_pdf
    from portal.documents.signing import sign_pdf

    ours = signing_demo.config["DOCUMENT_KEYS_DIR"]
    signing_demo.config["DOCUMENT_KEYS_DIR"] = str(tmp_path / "forger")  # another CA, with the same agency names
    assert signing_demo.test_cli_runner().invoke(args=["documents", "demo-ca"]).exit_code == 0
    forged = sign_pdf(html_to_pdf("<p>Giấy tiếp nhận hồ sơ</p>"), "000.00.31.H56", reason="x", location="y")
    signing_demo.config["DOCUMENT_KEYS_DIR"] = ours

    answer = upload(client, forged, headers=EN)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert verdict(html) == "not_valid"
    assert "It was not signed with a key the portal trusts." in html


def test_a_page_whose_signed_pdf_is_on_its_way_says_so_and_is_told_when_ready(
    signing_demo: Flask,
    client: FlaskClient,
) -> None:
    from portal.documents.issuing import issue_document

    signing_demo.config["DOCUMENTS_ISSUE_AUTOMATICALLY"] = False  # the job queued at the reception has not run yet
    dossier = received()
    signing_demo.config["DOCUMENTS_ISSUE_AUTOMATICALLY"] = True
    login(client, "congdan@motcua.demo")
    page = client.get(f"/documents/dossiers/{dossier.id}/receipt").get_data(as_text=True)
    assert "Bản PDF có chữ ký số của giấy tờ này đang được chuẩn bị" in page
    status_url = f"/documents/dossiers/{dossier.id}/receipt/signed-status"
    assert f'data-status-url="{status_url}"' in page
    assert client.get(status_url).get_json() == {"ready": False}

    issue_document(dossier, DocumentKind.RECEIPT)  # the job runs
    db.session.commit()
    assert client.get(status_url).get_json() == {"ready": True}
    page = client.get(f"/documents/dossiers/{dossier.id}/receipt").get_data(as_text=True)
    assert "Tải bản PDF có chữ ký số" in page
    assert "đang được chuẩn bị" not in page

    # Someone else's dossier, a document it does not have, an unknown name: 404, as the pages.
    assert client.get(f"/documents/dossiers/{dossier.id}/refusal/signed-status").status_code == 404
    assert client.get(f"/documents/dossiers/{dossier.id}/nothing/signed-status").status_code == 404
    other = signing_demo.test_client()
    login(other, other_citizen())
    assert other.get(status_url).status_code == 404


def test_without_a_key_no_page_promises_a_signed_pdf(demo: Flask, client: FlaskClient, tmp_path: Path) -> None:
    demo.config["DOCUMENT_KEYS_DIR"] = str(tmp_path / "no-keys")
    dossier = received()
    login(client, "congdan@motcua.demo")
    page = client.get(f"/documents/dossiers/{dossier.id}/receipt").get_data(as_text=True)
    assert "Giấy tiếp nhận hồ sơ" in page
    assert "đang được chuẩn bị" not in page
    assert "Tải bản PDF có chữ ký số" not in page
