"""Procedure files: hostile or broken BPMN is refused with file, line, element and reason; code runs restricted."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from workflows.bpmn_model import (
    ProcedureModel,
    UnsafeXmlError,
    parse_xml,
    prepare_xml,
    read_model,
    translate_expression,
)
from workflows.engine import Instance, compile_process
from workflows.scripting import (
    RestrictedEnvironment,
    UnsafeCodeError,
    check_code,
    compile_restricted,
    make_script_engine,
)
from workflows.validation import MAX_BPMN_BYTES, Problem, validate_bpmn, validate_dmn

TESTS = Path(__file__).resolve().parent
BAD = TESTS / "bpmn_bad"
MINIMAL = TESTS / "bpmn_good" / "minimal.bpmn"
ROLES = {"reception", "specialist", "leader"}

# file, line, element id, words the reason must hold
BAD_FILES = [
    ("java_delegate.bpmn", 21, "step", ["Java", "camunda:class"]),
    ("service_task.bpmn", 21, "step", ["service task must be an external task", "camunda:topic"]),
    ("external_task.bpmn", 21, "step", ["external task", "bpmn:serviceTask"]),
    ("expression_task.bpmn", 21, "step", ["camunda:expression"]),
    ("task_listener.bpmn", 23, "step", ["listener", "Java"]),
    ("connector.bpmn", 23, "step", ["camunda:connector"]),
    ("xxe.bpmn", 2, "-", ["DOCTYPE", "not allowed"]),
    ("billion_laughs.bpmn", 2, "-", ["DOCTYPE", "entity"]),
    ("not_xml.bpmn", 6, "-", ["not well-formed XML", "startEvent"]),
    ("not_bpmn.bpmn", 2, "html", ["root element", "BPMN definitions"]),
    ("schema_error.bpmn", 6, "apply", ["schema", "priority"]),
    ("two_processes.bpmn", 16, "second", ["more than one executable process"]),
    ("no_role.bpmn", 21, "step", ["no role", "candidateGroups", "lane"]),
    ("unknown_role.bpmn", 21, "step", ["unknown role recepton"]),
    ("two_roles.bpmn", 21, "step", ["one role code"]),
    ("bad_status.bpmn", 24, "step", ["status", "1 to 10", "'11'"]),
    ("end_status.bpmn", 17, "done", ["status", "'finished'"]),
    ("bad_allowance.bpmn", 24, "step", ["allowance", "'ten days'"]),
    ("bad_deadline.bpmn", 6, "deadline", ["deadline", "same-day", "'two weeks'"]),
    ("max_rounds.bpmn", 6, "rounds", ["max_rounds", "1 to 100", "'500'"]),
    ("bad_kind.bpmn", 24, "step", ["unknown kind", "'approval'"]),
    ("two_submits.bpmn", 21, "step", ["second submit step", "apply"]),
    ("no_submit.bpmn", 3, "nosubmit", ["no user task has kind submit"]),
    ("submit_by_officer.bpmn", 6, "apply", ["submit step", "applicant", "reception"]),
    ("bad_field_id.bpmn", 24, "full name", ["'full name'", "not a Python identifier"]),
    ("bad_field_type.bpmn", 24, "photo", ["unsupported type", "'bytes'"]),
    ("enum_without_options.bpmn", 24, "outcome", ["enum field outcome has no options"]),
    ("bad_constraint.bpmn", 24, "floors", ["max of form field floors", "whole number"]),
    ("condition_syntax.bpmn", 26, "f5", ["condition", "syntax error at column 12", "decision =="]),
    ("condition_dunder.bpmn", 26, "f5", ["condition", "private name", "__"]),
    ("condition_import.bpmn", 26, "f5", ["condition", "private name __import__"]),
    ("condition_open.bpmn", 26, "f5", ["condition", "forbidden name open"]),
    ("condition_power.bpmn", 26, "f5", ["condition uses **", "from -64 to 64", "10 ** 10 ** 9"]),
    ("condition_big_number.bpmn", 26, "f5", ["condition uses a number larger than 10**15", "10000000000000000"]),
    ("condition_typo.bpmn", 26, "f5", ["unknown name 'decsion' in condition"]),
    ("condition_missing.bpmn", 24, "f4", ["without a condition", "gw"]),
    ("condition_language.bpmn", 26, "f5", ["javascript", "not supported"]),
    ("condition_ignored.bpmn", 16, "f2", ["never tested"]),
    ("script_import.bpmn", 22, "step", ["script uses import"]),
    ("script_power.bpmn", 22, "step", ["script uses ** with an exponent", "from -64 to 64"]),
    ("script_big_number.bpmn", 22, "step", ["script uses a number larger than 10**15"]),
    ("script_javascript.bpmn", 21, "step", ["javascript", "only python"]),
    ("script_no_format.bpmn", 21, "step", ["no scriptFormat"]),
    ("timer_bad.bpmn", 24, "remind_timer", ["timer", "syntax error"]),
    ("timer_span.bpmn", 24, "remind_timer", ["before_due('1 day')", "1d or 4h"]),
    ("automatic_loop.bpmn", 17, "compute", ["loop of automatic steps", "compute → again → compute"]),
    ("missing_decision.bpmn", 21, "step", ["decision fee_rules", "DMN"]),
    ("call_missing_process.bpmn", 21, "step", ["verification", "not in this file"]),
    ("unsupported_element.bpmn", 21, "step", ["complexGateway", "not supported"]),
    ("loop_marker.bpmn", 22, "step", ["loop", "not supported"]),
    ("dangling_flow.bpmn", 23, "f3", ["targetRef dne", "names no element"]),
    ("two_outgoing.bpmn", 21, "step", ["2 outgoing flows", "gateway"]),
    ("no_start.bpmn", 3, "bad", ["no start event"]),
    ("missing_message.bpmn", 22, "step_message", ["messageRef police_reply", "bpmn:message"]),
]


def _validate(name: str, **kwargs: object) -> list[Problem]:
    return validate_bpmn((BAD / name).read_bytes(), f"bpmn_bad/{name}", known_roles=ROLES, **kwargs)


@pytest.mark.parametrize(("name", "line", "element_id", "words"), BAD_FILES)
def test_each_bad_file_reports_its_one_problem(name: str, line: int, element_id: str, words: list[str]) -> None:
    problems = _validate(name)

    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert (problem.path, problem.line, problem.element_id) == (f"bpmn_bad/{name}", line, element_id)
    for word in words:
        assert word in problem.reason


def test_every_bad_file_has_an_expectation() -> None:
    assert {p.name for p in BAD.glob("*.bpmn")} == {name for name, *_ in BAD_FILES}


def test_problem_reads_as_file_line_element_reason() -> None:
    problem = _validate("unknown_role.bpmn")[0]

    assert str(problem) == "bpmn_bad/unknown_role.bpmn:21: step: unknown role recepton"


def test_roles_are_only_checked_against_a_known_list() -> None:
    problems = validate_bpmn((BAD / "unknown_role.bpmn").read_bytes(), "unknown_role.bpmn")

    assert problems == []


def test_an_oversized_file_is_refused_before_parsing() -> None:
    xml = MINIMAL.read_bytes() + b"<!--" + b"x" * MAX_BPMN_BYTES + b"-->"

    problems = validate_bpmn(xml, "big.bpmn")

    assert [(p.line, p.element_id) for p in problems] == [(1, "-")]
    assert "larger than 2 MiB" in problems[0].reason


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.perf_counter()
    problems = _validate("billion_laughs.bpmn")
    assert time.perf_counter() - started < 0.5
    assert len(problems) == 1


def test_a_doctype_in_utf16_is_refused_too() -> None:
    xml = (BAD / "xxe.bpmn").read_text().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")

    problems = validate_bpmn(xml, "xxe16.bpmn")

    assert len(problems) == 1
    assert "DOCTYPE" in problems[0].reason
    assert "root:" not in problems[0].reason  # /etc/passwd was never read


@pytest.mark.parametrize("garbage", [b"", b"\x00\xff\xfe", b"<", b"<a/>", b"<?xml version='1.0'?>\n<b:x xmlns:b='u'/>"])
def test_garbage_gives_problems_never_exceptions(garbage: bytes) -> None:
    problems = validate_bpmn(garbage, "garbage.bpmn")

    assert problems
    assert all(isinstance(p, Problem) for p in problems)


# ---------------------------------------------------------------------------------------------- the good file


def test_minimal_file_is_valid() -> None:
    assert validate_bpmn(MINIMAL.read_bytes(), "minimal.bpmn", known_roles=ROLES) == []


def test_minimal_file_model() -> None:
    model = read_model(MINIMAL.read_bytes())

    assert (model.process_id, model.name, model.max_rounds) == ("minimal", "Thủ tục tối giản", 5)
    assert model.properties["deadline"] == "3d"
    assert model.properties["fee"] == "50000"
    assert model.documents == ["Tờ khai", "Bản sao căn cước"]
    assert model.end_statuses == {"refused": 3, "finished": 9}
    assert model.timers == []
    assert list(model.steps) == ["apply", "receive"]

    apply = model.steps["apply"]
    assert (apply.role, apply.kind, apply.status, apply.allowance) == ("applicant", "submit", None, None)
    assert apply.line == 29
    assert model.submit_step is apply
    full_name, copies, scan = apply.form
    assert (full_name.id, full_name.type, full_name.label, full_name.label_en) == (
        "full_name",
        "string",
        "Họ và tên",
        "Full name",
    )
    assert full_name.required
    assert full_name.constraints == {"maxlength": "100"}
    assert (copies.type, copies.default, copies.required) == ("long", "1", False)
    assert (scan.widget, scan.accept, scan.help) == ("file", "pdf,jpeg,png,heic", "Ảnh chụp bằng điện thoại cũng được")

    receive = model.steps["receive"]
    assert (receive.role, receive.kind, receive.status, receive.allowance) == ("reception", "reception", 1, "0.5d")
    decision, reason = receive.form
    assert (decision.id, decision.type, decision.required) == ("decision", "enum", True)
    assert decision.options == [("accept", "Tiếp nhận"), ("refuse", "Từ chối")]
    assert (reason.id, reason.widget) == ("reason", "textarea")


def test_model_round_trips_through_json() -> None:
    model = read_model(MINIMAL.read_bytes())

    restored = ProcedureModel.from_dict(json.loads(json.dumps(model.to_dict())))

    assert restored == model


# ---------------------------------------------------------------------------------------------- JUEL and timers


def test_prepare_xml_turns_juel_into_python_that_evaluates() -> None:
    root = parse_xml(prepare_xml(MINIMAL.read_bytes()))
    condition = root.find(".//{*}conditionExpression").text
    env = RestrictedEnvironment()

    assert condition == 'decision == "refuse"  and  copies > 0'
    assert env.evaluate(condition, {"decision": "refuse", "copies": 2}) is True
    assert env.evaluate(condition, {"decision": "refuse", "copies": 0}) is False
    assert env.evaluate(condition, {"decision": "accept", "copies": 2}) is False


def test_the_example_condition_translates_and_evaluates() -> None:
    python = translate_expression('${decision == "accept" && fee > 0}')
    env = RestrictedEnvironment()

    assert env.evaluate(python, {"decision": "accept", "fee": 5}) is True
    assert env.evaluate(python, {"decision": "accept", "fee": 0}) is False
    assert env.evaluate(python, {"decision": "refuse", "fee": 5}) is False


@pytest.mark.parametrize(
    ("juel", "data", "expected"),
    [
        ("${!approved || x eq null}", {"approved": True, "x": None}, True),
        ("${a ne 'b' and not done}", {"a": "c", "done": False}, True),
        ("${n ge 3 && n lt 5}", {"n": 4}, True),
        ("${flag == true}", {"flag": False}, False),
        ('${s == "x && y"}', {"s": "x && y"}, True),  # operators inside strings are left alone
        ("P${days}D", {"days": 3}, "P3D"),  # a template becomes a string
        ("decision == 'accept'", {"decision": "accept"}, True),  # plain Python is untouched
    ],
)
def test_juel_translation(juel: str, data: dict, expected: object) -> None:
    assert RestrictedEnvironment().evaluate(translate_expression(juel), data) == expected


def test_timer_literals_are_quoted_and_expressions_kept() -> None:
    xml = (BAD / "timer_bad.bpmn").read_bytes().replace(b'${before_due("1d") +}', b"PT1H")
    xml = xml.replace(b'cancelActivity="false">', b'cancelActivity="false">\n')
    root = parse_xml(prepare_xml(xml))

    assert root.find(".//{*}timeDate").text == "'PT1H'"
    assert validate_bpmn(xml, "timer.bpmn", known_roles=ROLES) == []
    for literal in ("P3D", "R3/PT1H", "2026-01-02T08:00:00"):
        timer = xml.replace(b"PT1H", literal.encode())
        assert parse_xml(prepare_xml(timer)).find(".//{*}timeDate").text == repr(literal)
    due = xml.replace(b"PT1H", b'${before_due("1d")}')
    assert parse_xml(prepare_xml(due)).find(".//{*}timeDate").text == 'before_due("1d")'
    assert read_model(due).timers == [("remind", "timeDate", '${before_due("1d")}')]


# ---------------------------------------------------------------------------------------------- the sandbox


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("len(items) + max(items) - min(items)", 5),
        ("sorted(set(items))[-1]", 3),
        ("sum(x * 2 for x in items if x > 1)", 6),
        ("any(isinstance(x, int) for x in items) and all(items)", True),
        ("[round(abs(-x) / 2, 1) for x in items][0]", 0.5),
        ("dict(zip(['a'], [1]))['a'] + int('2') + float('0.5')", 3.5),
        ("list(enumerate(range(2)))", [(0, 0), (1, 1)]),
        ("(lambda v: v + 1)(1)", 2),
        ("date(2026, 1, 2) + timedelta(days=1) == date(2026, 1, 3)", True),
        ("str(datetime(2026, 1, 2, 8).isoformat())", "2026-01-02T08:00:00"),
        ("tuple(items)[1:] == (3, 1) and bool(None) is False", True),
        ("items[1] ** 2 + 2 ** -1 + (2 ** 64 - 2 ** +64)", 9.5),
        ("1000000000000000 + 10 ** 15", 2 * 10**15),
    ],
)
def test_allowed_expressions_evaluate(expression: str, expected: object) -> None:
    assert check_code(expression, "eval") is None
    assert RestrictedEnvironment().evaluate(expression, {"items": [1, 3, 1]}) == expected


@pytest.mark.parametrize(
    ("code", "mode", "reason"),
    [
        ("__import__('os')", "eval", "accesses private name __import__"),
        ("().__class__.__bases__", "eval", "accesses private name"),
        ("open('/etc/passwd')", "eval", "uses forbidden name open"),
        ("import os", "exec", "uses import"),
        ("from os import path", "exec", "uses import"),
        ("getattr(x, 'y')", "eval", "uses forbidden name getattr"),
        ("eval('1')", "eval", "uses forbidden name eval"),
        ("type(x)", "eval", "uses forbidden name type"),
        ("'{0.__class__}'.format(x)", "eval", "uses forbidden attribute format"),
        ("(y for y in x).gi_frame", "eval", "uses forbidden attribute gi_frame"),
        ("f'{x.__class__}'", "eval", "accesses private name __class__"),
        ("def f():\n    global total\n", "exec", "uses global or nonlocal"),
        ("class A:\n    pass\n", "exec", "defines a class"),
        ("_x = 1", "exec", "accesses private name _x"),
        ("decision == ", "eval", "syntax error at column 12"),
        ("x = 1\ny = (2\n", "exec", "syntax error at line 2"),
        ("10 ** 10 ** 9", "eval", "uses ** with an exponent that is not a whole number from -64 to 64"),
        ("x ** x", "eval", "uses ** with an exponent that is not a whole number from -64 to 64"),
        ("2 ** 65", "eval", "uses ** with an exponent that is not a whole number from -64 to 64"),
        ("2 ** -65", "eval", "uses ** with an exponent that is not a whole number from -64 to 64"),
        ("x ** 0.5", "eval", "uses ** with an exponent that is not a whole number from -64 to 64"),
        ("x **= 100", "exec", "uses ** with an exponent that is not a whole number from -64 to 64"),
        ('"a" * 10000000000000000', "eval", "uses a number larger than 10**15"),
        ("y = 1000000000000001", "exec", "uses a number larger than 10**15"),
    ],
)
def test_refused_code(code: str, mode: str, reason: str) -> None:
    assert reason in (check_code(code, mode) or "")
    env = RestrictedEnvironment()
    run = env.evaluate if mode == "eval" else env.execute
    with pytest.raises((UnsafeCodeError, SyntaxError)):
        run(code, {"x": 1})


def test_task_data_cannot_bring_its_own_builtins() -> None:
    with pytest.raises(NameError):
        RestrictedEnvironment().evaluate("print(1)", {"__builtins__": __builtins__})


def test_scripts_write_task_data_and_leave_no_helpers_behind() -> None:
    env = RestrictedEnvironment({"before_due": lambda span: f"due-{span}"})
    data = {"fee": 10}

    env.execute("total = fee * 2\ndue = before_due('1d')\ndef twice(v):\n    return v * 2\nmore = twice(total)", data)

    assert data == {"fee": 10, "total": 20, "due": "due-1d", "more": 40}


def test_per_dossier_functions_are_available_to_expressions() -> None:
    engine = make_script_engine({"before_due": lambda span: f"due-{span}", "after_start": lambda span: "x"})

    assert engine.environment.evaluate("before_due('4h')", {}) == "due-4h"


def test_compiled_code_is_cached() -> None:
    compile_restricted("cached_name_for_test + 1", "eval")
    hits = compile_restricted.cache_info().hits

    compile_restricted("cached_name_for_test + 1", "eval")

    assert compile_restricted.cache_info().hits == hits + 1


def test_engine_validate_keeps_syntax_errors_as_such() -> None:
    engine = make_script_engine()

    engine.validate('"accept"')
    with pytest.raises(SyntaxError):  # DMNEngine.needs_eq relies on this to add `==`
        engine.validate("> 5")
    with pytest.raises(UnsafeCodeError):
        engine.validate("().__class__")


# ---------------------------------------------------------------------------------------------- DMN

FEE_DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_fee" name="Fee"
    namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="fee_rules" name="Fee">
    <decisionTable id="fee_table" hitPolicy="FIRST">
      <input id="in_area" label="Area">
        <inputExpression id="in_area_expr" typeRef="integer"><text>area</text></inputExpression>
      </input>
      <input id="in_kind" label="Kind">
        <inputExpression id="in_kind_expr" typeRef="string"><text>kind</text></inputExpression>
      </input>
      <output id="out_fee" label="Fee" name="fee" typeRef="integer" />
      <rule id="rule_small">
        <inputEntry id="e1"><text>&lt; 100</text></inputEntry>
        <inputEntry id="e2"><text>"house"</text></inputEntry>
        <outputEntry id="o1"><text>75000</text></outputEntry>
      </rule>
      <rule id="rule_range">
        <inputEntry id="e3"><text>100 &lt;= ? &lt; 500</text></inputEntry>
        <inputEntry id="e4"><text>-</text></inputEntry>
        <outputEntry id="o2"><text>area * 1000</text></outputEntry>
      </rule>
      <rule id="rule_other">
        <inputEntry id="e5"><text>-</text></inputEntry>
        <inputEntry id="e6"><text>? in ("house", "shop")</text></inputEntry>
        <outputEntry id="o3"><text>max(area, 1) * 2000</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def _rules_bpmn() -> bytes:
    """The missing-decision file, with a script that reads the decision's output."""
    xml = (BAD / "missing_decision.bpmn").read_text()
    xml = xml.replace(
        '<camunda:formField id="fee" label="Fee" type="long" />',
        '<camunda:formField id="area" label="Area" type="long" />\n'
        '          <camunda:formField id="kind" label="Kind" type="string" />',
    )
    xml = xml.replace(
        'targetRef="done" />',
        'targetRef="note" />\n'
        '    <bpmn:scriptTask id="note" scriptFormat="python">\n'
        '      <bpmn:script>label = "fee " + str(fee)</bpmn:script>\n    </bpmn:scriptTask>\n'
        '    <bpmn:sequenceFlow id="f4" sourceRef="note" targetRef="done" />',
        1,
    )
    return xml.encode()


def test_dmn_outputs_are_known_names() -> None:
    xml = _rules_bpmn()

    assert validate_dmn(FEE_DMN, "fee.dmn") == []
    assert validate_bpmn(xml, "rules.bpmn", [("fee.dmn", FEE_DMN)], known_roles=ROLES) == []
    reasons = [p.reason for p in validate_bpmn(xml, "rules.bpmn", known_roles=ROLES)]
    assert any("decision fee_rules" in r for r in reasons)
    assert "unknown name 'fee' in script" in reasons


def test_a_result_variable_spiffworkflow_would_ignore_is_refused() -> None:
    xml = _rules_bpmn().replace(
        b'camunda:decisionRef="fee_rules"', b'camunda:decisionRef="fee_rules" camunda:resultVariable="price"'
    )

    problems = validate_bpmn(xml, "rules.bpmn", [("fee.dmn", FEE_DMN)], known_roles=ROLES)

    assert [(p.line, p.element_id) for p in problems] == [(22, "step")]
    assert "camunda:resultVariable price is ignored" in problems[0].reason


@pytest.mark.parametrize(("area", "kind", "fee"), [(50, "house", 75000), (200, "farm", 200000), (700, "shop", 1400000)])
def test_a_dmn_table_evaluates_through_the_restricted_engine(area: int, kind: str, fee: int) -> None:
    process = compile_process(_rules_bpmn(), [("fee.dmn", FEE_DMN)], "test-bpmn-validation-rules")
    instance = Instance.new(process, {})
    instance.run()

    instance.complete(instance.ready_steps()[0].spiff_id, {"area": area, "kind": kind})

    assert instance.completed
    assert instance.data()["fee"] == fee
    assert instance.data()["label"] == f"fee {fee}"


@pytest.mark.parametrize(
    ("old", "new", "element_id", "words"),
    [
        (b'<text>? in ("house", "shop")</text>', b'<text>"house", "shop"</text>', "e6", ["FEEL list"]),
        (b'<text>? in ("house", "shop")</text>', b'<text>in ("house", "shop")</text>', "e6", ["write ? in"]),
        (b"<text>75000</text>", b"<text>__import__('os')</text>", "o1", ["private name __import__"]),
        (b'hitPolicy="FIRST"', b'hitPolicy="ANY"', "fee_table", ["hit policy ANY"]),
        (b'name="fee" typeRef', b'name="the fee" typeRef', "out_fee", ["not a Python identifier"]),
    ],
)
def test_bad_dmn(old: bytes, new: bytes, element_id: str, words: list[str]) -> None:
    problems = validate_dmn(FEE_DMN.replace(old, new), "fee.dmn")

    assert [p.element_id for p in problems] == [element_id], [str(p) for p in problems]
    for word in words:
        assert word in problems[0].reason


def test_dmn_with_a_doctype_is_refused() -> None:
    xml = FEE_DMN.replace(b"<definitions", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<definitions', 1)

    problems = validate_dmn(xml, "fee.dmn")

    assert [(p.line, p.element_id) for p in problems] == [(2, "-")]


def test_the_engine_parses_dmn_with_our_safe_parser_too() -> None:
    xml = FEE_DMN.replace(b"<definitions", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<definitions', 1)

    with pytest.raises(UnsafeXmlError):
        compile_process(_rules_bpmn(), [("fee.dmn", xml)], "test-bpmn-validation-dmn-doctype")


def test_a_doctype_inside_a_comment_is_refused_too() -> None:
    xml = MINIMAL.read_bytes().replace(b"<bpmn:process", b"<!-- <!DOCTYPE x> -->\n<bpmn:process", 1)

    problems = validate_bpmn(xml, "comment.bpmn", known_roles=ROLES)

    assert len(problems) == 1
    assert "DOCTYPE" in problems[0].reason
