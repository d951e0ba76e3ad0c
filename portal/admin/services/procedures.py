"""Procedures: the catalogue entry, and new versions from an uploaded file or from the browser modeler.

Every new version goes through `portal.procedures.services.deploy`, so it gets exactly the checks of
`flask procedure validate` and nothing is stored when a problem is found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.catalogue.text import search_text
from portal.core import audit
from portal.core.errors import InvalidInput, NotFound
from portal.extensions import db
from portal.models import SERVICE_LEVELS, Agency, Procedure, ProcedureVersion, User
from portal.procedures.services import DeployResult, agency_roles, deploy
from workflows.bpmn_model import ProcedureModel
from workflows.validation import MAX_BPMN_BYTES, Problem

MAX_FILE_BYTES = MAX_BPMN_BYTES  # 2 MiB, the limit docs/BPMN.md states for every BPMN and DMN file
MAX_DMN_FILES = 10
DEADLINE = re.compile(r"same-day|\d+(\.\d+)?[dh]")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Upload:
    name: str
    data: bytes


def procedures() -> list[Procedure]:
    return list(db.session.scalars(select(Procedure).order_by(Procedure.code, Procedure.key)))


def get_procedure(procedure_id: int) -> Procedure:
    procedure = db.session.get(Procedure, procedure_id)
    if procedure is None:
        raise NotFound(_("There is no such procedure."))
    return procedure


def latest_version(procedure: Procedure) -> ProcedureVersion | None:
    return procedure.versions[-1] if procedure.versions else None


def safe_filename(name: str | None, default: str) -> str:
    cleaned = _SAFE_NAME.sub("_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip("._")
    return cleaned[:100] or default


def read_upload(file: FileStorage, extension: str, field: str) -> Upload:
    """The file's bytes, or InvalidInput (wrong type, empty, over the size limit) naming the form field."""
    name = safe_filename(file.filename, "upload" + extension)
    if not name.lower().endswith(extension):
        raise InvalidInput(
            _("%(name)s is not a %(ext)s file.", name=name, ext=extension),
            {field: [_("%(name)s is not a %(ext)s file.", name=name, ext=extension)]},
        )
    data = file.stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        message = _("%(name)s is larger than 2 MiB.", name=name)
        raise InvalidInput(message, {field: [message]})
    if not data.strip():
        message = _("%(name)s is empty.", name=name)
        raise InvalidInput(message, {field: [message]})
    return Upload(name, data)


def read_uploads(bpmn: FileStorage, dmns: list[FileStorage]) -> tuple[Upload, list[Upload]]:
    dmns = [f for f in dmns if f and f.filename]
    if len(dmns) > MAX_DMN_FILES:
        message = _("At most %(n)d decision tables at once.", n=MAX_DMN_FILES)
        raise InvalidInput(message, {"dmn": [message]})
    return read_upload(bpmn, ".bpmn", "bpmn"), [read_upload(f, ".dmn", "dmn") for f in dmns]


def deploy_upload(bpmn: Upload, dmns: list[Upload], agency_code: str | None, actor: User) -> DeployResult:
    """A new draft version from uploaded files (a new procedure if the process id is new)."""
    tables = [(d.name, d.data) for d in dmns]
    return deploy(bpmn.data, bpmn.name, tables, agency_code=agency_code, actor=actor, chosen_dmn=[d.name for d in dmns])


def stored_dmn(version: ProcedureVersion | None) -> list[tuple[str, bytes]]:
    if version is None:
        return []
    return [(f["name"], f["xml"].encode("utf-8")) for f in version.dmn_files or []]


def deploy_dmn(procedure: Procedure, dmns: list[Upload], actor: User) -> DeployResult:
    """A new draft version: the latest BPMN with these decision tables added or replaced (by file name)."""
    latest = latest_version(procedure)
    if latest is None:
        raise InvalidInput(_("Upload a BPMN file first."), {})
    tables = dict(stored_dmn(latest))
    tables.update({d.name: d.data for d in dmns})
    return deploy(
        latest.bpmn_xml.encode("utf-8"),
        f"{procedure.key}.bpmn",
        sorted(tables.items()),
        agency_code=procedure.agency.code,
        actor=actor,
        chosen_dmn=[d.name for d in dmns],
    )


def save_from_modeler(procedure: Procedure | None, xml: Any, agency_code: str | None, actor: User) -> DeployResult:
    """Validate and store what the browser modeler sent; a problem list (and nothing stored) if it is wrong."""
    path = f"{procedure.key}.bpmn" if procedure else "diagram.bpmn"
    if not isinstance(xml, str) or not xml.strip():
        return DeployResult([Problem(path, 1, "-", _("The diagram is empty."))])
    data = xml.encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        return DeployResult([Problem(path, 1, "-", _("The diagram is larger than 2 MiB."))])
    dmn = stored_dmn(latest_version(procedure)) if procedure else []
    code = procedure.agency.code if procedure else (agency_code or None)
    result = deploy(data, path, dmn, agency_code=code, actor=actor)
    if result.ok and procedure is not None and result.deployed.procedure_id != procedure.id:
        # A changed process id would have made (or changed) another procedure: refuse, nothing is kept.
        reason = _("The process id must stay %(key)s: it names this procedure.", key=procedure.key)
        return DeployResult([Problem(path, 1, result.deployed.process_id, reason)])
    return result


def update_catalogue(procedure: Procedure, values: dict[str, Any], actor: User) -> None:
    """Save the catalogue entry an administrator edited. Raises InvalidInput naming the wrong fields."""
    errors: dict[str, list[str]] = {}
    agency = db.session.get(Agency, values["agency_id"])
    if agency is None or not agency.active:
        errors["agency_id"] = [_("Choose an active agency.")]
    elif agency.id != procedure.agency_id:
        missing = _missing_roles(procedure, agency)
        if missing:
            errors["agency_id"] = [_("This agency has no group for: %(roles)s.", roles=", ".join(missing))]
    if not DEADLINE.fullmatch(values["deadline"].strip()):
        errors["deadline"] = [_("Write same-day, a number of days (15d) or of hours (4h).")]
    if values["service_level"] not in SERVICE_LEVELS:
        errors["service_level"] = [_("Not a valid choice.")]
    if errors or agency is None:  # no agency always comes with its error above
        raise InvalidInput(_("Some fields need attention."), errors)
    for name in ("code", "name", "name_en", "field", "service_level", "deadline_kind", "fee", "published"):
        setattr(procedure, name, values[name])
    procedure.agency_id = agency.id
    procedure.deadline = values["deadline"].strip()
    procedure.documents = [line.strip() for line in values["documents"].splitlines() if line.strip()]
    procedure.search_text = search_text(procedure.name, procedure.name_en, procedure.code, procedure.field)
    db.session.flush()
    audit.record("procedure.catalogue", actor, procedure, procedure=procedure.key)


def _missing_roles(procedure: Procedure, agency: Agency) -> list[str]:
    roles = agency_roles(agency)
    needed: set[str] = set()
    for version in procedure.versions:
        if version.status != "retired":
            model = ProcedureModel.from_dict(version.model)
            needed |= {s.role for s in model.steps.values() if s.role}
    return sorted(needed - roles)
