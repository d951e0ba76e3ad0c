"""The step that issues a procedure's result is part of the model: a user task's `issues_result` property names the
decision with which completing it issues the signed result. A procedure modelled with its own ids (the chairman's
step `chu_tich_ky`, decision `accept` "Đồng ý ký") issues its result on that decision and on no other; the bundled
procedures declare theirs (birth registration's `leader_sign` now issues its extract); versions that declare none
keep the old rule (`leader_approval` + `approve`); a wrong declaration is refused at upload with the element id."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.core.time import utcnow
from portal.documents.results import LEGACY_RESULT_STEPS, result_steps
from portal.documents.tasks import sweep
from portal.models import DocumentKind, Dossier
from tests.helpers import COMMUNE, PROCEDURES, do, submit, version_of, vn
from tests.test_admin_support import as_admin, counts, minimal, post, procedure
from tests.test_birth_registration import CIVIL
from tests.test_birth_registration import application as birth_application
from tests.test_citizen_support import multipart
from tests.test_household_business import application
from tests.test_result_documents import issued
from tests.test_signed_documents import keys_dir, pdf_text, signing_demo  # noqa: F401  (fixtures)
from tests.web import csrf, login
from workflows.bpmn_model import read_model
from workflows.validation import validate_bpmn

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
SPECIALIST = "dkkd@motcua.demo"
LEADER = "lanhdao@motcua.demo"
EN = {"Cookie": "lang=en"}
VI = {"Cookie": "lang=vi"}
FEES = PROCEDURES / "household_business_fee.dmn"
ALLOWANCE = '<camunda:property name="allowance" value="0.5d" />'
KIND_SUBMIT = '<camunda:property name="kind" value="submit" />'


def chairman_model() -> bytes:
    """The household business procedure as an administrator re-modelled it: the chairman signs in the step
    `chu_tich_ky` with the decision `accept` ("Đồng ý ký"), which issues the result; `reject` sends it back."""
    text = (
        (PROCEDURES / "household_business.bpmn").read_text(encoding="utf-8").replace("leader_approval", "chu_tich_ky")
    )
    start = text.index('<bpmn:userTask id="chu_tich_ky"')
    end = text.index("</bpmn:userTask>", start)
    step = text[start:end]
    for old, new in (
        ('<camunda:value id="approve" name="Phê duyệt" />', '<camunda:value id="accept" name="Đồng ý ký" />'),
        ('name="issues_result" value="approve"', 'name="issues_result" value="accept"'),
    ):
        assert step.count(old) == 1, old
        step = step.replace(old, new)
    return (text[:start] + step + text[end:]).encode("utf-8")


def upload(client: FlaskClient, name: str, xml: bytes, dmn: list[tuple[str, bytes]] = (), headers=EN):
    token = csrf(client, "/admin/procedures/upload")
    files = [("bpmn", name, xml)] + [("dmn", n, content) for n, content in dmn]
    body, content_type = multipart({"csrf_token": token, "agency": COMMUNE}, files)
    return client.post("/admin/procedures/upload", data=body, headers=headers, content_type=content_type)


def deploy_chairman_model(client: FlaskClient) -> None:
    """Uploaded and published by the administrator through the pages, as a new version of the procedure (it keeps
    the procedure's result template)."""
    as_admin(client)
    response = upload(client, "household_business.bpmn", chairman_model(), [(FEES.name, FEES.read_bytes())])
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    proc = procedure("household_business")
    number = max(v.number for v in proc.versions)
    published = post(client, f"/admin/procedures/{proc.id}/versions/{number}/publish")
    assert published.status_code in (302, 303)
    client.post("/logout")


def result_steps_of_current() -> dict[str, str]:
    from portal.documents.results import result_steps_of

    return result_steps_of(version_of("household_business"))


def to_the_chairman(at: int = 2) -> Dossier:
    dossier = submit("household_business", application(), vn(2026, 3, at, 8, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, at, 9, 0))
    review = {"decision": "approve", "registration_number": "HKD-0777"}
    return do(dossier, "specialist_review", SPECIALIST, review, vn(2026, 3, at, 10, 0))


def dossier_page(app: Flask, dossier: Dossier) -> str:
    owner = app.test_client()
    login(owner, CITIZEN)
    return owner.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)


def test_the_declared_step_issues_the_result_on_its_decision_only(
    signing_demo: Flask,  # noqa: F811
    client: FlaskClient,
    tmp_path: Path,
) -> None:
    deploy_chairman_model(client)
    assert result_steps_of_current() == {"chu_tich_ky": "accept"}  # the legacy rule no longer applies
    dossier = to_the_chairman()
    sent_back = {"decision": "reject", "reason": "Ghi sai địa chỉ trụ sở"}
    do(dossier, "chu_tich_ky", LEADER, sent_back, vn(2026, 3, 2, 11, 0))
    assert issued(dossier, DocumentKind.RESULT) == []  # another decision: no result
    assert f"/documents/dossiers/{dossier.id}/result" not in dossier_page(signing_demo, dossier)

    review = {"decision": "approve", "registration_number": "HKD-0777"}
    do(dossier, "specialist_review", SPECIALIST, review, vn(2026, 3, 3, 9, 0))
    do(dossier, "chu_tich_ky", LEADER, {"decision": "accept"}, vn(2026, 3, 3, 10, 0))
    [document] = issued(dossier, DocumentKind.RESULT)
    from portal.core.storage import storage

    text = pdf_text(storage().get(document.storage_key), tmp_path)
    assert "GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH" in text
    assert "HKD-0777" in text
    page = dossier_page(signing_demo, dossier)
    assert f"/documents/dossiers/{dossier.id}/result" in page


def test_the_sweep_issues_a_lost_result_of_a_declared_step(signing_demo: Flask, client: FlaskClient) -> None:  # noqa: F811
    deploy_chairman_model(client)
    signing_demo.config["DOCUMENTS_ISSUE_AUTOMATICALLY"] = False  # the job queued at the commit is "lost"
    at = utcnow() - timedelta(hours=2)
    signed = submit("household_business", application(), at - timedelta(hours=3))
    do(signed, "reception_check", DESK, {"decision": "accept"}, at - timedelta(hours=2))
    review = {"decision": "approve", "registration_number": "HKD-0778"}
    do(signed, "specialist_review", SPECIALIST, review, at - timedelta(hours=1))
    do(signed, "chu_tich_ky", LEADER, {"decision": "accept"}, at)
    rejected = to_the_chairman(at=4)
    do(rejected, "chu_tich_ky", LEADER, {"decision": "reject", "reason": "Thiếu chữ ký"}, utcnow() - timedelta(hours=1))
    assert issued(signed, DocumentKind.RESULT) == []

    signing_demo.config.update(DOCUMENTS_ISSUE_AUTOMATICALLY=True, DOCUMENTS_SWEEP_LOOKBACK_DAYS=3650)
    sweep()
    assert len(issued(signed, DocumentKind.RESULT)) == 1
    assert issued(rejected, DocumentKind.RESULT) == []
    sweep()
    assert len(issued(signed, DocumentKind.RESULT)) == 1  # once


def test_the_bundled_procedures_declare_their_result_step(signing_demo: Flask) -> None:  # noqa: F811
    for key, step in (
        ("household_business", "leader_approval"),
        ("construction_permit", "leader_approval"),
        ("birth_registration", "leader_sign"),
    ):
        model = read_model((PROCEDURES / f"{key}.bpmn").read_bytes())
        assert result_steps(model) == {step: "approve"}, key
    # Birth registration's signing step is `leader_sign`: under the old rule its extract was never issued.
    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 30))
    review = {"decision": "approve", "registration_number": "12/2026"}
    do(dossier, "civil_status_review", CIVIL, review, vn(2026, 3, 2, 10, 30))
    do(dossier, "leader_sign", LEADER, {"decision": "approve"}, vn(2026, 3, 2, 11, 0))
    assert len(issued(dossier, DocumentKind.RESULT)) == 1


def test_a_model_that_declares_nothing_keeps_the_old_rule() -> None:
    """Versions deployed before `issues_result` existed: `leader_approval` with `approve` issues the result."""
    text = (PROCEDURES / "household_business.bpmn").read_text(encoding="utf-8")
    old = '<camunda:property name="issues_result" value="approve" />'
    assert text.count(old) == 1
    model = read_model(text.replace(old, "").encode("utf-8"))
    assert result_steps(model) == LEGACY_RESULT_STEPS == {"leader_approval": "approve"}
    assert result_steps(read_model(chairman_model())) == {"chu_tich_ky": "accept"}


def test_a_declared_step_without_a_result_template_issues_nothing(signing_demo: Flask, client: FlaskClient) -> None:  # noqa: F811
    """A new procedure (no bundled template, none written yet) may declare its result step: nothing is issued."""
    as_admin(client)
    xml = minimal((ALLOWANCE, ALLOWANCE + '<camunda:property name="issues_result" value="accept" />'))
    assert upload(client, "minimal.bpmn", xml).status_code == 302
    proc = procedure("minimal")
    post(client, f"/admin/procedures/{proc.id}/versions/1/publish")
    client.post("/logout")
    dossier = submit("minimal", {"full_name": "Nguyễn An", "copies": 1}, vn(2026, 3, 2, 8, 0))
    do(dossier, "receive", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    assert issued(dossier, DocumentKind.RESULT) == []
    assert f"/documents/dossiers/{dossier.id}/result" not in dossier_page(signing_demo, dossier)


@pytest.mark.parametrize(
    ("change", "element", "english", "vietnamese"),
    [
        (
            (ALLOWANCE, ALLOWANCE + '<camunda:property name="issues_result" value="approve" />'),
            "receive",
            "&#39;approve&#39; is not one of the options of the step&#39;s decision field (accept, refuse)",
            "&#39;approve&#39; không phải là một lựa chọn của trường quyết định của bước (accept, refuse)",
        ),
        (
            (KIND_SUBMIT, KIND_SUBMIT + '<camunda:property name="issues_result" value="accept" />'),
            "apply",
            "issues_result &#39;accept&#39; needs a decision field on the step",
            "issues_result &#39;accept&#39; cần bước có trường quyết định",
        ),
    ],
)
def test_a_wrong_declaration_is_refused_at_upload(demo, client, change, element, english, vietnamese) -> None:
    as_admin(client)
    before = counts()
    xml = minimal(change)
    for headers, reason in ((EN, english), (VI, vietnamese)):
        response = upload(client, "minimal.bpmn", xml, headers=headers)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert reason in page, page[:4000]
        assert element in page
        assert 'role="alert"' in page
    assert counts() == before


def test_validation_says_where_a_declaration_is_wrong() -> None:
    twice = minimal(
        (
            ALLOWANCE,
            ALLOWANCE
            + '<camunda:property name="issues_result" value="accept" />'
            + '<camunda:property name="issues_result" value="refuse" />',
        )
    )
    [problem] = validate_bpmn(twice, "minimal.bpmn")
    assert problem.element_id == "receive"
    assert "declared more than once" in problem.reason
    assert problem.line > 1
    end = minimal(
        (
            '<camunda:property name="status" value="9" />',
            '<camunda:property name="status" value="9" /><camunda:property name="issues_result" value="accept" />',
        )
    )
    [problem] = validate_bpmn(end, "minimal.bpmn")
    assert problem.element_id == "finished"
    assert "belongs on a user task" in problem.reason
    fine = minimal((ALLOWANCE, ALLOWANCE + '<camunda:property name="issues_result" value="accept" />'))
    assert validate_bpmn(fine, "minimal.bpmn") == []
    assert read_model(fine).steps["receive"].issues_result == "accept"
