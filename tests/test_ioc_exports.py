"""Downloads of the operations centre's tables: the CSV and the XLSX hold the page's numbers, in the reader's
language, for leaders only; a formula-looking text never runs when the file is opened."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from flask import Flask
from openpyxl import load_workbook

from portal.core.time import utcnow
from portal.stats.export import Column, Table, to_csv, to_xlsx
from tests.helpers import do, version_of
from tests.test_inbox_pages import CITIZEN, DESK, LEADER, SPECIALIST, new_dossier, signed_in
from tests.test_ioc import in_person, varied_day

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv_rows(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheet programs read the BOM as "this is UTF-8"
    return list(csv.reader(io.StringIO(text[1:])))


def _sheet_rows(response) -> list[tuple]:
    book = load_workbook(io.BytesIO(response.get_data()))
    return list(book.active.iter_rows(values_only=True))


def test_todays_figures_download_as_csv_and_xlsx_with_the_pages_numbers(demo: Flask) -> None:
    varied_day()
    in_person("Quán Thứ Hai")
    client = signed_in(demo, LEADER)

    response = client.get("/ioc/?export=today-channels&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="motcua-today-channels-' in response.headers["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == ["Hình thức nộp", "Số hồ sơ"]
    by_channel = {label: int(n) for label, n in rows[1:]}
    assert by_channel["Trực tuyến"] == 4  # new online today: the online, asked, refused and returned ones
    assert by_channel["Trực tiếp"] == 2

    response = client.get("/ioc/?export=today&format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    sheet = _sheet_rows(response)
    assert sheet[0] == ("Chỉ số", "Số hồ sơ")
    figures = dict(sheet[1:])
    page = client.get("/ioc/").get_data(as_text=True)
    for label, value in figures.items():
        assert isinstance(value, int)  # numbers, not text, so the spreadsheet can add them up
        assert label in page
    assert figures["Tiếp nhận hôm nay"] == 6
    assert figures["Chờ công dân bổ sung"] == 1


def test_the_dossiers_behind_a_figure_download_whole(demo: Flask) -> None:
    made = varied_day()
    client = signed_in(demo, LEADER)
    rows = _csv_rows(client.get("/ioc/dossiers?figure=open&export=open&format=csv"))
    assert rows[0][:2] == ["Mã hồ sơ", "Thủ tục"]
    codes = {row[0] for row in rows[1:]}
    assert made["asked"].code in codes
    assert made["old"].code in codes
    assert made["refused"].code not in codes
    sheet = _sheet_rows(client.get("/ioc/dossiers?figure=open&export=open&format=xlsx"))
    assert {row[0] for row in sheet[1:]} == codes
    submitted = sheet[1][5]
    assert isinstance(submitted, datetime)  # a real date cell, in Vietnam's time


def test_the_waiting_views_tables_download(demo: Flask) -> None:
    dossier = new_dossier("Tạp hóa Chờ")
    do(dossier, "reception_check", DESK, {"decision": "accept"}, utcnow())
    version = version_of("household_business")
    client = signed_in(demo, LEADER)
    url = f"/ioc/waiting?version={version.id}"
    page = client.get(url).get_data(as_text=True)
    for name in ("bottlenecks", "groups", "officers"):
        assert f"export={name}" in page
    steps = _sheet_rows(client.get(url + "&export=bottlenecks&format=xlsx"))
    assert steps[0][1] == "Bước"
    waiting = {row[1]: row[2] for row in steps[1:]}
    assert sum(waiting.values()) == 1  # one dossier waits, at the specialist's step
    groups = _csv_rows(client.get(url + "&export=groups&format=csv"))
    assert groups[0][0] == "Nhóm"
    assert sum(int(row[2]) for row in groups[1:]) == 1


def test_downloads_are_for_leaders_only_and_odd_requests_are_refused_plainly(demo: Flask) -> None:
    new_dossier()
    for who in (CITIZEN, DESK, SPECIALIST):
        response = signed_in(demo, who).get("/ioc/?export=today&format=csv")
        assert response.status_code in (302, 403)
        assert response.mimetype != "text/csv"
    client = signed_in(demo, LEADER)
    assert client.get("/ioc/?export=nothing&format=csv").status_code == 404
    assert client.get("/ioc/?export=today&format=exe").status_code == 404


def test_text_that_looks_like_a_formula_is_written_as_text() -> None:
    table = Table("t", "A title: with [odd] characters that is long", (Column("name", "Name"), Column("n", "N", "int")))
    table.add('=HYPERLINK("http://evil")', 3)
    table.add("-1+2", None)
    rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8")[1:])))
    assert rows[1] == ['\'=HYPERLINK("http://evil")', "3"]
    assert rows[2] == ["'-1+2", ""]
    book = load_workbook(io.BytesIO(to_xlsx(table)))
    sheet = book.active
    assert len(sheet.title) <= 31  # what Excel accepts
    assert not set(sheet.title) & set("[]:*?/\\")
    assert sheet["A2"].value.startswith("'=")
    assert sheet["A2"].data_type == "s"
    assert sheet["B2"].value == 3
