"""Uploading procedures, refusing bad files, the catalogue entry, publishing and retiring, decision tables."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditLog, Dossier
from tests.helpers import COMMUNE, PROCEDURES, submit, vn
from tests.test_admin_support import BAD, EN, MINIMAL, as_admin, counts, minimal, post, procedure, upload
from tests.web import csrf

HUGE = b'<?xml version="1.0"?><!--' + b"x" * (2 * 1024 * 1024) + b"-->"


def test_upload_makes_a_draft_and_the_audit_says_who(demo, client) -> None:
    as_admin(client)
    response = upload(client, ("minimal.bpmn", MINIMAL))
    assert response.status_code == 302
    proc = procedure("minimal")
    assert response.headers["Location"].endswith(f"/admin/procedures/{proc.id}")
    assert [(v.number, v.status) for v in proc.versions] == [(1, "draft")]
    assert proc.published is False  # a draft is not in the catalogue yet
    assert proc.agency.code == COMMUNE
    page = client.get(f"/admin/procedures/{proc.id}", headers=EN).get_data(as_text=True)
    assert "Version 1" in page
    assert "Draft" in page
    log = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "procedure.deploy").order_by(AuditLog.id.desc()).limit(1)
    )
    assert log.details["procedure"] == "minimal"
    assert log.actor_id is not None
    assert log.ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("xxe.bpmn", (BAD / "xxe.bpmn").read_bytes(), "DOCTYPE"),
        ("billion_laughs.bpmn", (BAD / "billion_laughs.bpmn").read_bytes(), "DOCTYPE"),
        ("not_xml.bpmn", (BAD / "not_xml.bpmn").read_bytes(), "not well-formed"),
        ("unknown_role.bpmn", (BAD / "unknown_role.bpmn").read_bytes(), "recepton"),
        ("service_task.bpmn", (BAD / "service_task.bpmn").read_bytes(), "service"),
        ("huge.bpmn", HUGE, "larger than 2 MiB"),
        ("notes.txt", MINIMAL, "is not a .bpmn file"),
        ("empty.bpmn", b"   ", "is empty"),
        ("photo.bpmn", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not well-formed"),
        ("decision.bpmn", (PROCEDURES / "household_business_fee.dmn").read_bytes(), "BPMN"),
    ],
)
def test_bad_files_are_refused_with_a_reason_and_nothing_changes(demo, client, name, content, reason) -> None:
    as_admin(client)
    before = counts()
    response = upload(client, (name, content))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert reason in page
    assert 'role="alert"' in page
    assert counts() == before


def test_a_bad_decision_table_refuses_the_whole_upload(demo, client) -> None:
    as_admin(client)
    before = counts()
    response = upload(client, ("minimal.bpmn", MINIMAL), [("fees.dmn", (BAD / "xxe.bpmn").read_bytes())])
    assert response.status_code == 422
    assert "fees.dmn" in response.get_data(as_text=True)
    assert counts() == before


def test_a_new_version_without_an_agency_keeps_the_procedures_agency(demo, client) -> None:
    """The bundled files name no agency: uploading one again, with the form's default "from the file", must not
    be refused for want of one when the procedure is already handled by an agency."""
    as_admin(client)
    text = (PROCEDURES / "birth_registration.bpmn").read_text(encoding="utf-8")
    changed = text.replace("<bpmn:documentation>", "<bpmn:documentation>Sửa đổi. ", 1).encode("utf-8")
    response = upload(client, ("birth_registration.bpmn", changed), agency="")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    proc = procedure("birth_registration")
    assert [v.number for v in proc.versions] == [1, 2]
    assert proc.agency.code == COMMUNE
    response = upload(client, ("minimal.bpmn", MINIMAL), agency="")  # a new procedure still needs one
    assert response.status_code == 422
    assert "agency" in response.get_data(as_text=True)


def test_the_same_file_twice_makes_no_new_version(demo, client) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", MINIMAL))
    response = upload(client, ("minimal.bpmn", MINIMAL))
    assert response.status_code == 302
    assert len(procedure("minimal").versions) == 1
    assert "nothing new was stored" in client.get(response.headers["Location"], headers=EN).get_data(as_text=True)


def test_publish_then_retire(demo, client) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", MINIMAL))
    proc = procedure("minimal")
    page = f"/admin/procedures/{proc.id}"
    response = post(client, f"{page}/versions/1/publish", page=page)
    assert response.status_code == 302
    proc = procedure("minimal")
    assert proc.versions[0].status == "published"
    assert proc.versions[0].published_by_id is not None
    assert proc.published is True
    assert "Thủ tục tối giản" in client.get("/procedures").get_data(as_text=True)  # in the citizen catalogue

    post(client, f"{page}/versions/1/retire", page=page)
    proc = procedure("minimal")
    assert proc.versions[0].status == "retired"
    assert proc.published is False
    # A retired version cannot come back: the page says so and nothing changes.
    response = post(client, f"{page}/versions/1/publish", page=page, follow_redirects=True)
    assert "cannot be published again" in response.get_data(as_text=True)
    assert procedure("minimal").versions[0].status == "retired"
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.action.like("procedure.%"), AuditLog.actor_id.is_not(None))
    ).all()
    assert actions == ["procedure.deploy", "procedure.publish", "procedure.retire"]


def test_publishing_needs_the_csrf_token(demo, client) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", MINIMAL))
    proc = procedure("minimal")
    response = client.post(f"/admin/procedures/{proc.id}/versions/1/publish", data={})
    assert response.status_code == 400
    assert procedure("minimal").versions[0].status == "draft"


def test_running_dossiers_keep_their_version(demo, client) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", MINIMAL))
    proc = procedure("minimal")
    post(client, f"/admin/procedures/{proc.id}/versions/1/publish")
    dossier = submit("minimal", {"full_name": "Võ Thị Mai", "copies": 1}, vn(2026, 3, 2, 9))
    upload(client, ("minimal.bpmn", minimal(('label="Số bản"', 'label="Số lượng bản"'))))
    post(client, f"/admin/procedures/{proc.id}/versions/2/publish")
    proc = procedure("minimal")
    assert [v.status for v in proc.versions] == ["published", "published"]
    assert db.session.get(Dossier, dossier.id).procedure_version_id == proc.versions[0].id
    page = client.get(f"/admin/procedures/{proc.id}/versions/1", headers=EN).get_data(as_text=True)
    assert "1 dossier uses this version." in page


def test_edit_the_catalogue_entry(demo, client) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", MINIMAL))
    proc = procedure("minimal")
    url = f"/admin/procedures/{proc.id}/catalogue"
    form = {
        "code": "1.000999",
        "name": "Thủ tục tối giản (sửa)",
        "name_en": "Minimal, edited",
        "field": "Hộ tịch",
        "agency_id": str(proc.agency_id),
        "service_level": "full_online",
        "deadline": "5d",
        "deadline_kind": "calendar",
        "fee": "20000",
        "documents": "Tờ khai\n\nẢnh chân dung\n",
        "published": "y",
    }
    response = post(client, url, form, page=url)
    assert response.status_code == 302
    proc = procedure("minimal")
    assert (proc.code, proc.deadline, proc.deadline_kind, proc.fee) == ("1.000999", "5d", "calendar", 20000)
    assert proc.documents == ["Tờ khai", "Ảnh chân dung"]
    assert proc.published is True
    assert "toi gian" in proc.search_text

    wrong = post(client, url, {**form, "deadline": "five days", "fee": "-1", "name": ""}, page=url)
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert "There is a problem" in page
    assert "This field is required." in page
    assert 'value="five days"' in page  # what was typed is kept
    assert procedure("minimal").deadline == "5d"


def test_catalogue_refuses_a_wrong_deadline(demo, client) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", MINIMAL))
    proc = procedure("minimal")
    url = f"/admin/procedures/{proc.id}/catalogue"
    form = {
        "code": "x",
        "name": "y",
        "agency_id": str(proc.agency_id),
        "service_level": "full_online",
        "deadline": "5 ngày",
        "deadline_kind": "working",
        "fee": "0",
        "documents": "",
    }
    response = post(client, url, form, page=url)
    assert response.status_code == 422
    assert "Write same-day, a number of days (15d) or of hours (4h)." in response.get_data(as_text=True)
    assert procedure("minimal").code == "1.000001"


def test_decision_tables_upload_and_validate(demo, client) -> None:
    as_admin(client)
    proc = procedure("household_business")
    before = len(proc.versions)
    page = f"/admin/procedures/{proc.id}"
    table = (PROCEDURES / "household_business_fee.dmn").read_bytes()
    changed = table.replace(b"100000", b"150000")
    assert changed != table
    token = csrf(client, page)

    response = client.post(
        f"{page}/dmn",
        data={"csrf_token": token, "dmn": (BytesIO(changed), "household_business_fee.dmn")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    proc = procedure("household_business")
    assert len(proc.versions) == before + 1
    assert "150000" in proc.versions[-1].dmn_files[0]["xml"]
    assert proc.versions[-1].status == "draft"

    hostile = client.post(
        f"{page}/dmn",
        data={"csrf_token": token, "dmn": (BytesIO((BAD / "billion_laughs.bpmn").read_bytes()), "fees.dmn")},
        content_type="multipart/form-data",
        headers=EN,
    )
    assert hostile.status_code == 422
    assert "DOCTYPE" in hostile.get_data(as_text=True)
    assert len(procedure("household_business").versions) == before + 1
