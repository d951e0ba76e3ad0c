"""The modeler's validate-and-save endpoint, comparing versions, and previewing a step's form."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ProcedureVersion
from tests.helpers import COMMUNE
from tests.test_admin_support import EN, MINIMAL, as_admin, counts, minimal, post, procedure, upload
from tests.web import csrf

SAVE = "/admin/modeler/save"


def save(client, payload, token: str | None = None):
    token = token or csrf(client, "/admin/procedures/new/modeler")
    return client.post(SAVE, json=payload, headers={"X-CSRFToken": token, "Accept": "application/json", **EN})


def test_the_modeler_page_loads_the_bundle_and_the_version(demo, client) -> None:
    as_admin(client)
    proc = procedure("birth_registration")
    page = client.get(f"/admin/procedures/{proc.id}/modeler").get_data(as_text=True)
    assert "vendor/bpmn-modeler/bpmn-modeler.min.js" in page
    assert f'data-xml-url="/admin/procedures/{proc.id}/versions/1/diagram.bpmn"' in page
    with client.get("/static/vendor/bpmn-modeler/bpmn-modeler.min.js") as bundle:
        assert bundle.status_code == 200
    xml = client.get(f"/admin/procedures/{proc.id}/versions/1/diagram.bpmn")
    assert xml.mimetype == "application/xml"
    assert xml.headers["Content-Disposition"] == 'attachment; filename="birth_registration-v1.bpmn"'
    assert b"birth_registration" in xml.data
    blank = client.get("/admin/modeler/blank.bpmn").get_data(as_text=True)
    assert 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"' in blank


def test_saving_a_good_diagram_makes_a_draft(demo, client) -> None:
    as_admin(client)
    response = save(client, {"xml": MINIMAL.decode(), "agency": COMMUNE})
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["ok"] is True
    assert answer["number"] == 1
    proc = procedure("minimal")
    assert answer["procedure_url"] == f"/admin/procedures/{proc.id}"
    # Saving the same diagram of that procedure again stores nothing new.
    again = save(client, {"xml": MINIMAL.decode(), "procedure_id": proc.id}).get_json()
    assert again["unchanged"] is True
    assert len(procedure("minimal").versions) == 1


def test_problems_come_back_with_element_and_line_and_nothing_is_stored(demo, client) -> None:
    as_admin(client)
    before = counts()
    broken = minimal(
        (
            '<bpmn:userTask id="receive" name="Tiếp nhận hồ sơ">',
            '<bpmn:userTask id="receive" name="Tiếp nhận hồ sơ" camunda:candidateGroups="tiep_nhan">',
        )
    )
    response = save(client, {"xml": broken.decode(), "agency": COMMUNE})
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["ok"] is False
    problem = next(p for p in answer["problems"] if p["element_id"] == "receive")
    assert "tiep_nhan" in problem["reason"]
    assert problem["line"] > 1
    assert counts() == before


def test_hostile_or_empty_diagrams_are_refused(demo, client) -> None:
    as_admin(client)
    before = counts()
    xxe = save(client, {"xml": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'}).get_json()
    assert "DOCTYPE" in xxe["problems"][0]["reason"]
    assert save(client, {"xml": ""}).get_json()["problems"][0]["reason"] == "The diagram is empty."
    big = save(client, {"xml": "<x>" + "a" * (2 * 1024 * 1024) + "</x>"}).get_json()
    assert big["problems"][0]["reason"] == "The diagram is larger than 2 MiB."
    not_json = client.post(SAVE, data="xml", headers={"X-CSRFToken": csrf(client, "/admin/"), **EN})
    assert not_json.status_code == 400
    assert counts() == before


def test_the_process_id_of_an_existing_procedure_cannot_change(demo, client) -> None:
    as_admin(client)
    proc = procedure("birth_registration")
    response = save(client, {"xml": minimal().decode(), "procedure_id": proc.id, "agency": COMMUNE})
    assert response.status_code == 422
    assert "must stay birth_registration" in response.get_json()["problems"][0]["reason"]
    assert db.session.scalar(select(func.count()).where(ProcedureVersion.process_id == "minimal")) == 0


def test_save_needs_the_csrf_token(demo, client) -> None:
    as_admin(client)
    response = client.post(SAVE, json={"xml": MINIMAL.decode(), "agency": COMMUNE})
    assert response.status_code == 400
    assert counts()[1] == 3  # the three bundled procedures only


def test_compare_two_versions(demo, client) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", MINIMAL))
    changed = minimal(
        ('<camunda:property name="allowance" value="0.5d" />', '<camunda:property name="allowance" value="1d" />'),
        (
            '<camunda:formField id="copies" label="Số bản" type="long" defaultValue="1" />',
            '<camunda:formField id="phone" label="Điện thoại" type="string" />',
        ),
        ('<camunda:property name="deadline" value="3d" />', '<camunda:property name="deadline" value="5d" />'),
    )
    changed = changed.replace(b"copies &gt; 0", b"True")
    response = upload(client, ("minimal.bpmn", changed))
    assert response.status_code == 302, response.get_data(as_text=True)
    proc = procedure("minimal")
    page = client.get(f"/admin/procedures/{proc.id}/diff?a=1&b=2", headers=EN).get_data(as_text=True)
    assert "Changes from version 1 to version 2" in page
    assert "apply.phone" in page  # field added
    assert "apply.copies" in page  # field removed
    assert "allowance: 0,5 working days → 1 working day" in page  # durations in words, not "0.5d → 1d"
    assert "3 working days → 5 working days" in page
    assert client.get(f"/admin/procedures/{proc.id}/diff?a=1&b=9").status_code == 404


def test_preview_a_step_form_and_check_sample_values(demo, client) -> None:
    as_admin(client)
    proc = procedure("minimal") if False else None
    upload(client, ("minimal.bpmn", MINIMAL))
    proc = procedure("minimal")
    url = f"/admin/procedures/{proc.id}/versions/1/preview/apply"
    page = client.get(url).get_data(as_text=True)
    assert "Họ và tên" in page  # the label the citizen sees (Vietnamese page)
    assert 'type="file"' in page
    english = client.get(url, headers=EN).get_data(as_text=True)
    assert "Full name" in english  # label_en on an English page
    wrong = post(client, url, {"full_name": "", "copies": "abc"}, page=url)
    assert wrong.status_code == 422
    assert "This field is required." in wrong.get_data(as_text=True)
    right = post(client, url, {"full_name": "Võ Thị Mai", "copies": "2"}, page=url)
    assert right.status_code == 200
    assert "These values would be accepted" in right.get_data(as_text=True)
    assert client.get(f"/admin/procedures/{proc.id}/versions/1/preview/nope").status_code == 404
    assert counts()[1] == 4  # nothing new stored by previews
