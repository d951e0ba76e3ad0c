"""The operations centre in a real browser: a leader opens today's figures, sees them move after a new submission
without reloading, drills from a figure to its dossiers, and opens where dossiers wait, with the figures on the
procedure's diagram. Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
import re

from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import expect

from portal.core.time import utcnow
from tests.browser import assert_accessible, shot
from tests.helpers import do, version_of
from tests.test_browser_journey import sign_in
from tests.test_inbox_pages import DESK, LEADER, new_dossier


def test_a_leader_watches_today_and_finds_where_dossiers_wait(live_server, browser, demo: Flask) -> None:
    demo.config["IOC_REFRESH_SECONDS"] = 1  # the page asks for new figures every second instead of 30
    first = new_dossier("Tạp hóa Sáng Sớm")
    do(first, "reception_check", DESK, {"decision": "accept"}, utcnow())
    new_dossier("Tạp hóa Chờ Tiếp Nhận")

    page = sign_in(browser, live_server.url, LEADER)
    errors: list[str] = []  # a CSP refusal (an inline style or script, eval) is reported as a console error
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.get_by_role("link", name="Trung tâm điều hành").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trung tâm điều hành")
    received = page.locator('[data-figure="received"]')
    expect(received).to_have_text("2")
    expect(page.locator("#ioc-channel-chart")).to_be_visible()  # Chart.js drew beside its table
    assert page.evaluate("document.getElementById('ioc-channel-chart').width") > 0
    expect(page.get_by_role("table", name="Hồ sơ tiếp nhận hôm nay, theo kênh")).to_be_visible()
    assert_accessible(page, "the operations centre, today")
    shot(page, "ioc-today")

    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded
    third = new_dossier("Tạp hóa Vừa Nộp")  # a citizen submits while the leader watches
    expect(received).to_have_text("3", timeout=10_000)
    expect(page.locator('[data-channel="2"]')).to_have_text("3")
    assert page.evaluate("window.sameDocument === true")
    shot(page, "ioc-today-updated")

    page.get_by_role("link", name="3 Tiếp nhận hôm nay").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiếp nhận hôm nay")
    table = page.get_by_role("table")
    expect(table.get_by_role("rowheader", name=third.code)).to_be_visible()
    expect(table.get_by_role("rowheader", name=first.code)).to_be_visible()
    assert_accessible(page, "the dossiers behind a figure")
    shot(page, "ioc-drill-down")
    table.get_by_role("link", name=first.code).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first.code)

    page.goto(f"{live_server.url}/ioc/")
    page.get_by_role("link", name="Hồ sơ chờ ở đâu").click()
    page.get_by_label("Phiên bản thủ tục").select_option(str(version_of("household_business").id))
    page.get_by_role("button", name="Xem").click()
    diagram = page.locator("#ioc-diagram")
    expect(diagram.locator(".djs-container")).to_be_visible()
    step = diagram.locator(".ioc-overlay", has_text="2 đang chờ")  # the desk: two dossiers wait there
    expect(step).to_be_visible()
    expect(diagram.locator(".ioc-flow-overlay").first).to_be_visible()  # the arrows carry how often they were taken
    expect(page.get_by_role("table", name=re.compile("Các bước ùn tắc"))).to_be_visible()
    expect(page.locator("#ioc-groups-chart")).to_be_visible()
    assert_accessible(page, "where dossiers wait")
    shot(page, "ioc-waiting")

    with page.expect_download() as download:  # the bottleneck table, as a spreadsheet
        page.get_by_role("link", name="Excel (XLSX) — Các bước ùn tắc").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "Bước"
    assert sorted(row[2] for row in rows[1:] if row[2]) == [1, 2]  # two wait at the desk, the accepted one further on
    assert download.value.suggested_filename.endswith(".xlsx")
    assert errors == []


def test_the_operations_centre_on_a_phone(live_server, browser, demo: Flask) -> None:
    new_dossier("Tạp hóa Điện Thoại")
    page = sign_in(browser, live_server.url, LEADER, phone=True)
    page.goto(f"{live_server.url}/ioc/")
    expect(page.locator('[data-figure="received"]')).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # nothing runs off
    assert_accessible(page, "the operations centre on a phone")
    shot(page, "ioc-today-phone")
    page.goto(f"{live_server.url}/ioc/waiting")
    expect(page.locator("#ioc-diagram .djs-container")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "ioc-waiting-phone")
