"""A procedure's result document (e.g. the household business registration certificate) and its delivery.

The body of the result is a Jinja template that belongs to the procedure version (`result_template`), written by
administrators: it is rendered in a sandbox (jinja2.sandbox.ImmutableSandboxedEnvironment, autoescape on) that
sees only plain values — the application form, the officers' decision values, the dossier's code and dates, the
applicant's name, the agency's name — never a model object, so a template cannot reach Python internals or the
database. A bundled procedure's versions get the template in portal/templates/documents/results/<process>.html.

The result is issued when a step the model marks with the property `issues_result` (docs/BPMN.md) completes with
the decision value it names (the leader signs): `result_steps` reads the declarations from the version's parsed
model, cached per process, never from the XML on a request. A version none of whose steps declares it keeps the
rule of the portal before the property existed: `leader_approval` completing with `approve`.
An online dossier's result is returned when the applicant first downloads it: the desk's `return_result` step is
then completed through the dossier service as delivered online, which closes the dossier at status 10 once.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from jinja2 import TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup
from sqlalchemy import ColumnElement, and_, or_, select

from portal.core.errors import ServiceError
from portal.core.presentation import day, money, when
from portal.extensions import db
from portal.models import Channel, Dossier, DossierEvent, ProcedureVersion, Task, TaskState, User
from workflows.bpmn_model import ProcedureModel

from . import template_budget

# Backward compatibility: before steps declared `issues_result`, the result was issued by the step
# `leader_approval` completing with `approve`. Versions deployed before the property existed (none of their steps
# declares it; dossiers in production still run on them) keep that rule, and so does any file that does not use it.
LEGACY_RESULT_STEPS: dict[str, str] = {"leader_approval": "approve"}
DELIVERY_FIELD = "delivery_method"
ONLINE = "online"
MAX_TEMPLATE = 50_000
DEFAULTS_DIR = Path(__file__).resolve().parent.parent / "templates" / "documents" / "results"


class TemplateRefused(ServiceError):
    """The administrator's template cannot be used (a syntax error, or it tried to leave the sandbox)."""


def default_template(process_id: str) -> str | None:
    """The bundled result template of a procedure (None: it has none)."""
    path = DEFAULTS_DIR / f"{process_id}.html"
    if not path.name.startswith(".") and path.parent == DEFAULTS_DIR and path.is_file():
        return path.read_text(encoding="utf-8")
    return None


def template_of(version: ProcedureVersion) -> str | None:
    return version.result_template or None


def _environment() -> ImmutableSandboxedEnvironment:
    env = template_budget.BoundedSandbox(autoescape=True)
    env.filters["day"] = day
    env.filters["when"] = when
    env.filters["money"] = money
    return env


def _plain(value: Any) -> Any:
    """Only plain values reach a template: numbers, text, dates, and lists / dicts of them."""
    if value is None or isinstance(value, bool | int | float | str | date | datetime):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def decision_values(dossier: Dossier) -> dict[str, Any]:
    """The process data as the engine holds it (the officers' form values: registration_number, …)."""
    if not dossier.workflow_state:
        return {}
    from portal.dossiers.runtime import DossierRun
    from portal.procedures.services import compiled

    run = DossierRun(dossier, compiled(dossier.version), dossier.finished_at or dossier.created_at, None)
    try:
        data = run.load_instance().data()
    except Exception:  # a state that cannot be read gives a certificate without the decision values
        current_app.logger.exception("could not read the process data of dossier %s", dossier.id)
        return {}
    return {k: v for k, v in data.items() if not k.startswith("_")}


def result_steps(model: ProcedureModel) -> dict[str, str]:
    """{step id: decision value} of the steps that issue the result when completed with that decision: those
    declaring `issues_result`, or the legacy rule when none does."""
    declared = {step.id: step.issues_result for step in model.steps.values() if step.issues_result}
    return declared or dict(LEGACY_RESULT_STEPS)


def result_steps_of(version: ProcedureVersion) -> dict[str, str]:
    """The version's result steps, from its parsed spec (cached per process: no query, no XML, on a hit)."""
    from portal.procedures.services import compiled

    return result_steps(compiled(version).model)


def issues_result(steps: dict[str, str], bpmn_id: str, outcome: str | None) -> bool:
    """Does completing the step `bpmn_id` with this decision issue the result?"""
    return outcome is not None and steps.get(bpmn_id) == outcome


def decided_result(steps: dict[str, str], task: Any = Task) -> ColumnElement[bool]:
    """SQL: the task (Task or an alias of it) is one of the result steps with its decision value."""
    return or_(*(and_(task.bpmn_id == step, task.outcome == outcome) for step, outcome in steps.items()))


def result_task(dossier: Dossier) -> Task | None:
    """The step that decided the result (the leader's approval), the last one."""
    return db.session.scalar(
        select(Task)
        .where(
            Task.dossier_id == dossier.id,
            Task.state == TaskState.COMPLETED,
            decided_result(result_steps_of(dossier.version)),
        )
        .order_by(Task.completed_at.desc(), Task.id.desc())
        .limit(1)
    )


def sample_context(version: ProcedureVersion) -> dict[str, Any]:
    """Values for a preview when the version has no dossier yet: each form field's label stands for its value."""
    from portal.procedures.services import compiled

    fields: dict[str, Any] = {}
    for step in compiled(version).model.steps.values():
        for field in step.form:
            fields.setdefault(field.id, f"[{field.label or field.id}]")
    now = datetime.now()
    return {
        "form": fields,
        "decision": fields,
        "code": "000.00.31.H56-260302-0001",
        "applicant": {"full_name": "[Họ và tên]"},
        "agency": {"name": "[Cơ quan]", "code": ""},
        "procedure": {"name": version.procedure.name, "code": version.procedure.code or ""},
        "received_at": now,
        "appointment_at": now,
        "approved_at": now,
        "approved_by": "[Lãnh đạo]",
        "issued_on": now,
    }


def dossier_context(dossier: Dossier) -> dict[str, Any]:
    task = result_task(dossier)
    procedure = dossier.version.procedure
    return _plain(
        {
            "form": dossier.form_data or {},
            "decision": decision_values(dossier),
            "code": dossier.code,
            "applicant": {"full_name": dossier.applicant.full_name},
            "agency": {"name": dossier.agency.name, "code": dossier.agency.code},
            "procedure": {"name": procedure.name, "code": procedure.code or ""},
            "received_at": dossier.received_at,
            "appointment_at": dossier.appointment_at,
            "approved_at": task.completed_at if task else None,
            "approved_by": task.completed_by.full_name if task and task.completed_by else "",
            "issued_on": (task.completed_at if task else None) or dossier.finished_at or dossier.created_at,
        }
    )


def render_body(source: str, context: dict[str, Any]) -> Markup:
    """The template rendered in the sandbox, as safe HTML (autoescaped); TemplateRefused says why it cannot be."""
    if len(source) > MAX_TEMPLATE:
        raise TemplateRefused(_("The template is too long (at most %(n)s characters).", n=MAX_TEMPLATE))
    env = _environment()
    try:
        template = env.from_string(source)
        seconds = float(current_app.config["RESULT_TEMPLATE_SECONDS"])
        body = template_budget.within(seconds, lambda: template_budget.bounded_text(template.generate(**context)))
    except template_budget.TooSlow:
        raise TemplateRefused(
            _("The template took longer than %(n)s seconds to render; simplify its loops.", n=seconds)
        ) from None
    except (template_budget.TooLarge, MemoryError):
        raise TemplateRefused(_("The template makes far more text than a document can hold.")) from None
    except SecurityError:
        raise TemplateRefused(
            _("The template tries to reach something templates may not use; only the dossier's values are allowed.")
        ) from None
    except TemplateSyntaxError as exc:
        raise TemplateRefused(
            _("The template has an error on line %(line)s: %(error)s", line=exc.lineno, error=exc.message)
        ) from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise TemplateRefused(_("The template could not be rendered: %(error)s", error=str(exc)[:300])) from None
    # Autoescaped output of a sandboxed template: the dossier's values are escaped, the template's HTML kept.
    return Markup(body)  # noqa: S704


def newest_dossier(version: ProcedureVersion) -> Dossier | None:
    return db.session.scalar(
        select(Dossier).where(Dossier.procedure_version_id == version.id).order_by(Dossier.id.desc()).limit(1)
    )


def has_result(dossier: Dossier) -> bool:
    return bool(dossier.version.result_template) and result_task(dossier) is not None


# -- delivery ----------------------------------------------------------------------------------------------------


def delivered_online(dossier: Dossier) -> bool:
    """Is the result delivered electronically? The desk's choice once made, else the channel (online dossiers)."""
    chosen = decision_values(dossier).get(DELIVERY_FIELD) if dossier.closed_at else None
    if chosen:
        return chosen == ONLINE
    return dossier.channel == Channel.ONLINE


def delivery_note(dossier: Dossier) -> str | None:
    """What the dossier page tells the applicant about a result not yet returned: download it, or where and when
    to collect the paper copy (None once the dossier is closed). No query: the channel decides until the desk
    records how it returned the result."""
    if dossier.closed_at is not None:
        return None
    if dossier.channel == Channel.ONLINE:
        return _("Your result is issued electronically: open the result below and download the signed PDF.")
    agency = dossier.agency
    return _(
        "Collect the paper result at the one-stop-shop desk of %(agency)s from %(date)s, bringing your identity "
        "card and the receipt.",
        agency=agency.name,
        date=day(dossier.appointment_at),
    )


def _delivery_task(dossier: Dossier) -> Task | None:
    """The desk's waiting step that returns the result (its form has the delivery method)."""
    from portal.procedures.services import compiled

    model = compiled(dossier.version).model
    for task in db.session.scalars(
        select(Task).where(Task.dossier_id == dossier.id, Task.state == TaskState.READY).order_by(Task.id)
    ):
        step = model.steps.get(task.bpmn_id)
        if step is not None and any(f.id == DELIVERY_FIELD for f in step.form):
            return task
    return None


def record_download(dossier: Dossier, user: User) -> bool:
    """The applicant downloaded the result: the first time, a timeline line, and when the desk's return step is
    waiting and the result goes online, that step completes as delivered online (the dossier closes at status 10
    through the dossier service, which sets returned_at once). True when something was recorded. Flushes."""
    if user.id != dossier.applicant_id:
        return False
    already = db.session.scalar(
        select(DossierEvent.id).where(DossierEvent.dossier_id == dossier.id, DossierEvent.kind == "result_downloaded")
    )
    if already is not None:
        return False
    from portal.core.time import utcnow
    from portal.dossiers.services import deliver_result

    deliver_result(dossier.id, user, online=delivered_online(dossier), now=utcnow())
    return True


# -- administrators: preview and edit a version's template --------------------------------------------------------


def preview(version: ProcedureVersion, source: str) -> tuple[Markup, Dossier | None]:
    """The template rendered with the newest dossier of the version (or sample values when it has none)."""
    dossier = newest_dossier(version)
    context = dossier_context(dossier) if dossier is not None else _plain(sample_context(version))
    return render_body(source, context), dossier


def save_template(version: ProcedureVersion, source: str, actor: User) -> ProcedureVersion:
    """Keep a new result template for the procedure. A draft version is changed in place; a published (or
    retired) version never changes, so the template goes into a new draft version with the same BPMN, to be
    published like any other. The template must render (in the sandbox) first. Flushes; the caller commits."""
    from portal.core import audit

    source = (source or "").replace("\r\n", "\n").strip()
    if source:
        preview(version, source)  # raises TemplateRefused with the reason
    if version.status == "draft":
        version.result_template = source or None
        target = version
    else:
        from portal.procedures.services import latest_version

        latest = latest_version(version.procedure)
        target = ProcedureVersion(
            procedure_id=version.procedure_id,
            number=(latest.number if latest else version.number) + 1,
            process_id=version.process_id,
            bpmn_xml=version.bpmn_xml,
            dmn_files=version.dmn_files,
            checksum=version.checksum,
            model=version.model,
            created_by_id=actor.id,
            result_template=source or None,
        )
        db.session.add(target)
    db.session.flush()
    audit.record("procedure.result_template", actor, target, number=target.number, based_on=version.number)
    return target
