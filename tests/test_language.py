"""Which language a person gets, through real HTTP requests: Vietnamese for everyone unless they chose another
language with the switch in the header; the choice is remembered by the browser for a year and, when signed in,
by the account. Also the icon every page asks for."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import user
from tests.web import csrf, login, logout

CITIZEN = "congdan@motcua.demo"
ENGLISH_BROWSER = {"Accept-Language": "en-US,en;q=0.9"}


def html_lang(page: str) -> str:
    match = re.search(r'<html lang="([a-z]+)"', page)
    assert match, page[:200]
    return match.group(1)


def test_a_browser_set_to_english_gets_vietnamese_until_the_person_chooses(client: FlaskClient, demo: Flask) -> None:
    page = client.get("/procedures", headers=ENGLISH_BROWSER).get_data(as_text=True)
    assert html_lang(page) == "vi"
    assert "Thủ tục hành chính" in page
    # The switch is in the header, each language named in itself and marked with its language.
    assert '<span lang="vi" aria-current="true">Tiếng Việt</span>' in page
    assert re.search(r'<a href="/lang/en\?next=/procedures" lang="en" hreflang="en">English</a>', page)


def test_the_choice_of_english_is_remembered_for_a_year_by_the_browser(app: Flask, demo: Flask) -> None:
    client = app.test_client()
    answer = client.get("/lang/en?next=/procedures", headers=ENGLISH_BROWSER)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/procedures"
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("lang="))
    assert cookie.startswith("lang=en;")
    assert "Max-Age=31536000" in cookie
    assert "HttpOnly" in cookie

    page = client.get("/procedures").get_data(as_text=True)
    assert html_lang(page) == "en"
    assert "Administrative procedures" in page
    assert '<span lang="en" aria-current="true">English</span>' in page

    # A new session of the same browser (the session cookie is gone, the language cookie is kept).
    later = app.test_client()
    later.set_cookie("lang", client.get_cookie("lang").value)
    page = later.get("/procedures", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert html_lang(page) == "en"
    assert "Administrative procedures" in page

    # And back to Vietnamese the same way.
    later.get("/lang/vi?next=/procedures")
    assert later.get_cookie("lang").value == "vi"
    assert html_lang(later.get("/procedures", headers=ENGLISH_BROWSER).get_data(as_text=True)) == "vi"


def test_a_signed_in_person_s_choice_follows_them_to_another_device(app: Flask, demo: Flask) -> None:
    phone = app.test_client()
    login(phone, CITIZEN)
    header = phone.get("/my/dossiers").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/lang/en\?next=/my/dossiers"', header)  # a form: it writes
    phone.post("/lang/en?next=/", data={"csrf_token": csrf(phone, "/my/dossiers")})
    assert user(CITIZEN).locale == "en"  # also the language of the messages they are sent

    computer = app.test_client()  # no cookie of the phone's
    assert html_lang(computer.get("/login").get_data(as_text=True)) == "vi"
    login(computer, CITIZEN)
    page = computer.get("/my/dossiers").get_data(as_text=True)
    assert html_lang(page) == "en"
    assert "My dossiers" in page
    logout(computer)  # signing out keeps the language of the session
    assert html_lang(computer.get("/").get_data(as_text=True)) == "en"


def test_a_link_from_another_site_does_not_change_the_account_s_language(app: Flask, demo: Flask) -> None:
    """A plain link (GET) switches this browser only; the account's language takes the CSRF-checked form."""
    client = app.test_client()
    login(client, CITIZEN)
    assert client.get("/lang/en?next=/").status_code == 302
    assert html_lang(client.get("/my/dossiers").get_data(as_text=True)) == "en"  # this browser did switch
    assert user(CITIZEN).locale != "en"
    assert client.post("/lang/en?next=/").status_code == 400  # the form without its token
    assert user(CITIZEN).locale != "en"


def test_an_unknown_language_changes_nothing(client: FlaskClient, demo: Flask) -> None:
    answer = client.get("/lang/fr?next=/")
    assert answer.status_code == 302
    assert client.get_cookie("lang") is None
    assert html_lang(client.get("/").get_data(as_text=True)) == "vi"


def test_every_page_links_an_icon_and_favicon_ico_answers(client: FlaskClient, demo: Flask) -> None:
    page = client.get("/").get_data(as_text=True)
    links = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    assert links == ["/static/favicon.svg", "/favicon.ico"]
    with client.get(links[0]) as svg:  # files are streamed: close them
        assert svg.status_code == 200
        assert svg.mimetype == "image/svg+xml"
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200
        assert icon.mimetype == "image/vnd.microsoft.icon"
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
