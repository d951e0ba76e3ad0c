"""Reading the catalogue: search with filters, one procedure's facts and steps."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from portal.catalogue.text import words
from portal.core.presentation import duration
from portal.extensions import db
from portal.models import SERVICE_LEVELS, Agency, Draft, Group, Procedure, ProcedureVersion
from portal.procedures.services import compiled, current_version
from workflows.bpmn_model import ProcedureModel

APPLICANT_ROLE = "applicant"
PER_PAGE = 20


@dataclass
class SearchResult:
    procedures: list[Procedure]
    total: int
    page: int
    pages: int


@dataclass
class StepView:
    name: str
    who: str
    mine: bool  # a step the applicant does


def _filtered(query: str | None, field: str | None, agency_id: int | None, level: str | None) -> Select:
    stmt = select(Procedure).where(Procedure.published)
    for word in words(query):
        # Both sides folded (no diacritics, lowercase): "dang ky khai sinh" finds "Đăng ký khai sinh".
        stmt = stmt.where(Procedure.search_text.contains(word, autoescape=True))
    if field:
        stmt = stmt.where(Procedure.field == field)
    if agency_id:
        stmt = stmt.where(Procedure.agency_id == agency_id)
    if level in SERVICE_LEVELS:
        stmt = stmt.where(Procedure.service_level == level)
    return stmt


def search(
    query: str | None = None,
    field: str | None = None,
    agency_id: int | None = None,
    level: str | None = None,
    page: int = 1,
) -> SearchResult:
    stmt = _filtered(query, field, agency_id, level)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(stmt.order_by(Procedure.name, Procedure.id).limit(PER_PAGE).offset((page - 1) * PER_PAGE))
    return SearchResult(list(rows), total, page, pages)


def filter_options() -> dict[str, list]:
    """The choices of the filters: only values that some published procedure has."""
    fields = db.session.scalars(
        select(Procedure.field)
        .where(Procedure.published, Procedure.field.is_not(None))
        .distinct()
        .order_by(Procedure.field)
    )
    agencies = db.session.scalars(
        select(Agency)
        .where(Agency.id.in_(select(Procedure.agency_id).where(Procedure.published)))
        .order_by(Agency.name)
    )
    return {"fields": list(fields), "agencies": list(agencies), "levels": list(SERVICE_LEVELS)}


def published_procedure(key: str) -> Procedure | None:
    return db.session.scalar(select(Procedure).where(Procedure.key == key, Procedure.published))


def model_of(version: ProcedureVersion) -> ProcedureModel:
    return compiled(version).model


def steps_of(procedure: Procedure, version: ProcedureVersion | None) -> list[StepView]:
    """The steps of the current version, each with who does it (the agency's group, or the applicant)."""
    if version is None:
        return []
    groups = {g.role: g for g in db.session.scalars(select(Group).where(Group.agency_id == procedure.agency_id))}
    steps = []
    for step in model_of(version).steps.values():
        if step.role == APPLICANT_ROLE:
            steps.append(StepView(localized(step), _("You (the applicant)"), True))
        else:
            group = groups.get(step.role or "")
            steps.append(StepView(localized(step), localized(group) if group else (step.role or ""), False))
    return steps


def localized(obj: object) -> str:
    """An object's English name when the page is in English and it has one, else its Vietnamese name."""
    name_en = getattr(obj, "name_en", None)
    if name_en and str(get_locale() or "vi") == "en":
        return name_en
    return getattr(obj, "name", "") or ""


def deadline_text(procedure: Procedure) -> str:
    """The legal deadline in words: "Same day", "3 working days", "4 hours" (the portal's `duration` filter)."""
    return duration(procedure.deadline, procedure.deadline_kind)


def draft_of(user_id: int, procedure: Procedure) -> Draft | None:
    """The application the signed-in person started for this procedure and has not sent yet."""
    return db.session.scalar(select(Draft).where(Draft.user_id == user_id, Draft.procedure_id == procedure.id))


def current_version_of(procedure: Procedure) -> ProcedureVersion | None:
    return current_version(procedure)


def accepts_applications(procedure: Procedure, version: ProcedureVersion | None) -> bool:
    """Online applications are open when a version is published and the procedure is offered online."""
    return version is not None and procedure.service_level != "public_service"
