"""Administration: a BPMN file without a diagram layout is accepted and the admin is told it is laid out
automatically; deadlines and step allowances read in words ("1 ngày làm việc", "1 working day"), never "1d";
the modeler page's labelled regions have a role (axe: aria-prohibited-attr)."""

from __future__ import annotations

import re

import pytest

from tests.test_admin_support import EN, as_admin, minimal, procedure, upload

VI = {"Cookie": "lang=vi"}  # Vietnamese is also the default
NO_LAYOUT_EN = "The file has no diagram layout; the diagram is arranged automatically wherever it is shown."
NO_LAYOUT_VI = "Tệp không có bố cục sơ đồ; sơ đồ được tự động sắp xếp ở mọi nơi hiển thị."
# minimal.bpmn as Camunda Modeler would save it: the same process, with a diagram (one shape is enough here).
WITH_LAYOUT = (
    "</bpmn:process>",
    '</bpmn:process><bpmndi:BPMNDiagram id="d" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"'
    ' xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"><bpmndi:BPMNPlane id="p" bpmnElement="minimal">'
    '<bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="150" y="100" width="36" height="36" />'
    "</bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram>",
)


def text_of(html: str) -> str:
    """The page's words, without tags and with spaces collapsed, as a reader sees them."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_file_without_layout_is_accepted_and_the_admin_is_told(demo, client) -> None:
    as_admin(client)
    response = upload(client, ("minimal.bpmn", minimal()))  # minimal.bpmn has no bpmndi section
    assert response.status_code == 302
    proc = procedure("minimal")
    assert [v.number for v in proc.versions] == [1]
    assert NO_LAYOUT_EN in text_of(client.get(response.headers["Location"], headers=EN).get_data(as_text=True))
    # The version page keeps saying it, in Vietnamese too.
    page = client.get(f"/admin/procedures/{proc.id}/versions/1", headers=VI).get_data(as_text=True)
    assert NO_LAYOUT_VI in text_of(page)
    assert "no diagram to display" not in page


def test_a_file_with_layout_gets_no_such_message(demo, client) -> None:
    as_admin(client)
    response = upload(client, ("minimal.bpmn", minimal(WITH_LAYOUT)))
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Version 1 is saved as a draft" in page
    assert "no diagram layout" not in page
    version_page = client.get(f"/admin/procedures/{procedure('minimal').id}/versions/1", headers=EN)
    assert "no diagram layout" not in version_page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("deadline", "kind", "vietnamese", "english"),
    [
        ("1d", "working", "1 ngày làm việc", "1 working day"),
        ("15d", "working", "15 ngày làm việc", "15 working days"),
        ("4h", "working", "4 giờ làm việc", "4 working hours"),
        ("1h", "working", "1 giờ làm việc", "1 working hour"),
        ("2d", "calendar", "2 ngày", "2 days"),
        ("same-day", "working", "Trong ngày", "Same day"),
    ],
)
def test_the_legal_deadline_reads_in_words(demo, client, deadline, kind, vietnamese, english) -> None:
    as_admin(client)
    properties = f'<camunda:property name="deadline" value="{deadline}" />'
    properties += f'<camunda:property name="deadline_kind" value="{kind}" />'
    upload(client, ("minimal.bpmn", minimal(('<camunda:property name="deadline" value="3d" />', properties))))
    url = f"/admin/procedures/{procedure('minimal').id}"
    assert f"Thời hạn giải quyết theo quy định {vietnamese} " in text_of(
        client.get(url, headers=VI).get_data(as_text=True)
    )
    english_page = text_of(client.get(url, headers=EN).get_data(as_text=True))
    assert f"Legal deadline {english} " in english_page
    assert f" {deadline} " not in english_page


def test_step_allowances_read_in_words(demo, client) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", minimal(('value="0.5d"', 'value="1d"'))))
    url = f"/admin/procedures/{procedure('minimal').id}/versions/1"
    assert "1 ngày làm việc" in text_of(client.get(url, headers=VI).get_data(as_text=True))
    english = text_of(client.get(url, headers=EN).get_data(as_text=True))
    assert "1 working day" in english
    assert " 1d " not in english


def test_half_a_day_is_plural_in_english(demo, client) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", minimal()))  # the desk's allowance is 0.5d
    url = f"/admin/procedures/{procedure('minimal').id}/versions/1"
    assert "0,5 working days" in text_of(client.get(url, headers=EN).get_data(as_text=True))
    assert "0,5 ngày làm việc" in text_of(client.get(url, headers=VI).get_data(as_text=True))


def test_labelled_regions_of_the_modeler_have_a_role(demo, client) -> None:
    """aria-label on a div or span without a role is prohibited (axe-core: aria-prohibited-attr)."""
    as_admin(client)
    page = client.get("/admin/procedures/new/modeler", headers=EN).get_data(as_text=True)
    labelled = re.findall(r"<(?:div|span)\b[^>]*\baria-label=[^>]*>", page)
    assert len(labelled) >= 2, "the modeler's canvas and properties panel are labelled"
    assert [tag for tag in labelled if " role=" not in tag] == []
