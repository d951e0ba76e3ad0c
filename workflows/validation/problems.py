"""What validation hands back: one Problem per finding, collected in a Report. No check ever raises."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from lxml import etree

from workflows.bpmn_model import local


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    element_id: str
    reason: str

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
        self.problems.append(Problem(self.path, line or node.sourceline or 1, element_id(node), reason))

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


def run_checks(checks: Sequence[Callable[[], None]], report: Report) -> None:
    """Run each check; a crash in one becomes a problem and the others still run."""
    for check in checks:
        try:
            check()
        except Exception as err:  # validation reports, it never raises
            report.add(None, _("could not be checked: %(error)s", error=repr(err)))
