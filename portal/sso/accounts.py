"""From an identity provider's attributes to a portal account: the profile (checked like any other input),
the account itself, and the group memberships that the administrators' role mappings grant."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from portal.auth.services import normalize_phone
from portal.extensions import db
from portal.models import Group, Membership, RoleMapping, User
from portal.sso.attributes import with_all_names
from portal.sso.config import IdpConfig

log = logging.getLogger(__name__)

TRUE_VALUES = {"1", "true", "yes", "on", "verified", "co"}
PROFILE_KEYS = ("full_name", "email", "phone", "citizen_id", "vneid_verified", "department", "roles", "user_type")


@dataclass
class Profile:
    """The attributes the portal uses, each checked; a value that fails its check is left out (and logged)."""

    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    citizen_id: str | None = None
    vneid_verified: bool = False
    department: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    user_type: str | None = None
    # Every value by attribute name, friendly name and mapped key: what role mappings match against.
    values: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> dict:
        """What is kept on the identity for administrators (no raw assertion)."""
        return {
            "full_name": self.full_name,
            "email": self.email,
            "phone": self.phone,
            "department": self.department,
            "roles": self.roles,
            "user_type": self.user_type,
        }


def _first(attributes: dict[str, list[str]], names: tuple[str, ...]) -> list[str]:
    for name in names:
        values = [v.strip() for v in attributes.get(name, []) if v and v.strip()]
        if values:
            return values
    return []


def _clean_email(value: str | None, idp: str) -> str | None:
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()[:255]
    except EmailNotValidError:
        log.warning("SSO %s: ignoring an invalid email attribute", idp)
        return None


def _clean_phone(value: str | None, idp: str) -> str | None:
    phone = normalize_phone(value) if value else None
    if phone and not re.fullmatch(r"\+?\d{9,15}", phone):
        log.warning("SSO %s: ignoring an invalid phone attribute", idp)
        return None
    return phone


def _clean_citizen_id(value: str | None, idp: str) -> str | None:
    if value and not re.fullmatch(r"\d{12}", value):
        log.warning("SSO %s: ignoring a citizen ID that is not 12 digits", idp)
        return None
    return value or None


def _full_name(attributes: dict[str, list[str]], mapped: list[str]) -> str | None:
    """The mapped full name; else the family name then the given names, as Vietnamese names are written."""
    parts = mapped[:1] or [*_first(attributes, ("sn",))[:1], *_first(attributes, ("givenName",))[:1]]
    return " ".join(" ".join(parts).split())[:255] or None


def read_profile(idp: IdpConfig, attributes: dict[str, list[str]]) -> Profile:
    """Map and check the attributes of one assertion. Each attribute counts under every known name of it
    (OID, friendly name…), so a mapping written with one name matches an IdP that sends another."""
    attributes = with_all_names(attributes)
    mapped = {key: _first(attributes, idp.attributes.get(key, ())) for key in PROFILE_KEYS}
    one = {key: (values[0] if values else None) for key, values in mapped.items()}
    full_name = _full_name(attributes, mapped["full_name"])
    values = {name: list(v) for name, v in attributes.items()}
    for key in ("department", "roles", "user_type"):
        values[key] = mapped[key]
    return Profile(
        full_name=full_name,
        email=_clean_email(one["email"], idp.name),
        phone=_clean_phone(one["phone"], idp.name),
        citizen_id=_clean_citizen_id(one["citizen_id"], idp.name),
        vneid_verified=(one["vneid_verified"] or "").casefold() in TRUE_VALUES,
        department=[v[:255] for v in mapped["department"]],
        roles=[v[:255] for v in mapped["roles"]],
        user_type=one["user_type"],
        values=values,
    )


def _taken(column, value: str, user: User | None) -> bool:  # noqa: ANN001  (a User column)
    query = select(User.id).where(func.lower(column) == value.lower())
    if user is not None and user.id is not None:
        query = query.where(User.id != user.id)
    return db.session.scalar(query.limit(1)) is not None


def apply_profile(user: User | None, profile: Profile, idp: str) -> tuple[User, list[str]]:
    """Create the account (user None) or update it from the profile. Returns the account and the fields left
    unchanged because another account already uses the value (email and phone are unique)."""
    if user is None:
        user = User(full_name=profile.full_name or "", kind="citizen")
        db.session.add(user)
    conflicts = []
    if profile.full_name:
        user.full_name = profile.full_name
    for name in ("email", "phone"):
        value = getattr(profile, name)
        if value and value != getattr(user, name):
            if _taken(getattr(User, name), value, user):
                conflicts.append(name)
                log.warning("SSO %s: %s already belongs to another account; not copied", idp, name)
            else:
                setattr(user, name, value)
    if profile.citizen_id:
        user.citizen_id = profile.citizen_id
    return user, conflicts


def wanted_groups(idp: str, profile: Profile) -> set[int]:
    """The active groups the administrators' role mappings grant for these attribute values."""
    folded = {name.casefold(): {v.strip().casefold() for v in vals} for name, vals in profile.values.items()}
    rows = db.session.execute(
        select(RoleMapping.attribute, RoleMapping.value, RoleMapping.group_id)
        .join(Group, Group.id == RoleMapping.group_id)
        .where(RoleMapping.idp == idp, Group.active.is_(True))
    ).all()
    return {gid for attribute, value, gid in rows if value.strip().casefold() in folded.get(attribute.casefold(), ())}


def sync_groups(user: User, wanted: set[int]) -> tuple[list[int], list[int]]:
    """Make the user's SSO memberships equal `wanted`; memberships set by an administrator stay as they are."""
    current = {m.group_id: m for m in user.memberships}
    added = sorted(wanted - current.keys())
    for group_id in added:
        user.memberships.append(Membership(group_id=group_id, source="sso"))
    removed = sorted(gid for gid, m in current.items() if m.source == "sso" and gid not in wanted)
    for group_id in removed:
        user.memberships.remove(current[group_id])
    return added, removed


def is_officer(idp: IdpConfig, profile: Profile, wanted: set[int]) -> bool:
    user_type = (profile.user_type or "").casefold()
    return bool(wanted) or user_type in idp.officer_values
