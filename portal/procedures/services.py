"""Deploy, publish and retire procedure versions.

Deploying validates the BPMN (and its DMN tables) with the same checks as `procedure validate`, then stores a
new draft version; nothing is written when a problem is found. A published version never changes: new dossiers
take the latest published version, running dossiers keep the one they started with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.catalogue.text import search_text
from portal.core import audit
from portal.core.errors import NotFound, ServiceError
from portal.core.time import utcnow
from portal.extensions import db
from portal.external.registry import known_topics
from portal.models import Agency, Group, Procedure, ProcedureVersion, User
from workflows.bpmn_model import ProcedureModel, named_people, parse_xml, read_model
from workflows.engine import CompiledProcess, cached_process, compile_process
from workflows.validation import Problem, validate_bpmn, validate_dmn
from workflows.validation.dmn import split_tables

APPLICANT_ROLE = "applicant"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"


@dataclass
class DeployResult:
    problems: list[Problem] = field(default_factory=list)
    version: ProcedureVersion | None = None
    unchanged: bool = False  # the same files were already deployed; no new version was made

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def deployed(self) -> ProcedureVersion:
        """The stored version of a good result; asking a refused result for it is a programming error."""
        if self.version is None:
            raise ValueError("a refused deploy stored no version")
        return self.version


def checksum_of(bpmn_xml: bytes, dmn_files: Sequence[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(bpmn_xml)
    for name, xml in sorted(dmn_files):
        digest.update(b"\0" + name.encode() + b"\0" + xml)
    return digest.hexdigest()


def has_layout(bpmn_xml: bytes | str) -> bool:
    """Whether a BPMN file has a diagram layout (bpmndi shapes). Some tools export only the process; the
    portal's modeler and viewer then lay the diagram out automatically (bpmn-auto-layout, in the browser)."""
    data = bpmn_xml.encode("utf-8") if isinstance(bpmn_xml, str) else bpmn_xml
    return next(parse_xml(data).iter(f"{{{BPMNDI_NS}}}BPMNShape"), None) is not None


def agency_roles(agency: Agency) -> set[str]:
    roles = db.session.scalars(select(Group.role).where(Group.agency_id == agency.id, Group.active)).all()
    return {*roles, APPLICANT_ROLE}


def known_officers(bpmn_xml: bytes) -> set[str]:
    """The emails (lower case) of the active officers among the people the file's steps name."""
    names = named_people(parse_xml(bpmn_xml))
    if not names:
        return set()
    email = func.lower(User.email)
    rows = db.session.scalars(select(email).where(email.in_(names), User.kind == "officer", User.active))
    return {e for e in rows if e}


def _resolve_agency(model: ProcedureModel, agency_code: str | None, path: str) -> Agency | Problem:
    code = agency_code or model.properties.get("agency")
    if not code:  # a new version of a procedure already here: the agency that handles it now
        code = db.session.scalar(
            select(Agency.code)
            .join(Procedure, Procedure.agency_id == Agency.id)
            .where(Procedure.key == model.process_id)
        )
    if not code:
        return Problem(path, 1, model.process_id, _("no handling agency: set the process property 'agency'"))
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        return Problem(path, 1, model.process_id, _("unknown agency unit code %(code)s", code=code))
    return agency


def deploy(
    bpmn_xml: bytes,
    path: str,
    dmn_files: Sequence[tuple[str, bytes]] = (),
    *,
    agency_code: str | None = None,
    publish: bool = False,
    actor: User | None = None,
    chosen_dmn: Collection[str] = (),
) -> DeployResult:
    """Validate and store a new version. Flushes; the caller commits.

    A version keeps only the decision tables its business rule tasks reference: the others (found beside the
    file, or kept from the last version) are left out, and one the person chose for it (`chosen_dmn`, by file
    name) is a problem, since it would not be used.
    """
    problems = [p for name, xml in dmn_files for p in validate_dmn(xml, name)]
    problems += validate_bpmn(bpmn_xml, path, dmn_files, known_topics=known_topics())
    dmn_files, unused = split_tables(bpmn_xml, dmn_files)
    problems += [
        Problem(name, 1, "-", _("no business rule task of this procedure uses a decision of this table"))
        for name in unused
        if name in chosen_dmn
    ]
    if problems:
        return DeployResult(problems)
    model = read_model(bpmn_xml)
    agency = _resolve_agency(model, agency_code, path)
    if isinstance(agency, Problem):
        return DeployResult([agency])
    role_problems = validate_bpmn(
        bpmn_xml, path, dmn_files, known_roles=agency_roles(agency), known_people=known_officers(bpmn_xml)
    )
    if role_problems:
        return DeployResult(role_problems)

    procedure = _procedure_for(model, agency)
    checksum = checksum_of(bpmn_xml, dmn_files)
    latest = latest_version(procedure)
    if latest is not None and latest.checksum == checksum:
        if publish and latest.status == "draft":
            publish_version(latest, actor)
        return DeployResult(version=latest, unchanged=True)

    version = ProcedureVersion(
        procedure=procedure,
        number=(latest.number + 1) if latest else 1,
        process_id=model.process_id,
        bpmn_xml=bpmn_xml.decode("utf-8"),
        dmn_files=[{"name": name, "xml": xml.decode("utf-8")} for name, xml in dmn_files],
        checksum=checksum,
        model=model.to_dict(),
        created_by_id=actor.id if actor else None,
        # The result document's template: the last version's (it is the procedure's), else the bundled default.
        result_template=(latest.result_template if latest else None) or default_result_template(model.process_id),
    )
    db.session.add(version)
    db.session.flush()
    audit.record("procedure.deploy", actor, version, procedure=procedure.key, number=version.number)
    if publish:
        publish_version(version, actor)
    return DeployResult(version=version)


def default_result_template(process_id: str) -> str | None:
    from portal.documents.results import default_template

    return default_template(process_id)


def _procedure_for(model: ProcedureModel, agency: Agency) -> Procedure:
    procedure = db.session.scalar(select(Procedure).where(Procedure.key == model.process_id))
    if procedure is None:
        procedure = Procedure(key=model.process_id, agency=agency)
        db.session.add(procedure)
        apply_catalogue_defaults(procedure, model)
    return procedure


def apply_catalogue_defaults(procedure: Procedure, model: ProcedureModel) -> None:
    """Fill the catalogue entry from the BPMN's process properties (admins may edit it afterwards)."""
    props = model.properties
    procedure.code = props.get("code") or model.process_id
    procedure.name = model.name or model.process_id
    procedure.name_en = props.get("name_en")
    procedure.field = props.get("field")
    procedure.service_level = props.get("service_level") or "partial_online"
    procedure.deadline = props.get("deadline") or "same-day"
    procedure.deadline_kind = props.get("deadline_kind") or "working"
    procedure.fee = int(props.get("fee") or 0)
    procedure.documents = list(model.documents)
    procedure.max_rounds = model.max_rounds
    procedure.search_text = search_text(procedure.name, procedure.name_en, procedure.code, procedure.field)


def latest_version(procedure: Procedure) -> ProcedureVersion | None:
    """The procedure's highest-numbered version, whatever its status (None for a procedure not stored yet)."""
    if procedure.id is None:
        return None
    return db.session.scalar(
        select(ProcedureVersion)
        .where(ProcedureVersion.procedure_id == procedure.id)
        .order_by(ProcedureVersion.number.desc())
        .limit(1)
    )


def publish_version(version: ProcedureVersion, actor: User | None) -> ProcedureVersion:
    if version.status == "retired":
        raise ServiceError(_("A retired version cannot be published again; deploy it as a new version."))
    if version.status != "published":
        first_publication = current_version(version.procedure) is None and not _ever_published(version.procedure)
        version.status = "published"
        version.published_at = utcnow()
        version.published_by_id = actor.id if actor else None
        if first_publication:
            # Later publications keep the catalogue entry as administrators edited it.
            apply_catalogue_defaults(version.procedure, ProcedureModel.from_dict(version.model))
        version.procedure.published = True
        db.session.flush()
        audit.record("procedure.publish", actor, version, procedure=version.procedure.key, number=version.number)
    return version


def _ever_published(procedure: Procedure) -> bool:
    return (
        db.session.scalar(
            select(func.count()).where(
                ProcedureVersion.procedure_id == procedure.id, ProcedureVersion.published_at.is_not(None)
            )
        )
        or 0
    ) > 0


def retire_version(version: ProcedureVersion, actor: User | None) -> ProcedureVersion:
    if version.status != "retired":
        version.status = "retired"
        version.retired_at = utcnow()
        db.session.flush()
        if current_version(version.procedure) is None:
            version.procedure.published = False
        audit.record("procedure.retire", actor, version, procedure=version.procedure.key, number=version.number)
    return version


def current_version(procedure: Procedure) -> ProcedureVersion | None:
    """The version new dossiers start with: the latest published one."""
    return db.session.scalar(
        select(ProcedureVersion)
        .where(ProcedureVersion.procedure_id == procedure.id, ProcedureVersion.status == "published")
        .order_by(ProcedureVersion.number.desc())
        .limit(1)
    )


def get_procedure(key: str) -> Procedure:
    procedure = db.session.scalar(select(Procedure).where(Procedure.key == key))
    if procedure is None:
        raise NotFound(_("No procedure %(key)s.", key=key))
    return procedure


def compiled(version: ProcedureVersion) -> CompiledProcess:
    """The parsed spec of a version, from the per-process cache (its XML is loaded only on a miss)."""
    hit = cached_process(version.checksum)
    if hit is not None:
        return hit
    dmn = [(f["name"], f["xml"].encode("utf-8")) for f in version.dmn_files or []]
    return compile_process(version.bpmn_xml.encode("utf-8"), dmn, version.checksum)


def version_count(procedure: Procedure) -> int:
    return db.session.scalar(select(func.count()).where(ProcedureVersion.procedure_id == procedure.id)) or 0
