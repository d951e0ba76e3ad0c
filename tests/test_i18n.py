"""Vietnamese first, English second: the catalog covers every source string, and the app speaks Vietnamese.

The source strings (msgids) are English. A string added to the code without a Vietnamese translation fails here:
run `make translations-update`, translate the new entries in portal/translations/vi/LC_MESSAGES/messages.po,
then `make translations`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import get_locale, gettext, refresh

from portal.core.errors import InvalidInput
from portal.dossiers.services import withdraw_dossier
from portal.sla.services import set_calendar_day
from tests.helpers import submit, upload, user, vn

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "portal" / "translations"
VI_PO = TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po"
VI_MO = VI_PO.with_suffix(".mo")
CITIZEN = "congdan@motcua.demo"

# printf-style conversions: %(name)s, %(n)d, %(code)r, %s; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<type>[diouxXeEfFgGcrsa%])")


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def _texts(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _placeholders(text: str) -> Counter[tuple[str | None, str]]:
    return Counter((m["name"], m["type"]) for m in PLACEHOLDER.finditer(text) if m["type"] != "%")


def _translated(message: Message) -> bool:
    return not message.fuzzy and bool(_texts(message.string)) and all(_texts(message.string))


@pytest.fixture(scope="module")
def vi_catalog() -> Catalog:
    return _read(VI_PO)


@pytest.fixture(scope="module")
def source_msgids(tmp_path_factory: pytest.TempPathFactory) -> set[str | tuple[str, ...]]:
    """The msgids in the code today, extracted exactly as `make translations-update` does (babel.cfg)."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "--quiet", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot), str(ROOT)]
    )
    return {message.id for message in _read(pot) if message.id}


# ---------------------------------------------------------------------------------------------- the catalog


def test_extraction_finds_the_strings_of_code_and_templates(source_msgids: set) -> None:
    assert "This field is required." in source_msgids  # forms (lazy_gettext as _l)
    assert "Please give a reason." in source_msgids  # services (gettext as _)
    assert "unknown role %(role)s" in source_msgids  # workflows
    assert "Administrative procedures" in source_msgids  # templates


def test_every_source_string_has_a_vietnamese_translation(vi_catalog: Catalog, source_msgids: set) -> None:
    translated = {m.id for m in vi_catalog if m.id and _translated(m)}
    missing = sorted(map(str, source_msgids - translated))
    assert not missing, (
        "Not translated into Vietnamese (run `make translations-update`, translate these in "
        f"{VI_PO.relative_to(ROOT)}, then `make translations`): {missing}"
    )


def test_the_vietnamese_catalog_has_no_fuzzy_or_empty_entry(vi_catalog: Catalog) -> None:
    assert not vi_catalog.fuzzy, "a fuzzy header makes pybabel compile skip the whole catalog"
    assert str(vi_catalog.locale) == "vi"
    untranslated = [m.id for m in vi_catalog if m.id and not _translated(m)]
    assert not untranslated, untranslated


def test_placeholders_are_kept_in_every_translation(vi_catalog: Catalog) -> None:
    wrong = []
    for message in vi_catalog:
        if not message.id:
            continue
        wanted = _placeholders(_texts(message.id)[-1])  # a plural message: Vietnamese has the one form
        wrong += [(message.id, text) for text in _texts(message.string) if _placeholders(text) != wanted]
    assert not wrong, wrong


def test_pybabel_finds_no_error_in_the_catalog(vi_catalog: Catalog) -> None:
    problems = [(message.id, [str(e) for e in errors]) for message, errors in vi_catalog.check()]
    assert not problems, problems


# ---------------------------------------------------------------------------------------------- the real app


@contextmanager
def browser_asking_for(app: Flask, headers: dict[str, str]) -> Iterator[None]:
    """A request whose browser sends these headers (Accept-Language, the language cookie).

    Flask runs it in the test's app context, where Flask-Babel may already have cached the locale of the
    code that ran outside a request (the demo data); a real request has an app context of its own, so the
    cache is dropped first.
    """
    with app.test_request_context(headers=headers):
        refresh()
        yield


def test_the_compiled_catalog_is_there() -> None:
    assert VI_MO.exists(), f"{VI_MO.relative_to(ROOT)} is missing: run `make translations`"
    assert VI_MO.stat().st_mtime >= VI_PO.stat().st_mtime, "the .mo is older than the .po: run `make translations`"


def test_without_a_request_the_app_speaks_vietnamese(app: Flask) -> None:
    # The command line and Celery tasks have no request: they use BABEL_DEFAULT_LOCALE.
    assert str(get_locale()) == "vi"
    assert gettext("This field is required.") == "Trường này là bắt buộc."
    with pytest.raises(InvalidInput) as refused:
        set_calendar_day(None, date(2026, 9, 2), "holiday", None, None)
    assert refused.value.message == "Một ngày trong lịch chỉ có thể là ngày nghỉ hoặc ngày làm việc."
    assert refused.value.errors == {"kind": ["Lựa chọn không hợp lệ."]}


@pytest.mark.parametrize(
    ("headers", "message", "field_error"),
    [
        ({"Accept-Language": "vi"}, "Vui lòng nêu lý do.", "Trường này là bắt buộc."),
        # A browser set to English, the person has not chosen: Vietnamese, the default for everyone.
        ({"Accept-Language": "en-US,en;q=0.9"}, "Vui lòng nêu lý do.", "Trường này là bắt buộc."),
        ({"Cookie": "lang=en"}, "Please give a reason.", "This field is required."),  # chose English
        ({"Cookie": "lang=en", "Accept-Language": "vi"}, "Please give a reason.", "This field is required."),
        ({"Cookie": "lang=fr"}, "Vui lòng nêu lý do.", "Trường này là bắt buộc."),  # not offered: the default
    ],
)
def test_a_service_error_comes_in_the_language_the_person_chose(
    demo: Flask, headers: dict[str, str], message: str, field_error: str
) -> None:
    dossier = submit(
        "birth_registration",
        {
            "child_full_name": "Nguyễn Minh An",
            "child_birth_date": "2026-02-20",
            "child_sex": "male",
            "child_birth_place": "Bệnh viện Đa khoa tỉnh",
            "father_full_name": "Nguyễn Văn Bình",
            "mother_full_name": "Võ Thị Mai",
            "applicant_relationship": "mother",
            "birth_certificate_file": upload(CITIZEN, "giay-chung-sinh.pdf"),
        },
        vn(2026, 3, 2, 9, 0),
    )
    with browser_asking_for(demo, headers), pytest.raises(InvalidInput) as refused:
        withdraw_dossier(dossier.id, user(CITIZEN), "   ", now=vn(2026, 3, 2, 10, 0))
    assert refused.value.message == message
    assert refused.value.errors == {"reason": [field_error]}


@pytest.mark.parametrize(
    ("headers", "label", "hint"),
    [
        ({"Accept-Language": "vi"}, "Thủ tục hành chính", "Chưa có thủ tục nào được công bố."),
        ({"Accept-Language": "en"}, "Thủ tục hành chính", "Chưa có thủ tục nào được công bố."),  # not a choice
        ({"Cookie": "lang=en"}, "Administrative procedures", "No procedure has been published yet."),
    ],
)
def test_a_page_comes_in_the_language_the_person_chose(client, headers: dict[str, str], label: str, hint: str) -> None:
    page = client.get("/", headers=headers)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert label in text
    assert hint in text


def test_error_pages_speak_the_persons_language(client) -> None:
    """Werkzeug's "404 — Not Found / The requested URL was not found on the server…" is English only."""
    page = client.get("/khong-co-trang-nay")
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert "<h1>404 — Không tìm thấy trang</h1>" in text
    assert "Not Found" not in text
    assert "requested URL" not in text
    english = client.get("/no-such-page", headers={"Cookie": "lang=en"}).get_data(as_text=True)
    assert "<h1>404 — Page not found</h1>" in english
    refused = client.post("/track", data={"code": "X", "secret": "Y"})  # no CSRF token: Flask-WTF's own words
    assert refused.status_code == 400
    assert "The CSRF token is missing." not in refused.get_data(as_text=True)
