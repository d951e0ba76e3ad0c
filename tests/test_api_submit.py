"""POST /api/v1/dossiers: a dossier for a citizen identified by citizen ID, with its files, exactly once per
Idempotency-Key; every kind of bad input answered as a problem, never a 500, and nothing kept from it."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Attachment, Dossier, IdempotencyKey, Origin
from tests.api import COMMUNE, assert_problem, bearer, get, make_token
from tests.helpers import PDF

CITIZEN_ID = "001190012345"  # Võ Thị Mai, the demo citizen


def submission(**changes) -> dict:
    body = {
        "procedure": "birth_registration",
        "citizen_id": CITIZEN_ID,
        "data": {
            "child_full_name": "Nguyễn Minh An",
            "child_birth_date": "2026-02-20",
            "child_sex": "male",
            "child_birth_place": "Bệnh viện Đa khoa tỉnh",
            "mother_full_name": "Võ Thị Mai",
            "applicant_relationship": "mother",
        },
        "attachments": [
            {
                "field": "birth_certificate_file",
                "filename": "giay-chung-sinh.pdf",
                "content_base64": base64.b64encode(PDF).decode(),
            }
        ],
    }
    body.update(changes)
    return body


def post(client, token: str, body, key: str | None = "k-1", **headers: str):
    if key is not None:
        headers["Idempotency-Key"] = key
    raw = body if isinstance(body, bytes) else json.dumps(body)
    return client.post("/api/v1/dossiers", data=raw, content_type="application/json", headers=bearer(token, **headers))


def dossiers() -> int:
    return db.session.scalar(select(func.count()).select_from(Dossier)) or 0


@pytest.fixture
def token(demo) -> str:
    return make_token(["dossiers:submit", "dossiers:read"], agencies=[COMMUNE])


def test_a_submission_files_one_dossier_and_a_retry_gets_the_same_answer(demo, client, token) -> None:
    first = post(client, token, submission())
    assert first.status_code == 201, first.get_data(as_text=True)
    body = first.get_json()
    assert body["status"]["code"] == 1
    assert [d["filename"] for d in body["documents"]] == ["giay-chung-sinh.pdf"]
    assert first.headers["Location"] == f"/api/v1/dossiers/{body['code']}"
    dossier = db.session.scalar(select(Dossier))
    assert dossier is not None
    assert dossier.applicant.citizen_id == CITIZEN_ID
    assert dossier.form_data["child_full_name"] == "Nguyễn Minh An"
    assert get(client, first.headers["Location"], token).get_json()["code"] == body["code"]

    again = post(client, token, submission())
    assert again.status_code == 201
    assert again.get_json() == body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert dossiers() == 1
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1

    other = post(client, token, submission(), key="k-2")  # a new key is a new submission
    assert other.status_code == 201
    assert dossiers() == 2


def test_dossiers_are_marked_with_the_system_that_filed_them(demo, client, token) -> None:
    assert post(client, token, submission()).status_code == 201
    assert db.session.scalar(select(Dossier.origin)) == Origin.API
    demo.config["NATIONAL_PORTAL_ACCOUNT"] = "Hệ thống thử"  # the account tests.api.make_token creates
    national = post(client, token, submission(), key="k-2")
    assert national.status_code == 201
    assert db.session.scalar(select(Dossier.origin).where(Dossier.code == national.get_json()["code"])) == (
        Origin.NATIONAL_PORTAL
    )


def test_the_same_key_with_another_body_is_refused(demo, client, token) -> None:
    assert post(client, token, submission()).status_code == 201
    changed = submission()
    changed["data"]["child_full_name"] = "Nguyễn Minh Anh"
    body = assert_problem(post(client, token, changed), 422)
    assert body["type"].endswith("/idempotency-key-reused")
    assert dossiers() == 1


def test_another_account_has_its_own_keys(demo, client, token) -> None:
    other = make_token(["dossiers:submit"], agencies=[COMMUNE])
    assert post(client, token, submission()).status_code == 201
    assert post(client, other, submission()).status_code == 201
    assert dossiers() == 2


def test_a_refused_submission_keeps_nothing_and_can_be_corrected_with_the_same_key(demo, client, token) -> None:
    bad = submission()
    bad["data"]["child_sex"] = "other"
    del bad["data"]["child_birth_date"]
    body = assert_problem(post(client, token, bad), 422)
    assert {e["field"] for e in body["errors"]} == {"data.child_sex", "data.child_birth_date"}
    assert dossiers() == 0
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    assert post(client, token, submission()).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        (b'{"procedure": ', 400, {"body"}),
        (b"[1, 2]", 422, {"body"}),
        (b'"text"', 422, {"body"}),
        ({}, 422, {"procedure", "citizen_id", "data"}),
        (submission(citizen_id="12"), 422, {"citizen_id"}),
        (submission(citizen_id="999999999999"), 422, {"citizen_id"}),
        (submission(surprise=1), 422, {"surprise"}),
        (submission(data=[1]), 422, {"data"}),
        (submission(data={"child_full_name": 5}), 422, {"data.child_full_name"}),
        (submission(data={"nope": "x"}), 422, {"data.nope"}),
        (submission(data={"birth_certificate_file": "1"}), 422, {"data.birth_certificate_file"}),
        (submission(attachments="x"), 422, {"attachments"}),
        (submission(attachments=[{"field": "x"}]), 422, {"attachments.0.filename", "attachments.0.content_base64"}),
        (
            submission(attachments=[{"field": "birth_certificate_file", "filename": "a.pdf", "content_base64": "%%"}]),
            422,
            {"attachments.0.content_base64"},
        ),
        (
            submission(
                attachments=[{"field": "birth_certificate_file", "filename": "a.exe", "content_base64": "TVqQ"}]
            ),
            422,
            {"attachments.0.content_base64"},
        ),
        (submission(data={**submission()["data"], "child_full_name": "x" * 10_000}), 422, {"data.child_full_name"}),
    ],
)
def test_bad_input_gets_a_problem_never_a_500(demo, client, token, body, status: int, fields: set) -> None:
    problem = assert_problem(post(client, token, body), status)
    assert {e["field"] for e in problem["errors"]} == fields, problem
    assert dossiers() == 0


def test_a_post_needs_an_idempotency_key_and_the_scope_and_the_agency(demo, client, token) -> None:
    body = assert_problem(post(client, token, submission(), key=None), 400)
    assert body["type"].endswith("/idempotency-key-required")
    assert_problem(post(client, token, submission(), key="x" * 201), 400)
    reader = make_token(["dossiers:read"], agencies=[COMMUNE])
    assert_problem(post(client, reader, submission()), 403)
    elsewhere = make_token(["dossiers:submit"])
    assert_problem(post(client, elsewhere, submission()), 403)
    assert_problem(post(client, token, submission(procedure="no_such_thing")), 404)
    assert dossiers() == 0


def test_a_huge_body_gets_413(demo, client, token) -> None:
    demo.config["MAX_CONTENT_LENGTH"] = 10_000
    big = submission()
    big["attachments"][0]["content_base64"] = "A" * 20_000
    assert_problem(post(client, token, big), 413)
    assert dossiers() == 0


def test_problems_of_a_submission_come_in_english_when_asked(demo, client, token) -> None:
    bad = submission(citizen_id="12")
    body = assert_problem(post(client, token, bad, **{"Accept-Language": "en"}), 422)
    assert body["errors"][0]["message"] == "A citizen ID number has 12 digits."
    vi = assert_problem(post(client, token, bad), 422)
    assert vi["errors"][0]["message"] != body["errors"][0]["message"]


def test_concurrent_retries_with_one_key_file_one_dossier(demo, token) -> None:
    """Eight clients send the same submission with the same key at the same moment: one dossier, eight equal
    answers (the others wait on the key's unique index, then replay the winner's answer)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    body = json.dumps(submission())
    start = Barrier(8)

    def send(_n: int):
        with demo.app_context():  # as the test's own thread has one (the client expires its session after each call)
            client = demo.test_client()
            start.wait()
            response = post(client, token, body.encode())
            return response.status_code, response.get_data(as_text=True)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    assert {status for status, _text in answers} == {201}, answers
    assert len({text for _status, text in answers}) == 1
    db.session.expire_all()
    assert dossiers() == 1
