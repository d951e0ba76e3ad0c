"""Engine benchmark: full lifecycles per second of the construction permit procedure.

Three runs of the same BPMN, side by side in one process:
- floor: bare SpiffWorkflow in memory, serialized to JSON and read back after every step (its own serializer,
  spec embedded, as an application that keeps nothing else would do);
- the portal's service layer (validation of each step's form, the dossier lock, Task rows, timeline, SLA,
  state stored by reference, one commit per step as a request does) on SQLite and on PostgreSQL.
Then the cost of one step after many supplement rounds, against the first rounds.

Usage: python bench/engine.py [--lifecycles 40] [--rounds 50] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from common import ROOT, app_on, machine, postgres_url, write_section

from portal.attachments.services import store_upload
from portal.demo import seed_agencies, seed_people
from portal.dossiers.services import complete_task, submit_dossier
from portal.extensions import db
from portal.models import Procedure, Task, TaskState, User
from portal.procedures.services import current_version, deploy

PERMIT = ROOT / "workflows" / "procedures" / "construction_permit.bpmn"
PDF = b"%PDF-1.4\n%%EOF\n"
APPLICATION = {
    "owner_full_name": "Võ Thị Mai",
    "owner_citizen_id": "001190012345",
    "phone": "0912345678",
    "construction_address": "Thửa 45, tờ bản đồ 12",
    "land_parcel_number": "45",
    "map_sheet_number": "12",
    "floor_area": 180,
    "floors": 3,
}
# The happy path after submission: (step, officer, data).
STEPS = [
    ("reception_check", "tiepnhan@motcua.demo", {"decision": "accept"}),
    ("site_inspection", "ktht@motcua.demo", {"inspection_date": "2026-03-04", "findings": "Đúng", "site_ok": True}),
    ("appraisal", "ktht@motcua.demo", {"decision": "approve"}),
    ("leader_approval", "lanhdao@motcua.demo", {"decision": "approve"}),
    ("return_permit", "tiepnhan@motcua.demo", {"permit_number": "GP-1", "delivery_method": "counter"}),
]


# -- floor: bare SpiffWorkflow -----------------------------------------------------------------------------


def floor_rate(lifecycles: int) -> float:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
    from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
    from SpiffWorkflow.util.task import TaskState as SpiffState

    from workflows.bpmn_model import prepare_xml
    from workflows.scripting import make_script_engine

    parser = CamundaParser()
    parser.add_bpmn_str(prepare_xml(PERMIT.read_bytes()), filename=PERMIT.name)
    spec = parser.get_spec("construction_permit")
    subprocesses = parser.get_subprocess_specs("construction_permit")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    data_by_step = {"submit": {**APPLICATION, "land_use_certificate": [1], "design_drawings": [2]}}
    data_by_step |= {step: data for step, _who, data in STEPS}
    functions = {
        "before_due": lambda span: "2999-01-01T00:00:00+00:00",
        "after_start": lambda span: "2999-01-01T00:00:00+00:00",
    }

    def one() -> None:
        engine = make_script_engine(functions)
        workflow = BpmnWorkflow(spec, subprocesses, script_engine=engine)
        workflow.do_engine_steps()
        while not workflow.is_completed():
            task = workflow.get_tasks(state=SpiffState.READY, manual=True)[0]
            task.data.update(data_by_step[task.task_spec.bpmn_id])
            task.run()
            workflow.do_engine_steps()
            workflow = serializer.deserialize_json(serializer.serialize_json(workflow))
            workflow.script_engine = engine

    return _rate(one, lifecycles)


def _rate(one: Callable[[], None], lifecycles: int) -> float:
    for _ in range(3):  # warm-up: imports, caches, connections
        one()
    began = time.perf_counter()
    for _ in range(lifecycles):
        one()
    return lifecycles / (time.perf_counter() - began)


# -- the service layer --------------------------------------------------------------------------------------


def prepare_portal() -> None:
    seed_people(seed_agencies())
    result = deploy(PERMIT.read_bytes(), str(PERMIT), agency_code="000.00.31.H56", publish=True)
    assert result.ok, result.problems
    procedure = db.session.scalar(db.select(Procedure).where(Procedure.key == "construction_permit"))
    procedure.max_rounds = 100  # the supplement-rounds measurement goes past the bundled cap of 30
    db.session.commit()


def people() -> dict[str, User]:
    return {u.email: u for u in db.session.scalars(db.select(User))}


def files(owner: User, count: int) -> list[str]:
    ids = [str(store_upload(owner, f"f{i}.pdf", PDF).id) for i in range(count)]
    db.session.commit()
    return ids


def open_task(dossier_id: int, bpmn_id: str) -> Task:
    return db.session.scalar(
        db.select(Task).where(Task.dossier_id == dossier_id, Task.bpmn_id == bpmn_id, Task.state == TaskState.READY)
    )


def service_rate(lifecycles: int) -> float:
    """Lifecycles per second, counting the service calls and their commits; not the harness's own lookup of
    the next task's id (a web request has it in its URL)."""
    who = people()
    citizen = who["congdan@motcua.demo"]
    uploads = iter(files(citizen, 2 * (lifecycles + 3)))
    version = current_version(db.session.scalar(db.select(Procedure).where(Procedure.key == "construction_permit")))
    spent = [0.0]

    def timed(call: Callable[[], object]) -> object:
        began = time.perf_counter()
        result = call()
        db.session.commit()
        spent[0] += time.perf_counter() - began
        return result

    def one() -> None:
        data = {**APPLICATION, "land_use_certificate": next(uploads), "design_drawings": next(uploads)}
        dossier = timed(lambda: submit_dossier(version, citizen, data))
        for step, officer, step_data in STEPS:
            task_id = open_task(dossier.id, step).id
            timed(
                lambda task_id=task_id, officer=officer, step_data=step_data: complete_task(
                    task_id, who[officer], step_data
                )
            )
        assert dossier.status == 10

    for _ in range(3):
        one()
    spent[0] = 0.0
    for _ in range(lifecycles):
        one()
    return lifecycles / spent[0]


def supplement_rounds(rounds: int) -> tuple[list[float], int]:
    """Seconds per step of each supplement round (appraisal asks, citizen answers) on one dossier."""
    who = people()
    citizen, specialist = who["congdan@motcua.demo"], who["ktht@motcua.demo"]
    uploads = iter(files(citizen, 2 + rounds))
    version = current_version(db.session.scalar(db.select(Procedure).where(Procedure.key == "construction_permit")))
    dossier = submit_dossier(
        version, citizen, {**APPLICATION, "land_use_certificate": next(uploads), "design_drawings": next(uploads)}
    )
    db.session.commit()
    for step, officer, step_data in STEPS[:2]:
        complete_task(open_task(dossier.id, step).id, who[officer], step_data)
        db.session.commit()
    per_step = []
    for _ in range(rounds):
        began = time.perf_counter()
        complete_task(open_task(dossier.id, "appraisal").id, specialist, {"decision": "supplement", "reason": "Thiếu"})
        db.session.commit()
        complete_task(
            open_task(dossier.id, "appraisal_supplement").id, citizen, {"supplement_documents": next(uploads)}
        )
        db.session.commit()
        per_step.append((time.perf_counter() - began) / 2)  # includes the two task-id lookups, alike each round
    return per_step, len(dossier.workflow_state)


# -- the report ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()

    results: dict[str, float] = {"floor": floor_rate(args.lifecycles)}
    rounds: dict[str, tuple[list[float], int]] = {}
    pg = postgres_url()
    with tempfile.TemporaryDirectory() as tmp:
        databases = [("SQLite", f"sqlite:///{tmp}/bench.db")] + ([("PostgreSQL", pg)] if pg else [])
        for label, url in databases:
            # Notifications are queued, not sent, inside the measured steps: workers send them in production.
            with app_on(url, Path(tmp) / label, queue_jobs=True):
                prepare_portal()
                results[label] = service_rate(args.lifecycles)
                rounds[label] = supplement_rounds(args.rounds)
    report = render(args, results, rounds, pg is not None)
    print(report)
    if not args.no_write:
        write_section("engine", report)


def render(args: argparse.Namespace, results: dict[str, float], rounds: dict, has_pg: bool) -> str:
    floor = results["floor"]
    lines = [
        "## Engine: construction permit lifecycles",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} with `python bench/engine.py --lifecycles {args.lifecycles} "
        f"--rounds {args.rounds}` on {machine()}.",
        "",
        "Method: one process runs the same BPMN (`workflows/procedures/construction_permit.bpmn`, submission + 5",
        "steps) three ways, after 3 untimed warm-up lifecycles each. *Floor*: bare SpiffWorkflow in memory, its own",
        "serializer (spec embedded) round-tripping the workflow through JSON after every step. *Service layer*:",
        "`submit_dossier` / `complete_task` as the web requests call them (form validation, dossier lock, Task rows,",
        "timeline, SLA calendar, state stored by reference) with one commit per step, on a SQLite file and on the",
        "local PostgreSQL. Rates are lifecycles per second, wall clock; ratios are against the floor of the same run.",
        "",
        "| run | lifecycles/s | ratio to floor |",
        "|---|---:|---:|",
    ]
    for label, rate in results.items():
        name = "floor (bare SpiffWorkflow + JSON round trip)" if label == "floor" else f"service layer, {label}"
        lines.append(f"| {name} | {rate:.1f} | {rate / floor:.2f}× |")
    if not has_pg:
        lines.append("\nPostgreSQL did not answer; its row is missing from this run.")
    lines += [
        "",
        f"Supplement rounds: one dossier taken through {args.rounds} rounds of *appraisal asks for documents → the",
        "citizen answers*; the cost of one step is averaged over each round's two steps.",
        "",
        "| database | step, rounds 1–5 | step, last 5 rounds | ratio | stored state after |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, (per_step, size) in rounds.items():
        first, last = statistics.mean(per_step[:5]), statistics.mean(per_step[-5:])
        lines.append(
            f"| {label} | {first * 1000:.1f} ms | {last * 1000:.1f} ms | {last / first:.2f}× | {size / 1024:.0f} KiB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
