"""The portal on a small phone (375 × 667) and on paper, in a real browser: the catalogue's results on the first
screen, amounts of money on one line, a long name on one line of the header, no flash message or menu on a
printed page. Every page visited is checked with axe-core too."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import expect

from portal.extensions import db
from tests.browser import assert_accessible, new_page, shot
from tests.helpers import user
from tests.test_browser_journey import sign_in

LONG_NAME = "Công Tôn Nữ Thị Hoàng Phương Thảo Nguyên Bích Ngọc Minh Châu Kim Khánh Linh Đan"


def test_the_catalogue_on_a_phone_shows_results_on_the_first_screen(live_server, browser) -> None:
    page = new_page(browser, phone=True)
    page.goto(f"{live_server.url}/procedures")
    shot(page, "catalogue-phone")
    assert_accessible(page)
    height = page.viewport_size["height"]
    first = page.locator(".card").first
    box = first.bounding_box()
    assert box is not None
    assert box["y"] + 40 < height, f"the first result starts at {box['y']:.0f}px, below the {height}px screen"

    # The filters wait behind "Lọc"; opening it shows them.
    toggle = page.locator("summary", has_text="Lọc")
    expect(toggle).to_be_visible()
    expect(page.get_by_label("Lĩnh vực")).to_be_hidden()
    toggle.click()
    expect(page.get_by_label("Lĩnh vực")).to_be_visible()
    assert_accessible(page, "the catalogue with its filters open")

    # Every amount stays on one line: "100.000 đ", never a lone "đ".
    amounts = page.locator(".card .money")
    assert amounts.count() >= 2
    for i in range(amounts.count()):
        assert amounts.nth(i).evaluate("el => getComputedStyle(el).whiteSpace") == "nowrap"
        assert amounts.nth(i).evaluate("el => el.getClientRects().length") == 1, amounts.nth(i).inner_text()
    expect(page.locator(".card .money", has_text="100.000\u00a0đ")).to_have_count(1)


def test_the_catalogue_on_a_computer_shows_the_filters_at_once(live_server, browser) -> None:
    page = new_page(browser)
    page.goto(f"{live_server.url}/procedures")
    expect(page.get_by_label("Lĩnh vực")).to_be_visible()
    expect(page.locator("summary", has_text="Lọc")).to_be_hidden()
    assert_accessible(page)


def test_a_long_name_takes_one_line_of_the_header_on_a_phone(live_server, browser, demo: Flask) -> None:
    user("congdan@motcua.demo").full_name = LONG_NAME
    db.session.commit()
    page = sign_in(browser, live_server.url, "congdan@motcua.demo", phone=True)  # checks the page with axe
    name = page.locator(".site-header .who a")
    expect(name).to_have_text(LONG_NAME)  # whole for screen readers
    assert LONG_NAME in (name.get_attribute("title") or "")  # and on hover
    line = float(name.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
    box = name.bounding_box()
    assert box is not None
    assert box["height"] < 1.5 * line, f"the name takes {box['height'] / line:.1f} lines"
    assert box["x"] + box["width"] <= page.viewport_size["width"]
    shot(page, "long-name-phone")


def test_a_printed_page_has_no_flash_message_nor_menu(live_server, browser) -> None:
    page = sign_in(browser, live_server.url, "congdan@motcua.demo")
    page.goto(f"{live_server.url}/account")
    page.get_by_role("button", name="Đăng xuất trên mọi thiết bị").click()
    flash = page.locator(".flash")
    expect(flash).to_be_visible()
    page.emulate_media(media="print")
    expect(flash).to_be_hidden()
    expect(page.get_by_role("navigation", name="Menu chính")).to_be_hidden()
    expect(page.locator("main h1, main h2").first).to_be_visible()
    page.emulate_media(media="screen")
    expect(flash).to_be_visible()


def test_the_language_switch_is_on_the_first_screen_of_a_phone(live_server, browser) -> None:
    page = new_page(browser, locale="vi-VN", phone=True)
    page.goto(f"{live_server.url}/procedures")
    english = page.get_by_role("link", name="English")
    expect(english).to_be_visible()
    assert english.get_attribute("lang") == "en"
    box = english.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= page.viewport_size["height"]
    english.click()
    expect(page.get_by_role("heading", name="Administrative procedures")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("link", name="Tiếng Việt")).to_have_attribute("lang", "vi")
    assert_accessible(page)
