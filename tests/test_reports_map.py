"""The public map of field reports, through real HTTP requests: map.json returns the shown reports inside a box as
points without personal data, newest first up to the limit; a malformed box is a 400 with a message, never a 500;
the Content-Security-Policy lets images come from the configured tile server only, and the feed page carries the
map only when one is configured (the list, with positions, is always there)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import ProductionConfig
from portal import create_app
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import FieldReport, ReportStatus
from portal.reports import queries
from tests.helpers import user
from tests.test_citizen_support import CITIZEN, EN

MAP = "/public/reports/map.json"
HUE_BOX = "107.50,16.40,107.70,16.50"
OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
BASE_IMG_SRC = "img-src 'self' data: blob:;"

_made = 0


def report(lat: float | None, lon: float | None, *, minutes_ago: float = 0, **fields: Any) -> FieldReport:
    """A report as the citizen's form stores it (services.create_report), written directly: photos do not matter
    here."""
    global _made
    _made += 1
    created = utcnow() - timedelta(minutes=minutes_ago)
    values: dict[str, Any] = {
        "code": f"PA-2026-T{_made:05d}",
        "reporter_id": user(CITIZEN).id,
        "category": "moi_truong",
        "description": "Rác thải đổ trộm trên vỉa hè.",
        "status": ReportStatus.RECEIVED,
        "created_at": created,
        "updated_at": created,
        "show_name": False,
        "reopen_count": 0,
    }
    if lat is not None and lon is not None:
        values.update(latitude=lat, longitude=lon, lat_micro=round(lat * 1e6), lon_micro=round(lon * 1e6))
    values.update(fields)
    found = FieldReport(**values)
    db.session.add(found)
    db.session.commit()
    return found


def points(client: FlaskClient, query: str, **headers: str) -> dict[str, Any]:
    response = client.get(f"{MAP}?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


@contextmanager
def tiled(app: Flask, tiles: str, attribution: str = "© OpenStreetMap contributors") -> Iterator[Flask]:
    """The portal started with a tile server configured, on the same database."""
    other = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "REPORTS_MAP_TILES": tiles,
            "REPORTS_MAP_ATTRIBUTION": attribution,
        }
    )
    other.test_client_class = app.test_client_class
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()


# -- map.json ----------------------------------------------------------------------------------------------------


def test_the_box_holds_the_shown_reports_inside_it_newest_first_without_personal_data(demo: Flask) -> None:
    older = report(16.46, 107.59, minutes_ago=30, show_name=True)
    newer = report(16.47, 107.60, minutes_ago=5, category="giao_thong", status=ReportStatus.ANSWERED)
    edge = report(16.40, 107.70, minutes_ago=10)  # on the box's corner: edges are included
    hanoi = report(21.03, 105.85)
    hidden = report(16.465, 107.595, status=ReportStatus.HIDDEN, hidden_reason="Ảnh có biển số xe")
    report(None, None)  # no position: never on the map
    client = demo.test_client()

    answer = points(client, f"bbox={HUE_BOX}")
    assert [p["code"] for p in answer["points"]] == [newer.code, edge.code, older.code]
    assert answer["truncated"] is False
    first = answer["points"][0]
    assert first == {
        "code": newer.code,
        "category": "Giao thông, đường sá",
        "status": "Đã trả lời",
        "lat": 16.47,
        "lon": 107.6,
        "url": f"/public/reports/{newer.code}",
    }
    body = client.get(f"{MAP}?bbox={HUE_BOX}").get_data(as_text=True)
    reporter = user(CITIZEN)
    for personal in (reporter.full_name, reporter.email, "reporter", "Ảnh có biển số xe"):
        assert personal not in body  # not even the name a reporter chose to show on the report's page
    assert hidden.code not in body
    assert hanoi.code not in body
    assert client.get(first["url"]).status_code == 200

    english = points(client, f"bbox={HUE_BOX}", **EN)["points"][0]
    assert (english["category"], english["status"]) == ("Traffic and roads", "Answered")
    assert [p["code"] for p in points(client, "bbox=105,20,106,22")["points"]] == [hanoi.code]
    assert points(client, "bbox=107.591,16.461,107.599,16.469")["points"] == []  # only the hidden one is there
    assert [p["code"] for p in points(client, f"bbox={HUE_BOX}&category=giao_thong")["points"]] == [newer.code]
    assert [p["code"] for p in points(client, f"bbox={HUE_BOX}&status=received&category=")["points"]] == [
        edge.code,
        older.code,
    ]
    whole_world = points(client, "bbox=-180,-90,180,90")["points"]
    assert {p["code"] for p in whole_world} == {newer.code, edge.code, older.code, hanoi.code}


def test_at_most_the_limit_newest_first_and_the_answer_says_it_was_cut(demo: Flask) -> None:
    demo.config["REPORTS_MAP_LIMIT"] = 3
    made = [report(16.45 + i / 1000, 107.6, minutes_ago=10 - i) for i in range(3)]
    client = demo.test_client()
    exactly = points(client, f"bbox={HUE_BOX}")
    assert (len(exactly["points"]), exactly["truncated"], exactly["limit"]) == (3, False, 3)
    newest = report(16.44, 107.6)
    more = points(client, f"bbox={HUE_BOX}")
    assert [p["code"] for p in more["points"]] == [newest.code, made[2].code, made[1].code]
    assert more["truncated"] is True


@pytest.mark.parametrize(
    "query",
    [
        "",
        "bbox=",
        "bbox=107,16,108",
        "bbox=107,16,108,17,5",
        "bbox=a,b,c,d",
        "bbox=nan,nan,nan,nan",
        "bbox=NaN,16,108,17",
        "bbox=inf,16,108,17",
        "bbox=1e2,16,108,17",
        "bbox=0x10,16,108,17",
        "bbox=%EF%BC%91,16,108,17",  # a full-width digit one
        "bbox=107,,108,17",
        "bbox=107;16;108;17",
        "bbox=181,16,182,17",
        "bbox=-181,16,108,17",
        "bbox=107,-91,108,17",
        "bbox=107,16,108,90.5",
        "bbox=108,16,107,17",  # west east of east
        "bbox=107,17,108,16",  # south north of north
        "bbox=1234,16,108,17",
        "bbox=107." + "1" * 30 + ",16,108,17",
        "bbox=" + ",".join(["107.5"] * 4) + "0" * 10_000,
        "bbox=107,16,108,17&category=nonsense",
        "bbox=107,16,108,17&status=hidden",  # hidden reports are no one's filter
        "bbox=107,16,108,17&status=" + "x" * 5000,
    ],
)
def test_a_malformed_box_or_filter_is_a_400_with_a_message(demo: Flask, query: str) -> None:
    client = demo.test_client()
    response = client.get(f"{MAP}?{query}")
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["error"] == "bad_request"
    assert answer["message"]
    english = client.get(f"{MAP}?{query}", headers=EN).get_json()["message"]
    assert english != answer["message"]  # Vietnamese first, English for those who chose it
    assert english.isascii()


def test_the_messages_say_what_is_wrong(demo: Flask) -> None:
    client = demo.test_client()
    said = lambda query: client.get(f"{MAP}?{query}", headers=EN).get_json()["message"]  # noqa: E731
    assert "missing" in said("")
    assert "four numbers" in said("bbox=1,2,3")
    assert "between -180 and 180" in said("bbox=200,0,201,1")
    assert "west edge" in said("bbox=10,0,5,1")
    assert "too long" in said("bbox=" + "1" * 500)
    assert "bbox=west,south,east,north" in said("bbox=x")
    assert "Thiếu" in client.get(MAP).get_json()["message"]


# -- the Content-Security-Policy -----------------------------------------------------------------------------------


def test_images_come_from_the_tile_server_only_when_one_is_configured(app: Flask) -> None:
    policy = app.test_client().get(MAP).headers["Content-Security-Policy"]  # any answer carries the policy
    assert BASE_IMG_SRC in policy
    assert "openstreetmap" not in policy
    assert "https:" not in policy
    with tiled(app, OSM) as other:
        policy = other.test_client().get(MAP).headers["Content-Security-Policy"]
        assert "img-src 'self' data: blob: https://tile.openstreetmap.org;" in policy
        assert policy.count("openstreetmap") == 1  # images only: not scripts, styles, connections or frames
        assert "script-src 'self';" in policy
        assert "default-src 'self';" in policy
    with tiled(app, "https://{s}.tile.example.org:8443/hot/{z}/{x}/{y}{r}.png") as other:
        policy = other.test_client().get(MAP).headers["Content-Security-Policy"]
        assert "img-src 'self' data: blob: https://*.tile.example.org:8443;" in policy
    with tiled(app, "http://127.0.0.1:8080/{z}/{x}/{y}.png") as other:  # a local tile server, testing only
        policy = other.test_client().get(MAP).headers["Content-Security-Policy"]
        assert "img-src 'self' data: blob: http://127.0.0.1:8080;" in policy


@pytest.mark.parametrize(
    "tiles",
    [
        "javascript:alert(1)//{z}/{x}/{y}",
        "https://tile.example.org;script-src *;/{z}/{x}/{y}.png",
        "https://tile.example.org/{z}/{x}/{y}.png; script-src *",
        "https://user:secret@tile.example.org/{z}/{x}/{y}.png",
        "https://tile.example.org/tiles.png",
        "https://tile.example.org/{z}/{x}/{y}.png?key={key}",
        "https://tile.example.org\n/{z}/{x}/{y}.png",
        "ftp://tile.example.org/{z}/{x}/{y}.png",
        "//tile.example.org/{z}/{x}/{y}.png",
    ],
)
def test_a_tile_template_that_is_not_a_plain_url_refuses_to_start(app: Flask, tiles: str) -> None:
    with pytest.raises(RuntimeError, match="REPORTS_MAP_TILES"), tiled(app, tiles):
        pass


def test_production_refuses_plain_http_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/motcua")

    class Production(ProductionConfig):
        SECRET_KEY = "s" * 40
        RATELIMIT_STORAGE_URI = "redis://redis:6379/1"
        PORTAL_BASE_URL = "https://dichvucong.example.gov.vn"
        MAIL_SERVER = "smtp.example.gov.vn"
        REPORTS_MAP_TILES = "http://tile.example.org/{z}/{x}/{y}.png"

    with pytest.raises(RuntimeError, match="https"):
        Production.check()
    Production.REPORTS_MAP_TILES = OSM
    Production.check()
    Production.REPORTS_MAP_TILES = ""
    Production.check()


# -- the feed page -------------------------------------------------------------------------------------------------


def test_the_feed_carries_the_map_only_with_tiles_and_always_the_list_with_positions(demo: Flask) -> None:
    placed = report(16.4637, 107.5909)
    unplaced = report(None, None, address="Chợ Đông Ba")
    plain = demo.test_client().get("/public/reports").get_data(as_text=True)
    assert 'id="reports-map"' not in plain
    assert "leaflet" not in plain
    assert "reports-map.js" not in plain
    assert "16.463700, 107.590900" in plain  # the list says where, as text
    assert placed.code in plain
    assert unplaced.code in plain
    assert "Chợ Đông Ba" in plain

    with tiled(demo, OSM, "© OpenStreetMap <b>contributors</b>") as other:
        client = other.test_client()
        page = client.get("/public/reports?category=moi_truong").get_data(as_text=True)
        assert 'id="reports-map"' in page
        assert 'tabindex="0"' in page
        assert 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in page
        assert 'data-attribution="© OpenStreetMap &lt;b&gt;contributors&lt;/b&gt;"' in page
        assert 'data-category="moi_truong"' in page
        assert 'data-points="/public/reports/map.json"' in page
        assert "vendor/leaflet/leaflet.js" in page
        assert "vendor/leaflet/leaflet.css" in page
        assert "js/reports-map.js" in page
        assert "<script>" not in page  # no inline script: the CSP forbids it
        assert 'href="#reports-list"' in page
        assert 'id="reports-list"' in page
        assert "16.463700, 107.590900" in page
        assert placed.code in page
        for path in ("/static/vendor/leaflet/leaflet.js", "/static/js/reports-map.js"):
            response = client.get(path)
            assert response.status_code == 200
            response.close()


def test_a_large_feed_counts_up_to_a_cap_and_links_a_few_pages(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(181):
        report(16.46, 107.59, minutes_ago=i)
    client = demo.test_client()
    first = client.get("/public/reports", headers=EN).get_data(as_text=True)
    assert "181 reports" in first
    links = [f">{n}</a>" for n in range(1, 11)]
    assert [link in first for link in links] == [False, True, True, True, False, False, False, False, False, True]
    middle = client.get("/public/reports?page=6", headers=EN).get_data(as_text=True)
    assert [link in middle for link in links] == [True, False, True, True, True, False, True, True, True, True]
    assert '<span aria-current="page">6</span>' in middle

    monkeypatch.setattr(queries, "COUNT_CAP", 100)
    capped = client.get("/public/reports?page=999", headers=EN).get_data(as_text=True)
    assert "More than 100 reports" in capped
    assert '<span aria-current="page">5</span>' in capped
    assert ">6</a>" not in capped
