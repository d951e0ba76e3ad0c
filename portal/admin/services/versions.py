"""Versions of a procedure: find one, publish, retire, and say what changed between two."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.errors import NotFound
from portal.core.presentation import duration
from portal.extensions import db
from portal.models import Procedure, ProcedureVersion
from workflows.bpmn_model import BPMN_NS, FormFieldSpec, ProcedureModel, StepSpec, parse_xml

STEP_ATTRIBUTES = ("name", "role", "status", "allowance", "kind")
DURATIONS = ("allowance", "deadline")  # shown in words
FIELD_ATTRIBUTES = ("type", "label", "label_en", "required", "options", "widget", "default", "constraints", "help")


@dataclass
class Change:
    what: str  # a step id, "step_id.field_id", or an element id
    details: list[str] = field(default_factory=list)  # "role: reception → leader"


@dataclass
class VersionDiff:
    steps_added: list[str] = field(default_factory=list)
    steps_removed: list[str] = field(default_factory=list)
    steps_changed: list[Change] = field(default_factory=list)
    fields_added: list[str] = field(default_factory=list)
    fields_removed: list[str] = field(default_factory=list)
    fields_changed: list[Change] = field(default_factory=list)
    elements_added: list[str] = field(default_factory=list)
    elements_removed: list[str] = field(default_factory=list)
    properties_changed: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)


def get_version(procedure: Procedure, number: int) -> ProcedureVersion:
    version = db.session.scalar(
        select(ProcedureVersion).where(ProcedureVersion.procedure_id == procedure.id, ProcedureVersion.number == number)
    )
    if version is None:
        raise NotFound(_("There is no such version."))
    return version


def model_of(version: ProcedureVersion) -> ProcedureModel:
    return ProcedureModel.from_dict(version.model)


def element_ids(version: ProcedureVersion) -> set[str]:
    """Ids of the BPMN elements (not of the diagram's shapes and edges)."""
    root = parse_xml(version.bpmn_xml.encode("utf-8"))
    prefix = f"{{{BPMN_NS}}}"
    return {
        node_id
        for node in root.iter()
        if isinstance(node.tag, str) and node.tag.startswith(prefix) and (node_id := node.get("id"))
    }


def _show(value: object, name: str = "", kind: str = "working") -> str:
    if value in (None, "", [], {}):
        return "—"
    if name in DURATIONS and isinstance(value, str):
        return duration(value, kind)  # "1 working day", not "1d"
    if isinstance(value, list):
        return ", ".join(f"{a}={b}" if isinstance(a, str) else str(a) for a, b in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def _differences(old: object, new: object, names: tuple[str, ...], kind: str = "working") -> list[str]:
    return [
        f"{name}: {_show(getattr(old, name), name, kind)} → {_show(getattr(new, name), name, kind)}"
        for name in names
        if getattr(old, name) != getattr(new, name)
    ]


def _diff_fields(step_id: str, old: list[FormFieldSpec], new: list[FormFieldSpec], diff: VersionDiff) -> None:
    before, after = {f.id: f for f in old}, {f.id: f for f in new}
    diff.fields_added += [f"{step_id}.{i}" for i in after if i not in before]
    diff.fields_removed += [f"{step_id}.{i}" for i in before if i not in after]
    for field_id in before.keys() & after.keys():
        details = _differences(before[field_id], after[field_id], FIELD_ATTRIBUTES)
        if details:
            diff.fields_changed.append(Change(f"{step_id}.{field_id}", details))


def _diff_steps(old: dict[str, StepSpec], new: dict[str, StepSpec], diff: VersionDiff, kind: str) -> None:
    diff.steps_added = sorted(new.keys() - old.keys())
    diff.steps_removed = sorted(old.keys() - new.keys())
    for step_id in sorted(old.keys() & new.keys()):
        details = _differences(old[step_id], new[step_id], STEP_ATTRIBUTES, kind)
        if details:
            diff.steps_changed.append(Change(step_id, details))
        _diff_fields(step_id, old[step_id].form, new[step_id].form, diff)
    for step_id in diff.steps_added:
        diff.fields_added += [f"{step_id}.{f.id}" for f in new[step_id].form]
    for step_id in diff.steps_removed:
        diff.fields_removed += [f"{step_id}.{f.id}" for f in old[step_id].form]


def diff_versions(old: ProcedureVersion, new: ProcedureVersion) -> VersionDiff:
    """What changed from `old` to `new`: steps, form fields, BPMN elements, process properties."""
    diff = VersionDiff()
    a, b = model_of(old), model_of(new)
    _diff_steps(a.steps, b.steps, diff, new.procedure.deadline_kind)
    diff.fields_added.sort()
    diff.fields_removed.sort()
    diff.fields_changed.sort(key=lambda c: c.what)
    before, after = element_ids(old), element_ids(new)
    diff.elements_added = sorted(after - before)
    diff.elements_removed = sorted(before - after)
    props_a = {**a.properties, "name": a.name, "document": " | ".join(a.documents)}
    props_b = {**b.properties, "name": b.name, "document": " | ".join(b.documents)}
    for key in sorted(props_a.keys() | props_b.keys()):
        if props_a.get(key) != props_b.get(key):
            was = _show(props_a.get(key), key, props_a.get("deadline_kind") or "working")
            now = _show(props_b.get(key), key, props_b.get("deadline_kind") or "working")
            diff.properties_changed.append(Change(key, [f"{was} → {now}"]))
    return diff
