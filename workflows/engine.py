"""The one wrapper around SpiffWorkflow.

The portal never handles SpiffWorkflow objects: it compiles a version once (`compile_process`), then creates or
loads an `Instance` for a dossier, runs it, reads plain data back (`ReadyStep`, timers, end events) and stores
`Instance.dump()`. Instances are serialized with the spec *by reference*: the stored JSON holds only the task
tree and data, and the parsed spec comes from the per-process cache keyed by the version's checksum.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar
from uuid import UUID

from flask_babel import gettext as _
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.specs.defaults import NoneTask
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from workflows.bpmn_model import ProcedureModel, parse_xml, prepare_xml, read_model
from workflows.sandbox import BudgetExceeded, ScriptFailed
from workflows.scripting import make_script_engine

SPEC_CACHE_SIZE = 256
# Class names SpiffWorkflow reports for waiting timer events.
TIMER_EVENT_TYPES = frozenset({"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"})


# SpiffWorkflow asks `datetime.now()` whether a timer is due. The engine runs on the portal's clock instead, so
# the moment a step is recorded and the moment its timers are judged are the same one (and tests and replays
# can run at a chosen time). A context variable keeps this per thread and per task.
_engine_now: ContextVar[datetime | None] = ContextVar("motcua_engine_now", default=None)


class _EngineDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]  # plain datetimes, not Self
        fixed = _engine_now.get()
        if fixed is None:
            return datetime.now(tz)
        return fixed.astimezone(tz) if tz is not None else fixed.astimezone(UTC).replace(tzinfo=None)


_timer_module.datetime = _EngineDatetime


@contextmanager
def engine_clock(now: datetime | None) -> Iterator[None]:
    token = _engine_now.set(now)
    try:
        yield
    finally:
        _engine_now.reset(token)


class EngineError(Exception):
    """A step could not run (a script failed, an expression raised, a budget ran out, the task is not ready…).

    `message` is for the person, in their language and without engine internals; `detail` is the technical
    text for administrators (exception, line); `kind` is "time" or "memory" when a budget ran out, else
    "error"; `limit` says which budget ("1000 ms", "64 MB"); `element_id` is the BPMN element whose code failed.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "error",
        element_id: str | None = None,
        detail: str | None = None,
        limit: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.element_id = element_id
        self.detail = detail
        self.limit = limit

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CompiledProcess:
    process_id: str
    checksum: str
    spec: Any
    subprocess_specs: dict[str, Any]
    model: ProcedureModel


@dataclass(frozen=True)
class ReadyStep:
    spiff_id: str
    bpmn_id: str
    name: str
    lane: str | None


@dataclass(frozen=True)
class ExternalStep:
    """A service task waiting for its topic handler (`camunda:type="external"`)."""

    spiff_id: str
    bpmn_id: str
    name: str


class ExternalTask(NoneTask):
    """A BPMN service task run outside the engine: it waits (like a user task) until `Instance.complete` is called
    with its handler's outputs. Validation refuses every other kind of service task."""


class _Parser(CamundaParser):
    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, Any]] = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (CamundaTaskParser, ExternalTask),
    }


class _ByReferenceConverter(BpmnWorkflowConverter):
    """Leaves the spec out of the stored JSON; it is supplied again on restore."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict, spec: Any = None, subprocess_specs: Any = None) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = _ByReferenceConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_serializer = _make_serializer()
SERIALIZER_VERSION: str = _serializer.VERSION  # stored with each state so a later release can migrate it
_cache: OrderedDict[str, CompiledProcess] = OrderedDict()
_cache_lock = threading.Lock()


def compile_process(bpmn_xml: bytes, dmn_files: Sequence[tuple[str, bytes]], checksum: str) -> CompiledProcess:
    """Parse a version once per process; later calls with the same checksum hit the cache."""
    with _cache_lock:
        hit = _cache.get(checksum)
        if hit is not None:
            _cache.move_to_end(checksum)
            return hit
    compiled = _parse(bpmn_xml, dmn_files, checksum)
    with _cache_lock:
        _cache[checksum] = compiled
        while len(_cache) > SPEC_CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def _parse(bpmn_xml: bytes, dmn_files: Sequence[tuple[str, bytes]], checksum: str) -> CompiledProcess:
    model = read_model(bpmn_xml)
    parser = _Parser()
    try:
        # Our parser reads every document (no DTD, no entities, no network); SpiffWorkflow only gets the tree.
        parser.add_bpmn_xml(parse_xml(prepare_xml(bpmn_xml)), filename=f"{model.process_id}.bpmn")
        for name, xml in dmn_files:
            parser.add_dmn_xml(parse_xml(xml), filename=name)
        spec = parser.get_spec(model.process_id)
        subprocess_specs = parser.get_subprocess_specs(model.process_id)
    except SpiffWorkflowException as exc:
        raise EngineError(_("The workflow engine cannot read this procedure."), detail=str(exc)) from exc
    return CompiledProcess(model.process_id, checksum, spec, subprocess_specs, model)


def computes_fee(process: CompiledProcess) -> bool:
    """Whether a business rule task of the process writes `fee`: its decision table has an output named fee."""
    for spec in (process.spec, *process.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            engine = getattr(task_spec, "dmnEngine", None)
            outputs = engine.decision_table.outputs if engine is not None else []
            if any((o.name or o.label) == "fee" for o in outputs):
                return True
    return False


def cached_process(checksum: str) -> CompiledProcess | None:
    """The compiled version if this process has it, without touching its XML."""
    with _cache_lock:
        return _cache.get(checksum)


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


class Instance:
    """One dossier's running workflow."""

    def __init__(self, process: CompiledProcess, workflow: BpmnWorkflow, now: datetime | None = None) -> None:
        self.process = process
        self.workflow = workflow
        self.now = now  # the moment this run happens at; None is the real clock

    @classmethod
    def new(
        cls, process: CompiledProcess, functions: Mapping[str, Callable[..., Any]], now: datetime | None = None
    ) -> Instance:
        workflow = BpmnWorkflow(
            process.spec, process.subprocess_specs, script_engine=make_script_engine(dict(functions))
        )
        return cls(process, workflow, now)

    @classmethod
    def load(
        cls,
        process: CompiledProcess,
        state: str,
        functions: Mapping[str, Callable[..., Any]],
        now: datetime | None = None,
    ) -> Instance:
        dct = json.loads(state)
        version = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, SERIALIZER_VERSION)
        if version in MIGRATIONS:  # a state stored by an older SpiffWorkflow release
            MIGRATIONS[version](dct)
        workflow = _serializer.registry.restore(dct, spec=process.spec, subprocess_specs=process.subprocess_specs)
        # The default script engine is unrestricted: attach ours after every load.
        workflow.script_engine = make_script_engine(dict(functions))
        return cls(process, workflow, now)

    def dump(self) -> str:
        registry = _serializer.registry
        registry._encoder_mode = True
        try:
            dct = registry.convert(self.workflow)
        finally:
            registry._encoder_mode = False
        dct[BpmnWorkflowSerializer.VERSION_KEY] = SERIALIZER_VERSION
        return json.dumps(dct, separators=(",", ":"), cls=_serializer._encoder_cls)

    def compact(self) -> int:
        """Drop finished history the engine no longer needs, so a dossier's state does not grow with every
        supplement round (and loops never reach SpiffWorkflow's task-depth limit). Returns how many tasks went.

        Kept: every unfinished task and its ancestors, except finished links of a plain chain between them
        (a finished task with one child is spliced out: its child takes its place); finished side branches that
        hold an end event, a sub-process or the last completed task; the root. Our own tables keep the history
        people read (Task rows, the timeline), so nothing a person sees is lost.
        """
        wf = self.workflow
        unfinished = [t for t in wf.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
        if not unfinished:
            return 0
        spine: set[UUID] = set()
        for task in unfinished:
            node = task
            while node is not None and node.id not in spine:
                spine.add(node.id)
                node = node.parent
        before = len(wf.tasks)
        for task_id in list(spine):
            self._drop_finished_branches(wf.tasks[task_id], spine)
        for task_id in list(spine):
            self._splice_if_link(wf.tasks[task_id])
        return before - len(wf.tasks)

    def _drop_finished_branches(self, task: Any, spine: set[UUID]) -> None:
        for child in list(task.children):
            if child.id not in spine and self._disposable(child):
                for gone in _subtree(child):
                    del self.workflow.tasks[gone.id]
                task._children = [c for c in task._children if c != child.id]

    def _disposable(self, root: Any) -> bool:
        last = self.workflow.last_task
        return all(
            t.has_state(TaskState.FINISHED_MASK)
            and not isinstance(t.task_spec, EndEvent | SubWorkflowTask)
            and t is not last
            for t in _subtree(root)
        )

    def _splice_if_link(self, task: Any) -> None:
        parent = task.parent
        if (
            parent is None
            or not task.has_state(TaskState.FINISHED_MASK)
            or len(task._children) != 1
            or isinstance(task.task_spec, SubWorkflowTask)
            or task is self.workflow.last_task
        ):
            return
        child = task.children[0]
        parent._children = [child.id if c == task.id else c for c in parent._children]
        child._parent = parent.id
        del self.workflow.tasks[task.id]

    def run(self) -> None:
        """Run every automatic step until the process waits for a person, a timer or a message."""
        self._guard(self.workflow.do_engine_steps)

    def start(self, start_id: str, data: Mapping[str, Any]) -> ReadyStep:
        """Start the process with its start form's data (Camunda's start form: the start event `start_id` holds
        the application form) and run it; returns the start event as the step the applicant did."""
        for task in self.workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)  # the start event and everything after it inherit the data
        self.run()
        event = next((t for t in self.workflow.get_tasks() if t.task_spec.bpmn_id == start_id), None)
        if event is None or not event.has_state(TaskState.FINISHED_MASK):
            raise EngineError(_("The process did not start at its application form."), detail=f"start {start_id}")
        spec = event.task_spec
        return ReadyStep(str(event.id), start_id, spec.bpmn_name or start_id, spec.lane)

    def refresh_timers(self) -> None:
        self._guard(self.workflow.refresh_timers)
        self.run()

    def ready_steps(self) -> list[ReadyStep]:
        tasks = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        return [
            ReadyStep(str(t.id), t.task_spec.bpmn_id, t.task_spec.bpmn_name or t.task_spec.bpmn_id, t.task_spec.lane)
            for t in tasks
            if not isinstance(t.task_spec, ExternalTask)
        ]

    def ready_external(self) -> list[ExternalStep]:
        """Service tasks waiting for their topic handler."""
        tasks = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        return [
            ExternalStep(str(t.id), t.task_spec.bpmn_id, t.task_spec.bpmn_name or t.task_spec.bpmn_id)
            for t in tasks
            if isinstance(t.task_spec, ExternalTask)
        ]

    def task_data(self, spiff_id: str) -> dict[str, Any] | None:
        """The data a waiting task sees (what an external task's handler gets); None if it is not waiting."""
        task = self.workflow.tasks.get(UUID(spiff_id))
        if task is None or task.state != TaskState.READY:
            return None
        return dict(task.data)

    def complete(self, spiff_id: str, data: Mapping[str, Any]) -> None:
        task = self.workflow.get_task_from_id(UUID(spiff_id))
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise EngineError(_("This step is not waiting for input any more."), detail=f"step {spiff_id}")
        task.data.update(data)
        self._guard(task.run)
        self.run()

    def cancel(self) -> None:
        self._guard(self.workflow.cancel)

    @property
    def completed(self) -> bool:
        return self.workflow.is_completed()

    def reached_end_events(self) -> list[str]:
        """BPMN ids of the end events the process has passed, in the order they completed."""
        done = self.workflow.get_tasks(state=TaskState.COMPLETED)
        ends = [t for t in done if isinstance(t.task_spec, EndEvent)]
        ends.sort(key=lambda t: t.last_state_change)
        return [t.task_spec.bpmn_id for t in ends]

    def data(self) -> dict[str, Any]:
        """The process data as the last completed task left it."""
        last = self.workflow.last_task
        return dict(last.data) if last is not None else dict(self.workflow.data)

    def next_timer_at(self) -> datetime | None:
        """The earliest moment a waiting timer is due, for the dossier's `next_timer_at`."""
        moments: list[datetime] = []
        for event in self.workflow.waiting_events():
            if event.event_type not in TIMER_EVENT_TYPES or event.value is None:
                continue
            moment = _timer_moment(event.value)
            if moment is not None:
                moments.append(moment)
        return min(moments) if moments else None

    def _guard(self, action: Callable[[], Any]) -> None:
        try:
            with engine_clock(self.now):
                action()
        except Exception as exc:  # a script or expression raised or ran out of budget: the caller rolls back
            raise engine_error(exc) from exc


def _subtree(root: Any) -> list[Any]:
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found


def _timer_moment(value: Any) -> datetime | None:
    if isinstance(value, dict):  # cycle timers: {"cycles": n, "next": iso, ...}
        value = value.get("next")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def engine_error(exc: Exception) -> EngineError:
    """What a person and an administrator are told about an exception out of SpiffWorkflow or user code."""
    task = getattr(exc, "task", None)
    element_id = task.task_spec.bpmn_id if task is not None else None
    cause = _root_cause(exc)
    detail = _detail(exc, cause, element_id)
    if isinstance(cause, BudgetExceeded):
        if cause.kind == "time":
            message = _(
                "An automatic step of this procedure took longer than its %(limit)s limit and was stopped.",
                limit=cause.limit,
            )
        else:
            message = _(
                "An automatic step of this procedure needed more than its %(limit)s of memory and was stopped.",
                limit=cause.limit,
            )
        return EngineError(message, kind=cause.kind, element_id=element_id, detail=detail, limit=cause.limit)
    return EngineError(_("An automatic step of this procedure failed."), element_id=element_id, detail=detail)


def _root_cause(exc: BaseException) -> BaseException:
    """The user code's own exception under SpiffWorkflow's wrappers (`exception`, then the chain)."""
    seen: set[int] = set()
    current: BaseException = exc
    while id(current) not in seen and not isinstance(current, BudgetExceeded):
        seen.add(id(current))
        context = None if current.__suppress_context__ else current.__context__
        inner = getattr(current, "exception", None) or current.__cause__ or context
        if not isinstance(inner, BaseException):
            break
        current = inner
    return current


def _detail(exc: Exception, cause: BaseException, element_id: str | None) -> str:
    """Exception type and message, SpiffWorkflow's words around it (the expression), element and line."""
    text = str(cause) if isinstance(cause, ScriptFailed) else f"{type(cause).__name__}: {cause}"
    if cause is not exc and str(cause) not in str(exc):
        text = f"{text} ({exc})"
    line = getattr(cause, "script_line", None) or getattr(exc, "line_number", None)
    where = f" at {element_id}" if element_id else ""
    return f"{text}{where}" + (f", line {line}" if line else "")
