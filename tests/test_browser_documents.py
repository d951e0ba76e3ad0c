"""Signed documents in a real browser: the desk receives a dossier through its pages, which issues the signed
receipt; the citizen downloads it from the receipt page ("Tải bản PDF có chữ ký số"); a visitor opens the URL
printed under the QR code and sees "valid", then uploads the PDF on /verify and sees it valid too."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import IssuedDocument
from tests.browser import assert_accessible, new_page, shot
from tests.helpers import do, submit
from tests.test_browser_journey import officer_step, sign_in
from tests.test_household_business import application


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=30)
    return done.stdout.decode()


def test_receipt_pdf_downloaded_and_verified(live_server, browser, demo: Flask, tmp_path: Path) -> None:
    base = live_server.url
    demo.config.update(DOCUMENT_KEYS_DIR=str(tmp_path / "keys"), PORTAL_BASE_URL=base)  # the QR opens this server
    made = demo.test_cli_runner().invoke(args=["documents", "demo-ca"])
    assert made.exit_code == 0, made.output
    dossier = submit("household_business", application(), utcnow() - timedelta(minutes=5))
    db.session.commit()

    # The desk receives the dossier through its pages: the commit queues the job that issues the signed receipt
    # (run in place in the tests' configuration).
    officer_step(browser, base, "tiepnhan@motcua.demo", dossier.code, {"decision": "accept"}, "documents-1-desk")
    db.session.expire_all()
    issued = db.session.scalars(select(IssuedDocument).where(IssuedDocument.dossier_id == dossier.id)).all()
    assert [d.kind for d in issued] == ["receipt"]

    citizen = sign_in(browser, base, "congdan@motcua.demo")
    citizen.goto(f"{base}/documents/dossiers/{dossier.id}/receipt")
    link = citizen.get_by_role("link", name="Tải bản PDF có chữ ký số")
    expect(link).to_be_visible()
    shot(citizen, "documents-2-receipt-page")
    with citizen.expect_download() as download_info:
        link.click()
    pdf = tmp_path / "giay-tiep-nhan.pdf"
    download_info.value.save_as(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert b"/ByteRange" in data

    text = pdf_text(pdf)
    assert dossier.code in text
    assert "Võ Thị Mai" in text
    printed = re.search(r"(http://127\.0\.0\.1:\d+/verify/[A-Z0-9]{10})", re.sub(r"\s+", "", text))
    assert printed, text
    url = printed.group(1)
    assert url == f"{base}/verify/{issued[0].code}"
    citizen.context.close()

    visitor = new_page(browser)  # anyone, not signed in, who scanned the QR code
    visitor.goto(url)
    verdict = visitor.locator("[data-verdict]")
    expect(verdict).to_have_attribute("data-verdict", "valid")
    expect(visitor.get_by_role("heading", name="Còn hiệu lực")).to_be_visible()
    expect(visitor.locator("body")).to_contain_text(dossier.code)
    shot(visitor, "documents-3-verify-code")
    assert_accessible(visitor)

    visitor.goto(f"{base}/verify")
    visitor.locator("input[name=document]").set_input_files(str(pdf))
    visitor.get_by_role("button", name="Kiểm tra tệp").click()
    expect(visitor.locator("[data-verdict]")).to_have_attribute("data-verdict", "valid")
    expect(visitor.locator("#check-title")).to_contain_text("Hợp lệ")
    shot(visitor, "documents-4-verify-upload")
    assert_accessible(visitor)
    visitor.context.close()


def test_result_pdf_issued_by_the_leader_downloaded_and_verified(
    live_server, browser, demo: Flask, tmp_path: Path
) -> None:
    base = live_server.url
    demo.config.update(DOCUMENT_KEYS_DIR=str(tmp_path / "keys"), PORTAL_BASE_URL=base)
    made = demo.test_cli_runner().invoke(args=["documents", "demo-ca"])
    assert made.exit_code == 0, made.output
    dossier = submit("household_business", application(), utcnow() - timedelta(hours=3))
    do(dossier, "reception_check", "tiepnhan@motcua.demo", {"decision": "accept"}, utcnow() - timedelta(hours=2))
    approve = {"decision": "approve", "registration_number": "HKD-0042"}
    do(dossier, "specialist_review", "dkkd@motcua.demo", approve, utcnow() - timedelta(hours=1))

    # The leader approves through the pages: that commit issues the signed certificate.
    officer_step(browser, base, "lanhdao@motcua.demo", dossier.code, {"decision": "approve"}, "documents-5-leader")
    db.session.expire_all()
    [result] = db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.dossier_id == dossier.id, IssuedDocument.kind == "result")
    ).all()

    citizen = sign_in(browser, base, "congdan@motcua.demo", phone=True)
    citizen.goto(f"{base}/my/dossiers/{dossier.id}")
    citizen.get_by_role("link", name="Kết quả giải quyết thủ tục hành chính").click()
    expect(citizen.locator("body")).to_contain_text("HKD-0042")
    shot(citizen, "documents-6-result-page")
    assert_accessible(citizen)
    with citizen.expect_download() as download_info:
        citizen.get_by_role("link", name="Tải bản PDF có chữ ký số").click()
    pdf = tmp_path / "giay-chung-nhan.pdf"
    download_info.value.save_as(pdf)
    text = pdf_text(pdf)
    assert "GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH" in text
    assert "HKD-0042" in text
    assert dossier.code in text
    printed = re.search(r"(http://127\.0\.0\.1:\d+/verify/[A-Z0-9]{10})", re.sub(r"\s+", "", text))
    assert printed, text
    assert printed.group(1) == f"{base}/verify/{result.code}"

    # Downloading it online returned the result: the dossier page says so, and the store keeps the certificate.
    citizen.goto(f"{base}/my/dossiers/{dossier.id}")
    expect(citizen.locator("main")).to_contain_text("Đã trả kết quả")
    citizen.goto(f"{base}/my/documents")
    expect(citizen.locator("main")).to_contain_text("Kết quả thủ tục: Đăng ký hộ kinh doanh")
    shot(citizen, "documents-7-store")
    citizen.context.close()

    visitor = new_page(browser)  # whoever the citizen shows the paper to scans its QR code
    visitor.goto(printed.group(1))
    expect(visitor.locator("[data-verdict]")).to_have_attribute("data-verdict", "valid")
    expect(visitor.locator("body")).to_contain_text(dossier.code)
    shot(visitor, "documents-8-verify-result")
    visitor.context.close()
