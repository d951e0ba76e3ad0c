"""Our modelling conventions (docs/BPMN.md) read from the BPMN XML into plain dataclasses.

SpiffWorkflow's Camunda parser only reads `camunda:formData` when `camunda:formKey` is set and knows nothing of
our properties, so the portal reads the XML itself. `prepare_xml` produces the XML SpiffWorkflow parses: JUEL
written by Camunda Modeler becomes Python, bare ISO timer literals become Python strings.

Files of Activiti (Camunda's ancestor: the same extensions under `http://activiti.org/bpmn`) are read as Camunda
files: `parse_xml` moves Activiti's elements and attributes into the Camunda namespace, so nothing else sees them.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ACTIVITI_NS = "http://activiti.org/bpmn"
NSMAP = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
APPLICANT = "applicant"  # the role of the citizen who filed the dossier
DEFAULT_MAX_ROUNDS = 30
TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")
# Camunda 7's default for a failed job (three tries, five minutes apart); see docs/BPMN.md, external service tasks.
DEFAULT_RETRY_CYCLE = "R3/PT5M"
_VARIABLE_REF = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

# JUEL as Camunda writes it: strings pass through untouched, operators and keywords become Python.
_JUEL_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>&&|\|\||!=|!)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
""",
    re.VERBOSE | re.DOTALL,
)
_JUEL_OPERATORS = {"&&": " and ", "||": " or ", "!=": "!=", "!": " not "}
_JUEL_WORDS = {
    "true": "True",
    "false": "False",
    "null": "None",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "and": "and",
    "or": "or",
    "not": "not",
}

_ISO_DURATION = r"P(?=\d|T\d)(?:\d+(?:[.,]\d+)?[YMWD])*(?:T(?:\d+(?:[.,]\d+)?[HMS])+)?"
_ISO_DATETIME = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
_ISO_PART = f"(?:{_ISO_DURATION}|{_ISO_DATETIME})"
_ISO_LITERAL = re.compile(f"{_ISO_PART}|R\\d*/{_ISO_PART}(?:/{_ISO_PART})?")


class UnsafeXmlError(ValueError):
    """The document declares a DTD or entities; we never expand or load them."""

    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.line = line


_WIDE_ENCODINGS = (  # (how the document starts, codec); UTF-32 first: its LE BOM begins like UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
)


def _as_utf8(xml: bytes) -> bytes:
    """The document in an ASCII-compatible encoding, so a byte search finds `<!DOCTYPE` in UTF-16 too."""
    for start, codec in _WIDE_ENCODINGS:
        if xml.startswith(start):
            return xml.decode(codec, errors="replace").encode("utf-8")
    return xml


def parse_xml(xml: bytes) -> etree._Element:
    """Parse untrusted XML: no DTD, no entities, no network, no huge trees.

    Raises UnsafeXmlError for a DOCTYPE or entity declaration, lxml's XMLSyntaxError for malformed XML.
    """
    # The text check refuses a billion-laughs file before libxml2 reads its internal subset at all.
    text = _as_utf8(xml)
    match = _DECLARATION.search(text)
    if match:
        raise UnsafeXmlError("DOCTYPE", text.count(b"\n", 0, match.start()) + 1)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(xml, parser)
    # Non-ASCII-compatible encodings (UTF-16) slip past the byte check; the parsed result cannot.
    if root.getroottree().docinfo.internalDTD is not None or root.getroottree().docinfo.doctype:
        raise UnsafeXmlError("DOCTYPE", 1)
    if ACTIVITI_NS.encode() in text:
        _activiti_as_camunda(root)
    return root


def _activiti_as_camunda(root: etree._Element) -> None:
    """Activiti's extension elements and attributes (`activiti:assignee`, `activiti:formProperty`…) become
    Camunda's, which have the same names: every later reader and check sees one namespace. Lines are kept."""
    old, new = f"{{{ACTIVITI_NS}}}", f"{{{CAMUNDA_NS}}}"
    for node in root.iter(etree.Element):
        tag = str(node.tag)
        if tag.startswith(old):
            node.tag = new + tag[len(old) :]
        for name in [str(a) for a in node.attrib if str(a).startswith(old)]:
            value = node.attrib.pop(name)
            node.set(new + name[len(old) :], value)


def _juel_to_python(expression: str) -> str:
    out: list[str] = []
    previous = ""  # the last token that is not blank: a word after `.` is an attribute, never an operator
    for match in _JUEL_TOKEN.finditer(expression):
        kind, text = match.lastgroup, match.group()
        if kind == "op":
            text = _JUEL_OPERATORS[text]
        elif kind == "word" and previous != ".":
            text = _JUEL_WORDS.get(text, text)
        out.append(text)
        previous = match.group() if match.group().strip() else previous
    return "".join(out).strip()


def _find_close(text: str, start: int) -> int:
    """Index of the `}` closing a `${` whose body starts at `start`, or -1 (quotes and nested braces skipped)."""
    depth, quote, index = 0, "", start
    while index < len(text):
        char = text[index]
        if quote and char == "\\":
            index += 1  # the escaped character cannot end the string
        elif quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return -1


def _split_template(text: str) -> list[tuple[bool, str]] | None:
    """[(is_expression, text)] for a JUEL template; None if a `${` is not closed."""
    parts: list[tuple[bool, str]] = []
    position = 0
    for match in re.finditer(r"[$#]\{", text):
        if match.start() < position:
            continue
        close = _find_close(text, match.end())
        if close < 0:
            return None
        parts += [(False, text[position : match.start()]), (True, text[match.end() : close])]
        position = close + 1
    parts.append((False, text[position:]))
    return [part for part in parts if part[0] or part[1]]


def translate_expression(text: str) -> str:
    """`${…}` JUEL -> Python; text without `${` is already Python and is returned unchanged.

    A template mixing literal text and `${…}` (`P${days}D`) becomes a string concatenation.
    """
    parts = _split_template(text)
    if parts is None or not any(is_expr for is_expr, _ in parts):
        return text  # unchanged: an unclosed `${` then fails to compile and validation says where
    expressions = [(is_expr, part) for is_expr, part in parts if is_expr or part.strip()]
    if len(expressions) == 1:
        return _juel_to_python(expressions[0][1])
    return " + ".join(f"str({_juel_to_python(part)})" if is_expr else repr(part) for is_expr, part in parts)


def translate_timer(text: str) -> str:
    """A timer expression: JUEL translated, a bare ISO 8601 literal quoted so it evaluates to itself."""
    if _ISO_LITERAL.fullmatch(text.strip()):
        return repr(text.strip())
    return translate_expression(text)


def local(tag: Any) -> str:
    """`{ns}name` -> `name` (comments and processing instructions have no string tag)."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def called_process_ids(root: etree._Element) -> set[str]:
    return {str(v) for v in root.xpath(".//bpmn:callActivity/@calledElement", namespaces=NSMAP)}


def main_processes(root: etree._Element) -> list[etree._Element]:
    """Executable processes not called by a call activity of the same file: the procedure itself.

    SpiffWorkflow refuses to parse a non-executable process, so a called process must be executable too;
    it is a part of the procedure, not a second one.
    """
    called = called_process_ids(root)
    return [
        p
        for p in root.findall("bpmn:process", NSMAP)
        if p.get("isExecutable", "true") != "false" and p.get("id") not in called
    ]


def properties(element: etree._Element) -> list[tuple[str, str]]:
    """The element's own `camunda:properties` (not those of its form fields), in order."""
    path = "bpmn:extensionElements/camunda:properties/camunda:property"
    return [(p.get("name") or "", p.get("value") or "") for p in element.findall(path, NSMAP)]


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@dataclass
class FormFieldSpec:
    id: str
    type: str
    label: str
    label_en: str | None = None
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    widget: str | None = None
    default: str | None = None
    constraints: dict[str, str] = field(default_factory=dict)  # every constraint but `required`
    help: str | None = None
    accept: str | None = None


@dataclass
class StepSpec:
    id: str
    name: str
    role: str | None
    status: int | None
    allowance: str | None
    kind: str | None
    form: list[FormFieldSpec]
    line: int
    name_en: str | None = None  # the step's `name_en` property: its name on English pages
    # Officers the step names (camunda:assignee, camunda:candidateUsers), by email as written; `${initiator}` is
    # not among them: it makes the step the applicant's (role `applicant`).
    assignee: str | None = None
    candidate_users: list[str] = field(default_factory=list)
    # The step's `issues_result` property: the decision value with which completing the step issues the
    # procedure's result document (portal/documents/results.py); None: this step does not issue it.
    issues_result: str | None = None

    @property
    def named(self) -> bool:
        """Whether the step names officers (besides, or instead of, a group role)."""
        return bool(self.assignee or self.candidate_users)

    def names(self, email: str | None) -> bool:
        """Whether the step names the officer with this email (as assignee or candidate user)."""
        wanted = (email or "").strip().lower()
        return bool(wanted) and wanted in {p.lower() for p in [self.assignee or "", *self.candidate_users]}


@dataclass
class ExternalSpec:
    """A service task run by a topic handler (`camunda:type="external"`, `camunda:topic`)."""

    id: str
    name: str
    topic: str
    # camunda:inputOutput/inputParameter (name, text as written); none declared: the handler gets all the data.
    inputs: list[tuple[str, str]]
    # camunda:inputOutput/outputParameter names: when any is declared, only these outputs are kept.
    outputs: list[str]
    retry_cycle: str  # camunda:failedJobRetryTimeCycle, or DEFAULT_RETRY_CYCLE
    line: int = 0

    def variables(self, data: dict[str, Any]) -> dict[str, Any]:
        """What the handler receives: the declared inputs (`${name}` alone is the variable's value, any other text
        is taken literally), or all of the process data when the task declares none."""
        if not self.inputs:
            return dict(data)
        values: dict[str, Any] = {}
        for name, text in self.inputs:
            match = _VARIABLE_REF.fullmatch(text.strip())
            values[name] = data.get(match.group(1)) if match else text
        return values


@dataclass
class ProcedureModel:
    process_id: str
    name: str
    properties: dict[str, str]
    documents: list[str]
    steps: dict[str, StepSpec]
    end_statuses: dict[str, int]
    timers: list[tuple[str, str, str]]  # (event id, timeDate|timeDuration|timeCycle, expression as written)
    max_rounds: int = DEFAULT_MAX_ROUNDS
    start_forms: list[str] = field(default_factory=list)  # start events whose form is the application form
    external: dict[str, ExternalSpec] = field(default_factory=dict)  # external service tasks by element id

    @property
    def submit_step(self) -> StepSpec | None:
        """The application form: the start event's form (Camunda's start form) or the user task of kind submit."""
        return next((s for s in self.steps.values() if s.kind == "submit"), None)

    @property
    def starts_with_form(self) -> bool:
        """Whether the application form is the start event's: no user task waits for it."""
        step = self.submit_step
        return step is not None and step.id in self.start_forms

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcedureModel:
        steps = {key: _step_from_dict(value) for key, value in data["steps"].items()}
        timers = [tuple(t) for t in data["timers"]]
        external = {
            key: ExternalSpec(**{**value, "inputs": [tuple(i) for i in value["inputs"]]})
            for key, value in (data.get("external") or {}).items()
        }
        return cls(**{**data, "steps": steps, "timers": timers, "external": external})


def _step_from_dict(data: dict[str, Any]) -> StepSpec:
    form = [FormFieldSpec(**{**f, "options": [tuple(o) for o in f["options"]]}) for f in data["form"]]
    return StepSpec(**{**data, "form": form})


def read_field(node: etree._Element) -> FormFieldSpec:
    constraints = {
        c.get("name") or "": c.get("config") or "" for c in node.findall("camunda:validation/camunda:constraint", NSMAP)
    }
    extras = {
        p.get("id") or "": p.get("value") or "" for p in node.findall("camunda:properties/camunda:property", NSMAP)
    }
    return FormFieldSpec(
        id=node.get("id") or "",
        type=node.get("type") or "",
        label=node.get("label") or "",
        label_en=extras.get("label_en"),
        required="required" in constraints,
        options=[(v.get("id") or "", v.get("name") or "") for v in node.findall("camunda:value", NSMAP)],
        widget=extras.get("widget"),
        default=node.get("defaultValue"),
        constraints={k: v for k, v in constraints.items() if k != "required"},
        help=extras.get("help"),
        accept=extras.get("accept"),
    )


def read_property_field(node: etree._Element) -> FormFieldSpec:
    """A `camunda:formProperty` (Activiti's forms, kept by Camunda 7): `name` is the label, `required="true"`,
    `writable="false"` is read-only, enum options are `value` children as in formData."""
    return FormFieldSpec(
        id=node.get("id") or "",
        type=node.get("type") or "string",
        label=node.get("name") or "",
        required=(node.get("required") or "").strip().lower() == "true",
        options=[(v.get("id") or "", v.get("name") or "") for v in node.findall("camunda:value", NSMAP)],
        default=node.get("default"),
        constraints={"readonly": ""} if (node.get("writable") or "").strip().lower() == "false" else {},
    )


FORM_FIELDS = "bpmn:extensionElements/camunda:formData/camunda:formField"
FORM_PROPERTIES = "bpmn:extensionElements/camunda:formProperty"


def form_nodes(element: etree._Element) -> list[etree._Element]:
    """The element's form: its formData fields, then its form properties (Activiti style)."""
    return element.findall(FORM_FIELDS, NSMAP) + element.findall(FORM_PROPERTIES, NSMAP)


def read_form(task: etree._Element) -> list[FormFieldSpec]:
    fields = [read_field(node) for node in task.findall(FORM_FIELDS, NSMAP)]
    return fields + [read_property_field(node) for node in task.findall(FORM_PROPERTIES, NSMAP)]


def start_forms(root: etree._Element) -> list[etree._Element]:
    """The plain start events of the procedure's process with form fields: Camunda's start form, the
    application form of the procedure (an empty `camunda:formData` left behind by the modeler is no form)."""
    found = []
    for process in main_processes(root):
        for event in process.findall("bpmn:startEvent", NSMAP):
            if form_nodes(event) and not [c for c in event if local(c.tag).endswith("EventDefinition")]:
                found.append(event)
    return found


_INITIATOR = re.compile(r"[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


def initiator_names(root: etree._Element) -> frozenset[str]:
    """Names that stand for the applicant in `${…}`: `initiator`, and the variable a start event's
    `camunda:initiator` names (Camunda stores the starting user there)."""
    named = {(e.get(f"{{{CAMUNDA_NS}}}initiator") or "").strip() for e in root.iter(f"{{{BPMN_NS}}}startEvent")}
    return frozenset({"initiator", *named} - {""})


def people(task: etree._Element) -> tuple[str | None, list[str]]:
    """(camunda:assignee, camunda:candidateUsers split on commas), as written."""
    assignee = (task.get(f"{{{CAMUNDA_NS}}}assignee") or "").strip() or None
    candidates = [c.strip() for c in (task.get(f"{{{CAMUNDA_NS}}}candidateUsers") or "").split(",")]
    return assignee, [c for c in candidates if c]


def named_people(root: etree._Element) -> set[str]:
    """The people (emails, lower case) the user tasks name as assignee or candidate users; expressions left out."""
    found: set[str] = set()
    for task in root.iter(f"{{{BPMN_NS}}}userTask"):
        assignee, candidates = people(task)
        found |= {n.lower() for n in [assignee or "", *candidates] if n and "{" not in n}
    return found


def is_initiator(name: str, initiators: frozenset[str]) -> bool:
    """`${initiator}` (or the start event's initiator variable): the applicant."""
    match = _INITIATOR.fullmatch(name.strip())
    return match is not None and match.group(1) in initiators


def lane_roles(root: etree._Element) -> dict[str, str]:
    """Flow node id -> id of the innermost lane that lists it."""
    roles: dict[str, str] = {}
    # Document order visits a lane before its child lanes, so the innermost lane is written last.
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.findall("bpmn:flowNodeRef", NSMAP):
            if ref.text:
                roles[ref.text.strip()] = lane.get("id") or ""
    return roles


def step_role(task: etree._Element, lanes: dict[str, str], initiators: frozenset[str] | None = None) -> str | None:
    """candidateGroups; else `applicant` for a step assigned to `${initiator}`; else None for a step that names
    officers (camunda:assignee, camunda:candidateUsers: a lane is only a default); else the lane of the task,
    else the lane of an enclosing sub-process."""
    groups = (task.get(f"{{{CAMUNDA_NS}}}candidateGroups") or "").strip()
    if groups:
        return groups
    assignee, candidates = people(task)
    named = [assignee] if assignee else []
    named += candidates
    if named:
        initiators = initiator_names(task.getroottree().getroot()) if initiators is None else initiators
        return APPLICANT if any(is_initiator(n, initiators) for n in named) else None
    node: etree._Element | None = task
    while node is not None:
        node_id = node.get("id")
        if node_id is not None and node_id in lanes:
            return lanes[node_id]
        node = node.getparent()
    return None


def read_step(task: etree._Element, lanes: dict[str, str], initiators: frozenset[str]) -> StepSpec:
    props = dict(properties(task))
    assignee, candidates = people(task)
    return StepSpec(
        id=task.get("id") or "",
        name=task.get("name") or "",
        role=step_role(task, lanes, initiators),
        status=int_or_none(props.get("status")),
        allowance=props.get("allowance"),
        kind=props.get("kind"),
        form=read_form(task),
        line=task.sourceline or 0,
        name_en=props.get("name_en") or None,
        assignee=assignee if assignee and not is_initiator(assignee, initiators) else None,
        candidate_users=[c for c in candidates if not is_initiator(c, initiators)],
        issues_result=(props.get("issues_result") or "").strip() or None,
    )


def read_start_form(event: etree._Element) -> StepSpec:
    """The start event's form as the procedure's application step: the applicant's, kind submit."""
    props = dict(properties(event))
    return StepSpec(
        id=event.get("id") or "",
        name=event.get("name") or "",
        role=APPLICANT,
        status=int_or_none(props.get("status")),
        allowance=None,
        kind="submit",
        form=read_form(event),
        line=event.sourceline or 0,
        name_en=props.get("name_en") or None,
    )


def read_timers(root: etree._Element) -> list[tuple[str, str, str]]:
    timers = []
    for definition in root.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        event = definition.getparent()  # the event that holds the definition
        event_id = (event.get("id") if event is not None else None) or ""
        for child in definition:
            if local(child.tag) in TIMER_KINDS:
                timers.append((event_id, local(child.tag), (child.text or "").strip()))
    return timers


def read_external(task: etree._Element) -> ExternalSpec:
    io = task.find("bpmn:extensionElements/camunda:inputOutput", NSMAP)
    inputs = [] if io is None else io.findall("camunda:inputParameter", NSMAP)
    outputs = [] if io is None else io.findall("camunda:outputParameter", NSMAP)
    cycle = task.find("bpmn:extensionElements/camunda:failedJobRetryTimeCycle", NSMAP)
    return ExternalSpec(
        id=task.get("id") or "",
        name=task.get("name") or task.get("id") or "",
        topic=(task.get(f"{{{CAMUNDA_NS}}}topic") or "").strip(),
        inputs=[(p.get("name") or "", p.text or "") for p in inputs],
        outputs=[p.get("name") or "" for p in outputs],
        retry_cycle=((cycle.text or "").strip() if cycle is not None else "") or DEFAULT_RETRY_CYCLE,
        line=task.sourceline or 0,
    )


def external_tasks(root: etree._Element) -> list[etree._Element]:
    return [t for t in root.iter(f"{{{BPMN_NS}}}serviceTask") if t.get(f"{{{CAMUNDA_NS}}}type") == "external"]


def read_end_statuses(root: etree._Element) -> dict[str, int]:
    statuses = {}
    for end in root.iter(f"{{{BPMN_NS}}}endEvent"):
        status = int_or_none(dict(properties(end)).get("status"))
        if status is not None:
            statuses[end.get("id") or ""] = status
    return statuses


def read_model(xml: bytes) -> ProcedureModel:
    """Read the procedure's conventions; raises ValueError if there is not exactly one main process.

    Values that do not parse (a status that is not a number…) are left out: `validate_bpmn` reports them.
    """
    root = parse_xml(xml)
    processes = main_processes(root)
    if len(processes) != 1:
        raise ValueError(f"expected one executable process, found {len(processes)}")
    process = processes[0]
    props = properties(process)
    lanes = lane_roles(root)
    initiators = initiator_names(root)
    starts = start_forms(root)
    steps = [read_start_form(event) for event in starts[:1]]
    steps += [read_step(task, lanes, initiators) for task in root.iter(f"{{{BPMN_NS}}}userTask")]
    max_rounds = int_or_none(dict(props).get("max_rounds"))
    return ProcedureModel(
        process_id=process.get("id") or "",
        name=process.get("name") or "",
        properties={name: value for name, value in props if name != "document"},
        documents=[value for name, value in props if name == "document"],
        steps={step.id: step for step in steps},
        end_statuses=read_end_statuses(root),
        timers=read_timers(root),
        max_rounds=max_rounds if max_rounds is not None else DEFAULT_MAX_ROUNDS,
        start_forms=[event.get("id") or "" for event in starts[:1]],
        external={spec.id: spec for spec in map(read_external, external_tasks(root))},
    )


def _translate_texts(root: etree._Element) -> None:
    for condition in root.iter(f"{{{BPMN_NS}}}conditionExpression"):
        if condition.text:
            condition.text = translate_expression(condition.text)
    for definition in root.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        for child in definition:
            if local(child.tag) in TIMER_KINDS and child.text:
                child.text = translate_timer(child.text)
    expression = f"{{{CAMUNDA_NS}}}expression"
    for definition in root.iter(f"{{{BPMN_NS}}}messageEventDefinition"):
        text = definition.get(expression)
        if text:
            definition.set(expression, translate_expression(text))


def prepare_xml(xml: bytes) -> bytes:
    """The XML handed to SpiffWorkflow: expressions in Python, timer literals quoted."""
    root = parse_xml(xml)
    _translate_texts(root)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


_DURATION = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
_REPEAT = re.compile(r"R(\d+)/(.+)")
MAX_RETRIES = 20


def retry_intervals(cycle: str) -> list[int] | None:
    """The waits (seconds) between the attempts of a job, from `camunda:failedJobRetryTimeCycle`: `R3/PT5M` is
    three attempts in all, five minutes apart (Camunda's meaning); `PT1M,PT10M,PT1H` is four attempts with these
    waits. None when the text is not such a cycle (validation refuses it)."""
    text = cycle.strip()
    repeat = _REPEAT.fullmatch(text)
    if repeat:
        attempts, one = int(repeat.group(1)), _seconds(repeat.group(2))
        if one is None or not 1 <= attempts <= MAX_RETRIES:
            return None
        return [one] * (attempts - 1)
    waits = [_seconds(part) for part in text.split(",")]
    if not waits or len(waits) >= MAX_RETRIES or any(w is None for w in waits):
        return None
    return [w for w in waits if w is not None]


def _seconds(text: str) -> int | None:
    match = _DURATION.fullmatch(text.strip())
    if match is None or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        return None
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds
    return total if total > 0 else None
