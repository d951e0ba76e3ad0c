"""In a real browser: a BPMN file without a diagram layout (only the process, as some tools export it) is
uploaded; the modeler lays it out and says so (no "no diagram to display"), saving keeps the layout, and the
citizen's dossier page shows the diagram of such a version too."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Dossier, Procedure
from tests.browser import accessibility_violations, new_page, shot
from tests.helpers import COMMUNE
from tests.test_admin_support import minimal
from tests.test_browser_admin import sign_in

NO_DIAGRAM = "no diagram to display"


def watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_a_file_without_layout_is_laid_out_in_the_modeler_and_for_the_citizen(live_server, browser, tmp_path) -> None:
    bpmn = tmp_path / "minimal.bpmn"  # tests/bpmn_good/minimal.bpmn has no bpmndi section, nor incoming/outgoing
    bpmn.write_bytes(minimal(('value="3d"', 'value="1d"')))
    admin = new_page(browser, locale="en-US")
    errors = watch_errors(admin)
    sign_in(admin, live_server.url, "admin@motcua.demo")

    # 1. Upload: accepted, with the plain message; the deadline reads in words.
    admin.goto(f"{live_server.url}/admin/procedures/upload")
    admin.get_by_label("BPMN file (.bpmn)").set_input_files(str(bpmn))
    admin.get_by_label("Handling agency").select_option(COMMUNE)
    admin.get_by_role("button", name="Check and upload").click()
    admin.get_by_text("The file has no diagram layout; the diagram is arranged automatically").wait_for()
    assert "1 working day" in admin.locator("dl.facts").inner_text()
    admin.get_by_role("button", name="Publish version 1").click()
    admin.get_by_text("Version 1 is published: new dossiers use it.").wait_for()

    # 2. The modeler lays the version out, says so, and shows its shapes.
    admin.get_by_role("link", name="Version 1", exact=True).click()
    admin.get_by_role("link", name="Open in the modeler").click()
    admin.get_by_text("The file has no diagram layout; the diagram was arranged automatically.").wait_for()
    canvas = admin.get_by_role("region", name="BPMN diagram")
    for element in ("start", "apply", "receive", "decided", "finished", "refused"):
        canvas.locator(f'.djs-shape[data-element-id="{element}"]').wait_for()
    canvas.locator('.djs-connection[data-element-id="to_receive"]').wait_for(state="attached")  # a flat line
    assert NO_DIAGRAM not in admin.content()
    # The labelled canvas and panel have a role (axe-core found aria-prohibited-attr there).
    assert "aria-prohibited-attr" not in [v["id"] for v in accessibility_violations(admin)]
    shot(admin, "admin-modeler-auto-layout")

    # 3. Saving keeps the layout: version 2 is stored with shapes, the process unchanged.
    admin.get_by_role("button", name="Check and save").click()
    admin.get_by_text("Saved as version 2 (draft).").wait_for()
    with live_server.server.app.app_context():
        procedure = db.session.scalar(select(Procedure).where(Procedure.key == "minimal"))
        first, second = procedure.versions
        assert "BPMNShape" not in first.bpmn_xml
        assert 'bpmnElement="receive"' in second.bpmn_xml
        assert "BPMNShape" in second.bpmn_xml
        assert second.model["steps"]["receive"]["allowance"] == "0.5d"
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []

    # A file that is not BPMN: the page says so in its own words, not bpmn-js's English error.
    notes = tmp_path / "notes.bpmn"
    notes.write_text("<notes>not a diagram</notes>", encoding="utf-8")
    admin.get_by_label("Open a .bpmn file from your computer").set_input_files(str(notes))
    admin.get_by_text("The diagram could not be opened: the file is not a BPMN diagram").wait_for()
    assert "unparsable" not in admin.locator("#modeler-status").inner_text()

    # 4. A citizen applies to version 1 (no layout) and sees its diagram on the dossier page.
    citizen = new_page(browser)
    citizen_errors = watch_errors(citizen)
    sign_in(citizen, live_server.url, "congdan@motcua.demo")
    citizen.goto(f"{live_server.url}/procedures/minimal/apply")
    citizen.get_by_label("Họ và tên").fill("Võ Thị Mai")
    citizen.locator("form button[type=submit]").last.click()
    citizen.locator(".big-code").first.wait_for()
    code = citizen.locator(".big-code").first.inner_text()
    with live_server.server.app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
        assert dossier.version.number == 1
        dossier_id = dossier.id
    citizen.goto(f"{live_server.url}/my/dossiers/{dossier_id}")
    diagram = citizen.get_by_label("Sơ đồ quy trình của thủ tục", exact=True)
    diagram.locator('.djs-shape[data-element-id="receive"]').wait_for()
    diagram.locator('.djs-shape[data-element-id="finished"]').wait_for()
    assert "Không hiển thị được sơ đồ" not in diagram.inner_text()
    assert NO_DIAGRAM not in citizen.content()
    shot(citizen, "citizen-diagram-auto-layout")
    assert [e for e in citizen_errors if not e.startswith("Failed to load resource")] == []
