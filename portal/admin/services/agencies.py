"""Agencies, their departments and groups. Nothing is deleted: deactivating keeps history readable.

Any change to an agency's groups bumps its `config_version` (`touch_config`), so every process drops its
cached role→group map and calendar on the next step.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core import audit
from portal.core.errors import InvalidInput, NotFound
from portal.extensions import db
from portal.models import Agency, Department, Group, User
from portal.models.agency import touch_config


def agencies(active_only: bool = False) -> list[Agency]:
    stmt = select(Agency).order_by(Agency.code)
    if active_only:
        stmt = stmt.where(Agency.active)
    return list(db.session.scalars(stmt))


def get_agency(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(_("There is no such agency."))
    return agency


def _taken(error_field: str) -> InvalidInput:
    message = _("This code is already used.")
    return InvalidInput(message, {error_field: [message]})


def save_agency(agency: Agency | None, values: dict[str, Any], actor: User) -> Agency:
    """Create (agency None) or update an agency. `values`: code, name, name_en, level, parent_id."""
    code = values["code"].strip()
    clash = db.session.scalar(select(Agency).where(Agency.code == code))
    if clash is not None and clash is not agency:
        raise _taken("code")
    parent_id = values.get("parent_id") or None
    if agency is not None and parent_id is not None and _is_below(parent_id, agency.id):
        message = _("An agency cannot sit under itself.")
        raise InvalidInput(message, {"parent_id": [message]})
    if agency is None:
        agency = Agency(code=code, name="")
        db.session.add(agency)
    agency.code, agency.name, agency.name_en = (
        code,
        values["name"].strip(),
        (values.get("name_en") or "").strip() or None,
    )
    agency.level, agency.parent_id = values["level"], parent_id
    db.session.flush()
    audit.record("admin.agency_saved", actor, agency, code=agency.code)
    return agency


def _is_below(candidate_id: int, agency_id: int) -> bool:
    """True if `candidate_id` is `agency_id` or one of its descendants (a parent there would make a cycle)."""
    seen: set[int] = set()
    current: int | None = candidate_id
    while current is not None and current not in seen:
        if current == agency_id:
            return True
        seen.add(current)
        current = db.session.scalar(select(Agency.parent_id).where(Agency.id == current))
    return False


def set_agency_active(agency: Agency, active: bool, actor: User) -> None:
    agency.active = active
    touch_config(agency.id)
    db.session.flush()
    audit.record("admin.agency_active" if active else "admin.agency_deactivated", actor, agency, code=agency.code)


def save_department(agency: Agency, department: Department | None, values: dict[str, Any], actor: User) -> Department:
    code = values["code"].strip()
    clash = db.session.scalar(select(Department).where(Department.agency_id == agency.id, Department.code == code))
    if clash is not None and clash is not department:
        raise _taken("code")
    if department is None:
        department = Department(agency_id=agency.id, code=code, name="")
        db.session.add(department)
    department.code, department.name = code, values["name"].strip()
    department.name_en = (values.get("name_en") or "").strip() or None
    db.session.flush()
    audit.record("admin.department_saved", actor, department, agency=agency.code, code=code)
    return department


def get_department(agency: Agency, department_id: int) -> Department:
    department = db.session.get(Department, department_id)
    if department is None or department.agency_id != agency.id:
        raise NotFound(_("There is no such department."))
    return department


def set_department_active(department: Department, active: bool, actor: User) -> None:
    department.active = active
    db.session.flush()
    audit.record("admin.department_active", actor, department, active=active)


def get_group(group_id: int, agency: Agency | None = None) -> Group:
    group = db.session.get(Group, group_id)
    if group is None or (agency is not None and group.agency_id != agency.id):
        raise NotFound(_("There is no such group."))
    return group


def save_group(agency: Agency, group: Group | None, values: dict[str, Any], actor: User) -> Group:
    """A group is a role code inside one agency; BPMN lanes and candidateGroups name the role code."""
    role = values["role"].strip()
    clash = db.session.scalar(select(Group).where(Group.agency_id == agency.id, Group.role == role))
    if clash is not None and clash is not group:
        message = _("This agency already has a group with this role code.")
        raise InvalidInput(message, {"role": [message]})
    department_id = values.get("department_id") or None
    if department_id is not None:
        get_department(agency, department_id)
    if group is None:
        group = Group(agency_id=agency.id, role=role, name="")
        db.session.add(group)
    old_role = group.role
    group.role, group.name = role, values["name"].strip()
    group.name_en = (values.get("name_en") or "").strip() or None
    group.department_id, group.is_leadership = department_id, bool(values.get("is_leadership"))
    touch_config(agency.id)
    db.session.flush()
    audit.record("admin.group_saved", actor, group, agency=agency.code, role=role, old_role=old_role)
    return group


def set_group_active(group: Group, active: bool, actor: User) -> None:
    group.active = active
    touch_config(group.agency_id)
    db.session.flush()
    audit.record("admin.group_active" if active else "admin.group_deactivated", actor, group, role=group.role)
