"""The SSO role mapping: an identity provider's attribute value → a group. The SSO sign-in applies it."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal.core import audit
from portal.core.errors import InvalidInput, NotFound
from portal.extensions import db
from portal.models import Group, RoleMapping, User


def idp_names() -> list[str]:
    """The identity providers configured (SSO_IDPS); a mapping may also name one configured later."""
    return sorted((current_app.config.get("SSO_IDPS") or {}).keys())


def mappings() -> list[RoleMapping]:
    return list(
        db.session.scalars(select(RoleMapping).order_by(RoleMapping.idp, RoleMapping.attribute, RoleMapping.value))
    )


def get_mapping(mapping_id: int) -> RoleMapping:
    mapping = db.session.get(RoleMapping, mapping_id)
    if mapping is None:
        raise NotFound(_("There is no such mapping."))
    return mapping


def add_mapping(values: dict[str, Any], actor: User) -> RoleMapping:
    group = db.session.get(Group, values["group_id"])
    if group is None or not group.active:
        message = _("Choose an active group.")
        raise InvalidInput(message, {"group_id": [message]})
    idp, attribute, value = values["idp"].strip(), values["attribute"].strip(), values["value"].strip()
    exists = db.session.scalar(
        select(RoleMapping).where(
            RoleMapping.idp == idp,
            RoleMapping.attribute == attribute,
            RoleMapping.value == value,
            RoleMapping.group_id == group.id,
        )
    )
    if exists is not None:
        raise InvalidInput(_("This mapping already exists."), {})
    mapping = RoleMapping(idp=idp, attribute=attribute, value=value, group_id=group.id)
    db.session.add(mapping)
    db.session.flush()
    audit.record("admin.mapping_added", actor, mapping, idp=idp, attribute=attribute, value=value, group=group.role)
    return mapping


def remove_mapping(mapping: RoleMapping, actor: User) -> None:
    audit.record(
        "admin.mapping_removed",
        actor,
        mapping,
        idp=mapping.idp,
        attribute=mapping.attribute,
        value=mapping.value,
        group=mapping.group.role,
    )
    db.session.delete(mapping)
    db.session.flush()
