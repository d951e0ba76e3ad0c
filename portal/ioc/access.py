"""Who is a leader, and of which agencies: the only door into the operations centre."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import select

from portal.extensions import db
from portal.models import Agency, Group, Membership, User


@dataclass(frozen=True)
class LeaderScope:
    """The agencies a leader sees: `None` for a province-level leader (every agency)."""

    agency_ids: tuple[int, ...] | None

    @property
    def province(self) -> bool:
        return self.agency_ids is None

    def allows(self, agency_id: int | None) -> bool:
        return agency_id is not None and (self.agency_ids is None or agency_id in self.agency_ids)

    def narrowed(self, agency_id: int | None) -> LeaderScope:
        """The scope limited to one agency the leader may see (anything else leaves it as it is)."""
        if agency_id is not None and self.allows(agency_id):
            return LeaderScope((agency_id,))
        return self


def leader_scope(user: User) -> LeaderScope | None:
    """The agencies `user` leads, or None when they lead none (citizens, officers outside leadership)."""
    if not user.is_authenticated or not user.is_officer:
        return None
    groups = user.loaded_groups()
    if groups is not None and not any(g.is_leadership for g in groups):
        return None  # most officers: answered from the groups loaded with the account
    rows = db.session.execute(
        select(Group.agency_id, Agency.level)
        .join(Membership, Membership.group_id == Group.id)
        .join(Agency, Agency.id == Group.agency_id)
        .where(Membership.user_id == user.id, Group.active, Group.is_leadership)
    ).all()
    if not rows:
        return None
    if any(r.level == "province" for r in rows):
        return LeaderScope(None)
    return LeaderScope(tuple(sorted({r.agency_id for r in rows})))


def leader_scope_or_403(user: User) -> LeaderScope:
    scope = leader_scope(user)
    if scope is None:
        abort(403)
    return scope


def visible_agencies(scope: LeaderScope) -> list[Agency]:
    stmt = select(Agency).where(Agency.active).order_by(Agency.level.desc(), Agency.name)
    if scope.agency_ids is not None:
        stmt = stmt.where(Agency.id.in_(scope.agency_ids))
    return list(db.session.scalars(stmt))
