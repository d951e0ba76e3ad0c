"""The main journey in a real browser: a citizen applies on a phone with an attachment, the desk asks for one
more document, the citizen answers, the officers process the dossier, the citizen sees the result and rates it.
Screenshots of each stage go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Dossier, Rating, Status
from tests.browser import assert_accessible, new_page, shot

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def sign_in(browser, base: str, email: str, phone: bool = False):
    page = new_page(browser, phone=phone)
    page.goto(f"{base}/login")
    assert_accessible(page)
    page.locator("[name=identifier]").fill(email)
    page.locator("[name=password]").fill("MotCua@2026")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))
    assert_accessible(page)
    return page


def choose(page, name: str, value: str) -> None:
    """Pick an option whether the form shows it as a select or as radio buttons."""
    field = page.locator(f"[name={name}]").first
    if field.evaluate("el => el.tagName") == "SELECT":
        field.select_option(value)
    else:
        page.locator(f'input[name="{name}"][value="{value}"]').check()


def attach(page, name: str, path: Path) -> None:
    page.locator(f"input[name={name}__upload]").set_input_files(str(path))
    # The upload runs in the background with a progress bar; the field then holds the attachment's id.
    expect(page.locator(f"input[name={name}]")).not_to_have_value("")


def officer_step(browser, base: str, email: str, code: str, data: dict[str, str], name: str) -> None:
    page = sign_in(browser, base, email)
    link = page.get_by_role("link", name=re.compile(re.escape(code)))
    for tab in ("new", "in_process"):  # the desk's checks are new dossiers; later steps are in process
        page.goto(f"{base}/inbox/?tab={tab}")
        if link.count():
            break
    shot(page, f"{name}-inbox")
    assert_accessible(page)  # the inbox, its tabs and deadline tags
    link.first.click()
    for field, value in data.items():
        if field in ("decision", "delivery_method"):
            choose(page, field, value)
        else:
            page.locator(f"[name={field}]").fill(value)
    shot(page, name)
    assert_accessible(page)  # the task page with its form filled in
    page.locator("form[enctype] button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/inbox/"))
    page.context.close()


def test_apply_supplement_process_and_rate(live_server, browser, demo: Flask, tmp_path: Path) -> None:
    base = live_server.url
    document = tmp_path / "giay-chung-sinh.pdf"
    document.write_bytes(PDF)

    citizen = sign_in(browser, base, "congdan@motcua.demo", phone=True)
    citizen.goto(f"{base}/procedures/birth_registration/apply")
    citizen.locator("[name=child_full_name]").fill("Nguyễn Minh An")
    citizen.locator("[name=child_birth_date]").focus()  # leaving a field saves the draft
    expect(citizen.locator("[data-draft-status]")).not_to_be_empty()
    # The citizen leaves, then finds the unfinished application again from My dossiers.
    citizen.goto(f"{base}/my/dossiers")
    expect(citizen.get_by_role("heading", name="Bản nháp chưa gửi")).to_be_visible()
    shot(citizen, "0-draft-in-my-dossiers-phone")
    citizen.get_by_role("link", name=re.compile(r"^Tiếp tục")).click()
    expect(citizen.locator("[name=child_full_name]")).to_have_value("Nguyễn Minh An")
    citizen.locator("[name=child_birth_date]").fill("2026-02-20")
    choose(citizen, "child_sex", "male")
    citizen.locator("[name=child_birth_place]").fill("Bệnh viện Đa khoa tỉnh")
    choose(citizen, "applicant_relationship", "mother")
    attach(citizen, "birth_certificate_file", document)
    shot(citizen, "1-apply-phone")
    assert_accessible(citizen)
    citizen.locator("form.step-form button[type=submit]").click()
    citizen.wait_for_url(re.compile(r"/receipt"))
    shot(citizen, "2-receipt-phone")
    assert_accessible(citizen)
    # Printed, the receipt is the receipt alone: no "sent" message, no menu.
    expect(citizen.locator(".flash-success")).to_be_visible()
    citizen.emulate_media(media="print")
    expect(citizen.locator(".flash-success")).to_be_hidden()
    expect(citizen.locator(".site-header")).to_be_hidden()
    expect(citizen.locator(".receipt")).to_be_visible()
    citizen.emulate_media(media="screen")
    code = re.search(r"000\.00\.31\.H56-\d{6}-\d{4}", citizen.content()).group(0)

    officer_step(
        browser,
        base,
        "tiepnhan@motcua.demo",
        code,
        {"decision": "supplement", "reason": "Thiếu bản chính giấy chứng sinh"},
        "3-desk-asks-supplement",
    )

    citizen.goto(f"{base}/my/dossiers")
    assert_accessible(citizen)
    citizen.get_by_role("link", name=re.compile(r"bổ sung", re.IGNORECASE)).first.click()
    assert "Thiếu bản chính giấy chứng sinh" in citizen.content()
    attach(citizen, "supplement_documents", document)
    shot(citizen, "4-answer-supplement-phone")
    assert_accessible(citizen)
    citizen.locator("form button[type=submit]").last.click()
    citizen.wait_for_load_state()

    officer_step(browser, base, "tiepnhan@motcua.demo", code, {"decision": "accept"}, "5-desk-accepts")
    officer_step(browser, base, "hotich@motcua.demo", code, {"decision": "approve"}, "6-civil-status")
    officer_step(browser, base, "lanhdao@motcua.demo", code, {"decision": "approve"}, "7-leader-signs")
    officer_step(browser, base, "tiepnhan@motcua.demo", code, {"delivery_method": "counter"}, "8-desk-returns")

    dossier = db.session.scalar(db.select(Dossier).where(Dossier.code == code))
    assert dossier.status == Status.RETURNED

    citizen.goto(f"{base}/my/dossiers/{dossier.id}")
    assert "Đã trả kết quả" in citizen.content()
    shot(citizen, "9-result-phone")
    assert_accessible(citizen)  # the dossier page: status, timeline, diagram, documents
    citizen.goto(f"{base}/my/dossiers/{dossier.id}/rate")
    choose(citizen, "level", "3")
    citizen.locator("[name=comment]").fill("Nhanh, cán bộ hướng dẫn tận tình.")
    citizen.locator("form button[type=submit]").last.click()
    citizen.wait_for_load_state()
    shot(citizen, "10-rated-phone")
    assert_accessible(citizen)
    rating = db.session.scalar(db.select(Rating).where(Rating.dossier_id == dossier.id))
    assert rating.level == 3
