"""In a real browser on a phone: the citizen asked for documents sees what is missing on the dossier page, opens
the request slip, goes from it to the answer form, and finds the same links in the notifications."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import expect

from portal.core.time import utcnow
from tests.browser import assert_accessible, shot
from tests.helpers import do
from tests.test_browser_journey import sign_in
from tests.test_citizen_requests import MISSING
from tests.test_inbox_pages import DESK, new_dossier


def test_the_citizen_finds_what_is_missing_and_answers_from_the_slip(live_server, browser, demo: Flask) -> None:
    dossier = new_dossier()
    do(dossier, "reception_check", DESK, {"decision": "supplement", "reason": "\n".join(MISSING)}, utcnow())
    base = live_server.url

    citizen = sign_in(browser, base, "congdan@motcua.demo", phone=True)
    citizen.goto(f"{base}/my/dossiers/{dossier.id}")
    status = citizen.locator("section.status-box")
    expect(status.get_by_role("heading", name="Giấy tờ cần bổ sung và lý do")).to_be_visible()
    for item in MISSING:
        expect(status.get_by_role("listitem").filter(has_text=item)).to_be_visible()
    shot(citizen, "request-dossier-page-phone")
    assert_accessible(citizen)

    status.get_by_role("link", name=re.compile("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ")).click()
    citizen.wait_for_url(re.compile(r"/supplement-request$"))
    for item in MISSING:
        expect(citizen.get_by_role("listitem").filter(has_text=item)).to_be_visible()
    assert_accessible(citizen)
    citizen.get_by_role("link", name="Gửi giấy tờ bổ sung").click()
    citizen.wait_for_url(re.compile(r"/my/dossiers/\d+/steps/\d+$"))
    expect(citizen.get_by_text(MISSING[0])).to_be_visible()  # the answer form repeats the request

    citizen.goto(f"{base}/notifications/")
    expect(citizen.get_by_text(re.compile(re.escape(MISSING[1])))).to_be_visible()
    shot(citizen, "request-notifications-phone")
    assert_accessible(citizen)
    citizen.get_by_role("link", name=re.compile(r"^Gửi giấy tờ bổ sung")).first.click()
    citizen.wait_for_url(re.compile(r"/my/dossiers/\d+/steps/\d+$"))
