"""Signing in with the keyboard only, in a real browser, on a phone-sized screen."""

from __future__ import annotations

from tests.browser import assert_accessible, new_page, shot


def test_sign_in_with_the_keyboard_on_a_phone(live_server, browser) -> None:
    page = new_page(browser, phone=True)
    page.goto(f"{live_server.url}/login")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert_accessible(page)
    # Tab from the top: the skip link comes first, then the header, then the form.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.get_by_label("Email hoặc số điện thoại").focus()
    page.keyboard.type("congdan@motcua.demo")
    page.keyboard.press("Tab")
    page.keyboard.type("sai mật khẩu")
    page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert summary.get_attribute("role") == "alert"
    shot(page, "login-error-phone")
    assert_accessible(page)
    page.get_by_label("Mật khẩu").fill("MotCua@2026")
    page.get_by_label("Mật khẩu").press("Enter")
    page.get_by_text("Võ Thị Mai").wait_for()
    shot(page, "signed-in-phone")
    assert_accessible(page)
