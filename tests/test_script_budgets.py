"""User code runs under time and memory budgets that the portal enforces itself.

Every way user code is evaluated (script tasks, gateway conditions, timer expressions, decision-table entries) is
driven through the real engine (`compile_process` / `Instance`) with small BPMN files written here; the dry run
goes through the admin page. Budgets are small so the tests are quick.
"""

from __future__ import annotations

import hashlib
import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import pytest

from workflows import sandbox
from workflows.engine import EngineError, Instance, compile_process

TIME_MS = 400
MEMORY_MB = 48
# A wall-clock budget on a shared two-core machine: the failure must come within the budget plus start-up slack.
SLACK_SECONDS = 3.0

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://example.org/budgets">
  <bpmn:process id="budgets" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fill" />
    <bpmn:userTask id="fill" name="Fill" />
"""
TAIL = """    <bpmn:endEvent id="yes" />
  </bpmn:process>
</bpmn:definitions>
"""


def script_and_gateway(script: str = "x = 1", condition: str = "True") -> bytes:
    return (
        HEAD
        + f"""    <bpmn:sequenceFlow id="f1" sourceRef="fill" targetRef="s1" />
    <bpmn:scriptTask id="s1" name="Compute" scriptFormat="python"><bpmn:script>{escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="s1" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="f4" />
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="yes">
      <bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="no" />
    <bpmn:endEvent id="no" />
"""
        + TAIL
    ).encode()


def timer(expression: str) -> bytes:
    return (
        HEAD
        + f"""    <bpmn:sequenceFlow id="f1" sourceRef="fill" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition><bpmn:timeDate>{escape(expression)}</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="yes" />
"""
        + TAIL
    ).encode()


def decision_task() -> bytes:
    return (
        HEAD
        + """    <bpmn:sequenceFlow id="f1" sourceRef="fill" targetRef="rule" />
    <bpmn:businessRuleTask id="rule" camunda:decisionRef="fee_table" camunda:resultVariable="fee"
        camunda:mapDecisionResult="singleEntry" />
    <bpmn:sequenceFlow id="f2" sourceRef="rule" targetRef="yes" />
"""
        + TAIL
    ).encode()


def decision_table(entry: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="fees" name="Fees"
    namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="fee_table" name="Fee">
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="in_capital"><inputExpression id="ie" typeRef="long"><text>capital</text></inputExpression></input>
      <output id="out_fee" name="fee" typeRef="long" />
      <rule id="r1">
        <inputEntry id="e1"><text>{escape(entry)}</text></inputEntry>
        <outputEntry id="o1"><text>100</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
""".encode()


def start(bpmn: bytes, dmn: list[tuple[str, bytes]] | None = None, functions: dict | None = None) -> Instance:
    checksum = hashlib.sha256(bpmn + b"".join(x for _n, x in dmn or [])).hexdigest()
    process = compile_process(bpmn, dmn or [], checksum)
    instance = Instance.new(process, functions or {})
    instance.run()
    return instance


def fill(instance: Instance, data: dict) -> None:
    (step,) = instance.ready_steps()
    instance.complete(step.spiff_id, data)


@pytest.fixture(autouse=True)
def small_budgets() -> Iterator[None]:
    before = sandbox.budgets()
    sandbox.configure(TIME_MS, MEMORY_MB)
    yield
    sandbox.configure(before.time_ms, before.memory_mb, enabled=before.enabled)


def fails(instance: Instance, data: dict, kind: str, element_id: str) -> EngineError:
    began = time.monotonic()
    with pytest.raises(EngineError) as failed:
        fill(instance, data)
    elapsed = time.monotonic() - began
    assert elapsed < TIME_MS / 1000 + SLACK_SECONDS, elapsed
    error = failed.value
    assert (error.kind, error.element_id) == (kind, element_id), error.detail
    assert str(error) == error.message
    # Plain words for the person; the technical text is for administrators only.
    for internal in ("MemoryError", "Traceback", "BudgetExceeded", " at s1", "Error evaluating"):
        assert internal not in error.message
    return error


def still_healthy() -> None:
    """The next evaluation in this process works, through the child and in-process."""
    instance = start(script_and_gateway("items = [n for n in range(3)]", "len(items) == 3"))
    fill(instance, {})
    assert instance.reached_end_events() == ["yes"]


# -------------------------------------------------------------------------------------------- time


@pytest.mark.parametrize(
    "script",
    [
        "while True:\n    pass",
        "total = sum(range(10**15))",
        "def f(n):\n    return f(n - 1) + f(n - 1) if n else 1\nx = f(80)",
    ],
)
def test_a_runaway_script_is_stopped_at_the_time_budget(script: str) -> None:
    error = fails(start(script_and_gateway(script)), {}, "time", "s1")

    assert error.limit == f"{TIME_MS} ms"
    assert f"{TIME_MS} ms" in error.message
    still_healthy()


@pytest.mark.parametrize(
    "condition", ["sum(range(10**15)) > 0", "any(True for n in range(10**15) if n < 0)", "len('ab' * 10**8) > 0"]
)
def test_a_runaway_gateway_condition_is_stopped(condition: str) -> None:
    error = fails(start(script_and_gateway("x = 1", condition)), {}, "time" if "range" in condition else "memory", "gw")

    assert "gw" in (error.detail or "")
    still_healthy()


def test_a_runaway_timer_expression_is_stopped() -> None:
    fails(start(timer("str(sum(range(10**15)))")), {}, "time", "wait")
    still_healthy()


def test_a_runaway_decision_table_entry_is_stopped() -> None:
    dmn = [("fees.dmn", decision_table("> sum(range(10**15))"))]
    fails(start(decision_task(), dmn), {"capital": 5}, "time", "rule")
    still_healthy()


# ------------------------------------------------------------------------------------------ memory


@pytest.mark.parametrize(
    "script",
    ["s = 'a' * 10**10", "s = [0] * 10**9", "s = 'x'.ljust(10**10)", "s = [1]\nwhile True:\n    s = s + s"],
)
def test_a_script_that_allocates_too_much_is_refused_its_memory(script: str) -> None:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    error = fails(start(script_and_gateway(script)), {}, "memory", "s1")

    assert error.limit == f"{MEMORY_MB} MB"
    assert "MemoryError" in (error.detail or "") or "memory" in (error.detail or "")
    # The portal process itself never held the allocation (ru_maxrss is in KiB on Linux).
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 100 * 1024
    still_healthy()


def test_a_decision_entry_that_allocates_too_much_is_refused() -> None:
    dmn = [("fees.dmn", decision_table("> len('a' * 10**10)"))]
    fails(start(decision_task(), dmn), {"capital": 5}, "memory", "rule")


# ---------------------------------------------------------------------------------- plain failures


def test_unbounded_recursion_fails_as_an_error_with_its_line() -> None:
    script = "x = 1\ndef f(n):\n    return f(n + 1)\ny = f(0)"

    error = fails(start(script_and_gateway(script)), {}, "error", "s1")

    assert error.limit is None
    assert "RecursionError" in (error.detail or "")
    assert "line 3" in (error.detail or "")
    still_healthy()


def test_an_error_in_the_child_keeps_its_python_type_for_spiffworkflow() -> None:
    error = fails(start(script_and_gateway("items = [1 / n for n in range(2)]")), {}, "error", "s1")

    assert "ZeroDivisionError" in (error.detail or "")


# ------------------------------------------------------------------------- same semantics in the child


MUTATING = """
del gone
items.append(len(items))
record["k"] = [n * 2 for n in items]
total = sum(items)
def helper(v):
    return v
kept = helper(total)
when = before_due("1d")
later = after_start("4h") + timedelta(hours=1)
"""


def run_script(script: str) -> dict:
    now = datetime(2026, 3, 2, 8, tzinfo=UTC)
    functions = {"before_due": lambda span: f"due-{span}", "after_start": lambda span: now + timedelta(hours=4)}
    instance = start(script_and_gateway(script, "total > 2"), functions=functions)
    fill(instance, {"gone": 1, "items": [1, 2], "record": {"a": 1}})
    assert instance.reached_end_events() == ["yes"]
    return instance.data()


def test_a_script_in_the_child_changes_task_data_exactly_as_in_process() -> None:
    trips = sandbox.round_trips

    in_child = run_script(MUTATING)

    assert sandbox.round_trips > trips  # the comprehension and the def are not provably cheap
    with sandbox.unbounded():
        in_process = run_script(MUTATING)
    assert in_child == in_process
    assert "gone" not in in_child
    assert in_child["items"] == [1, 2, 2]
    assert in_child["record"] == {"a": 1, "k": [2, 4, 4]}
    assert in_child["when"] == "due-1d"
    assert in_child["later"] == datetime(2026, 3, 2, 13, tzinfo=UTC)
    assert "helper" not in in_child
    assert "before_due" not in in_child


def test_per_dossier_functions_are_called_back_in_the_portal_process() -> None:
    calls: list[str] = []

    def before_due(span: str) -> str:
        calls.append(span)
        time.sleep(TIME_MS / 1000 * 0.75)  # the portal's own work (a database query) is not charged
        return f"due-{span}"

    script = "spans = [before_due(s) for s in ['1d', '2d']]"
    instance = start(script_and_gateway(script), functions={"before_due": before_due, "after_start": str})
    fill(instance, {})

    assert calls == ["1d", "2d"]
    assert instance.data()["spans"] == ["due-1d", "due-2d"]


def test_a_value_that_is_not_data_cannot_come_back() -> None:
    error = fails(start(script_and_gateway("numbers = (n for n in range(3))")), {}, "error", "s1")

    assert "cannot be stored" in (error.detail or "")


# ------------------------------------------------------------------------------------- fast path


def test_simple_conditions_and_scripts_run_in_process() -> None:
    instance = start(script_and_gateway("fee = amount + 1000\nlabel = 'P' + str(days) + 'D'", 'decision == "x"'))
    trips = sandbox.round_trips

    fill(instance, {"amount": 5, "days": 3, "decision": "x"})

    assert sandbox.round_trips == trips
    assert instance.data()["label"] == "P3D"
    assert instance.reached_end_events() == ["yes"]


def test_code_that_is_not_provably_cheap_goes_to_the_child() -> None:
    instance = start(script_and_gateway("label = '%s' % amount", "label * 2 == '55'"))
    trips = sandbox.round_trips

    fill(instance, {"amount": 5})

    assert sandbox.round_trips == trips + 2
    assert instance.reached_end_events() == ["yes"]


def test_budgets_can_be_turned_off_only_explicitly() -> None:
    assert sandbox.budgets().enabled
    with sandbox.unbounded():
        assert not sandbox.budgets().enabled
    assert sandbox.budgets().enabled
    with pytest.raises(ValueError, match="positive"):
        sandbox.configure(0, 64)


# ------------------------------------------------------------------------------------------- dry run


def test_a_dry_run_of_a_runaway_script_stops_at_the_budget(demo, client) -> None:
    from tests.test_admin_dryrun import step_form
    from tests.test_admin_support import EN, as_admin, minimal, post, procedure, upload

    sandbox.configure(TIME_MS, MEMORY_MB)  # the app factory set the deployment's budgets
    runaway = minimal(
        (
            '<bpmn:sequenceFlow id="to_receive" sourceRef="apply" targetRef="receive" />',
            '<bpmn:sequenceFlow id="to_spin" sourceRef="apply" targetRef="spin" />\n'
            '    <bpmn:scriptTask id="spin" name="Spin" scriptFormat="python">'
            "<bpmn:script>while True:\n    pass</bpmn:script></bpmn:scriptTask>\n"
            '    <bpmn:sequenceFlow id="to_receive" sourceRef="spin" targetRef="receive" />',
        ),
        (
            "<bpmn:flowNodeRef>apply</bpmn:flowNodeRef>",
            "<bpmn:flowNodeRef>apply</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>spin</bpmn:flowNodeRef>",
        ),
    )
    as_admin(client)
    assert upload(client, ("minimal.bpmn", runaway)).status_code == 302
    version_page = f"/admin/procedures/{procedure('minimal').id}/versions/1"
    run_url = post(client, f"{version_page}/dry-run", page=version_page).headers["Location"]
    action, prefix = step_form(client.get(run_url, headers=EN).get_data(as_text=True))

    began = time.monotonic()
    response = post(client, action, {f"{prefix}-full_name": "A", f"{prefix}-copies": "1"}, page=run_url)
    elapsed = time.monotonic() - began

    assert elapsed < TIME_MS / 1000 + SLACK_SECONDS
    page = response.get_data(as_text=True)
    assert response.status_code in (302, 409, 422), response.status_code
    if response.status_code == 302:
        page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert f"{TIME_MS} ms" in page
    assert "BudgetExceeded" not in page
    assert "Traceback" not in page
    still_healthy()


def test_a_forked_worker_starts_its_own_child() -> None:
    """gunicorn and Celery fork their workers: a fork must not share the parent's child (nor its pipes)."""
    import os

    assert sandbox.run("eval", "[n for n in range(3)]", {}, None, {}) == [0, 1, 2]  # the parent has a child now
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the forked worker
        try:
            value = sandbox.run("eval", "sum(n for n in range(x))", {"x": 4}, None, {})
            os.write(write_end, str(value).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    assert os.read(read_end, 100) == b"6"
    os.close(read_end)
    assert sandbox.run("eval", "[n for n in range(2)]", {}, None, {}) == [0, 1]  # the parent's child is intact


@pytest.mark.parametrize(
    ("code", "mode", "bounded"),
    [
        ('decision == "refuse"', "eval", True),
        ("copies > 0 and len(full_name) < 100", "eval", True),
        ('before_due("1d")', "eval", True),
        ("'P' + str(days) + 'D'", "eval", True),
        ("fee = round(amount / 3, 2)\nif fee > 10:\n    label = 'high'\nelse:\n    label = 'low'", "exec", True),
        ("due = date(2026, 1, 2) + timedelta(days=days)", "exec", True),
        ("x * 2", "eval", False),  # a repetition when x is a string
        ("'%s' % x", "eval", False),  # %-formatting pads to any width
        ("1 << x", "eval", False),
        ("f'{x:>100000000}'", "eval", False),
        ("round(x, -1000000000000000)", "eval", False),
        ("x.upper()", "eval", False),  # no method calls
        ("sum(x)", "eval", False),
        ("[n for n in x]", "eval", False),
        ("lambda: 1", "eval", False),
        ("while True:\n    pass", "exec", False),
        # each line may double what the previous built: nine reads are too many to prove anything
        ("a = [x, x]\nb = [a, a]\nc = [b, b]\nd = [c, c]\ne = str(d)", "exec", False),
    ],
)
def test_what_counts_as_provably_cheap(code: str, mode: str, bounded: bool) -> None:
    from workflows.bounded import is_bounded

    assert is_bounded(code, mode) is bounded
