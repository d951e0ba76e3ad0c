"""Dry runs: an administrator drives a version's workflow step by step with sample data.

The workflow runs in memory through `workflows.engine` only; its state is kept in `admin_dry_runs` between
requests. No Dossier, Task or timeline row is ever written, so no officer or citizen sees anything. Timers do
not fire in a dry run (`before_due`/`after_start` answer a far-future moment).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete

from forms.builder import validate_data
from portal.core.errors import InvalidInput, NotFound
from portal.core.time import utcnow
from portal.extensions import db
from portal.incidents.services import dry_run_failed
from portal.models import DryRun, ProcedureVersion, User
from portal.procedures.services import compiled
from workflows.bpmn_model import FormFieldSpec, ProcedureModel, StepSpec
from workflows.engine import EngineError, ExternalStep, Instance, ReadyStep

FAR_FUTURE = "9999-12-31T00:00:00+00:00"
MAX_STEPS = 200  # a dry run longer than this is surely a loop; the admin starts again
KEEP_FOR = timedelta(days=7)  # an admin's dry runs older than this are dropped when they start a new one


def _never(span: str) -> str:
    return FAR_FUTURE


FUNCTIONS = {"before_due": _never, "after_start": _never}


@dataclass
class DryRunView:
    run: DryRun
    ready: list[ReadyStep]
    finished: bool
    end_events: list[str]
    data: dict[str, Any]
    external: list[ExternalStep] = field(default_factory=list)  # service tasks: the dry run calls no system


def dry_fields(step: StepSpec) -> list[FormFieldSpec]:
    """The fields an admin fills in a dry run: file fields are left out (nothing is uploaded)."""
    return [f for f in step.form if f.widget != "file"]


def start(version: ProcedureVersion, actor: User) -> DryRun:
    db.session.execute(delete(DryRun).where(DryRun.user_id == actor.id, DryRun.updated_at < utcnow() - KEEP_FOR))
    instance = Instance.new(compiled(version), FUNCTIONS)
    _guard(instance.run, version.id)
    run = DryRun(user_id=actor.id, version_id=version.id, state=instance.dump(), log=[])
    db.session.add(run)
    db.session.flush()
    return run


def get_run(run_id: int, actor: User) -> DryRun:
    run = db.session.get(DryRun, run_id)
    if run is None or run.user_id != actor.id:  # each admin's dry runs are their own
        raise NotFound(_("There is no such dry run."))
    return run


def version_of(run: DryRun) -> ProcedureVersion:
    """The version a dry run exercises; its foreign key guarantees the row exists."""
    return db.session.get_one(ProcedureVersion, run.version_id)


def _instance(run: DryRun) -> Instance:
    return Instance.load(compiled(version_of(run)), run.state, FUNCTIONS)


def view(run: DryRun) -> DryRunView:
    instance = _instance(run)
    return DryRunView(
        run,
        instance.ready_steps(),
        instance.completed,
        instance.reached_end_events(),
        instance.data(),
        instance.ready_external(),
    )


def step_spec(model: ProcedureModel, bpmn_id: str) -> StepSpec:
    step = model.steps.get(bpmn_id)
    if step is None:
        raise NotFound(_("There is no such step."))
    return step


def complete(run: DryRun, spiff_id: str, raw: dict[str, Any]) -> None:
    """Complete a waiting step with sample data, checked like the real form checks it."""
    instance = _instance(run)
    ready = next((s for s in instance.ready_steps() if s.spiff_id == spiff_id), None)
    if ready is None:
        raise InvalidInput(_("This step is not waiting any more; the page shows what is."), {})
    if len(run.log) >= MAX_STEPS:
        raise InvalidInput(_("This dry run is too long; start a new one."), {})
    step = step_spec(instance.process.model, ready.bpmn_id)
    fields = dry_fields(step)
    data, errors = validate_data(fields, raw)
    if errors:
        raise InvalidInput(_("Some fields need attention."), errors)
    data.update({f.id: "" for f in step.form if f.widget == "file"})
    _guard(lambda: instance.complete(spiff_id, data), run.version_id)
    run.state = instance.dump()
    run.log = [*run.log, {"step": step.id, "name": step.name, "data": data}]
    run.updated_at = utcnow()
    db.session.flush()


def complete_external(run: DryRun, spiff_id: str, outputs_text: str) -> None:
    """Complete a waiting service task with outputs the administrator types (a JSON object): a dry run calls no
    other system."""
    from portal.external.jobs import AttemptFailed, checked_outputs

    instance = _instance(run)
    ready = next((s for s in instance.ready_external() if s.spiff_id == spiff_id), None)
    if ready is None:
        raise InvalidInput(_("This step is not waiting any more; the page shows what is."), {})
    if len(run.log) >= MAX_STEPS:
        raise InvalidInput(_("This dry run is too long; start a new one."), {})
    try:
        outputs = checked_outputs(json.loads(outputs_text) if outputs_text.strip() else {})
    except (ValueError, AttemptFailed) as exc:
        message = _('The outputs must be a JSON object of plain names, e.g. {"registered": true}.')
        raise InvalidInput(message, {"outputs": [message + f" ({exc})"]}) from exc
    spec = instance.process.model.external.get(ready.bpmn_id)
    if spec is not None and spec.outputs:
        outputs = {k: v for k, v in outputs.items() if k in spec.outputs}
    _guard(lambda: instance.complete(spiff_id, outputs), run.version_id)
    run.state = instance.dump()
    run.log = [*run.log, {"step": ready.bpmn_id, "name": ready.name, "data": outputs}]
    run.updated_at = utcnow()
    db.session.flush()


def _guard(action: Any, version_id: int) -> None:
    """The procedure's code failed or went past a budget: the administrator reads where and what (StepFailed,
    no incident: they are the one to act)."""
    try:
        action()
    except EngineError as exc:
        raise dry_run_failed(exc, version_id) from exc
