"""The grammar user code may use is a whitelist; every way to name something is checked; a script's own
assignments count only for the lines after them."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from workflows.scripting import RestrictedEnvironment, UnsafeCodeError, check_code
from workflows.validation import validate_bpmn


@pytest.mark.parametrize(
    ("code", "mode", "reason"),
    [
        # match class patterns look attributes up by a plain string: refused outright
        ("match x:\n    case str(__class__=k):\n        pass", "exec", "class pattern by attribute name (__class__)"),
        ("match x:\n    case str(real=k):\n        pass", "exec", "class pattern by attribute name (real)"),
        # every capture name of a pattern
        ("match x:\n    case _k:\n        pass", "exec", "private name _k"),
        ("match x:\n    case [1, 2] as _k:\n        pass", "exec", "private name _k"),
        ("match x:\n    case [1, *_rest]:\n        pass", "exec", "private name _rest"),
        ("match x:\n    case {'a': 1, **_rest}:\n        pass", "exec", "private name _rest"),
        # keyword names, literal and unpacked
        ("dict(__class__=1)", "eval", "private name __class__"),
        ("min(x, __key=1)", "eval", "private name __key"),
        ("dict(**{'__class__': 1})", "eval", "private name __class__"),
        ("dict(**data)", "eval", "keyword arguments with ** from something other than a literal dict"),
        ("dict(**{key: 1})", "eval", "keyword arguments with ** from something other than a literal dict"),
        ("dict(**{**data})", "eval", "keyword arguments with ** from something other than a literal dict"),
        # other bound names
        ("try:\n    x = 1\nexcept ValueError as _e:\n    pass", "exec", "private name _e"),
        ("lambda **_k: 1", "eval", "private name _k"),
        ("lambda *_a: 1", "eval", "private name _a"),
        # attributes named by string
        ("format(x, 'y')", "eval", "forbidden name format"),
        ("'{0.real}'.format(x)", "eval", "forbidden attribute format"),
        ("'{real}'.format_map(x)", "eval", "forbidden attribute format_map"),
        # constructs outside the whitelist
        ("with x:\n    pass", "exec", "uses with, which procedures may not use"),
        ("def f():\n    yield 1", "exec", "uses yield, which procedures may not use"),
        ("def f():\n    yield from x", "exec", "uses yield from, which procedures may not use"),
        ("x: int = 1", "exec", "uses an annotation, which procedures may not use"),
        ("def f(x: int):\n    return x", "exec", "an annotation"),
        ("def f(x) -> int:\n    return x", "exec", "an annotation"),
        ("@min\ndef f():\n    pass", "exec", "uses a decorator"),
        ("try:\n    pass\nexcept* ValueError:\n    pass", "exec", "TryStar"),
        ("import os", "exec", "uses import"),
        ("class A:\n    pass", "exec", "defines a class"),
    ],
)
def test_refused_grammar(code: str, mode: str, reason: str) -> None:
    assert reason in (check_code(code, mode) or ""), check_code(code, mode)
    env = RestrictedEnvironment()
    run = env.evaluate if mode == "eval" else env.execute
    with pytest.raises(UnsafeCodeError):
        run(code, {"x": "", "data": {}, "key": "k"})


@pytest.mark.parametrize(
    "code",
    [
        "match x:\n    case [a, *rest] if a > 1:\n        y = rest\n    case {'k': v, **others}:\n        y = v\n"
        "    case str() | int():\n        y = 0\n    case [1, 2] as pair:\n        y = pair\n"
        "    case _:\n        y = None",
        "y = dict(a=1, **{'b': 2})",
        "y = sorted(x, key=lambda v: -v, reverse=True)",
        "try:\n    y = 1 / x\nexcept ZeroDivisionError as err:\n    y = str(err)",
        "def twice(v, *args, k=1, **kwargs):\n    return v * 2\ny = twice(3)",
        "y = [v for v in x if v] + [w for w in x] if x else []",
        "y = f'{x!r:>10}'",
    ],
)
def test_accepted_grammar(code: str) -> None:
    assert check_code(code, "exec") is None


def test_a_match_class_pattern_cannot_reach_a_private_attribute_at_run_time() -> None:
    env = RestrictedEnvironment()
    with pytest.raises(UnsafeCodeError):
        env.execute("match x:\n    case str(__class__=k):\n        y = k", {"x": ""})


# ---------------------------------------------------------------------------------- names read too early


def _process(*scripts: str) -> bytes:
    tasks, flows, previous = [], [], "fill"
    for i, script in enumerate(scripts):
        tasks.append(
            f'    <bpmn:scriptTask id="s{i}" scriptFormat="python"><bpmn:script>{escape(script)}</bpmn:script>'
            "</bpmn:scriptTask>"
        )
        flows.append(f'    <bpmn:sequenceFlow id="f{i}" sourceRef="{previous}" targetRef="s{i}" />')
        previous = f"s{i}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://example.org/names">
  <bpmn:process id="names" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="fill" />
    <bpmn:userTask id="fill" name="Fill" camunda:candidateGroups="reception">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="fee" label="Fee" type="long" />
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
{chr(10).join(tasks)}
{chr(10).join(flows)}
    <bpmn:sequenceFlow id="f_end" sourceRef="{previous}" targetRef="done" />
    <bpmn:endEvent id="done" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def _unknown(*scripts: str) -> list[str]:
    problems = validate_bpmn(_process(*scripts), "names.bpmn", known_roles={"reception"})
    return sorted(p.reason for p in problems if p.reason.startswith("unknown name"))


def test_a_name_read_before_the_script_assigns_it_is_reported() -> None:
    assert _unknown("total = fee + extra\nextra = 5") == ["unknown name 'extra' in script"]


def test_a_name_assigned_before_it_is_read_is_known() -> None:
    assert _unknown("extra = 5\ntotal = fee + extra") == []


@pytest.mark.parametrize(
    "script",
    [
        "total = fee\ntotal += extra\nextra = 1",
        "del fee\ntotal = fee",
        "total = extra if fee else 0\nextra = 1",
        "for n in [fee]:\n    total = n + extra\nextra = 1",
        "def f():\n    return extra\ny = f()",
    ],
)
def test_reads_before_assignment_in_every_statement_form(script: str) -> None:
    assert _unknown(script), script


def test_names_known_from_another_script_fields_branches_and_captures() -> None:
    scripts = (
        "base = fee + 1",
        "total = base + 1\nif total:\n    bonus = 1\nelse:\n    bonus = 2\nall = total + bonus",
        "match fee:\n    case int() as amount:\n        paid = amount\n    case _:\n        paid = 0\nkept = paid",
        "def later():\n    return result\nresult = 1\nvalue = later()",
        "items = [n for n in [fee]]\ncount = (size := len(items)) + size",
    )
    assert _unknown(*scripts) == []
