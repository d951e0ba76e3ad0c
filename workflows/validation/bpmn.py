"""`validate_bpmn`: every check, in order, on one BPMN file and the DMN files it uses."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from flask_babel import gettext as _

from workflows.bpmn_model import BPMN_NS, main_processes
from workflows.validation.context import Context
from workflows.validation.dmn import load_decisions
from workflows.validation.elements import check_elements
from workflows.validation.expressions import check_expressions
from workflows.validation.external import check_service_tasks
from workflows.validation.graph import check_gateways, check_loops, check_references
from workflows.validation.ids import check_ids
from workflows.validation.limits import check_limits
from workflows.validation.problems import Problem, Report, run_checks
from workflows.validation.spiff import check_spiff
from workflows.validation.steps import check_steps
from workflows.validation.structure import check_processes, check_schema, load


def validate_bpmn(
    xml: bytes,
    path: str,
    dmn_files: Sequence[tuple[str, bytes]] = (),
    known_roles: Collection[str] | None = None,
    known_people: Collection[str] | None = None,
    known_topics: Collection[str] | None = None,
) -> list[Problem]:
    """Every problem that keeps the file from being published; an empty list means it can run.

    `known_roles`: the group roles of the handling agency; `known_people`: the emails (lower case) of the active
    officers among those the file names (camunda:assignee, camunda:candidateUsers); `known_topics`: the topics of
    external service tasks that have a handler. None leaves them unchecked."""
    report = Report(path)
    try:
        root = load(xml, report, (BPMN_NS,), "BPMN")
        if root is None:
            return report.sorted()
        ctx = Context(
            root,
            xml,
            report,
            load_decisions(dmn_files),
            known_roles,
            known_people=known_people,
            known_topics=known_topics,
        )
        run_checks(
            [
                lambda: check_schema(root, report),
                lambda: check_processes(ctx),
                lambda: check_elements(ctx),
                lambda: check_service_tasks(ctx),
                lambda: check_steps(ctx),
                lambda: check_ids(ctx),
                lambda: check_limits(ctx),
                lambda: check_expressions(ctx),
                lambda: check_gateways(ctx),
                lambda: check_references(ctx),
                lambda: check_loops(ctx),
            ],
            report,
        )
        processes = main_processes(root)
        process_id = processes[0].get("id") if len(processes) == 1 else None
        # SpiffWorkflow stops at its first error and repeats ours: ask it only about an otherwise clean file.
        if not report.problems and process_id:
            run_checks([lambda: check_spiff(ctx, process_id)], report)
    except Exception as err:  # validation reports, it never raises
        report.add(None, _("could not be checked: %(error)s", error=repr(err)))
    return report.sorted()
