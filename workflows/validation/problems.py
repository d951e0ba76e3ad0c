"""What validation hands back: one Problem per finding, collected in a Report. No check ever raises."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_babel import gettext as _
from lxml import etree

from workflows.bpmn_model import NSMAP, local


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    element_id: str
    reason: str
    # What people call the element, in the person's language (its name, or what a nameless flow joins); the
    # id stays for the modeler and the command line.
    element_name: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.element_id}: {self.reason}"


@dataclass
class Report:
    path: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, node: etree._Element | None, reason: str, line: int | None = None) -> None:
        if node is None:
            self.problems.append(Problem(self.path, line or 1, "-", reason))
            return
        where = line or node.sourceline or 1
        self.problems.append(Problem(self.path, where, element_id(node), reason, element_name(node)))

    def sorted(self) -> list[Problem]:
        unique = list(dict.fromkeys(self.problems))
        return sorted(unique, key=lambda p: p.line)


def element_id(node: etree._Element) -> str:
    """The id of the node or its nearest ancestor with one, else its tag."""
    current: etree._Element | None = node
    while current is not None:
        node_id = current.get("id")
        if node_id:
            return node_id
        current = current.getparent()
    return local(node.tag) or "-"


def _with_id(node: etree._Element) -> etree._Element | None:
    current: etree._Element | None = node
    while current is not None and not current.get("id"):
        current = current.getparent()
    return current


def _english() -> bool:
    try:
        return str(get_locale() or "") == "en"
    except RuntimeError:  # no application: the command line, which shows ids only
        return False


def _own_name(node: etree._Element) -> str:
    if _english():
        for prop in node.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NSMAP):
            if prop.get("name") == "name_en" and (prop.get("value") or "").strip():
                return (prop.get("value") or "").strip()
    return " ".join((node.get("name") or "").split())


def element_name(node: etree._Element) -> str:
    """The name of the element a problem is about, for people; a nameless sequence flow is named by the
    elements it joins. Empty when it has none."""
    found = _with_id(node)
    if found is None:
        return ""
    name = _own_name(found)
    if name or local(found.tag) != "sequenceFlow":
        return name
    ends = []
    for ref in (found.get("sourceRef"), found.get("targetRef")):
        target = next((n for n in found.getroottree().iter(etree.Element) if ref and n.get("id") == ref), None)
        ends.append((_own_name(target) if target is not None else "") or ref or "?")
    return _("the flow from %(source)s to %(target)s", source=ends[0], target=ends[1])


def run_checks(checks: Sequence[Callable[[], None]], report: Report) -> None:
    """Run each check; a crash in one becomes a problem and the others still run."""
    for check in checks:
        try:
            check()
        except Exception as err:  # validation reports, it never raises
            report.add(None, _("could not be checked: %(error)s", error=repr(err)))
