"""What the checks of one BPMN file share, and small helpers to read its tree."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from lxml import etree

from workflows.bpmn_model import BPMN_NS, CAMUNDA_NS, NSMAP
from workflows.validation.problems import Report

_SPAN = re.compile(r"(\d+(?:\.\d+)?)([dh])")


@dataclass
class Decision:
    """One decision of the DMN files given with a BPMN file."""

    path: str
    outputs: set[str]
    used_names: set[str]
    valid: bool
    root: etree._Element


@dataclass
class Context:
    root: etree._Element
    xml: bytes
    report: Report
    decisions: dict[str, Decision]
    known_roles: Collection[str] | None
    known_names: set[str] = field(default_factory=set)
    # Emails (lower case) of the active officers the file names; None: people are not checked (no database).
    known_people: Collection[str] | None = None
    # Topics that have a handler (external service tasks); None: topics are not checked.
    known_topics: Collection[str] | None = None


def names(text: str) -> frozenset[str]:
    return frozenset(text.split())


def bpmn_nodes(root: etree._Element, tag: str) -> Iterable[etree._Element]:
    return root.iter(f"{{{BPMN_NS}}}{tag}")


def camunda(name: str) -> str:
    return f"{{{CAMUNDA_NS}}}{name}"


def property_nodes(node: etree._Element) -> list[etree._Element]:
    return node.findall("bpmn:extensionElements/camunda:properties/camunda:property", NSMAP)


def span_ok(value: str) -> bool:
    match = _SPAN.fullmatch(value.strip())
    return match is not None and float(match.group(1)) > 0
