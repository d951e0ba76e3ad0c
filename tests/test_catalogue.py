"""The public catalogue: search with and without Vietnamese diacritics, filters, a procedure's page."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from portal.catalogue.text import fold
from portal.extensions import db
from portal.models import Agency, Procedure
from tests.test_citizen_support import EN

BIRTH = "Đăng ký khai sinh"
HOUSEHOLD = "Đăng ký hộ kinh doanh"
PERMIT = "Cấp giấy phép xây dựng nhà ở riêng lẻ"


def titles(client, query: str) -> list[str]:
    page = client.get(f"/procedures?{query}").get_data(as_text=True)
    return [name for name in (BIRTH, HOUSEHOLD, PERMIT) if f">{name}</a>" in page]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Đăng ký khai sinh", "dang ky khai sinh"),
        ("ĐĂNG KÝ Hộ Kinh Doanh", "dang ky ho kinh doanh"),
        ("nhà ở riêng lẻ, (cấp phép)", "nha o rieng le cap phep"),
        ("", ""),
    ],
)
def test_fold_strips_diacritics_and_d_stroke(typed: str, expected: str) -> None:
    assert fold(typed) == expected


def test_search_finds_procedures_with_and_without_diacritics(client, demo: Flask) -> None:
    assert titles(client, "q=dang+ky+khai+sinh") == [BIRTH]
    assert titles(client, "q=Đăng+ký+khai+sinh") == [BIRTH]
    assert titles(client, "q=DANG+KY") == [BIRTH, HOUSEHOLD]
    assert titles(client, "q=đăng+ky+ho+kinh") == [HOUSEHOLD]  # some accents typed, some not
    assert titles(client, "q=giay+phep+xay+dung") == [PERMIT]
    assert titles(client, "q=2.000575") == [HOUSEHOLD]  # the national code
    assert titles(client, "q=birth+registration") == [BIRTH]  # the English name
    page = client.get("/procedures?q=xyz+khong+co").get_data(as_text=True)
    assert titles(client, "q=xyz+khong+co") == []
    assert 'role="status"' in page


def test_filters_by_field_agency_and_service_level(client, demo: Flask) -> None:
    assert titles(client, "field=Hộ+tịch") == [BIRTH]
    assert titles(client, "level=full_online") == [BIRTH]
    assert titles(client, "level=partial_online&q=dang+ky") == [HOUSEHOLD]
    commune = db.session.scalar(select(Agency).where(Agency.code == "000.00.31.H56"))
    assert titles(client, f"agency={commune.id}") == [BIRTH, HOUSEHOLD, PERMIT]
    assert titles(client, "agency=999999") == []
    page = client.get("/procedures").get_data(as_text=True)
    assert "<legend>" in page
    assert 'for="field"' in page
    assert 'for="agency"' in page
    assert 'for="level"' in page


def test_odd_query_strings_never_break_the_page(client, demo: Flask) -> None:
    for query in ("page=abc", "page=99999999999", "agency=x", "level=<script>", "q=%25%5F", "q=" + "a" * 5000):
        response = client.get(f"/procedures?{query}")
        assert response.status_code == 200, query
        assert "<script>" not in response.get_data(as_text=True).split("</header>")[1]


def test_a_procedure_page_shows_what_a_citizen_needs_to_know(client, demo: Flask) -> None:
    page = client.get("/procedures/household_business").get_data(as_text=True)
    assert "<h1>Đăng ký hộ kinh doanh</h1>" in page
    assert "Giấy đề nghị đăng ký hộ kinh doanh" in page  # required documents
    assert "100.000\u00a0đ" in page  # the fee, "đ" kept on the same line
    assert "UBND phường Trung Tâm" in page  # the handling agency
    assert "Tiếp nhận, kiểm tra hồ sơ" in page
    assert "Tiếp nhận và trả kết quả" in page
    assert 'href="/procedures/household_business/apply"' in page
    english = client.get("/procedures/household_business", headers=EN).get_data(as_text=True)
    assert "Household business registration" in english
    assert "3 working days" in english
    assert "Partly online" in english
    assert "Receive and check the dossier" in english  # the steps by their English names (the BPMN's name_en)
    assert "Tiếp nhận, kiểm tra hồ sơ" not in english


def test_unknown_and_unpublished_procedures_are_not_shown(client, demo: Flask) -> None:
    assert client.get("/procedures/no_such_procedure").status_code == 404
    procedure = db.session.scalar(select(Procedure).where(Procedure.key == "birth_registration"))
    procedure.published = False
    db.session.commit()
    assert client.get("/procedures/birth_registration").status_code == 404
    assert titles(client, "q=khai+sinh") == []


def test_the_home_page_is_the_catalogue_front_door(client, demo: Flask) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'role="search"' in page
    assert 'action="/procedures"' in page
    assert 'href="/procedures/birth_registration"' in page
    assert 'href="/track"' in page
    assert "/procedures?field=" in page


def test_every_asset_is_served_by_the_portal(client, demo: Flask) -> None:
    page = client.get("/procedures").get_data(as_text=True)
    assert "http://" not in page.replace('xmlns="http://www.w3.org', "")
    assert "https://" not in page
    viewer = client.get("/static/vendor/bpmn-js/bpmn-viewer.production.min.js")
    assert viewer.status_code == 200
    assert len(viewer.data) > 100_000
    viewer.close()
