"""In a real browser: an admin uploads a Camunda Modeler file for a new procedure, sees it refused, fixes the
problem in the browser modeler's properties panel, saves, publishes, and a citizen applies to it."""

# ruff: noqa: E501  (the BPMN below is kept as Camunda Modeler writes it, one element a line)

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Dossier, Procedure
from tests.browser import assert_accessible, new_page, shot

# As Camunda Modeler 5 saves it, with one mistake: the reception step's candidate group `tiep_nhan` is not a
# role of the agency (the desk's role code is `reception`).
RESIDENCE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_cu_tru" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.20.0">
  <bpmn:process id="xac_nhan_cu_tru" name="Xác nhận thông tin về cư trú" isExecutable="true">
    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="code" value="1.004194" />
        <camunda:property name="name_en" value="Confirmation of residence" />
        <camunda:property name="field" value="Cư trú" />
        <camunda:property name="agency" value="000.00.31.H56" />
        <camunda:property name="deadline" value="1d" />
        <camunda:property name="service_level" value="full_online" />
        <camunda:property name="document" value="Tờ khai thay đổi thông tin cư trú" />
      </camunda:properties>
    </bpmn:extensionElements>
    <bpmn:startEvent id="start" name="Bắt đầu">
      <bpmn:outgoing>to_apply</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="to_apply" sourceRef="start" targetRef="apply" />
    <bpmn:userTask id="apply" name="Nộp hồ sơ" camunda:candidateGroups="applicant">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="full_name" label="Họ và tên" type="string">
            <camunda:validation>
              <camunda:constraint name="required" />
            </camunda:validation>
          </camunda:formField>
          <camunda:formField id="address" label="Nơi cư trú" type="string" />
        </camunda:formData>
        <camunda:properties>
          <camunda:property name="kind" value="submit" />
        </camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>to_apply</bpmn:incoming>
      <bpmn:outgoing>to_receive</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="to_receive" sourceRef="apply" targetRef="receive" />
    <bpmn:userTask id="receive" name="Tiếp nhận hồ sơ" camunda:candidateGroups="tiep_nhan">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="decision" label="Quyết định" type="enum">
            <camunda:value id="accept" name="Tiếp nhận" />
            <camunda:value id="refuse" name="Từ chối" />
            <camunda:validation>
              <camunda:constraint name="required" />
            </camunda:validation>
          </camunda:formField>
          <camunda:formField id="reason" label="Lý do" type="string" />
        </camunda:formData>
        <camunda:properties>
          <camunda:property name="kind" value="reception" />
          <camunda:property name="status" value="1" />
          <camunda:property name="allowance" value="1d" />
        </camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>to_receive</bpmn:incoming>
      <bpmn:outgoing>to_decided</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="to_decided" sourceRef="receive" targetRef="decided" />
    <bpmn:exclusiveGateway id="decided" name="Tiếp nhận?" default="accepted">
      <bpmn:incoming>to_decided</bpmn:incoming>
      <bpmn:outgoing>accepted</bpmn:outgoing>
      <bpmn:outgoing>not_accepted</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="accepted" sourceRef="decided" targetRef="finished" />
    <bpmn:sequenceFlow id="not_accepted" sourceRef="decided" targetRef="refused">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${decision == "refuse"}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="finished" name="Đã xử lý xong">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="status" value="9" />
        </camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>accepted</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:endEvent id="refused" name="Không tiếp nhận">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="status" value="3" />
        </camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>not_accepted</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="xac_nhan_cu_tru">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="152" y="102" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="apply_di" bpmnElement="apply"><dc:Bounds x="240" y="80" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="receive_di" bpmnElement="receive"><dc:Bounds x="400" y="80" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="decided_di" bpmnElement="decided" isMarkerVisible="true"><dc:Bounds x="555" y="95" width="50" height="50" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="finished_di" bpmnElement="finished"><dc:Bounds x="672" y="102" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="refused_di" bpmnElement="refused"><dc:Bounds x="672" y="222" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="to_apply_di" bpmnElement="to_apply"><di:waypoint x="188" y="120" /><di:waypoint x="240" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="to_receive_di" bpmnElement="to_receive"><di:waypoint x="340" y="120" /><di:waypoint x="400" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="to_decided_di" bpmnElement="to_decided"><di:waypoint x="500" y="120" /><di:waypoint x="555" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="accepted_di" bpmnElement="accepted"><di:waypoint x="605" y="120" /><di:waypoint x="672" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="not_accepted_di" bpmnElement="not_accepted"><di:waypoint x="580" y="145" /><di:waypoint x="580" y="240" /><di:waypoint x="672" y="240" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def sign_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.locator("#identifier").fill(email)
    page.locator("#password").fill("MotCua@2026")
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda u: "/login" not in u)
    assert_accessible(page)


def test_admin_models_fixes_publishes_and_a_citizen_applies(live_server, browser, tmp_path) -> None:
    bpmn = tmp_path / "xac_nhan_cu_tru.bpmn"
    bpmn.write_text(RESIDENCE, encoding="utf-8")
    admin = new_page(browser, locale="en-US")
    errors: list[str] = []
    admin.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    admin.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(admin, live_server.url, "admin@motcua.demo")

    # 1. Upload the Camunda Modeler file: refused, with the element and the reason.
    admin.get_by_role("link", name="Administration").click()
    admin.get_by_role("navigation", name="Administration").get_by_role("link", name="Procedures").click()
    admin.get_by_role("link", name="Upload a BPMN file").click()
    admin.get_by_label("BPMN file (.bpmn)").set_input_files(str(bpmn))
    admin.get_by_role("button", name="Check and upload").click()
    alert = admin.get_by_role("alert")
    alert.wait_for()
    assert "tiep_nhan" in alert.inner_text()
    assert "receive" in alert.inner_text()
    shot(admin, "admin-upload-refused")
    assert_accessible(admin)

    # 2. Open it in the browser modeler and save: the same problem, next to the diagram.
    admin.get_by_role("link", name="Open the browser modeler").click()
    admin.get_by_text("The diagram is loaded.").wait_for()
    assert_accessible(admin, "the modeler")
    admin.get_by_label("Open a .bpmn file from your computer").set_input_files(str(bpmn))
    admin.locator('.djs-element[data-element-id="receive"]').wait_for()
    admin.get_by_role("button", name="Check and save").click()
    problems = admin.locator("#modeler-problems")
    problems.get_by_text("tiep_nhan").wait_for()
    assert problems.get_attribute("role") == "alert"
    assert_accessible(admin, "the modeler with its list of problems")
    assert "has-problem" in admin.locator('.djs-element[data-element-id="receive"]').get_attribute("class")

    # 3. The problem's button selects the task; fix its candidate group in the properties panel.
    problems.get_by_role("button", name="Show on the diagram (receive)").click()
    admin.locator('.djs-element.selected[data-element-id="receive"]').wait_for()
    panel = admin.locator("#modeler-panel")
    panel.locator(".bio-properties-panel-header-label", has_text="Tiếp nhận hồ sơ").wait_for()
    panel.locator('[data-group-id="group-CamundaPlatform__UserAssignment"] .bio-properties-panel-group-header').click()
    candidate = panel.locator("#bio-properties-panel-candidateGroups")
    candidate.fill("reception")
    admin.locator("#modeler[data-changes]").wait_for()
    shot(admin, "admin-modeler-fixing")
    admin.get_by_role("button", name="Check and save").click()
    admin.get_by_text("Saved as version 1 (draft).").wait_for()
    assert problems.is_hidden()

    # 4. Publish it from the procedure page.
    admin.get_by_role("link", name="Open the procedure to publish it").click()
    admin.get_by_role("button", name="Publish version 1").click()
    admin.get_by_text("Version 1 is published: new dossiers use it.").wait_for()
    shot(admin, "admin-published")
    assert_accessible(admin)
    # The refusals above are HTTP 422 answers (and the browser asks for a favicon): anything else is a bug,
    # e.g. a script error or a Content-Security-Policy violation.
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []

    # The published version opens in the modeler again, from the portal's own copy.
    admin.get_by_role("link", name="Edit the diagram in the modeler").click()
    admin.get_by_text("The diagram is loaded.").wait_for()
    admin.locator('.djs-element[data-element-id="receive"]').wait_for()

    with live_server.server.app.app_context():
        procedure = db.session.scalar(select(Procedure).where(Procedure.key == "xac_nhan_cu_tru"))
        assert procedure.published
        assert 'camunda:candidateGroups="reception"' in procedure.versions[0].bpmn_xml

    # 5. A citizen finds it and applies.
    citizen = new_page(browser)
    sign_in(citizen, live_server.url, "congdan@motcua.demo")
    citizen.goto(f"{live_server.url}/procedures/xac_nhan_cu_tru/apply")
    assert_accessible(citizen)
    citizen.get_by_label("Họ và tên").fill("Võ Thị Mai")
    citizen.get_by_label("Nơi cư trú").fill("12 Lê Lợi, phường Trung Tâm")
    citizen.locator("form button[type=submit]").last.click()
    citizen.locator(".big-code").first.wait_for()
    assert_accessible(citizen)
    code = citizen.locator(".big-code").first.inner_text()
    assert code.startswith("000.00.31.H56-")
    shot(citizen, "citizen-applied-to-new-procedure")
    with live_server.server.app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
        assert dossier.form_data["full_name"] == "Võ Thị Mai"
