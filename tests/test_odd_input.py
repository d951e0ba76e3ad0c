"""Odd input never makes a 500: CR/LF and control characters in `next`, NUL bytes in forms, query values that
are not numbers or dates, ids far beyond any integer column. Every GET route is walked with such values."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter

from portal.extensions import db
from tests.helpers import open_task
from tests.test_inbox_pages import CITIZEN, DESK, EN, LEADER, new_dossier, signed_in
from tests.web import csrf

ADMIN = "admin@motcua.demo"
HUGE = str(10**30)

# -- `next`: ignored unless it is a clean path on this site ----------------------------------------------


ODD_NEXT = [
    "/%0d%0aX-Injected:1",  # the header injection of the report
    "/%0aLocation:%20https://evil.example",
    "/%00",
    "/%09/evil.example",  # browsers drop the tab: //evil.example
    "/%5Cevil.example",  # /\evil.example reads as //evil.example
    "//evil.example",
    "https://evil.example/",
    "/%e2%80%8b",  # a zero-width space
    "/" + "a" * 5000,
]


@pytest.mark.parametrize("value", ODD_NEXT)
def test_the_language_switch_ignores_an_odd_next(client: FlaskClient, value: str) -> None:
    response = client.get(f"/lang/en?next={value}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_language_switch_keeps_a_clean_next(client: FlaskClient) -> None:
    response = client.get("/lang/en?next=/procedures%3Fq%3Dgi%E1%BA%A5y%20t%E1%BB%9D")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/procedures?q=gi")


def test_sign_in_ignores_an_odd_next(demo: Flask) -> None:
    client = demo.test_client()
    token = csrf(client, "/login")
    response = client.post(
        "/login?next=/%0d%0aX-Injected:1",
        data={"identifier": CITIZEN, "password": "MotCua@2026", "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "X-Injected" not in response.headers
    again = client.get("/login?next=/%0d%0aX:1")  # already signed in: straight to the default page
    assert again.status_code == 302
    assert again.headers["Location"] == "/"


def test_inbox_bulk_ignores_an_odd_next(demo: Flask) -> None:
    task = open_task(new_dossier(), "reception_check")
    desk = signed_in(demo, DESK)
    token = csrf(desk, "/inbox/")
    response = desk.post(
        "/inbox/bulk?next=/%0d%0aX:1", data={"csrf_token": token, "action": "claim", "task_ids": task.id}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox/"


# -- NUL and other control characters in forms: a plain 400, nothing stored ----------------------------


def test_a_nul_byte_in_the_registration_form_is_refused_plainly(demo: Flask) -> None:
    from portal.models import User

    client = demo.test_client()
    token = csrf(client, "/register")
    data = {
        "full_name": "Nguyễn\x00Văn A",
        "email": "nul@example.vn",
        "phone": "0912000111",
        "citizen_id": "001190099999",
        "password": "MotCua@2026x",
        "password2": "MotCua@2026x",
        "csrf_token": token,
    }
    response = client.post("/register", data=data, headers=EN)
    assert response.status_code == 400
    assert "invisible control characters" in response.get_data(as_text=True)
    vi = client.post("/register", data=data)
    assert "ký tự điều khiển" in vi.get_data(as_text=True)
    assert db.session.scalar(db.select(User).where(User.email == "nul@example.vn")) is None


def test_a_nul_byte_in_sign_in_tracking_and_comments_is_refused(demo: Flask) -> None:
    client = demo.test_client()
    token = csrf(client, "/login")
    response = client.post("/login", data={"identifier": "a\x00@b.vn", "password": "x", "csrf_token": token})
    assert response.status_code == 400
    token = csrf(client, "/track")
    assert client.post("/track", data={"code": "X\x00", "secret": "1", "csrf_token": token}).status_code == 400
    assert client.get("/procedures?q=gi%00y").status_code == 400
    assert client.get("/procedures/%00").status_code == 400
    dossier = new_dossier()
    desk = signed_in(demo, DESK)
    token = csrf(desk, f"/inbox/dossiers/{dossier.id}")
    response = desk.post(f"/inbox/dossiers/{dossier.id}/comments", data={"text": "ok\x00", "csrf_token": token})
    assert response.status_code == 400


def test_a_nul_in_a_json_draft_is_refused(demo: Flask) -> None:
    citizen = signed_in(demo, CITIZEN)
    token = csrf(citizen, "/procedures/household_business/apply")
    response = citizen.post(
        "/procedures/household_business/draft",
        data='{"business_name": "Qu\\u00e1n\\u0000", "x": "\\ud800"}',
        headers={"Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.is_json


def test_text_areas_keep_their_line_breaks(demo: Flask) -> None:
    dossier = new_dossier()
    desk = signed_in(demo, DESK)
    token = csrf(desk, f"/inbox/dossiers/{dossier.id}")
    response = desk.post(
        f"/inbox/dossiers/{dossier.id}/comments", data={"text": "dòng 1\r\n\tdòng 2", "csrf_token": token}
    )
    assert response.status_code == 302


# -- every GET route, with values that are not what it expects ----------------------------------------

ODD_QUERY = {
    "page": ["abc", HUGE, "-5", "0", "1e9", "9" * 400],
    "year": ["abc", HUGE, "-1", "0", "99999"],
    "a": ["abc", HUGE],
    "b": [HUGE, "-1"],
    "version": [HUGE, "x"],
    "due_before": ["2026-13-45", "abc", "9999999-01-01"],
    "status": ["abc", HUGE],
    "procedure": ["abc", HUGE],
    "tab": ["nope", "%0d%0a"],
    "sort": ["nope"],
    "mine": ["maybe"],
    "level": ["nope"],
    "agency": ["abc", HUGE],
    "field": ["x" * 5000],
    "q": ["%e2%80%8b", "'\";--", "x" * 5000],
    "since": ["2026-02-30"],
    "until": ["abc"],
    "inline": ["2"],
    "code": ["x" * 5000],
    "next": ["/%0d%0aX:1"],
}
ODD_PATH = {"int": ["1", HUGE, "0"], "string": ["x", "%e2%80%8b", "a" * 1000]}


def _urls(app: Flask) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.startswith("sso."):
            continue
        kinds = {
            name: "int" if isinstance(conv, IntegerConverter) else "string" for name, conv in rule._converters.items()
        }
        for index in range(3):
            path = rule.rule
            for name, kind in kinds.items():
                values = ODD_PATH[kind]
                path = re.sub(rf"<[^>]*\b{name}>", values[index % len(values)], path)
            urls.append(path)
    # Each query string carries one odd value of every parameter; the views read the ones they know.
    rounds = max(len(values) for values in ODD_QUERY.values())
    queries = ["&".join(f"{key}={values[i % len(values)]}" for key, values in ODD_QUERY.items()) for i in range(rounds)]
    return [f"{url}?{query}" for url in sorted(set(urls)) for query in ["", *queries]]


def test_no_get_route_answers_500_to_odd_values(demo: Flask) -> None:
    dossier = new_dossier()
    assert dossier.id == 1  # so that the "1" of the walk finds real rows too
    clients = {"anonymous": demo.test_client()}
    for who in (CITIZEN, LEADER, ADMIN):  # the leader is an officer too
        clients[who] = signed_in(demo, who)
    failures = []
    for url in _urls(demo):
        for who, client in clients.items():
            response = client.get(url)
            response.close()  # files sent from disk stay open until then
            status = response.status_code
            if status >= 500:
                failures.append(f"{status} {who} {url[:150]}")
    assert failures == [], "\n".join(failures[:30])
