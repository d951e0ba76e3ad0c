"""REST API v1, read operations, driven over HTTP as a client would: the catalogue page by page, a procedure's
form as JSON Schema, a dossier's status, the statistics; ETags; problem+json for every kind of bad input."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select

from portal.extensions import db
from portal.models import Agency, Procedure
from tests.api import COMMUNE, assert_problem, get, make_token
from tests.helpers import do, submit, upload, vn

CITIZEN = "congdan@motcua.demo"


def _more_procedures(count: int) -> None:
    agency = db.session.scalar(select(Agency).where(Agency.code == COMMUNE))
    assert agency is not None
    for n in range(count):
        db.session.add(
            Procedure(
                key=f"extra_{n}",
                code=f"9.{n:06d}",
                name=f"Thủ tục {n}",
                agency_id=agency.id,
                deadline="3d",
                published=n % 5 != 0,  # some unpublished ones, which the catalogue leaves out
            )
        )
    db.session.add(Procedure(key="draft_only", code="9.999999", name="Nháp", agency_id=agency.id, deadline="1d"))
    db.session.commit()


def test_cursor_pagination_walks_the_whole_catalogue_once(demo, client) -> None:
    _more_procedures(23)
    token = make_token(["catalogue:read"])
    published = set(db.session.scalars(select(Procedure.key).where(Procedure.published)))
    seen: list[str] = []
    url = "/api/v1/procedures?limit=4"
    pages = 0
    while True:
        body = get(client, url, token).get_json()
        assert len(body["items"]) <= 4
        seen += [item["key"] for item in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        url = f"/api/v1/procedures?limit=4&cursor={body['next_cursor']}"
    assert len(seen) == len(set(seen))
    assert set(seen) == published
    assert pages == -(-len(published) // 4)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=99999999999999999999999", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJhZnRlciI6ICJ4In0", "cursor"),  # {"after": "x"}
        ("colour=blue", "colour"),
    ],
)
def test_bad_arguments_get_422_with_one_entry_per_field(demo, client, query: str, field: str) -> None:
    token = make_token(["catalogue:read"])
    body = assert_problem(get(client, f"/api/v1/procedures?{query}", token), 422)
    assert body["type"].endswith("/invalid-input")
    assert [e["field"] for e in body["errors"]] == [field]
    assert all(e["message"] for e in body["errors"])


def test_problems_speak_the_callers_language(demo, client) -> None:
    token = make_token(["catalogue:read"])
    vi = assert_problem(get(client, "/api/v1/procedures?limit=0", token), 422)
    en = assert_problem(get(client, "/api/v1/procedures?limit=0", token, **{"Accept-Language": "en-GB,en;q=0.9"}), 422)
    assert en["title"] == "Invalid input"
    assert vi["title"] != en["title"]  # Vietnamese by default
    assert vi["errors"][0]["message"] != en["errors"][0]["message"]
    fr = assert_problem(get(client, "/api/v1/procedures?limit=0", token, **{"Accept-Language": "fr"}), 422)
    assert fr["title"] == vi["title"]


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/api/v1/nowhere", 404),
        ("GET", "/api/v1/", 404),
        ("DELETE", "/api/v1/procedures", 405),
        ("POST", "/api/v1/procedures", 405),
        ("GET", "/api/v1/procedures?limit=%00", 400),
    ],
)
def test_odd_requests_get_problems_never_a_500(demo, client, method: str, url: str, status: int) -> None:
    token = make_token(["catalogue:read"])
    response = client.open(
        url,
        method=method,
        data=b'{"broken": ',
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )
    assert_problem(response, status)


def test_a_huge_body_gets_413_as_a_problem(demo, client) -> None:
    demo.config["MAX_CONTENT_LENGTH"] = 1000
    token = make_token(["catalogue:read"])
    response = client.post(
        "/api/v1/procedures",
        data=b"x" * 5000,
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )
    assert response.status_code in (405, 413)
    assert response.mimetype == "application/problem+json"


def test_a_procedure_by_key_or_national_code(demo, client) -> None:
    token = make_token(["catalogue:read"])
    by_key = get(client, "/api/v1/procedures/birth_registration", token).get_json()
    by_code = get(client, f"/api/v1/procedures/{by_key['code']}", token).get_json()
    assert by_key == by_code
    assert by_key["version"] == 1
    assert by_key["accepts_applications"] is True
    assert by_key["agency"]["code"] == COMMUNE
    assert any(step["role"] == "applicant" for step in by_key["steps"])
    assert_problem(get(client, "/api/v1/procedures/no_such_thing", token), 404)


def application() -> dict:
    return {
        "child_full_name": "Nguyễn Minh An",
        "child_birth_date": "2026-02-20",
        "child_sex": "male",
        "child_birth_place": "Bệnh viện Đa khoa tỉnh",
        "father_full_name": "Nguyễn Văn Bình",
        "mother_full_name": "Võ Thị Mai",
        "applicant_relationship": "mother",
        "birth_certificate_file": "12",
    }


def test_the_form_as_json_schema_accepts_a_good_application_and_rejects_a_bad_one(demo, client) -> None:
    token = make_token(["catalogue:read"])
    response = get(client, "/api/v1/procedures/birth_registration/form", token)
    assert response.status_code == 200
    schema = response.get_json()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"child_full_name", "child_birth_date", "child_sex"} <= set(schema["required"])
    assert schema["properties"]["child_full_name"]["title"] == "Họ, chữ đệm và tên của trẻ"
    assert schema["properties"]["child_full_name"]["maxLength"] == 100
    assert [o["const"] for o in schema["properties"]["child_sex"]["oneOf"]] == ["male", "female"]
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    assert list(validator.iter_errors(application())) == []
    bad = {**application(), "child_sex": "other", "child_full_name": "x" * 101, "surprise": 1}
    del bad["child_birth_date"]
    problems = {(e.validator, tuple(e.path)) for e in validator.iter_errors(bad)}
    assert ("oneOf", ("child_sex",)) in problems
    assert ("maxLength", ("child_full_name",)) in problems
    assert ("required", ()) in problems
    assert ("additionalProperties", ()) in problems
    assert list(validator.iter_errors({**application(), "child_birth_date": "20/02/2026"}))
    english = get(client, "/api/v1/procedures/birth_registration/form", token, **{"Accept-Language": "en"}).get_json()
    assert english["properties"]["child_full_name"]["title"] == "Child's full name"


def test_every_bundled_form_gives_a_valid_schema(demo, client) -> None:
    token = make_token(["catalogue:read"])
    for key in ("birth_registration", "household_business", "construction_permit"):
        response = get(client, f"/api/v1/procedures/{key}/form", token)
        assert response.status_code == 200, key
        Draft202012Validator.check_schema(response.get_json())


def test_a_dossier_is_readable_by_an_account_of_its_agency_only(demo, client) -> None:
    data = {**application(), "birth_certificate_file": upload(CITIZEN, "giay-chung-sinh.pdf")}
    dossier = submit("birth_registration", data, vn(2026, 3, 2, 9, 0))
    allowed = make_token(["dossiers:read"], agencies=[COMMUNE])
    elsewhere = make_token(["dossiers:read"])
    no_scope = make_token(["catalogue:read"], agencies=[COMMUNE])

    body = get(client, f"/api/v1/dossiers/{dossier.code}", allowed).get_json()
    assert body["code"] == dossier.code
    assert body["status"]["code"] == 1
    assert body["status"]["label"]
    assert body["procedure"]["key"] == "birth_registration"
    assert body["submitted_at"].startswith("2026-03-02T02:00")
    assert [s["id"] for s in body["current_steps"]] == ["reception_check"]
    assert [d["filename"] for d in body["documents"]] == ["giay-chung-sinh.pdf"]
    assert "storage_key" not in json.dumps(body)
    assert "form_data" not in body

    assert_problem(get(client, f"/api/v1/dossiers/{dossier.code}", elsewhere), 404)
    assert_problem(get(client, f"/api/v1/dossiers/{dossier.code}", no_scope), 403)
    assert_problem(get(client, "/api/v1/dossiers/000.00.31.H56-260302-9999", allowed), 404)


def test_etags_answer_304_when_nothing_changed(demo, client) -> None:
    token = make_token(["catalogue:read"])
    first = get(client, "/api/v1/procedures/birth_registration", token)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = get(client, "/api/v1/procedures/birth_registration", token, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    other = get(client, "/api/v1/procedures/household_business", token, **{"If-None-Match": etag})
    assert other.status_code == 200


def test_statistics_are_the_open_data(demo, client) -> None:
    data = {**application(), "birth_certificate_file": upload(CITIZEN, "giay-chung-sinh.pdf")}
    dossier = submit("birth_registration", data, vn(2026, 3, 2, 9, 0))
    do(dossier, "reception_check", "tiepnhan@motcua.demo", {"decision": "accept"}, vn(2026, 3, 2, 9, 30))
    token = make_token(["stats:read"])
    body = get(client, "/api/v1/statistics/2026-03", token).get_json()
    public = client.get("/open-data/statistics/2026-03.json").get_json()
    assert body["province"] == public["province"]
    assert body["rows"] == public["rows"]
    assert body["fields"] == public["fields"]
    assert body["province"]["received"] == 1
    for month in ("2026-13", "2026", "2026-Q1", "abc"):
        bad = assert_problem(get(client, f"/api/v1/statistics/{month}", token), 422)
        assert bad["errors"][0]["field"] == "month"
