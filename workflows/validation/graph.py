"""The process as a graph: references between elements, sequence flows, gateways, loops of automatic steps."""

from __future__ import annotations

from flask_babel import gettext as _
from lxml import etree

from workflows.bpmn_model import NSMAP, TIMER_KINDS, local, main_processes
from workflows.validation.context import Context, bpmn_nodes, names
from workflows.validation.elements import FLOW_NODES
from workflows.validation.problems import Report

# Elements that make the process wait for a person or an outside event: a loop through one of them is fine.
WAITING_ELEMENTS = names(
    "userTask manualTask serviceTask receiveTask intermediateCatchEvent boundaryEvent eventBasedGateway"
)
# Elements SpiffWorkflow lets have several outgoing flows (besides exclusive/inclusive gateways).
SPLITTING_ELEMENTS = frozenset({"parallelGateway", "eventBasedGateway", "startEvent"})


def _flows(root: etree._Element) -> list[etree._Element]:
    return list(bpmn_nodes(root, "sequenceFlow"))


# ---------------------------------------------------------------------------------------------- references


def check_references(ctx: Context) -> None:
    """Dangling references, which SpiffWorkflow reports with misleading messages."""
    ids = {n.get("id") for n in ctx.root.iter(etree.Element) if n.get("id")}
    messages = {m.get("id") for m in bpmn_nodes(ctx.root, "message")}
    for flow in _flows(ctx.root):
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                ctx.report.add(flow, _("%(end)s %(ref)s names no element", end=end, ref=flow.get(end)))
    for event in bpmn_nodes(ctx.root, "boundaryEvent"):
        if event.get("attachedToRef") not in ids:
            ctx.report.add(event, _("attachedToRef %(ref)s names no element", ref=event.get("attachedToRef")))
    for definition in bpmn_nodes(ctx.root, "messageEventDefinition"):
        if definition.get("messageRef") and definition.get("messageRef") not in messages:
            ctx.report.add(definition, _("messageRef %(ref)s names no bpmn:message", ref=definition.get("messageRef")))
    for definition in bpmn_nodes(ctx.root, "timerEventDefinition"):
        if not any(local(child.tag) in TIMER_KINDS for child in definition):
            ctx.report.add(definition, _("timer has no timeDate, timeDuration or timeCycle"))
    for process in main_processes(ctx.root):
        if process.find("bpmn:startEvent", NSMAP) is None:
            ctx.report.add(process, _("the process has no start event"))


# ---------------------------------------------------------------------------------------------- gateways


def _has_condition(flow: etree._Element) -> bool:
    condition = flow.find("bpmn:conditionExpression", NSMAP)
    return condition is not None and bool((condition.text or "").strip())


def check_gateways(ctx: Context) -> None:
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in _flows(ctx.root):
        outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
    nodes = {n.get("id"): n for n in ctx.root.iter(etree.Element) if n.get("id")}
    for source_id, flows in outgoing.items():
        source = nodes.get(source_id)
        kind = local(source.tag) if source is not None else ""
        if source is not None and kind in ("exclusiveGateway", "inclusiveGateway"):
            _check_gateway(source, flows, ctx.report)
            continue
        if len(flows) > 1 and kind not in SPLITTING_ELEMENTS:
            ctx.report.add(source, _("has %(count)s outgoing flows; split them with a gateway", count=len(flows)))
        for flow in flows:
            if _has_condition(flow):
                ctx.report.add(
                    flow,
                    _(
                        "condition is never tested: only flows leaving an exclusive or "
                        "inclusive gateway have conditions"
                    ),
                )


def _check_gateway(gateway: etree._Element, flows: list[etree._Element], report: Report) -> None:
    default = gateway.get("default")
    if default and default not in {f.get("id") for f in flows}:
        report.add(gateway, _("default flow %(id)s does not leave this gateway", id=default))
    if len(flows) < 2:
        return
    for flow in flows:
        if flow.get("id") != default and not _has_condition(flow):
            report.add(
                flow, _("flow leaves gateway %(gw)s without a condition and is not its default", gw=gateway.get("id"))
            )


# ---------------------------------------------------------------------------------------------- loops


def _contains_waiting(node: etree._Element) -> bool:
    return any(local(d.tag) in WAITING_ELEMENTS for d in node.iter(etree.Element))


def _waits(node: etree._Element, processes: dict[str, etree._Element]) -> bool:
    """Does entering this element wait for a person or an outside event?"""
    name = local(node.tag)
    if name == "subProcess":
        return _contains_waiting(node)
    if name == "callActivity":
        called = processes.get(node.get("calledElement") or "")
        return called is not None and _contains_waiting(called)
    return name in WAITING_ELEMENTS


def _automatic_graph(root: etree._Element) -> dict[str, list[str]]:
    processes = {p.get("id") or "": p for p in root.findall("bpmn:process", NSMAP)}
    # Document order, so the loop reported is the same on every run.
    graph: dict[str, list[str]] = {
        node_id: []
        for n in root.iter(etree.Element)
        if local(n.tag) in FLOW_NODES and (node_id := n.get("id")) and not _waits(n, processes)
    }
    for flow in _flows(root):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in graph and target in graph:
            graph[source].append(target)
    return graph


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One cycle of the graph as a path, found by iterative depth-first search."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for start in graph:
        if state.get(start):
            continue
        path, stack = [start], [iter(graph[start])]
        state[start] = 1
        while stack:
            target = next(stack[-1], None)
            if target is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(target) == 1:
                return [*path[path.index(target) :], target]
            elif not state.get(target):
                state[target] = 1
                path.append(target)
                stack.append(iter(graph[target]))
    return None


def check_loops(ctx: Context) -> None:
    graph = _automatic_graph(ctx.root)
    nodes = {n.get("id"): n for n in ctx.root.iter(etree.Element) if n.get("id")}
    for _attempt in range(len(graph)):
        cycle = _find_cycle(graph)
        if cycle is None:
            return
        ctx.report.add(
            nodes[cycle[0]], _("a loop of automatic steps would never stop: %(path)s", path=" → ".join(cycle))
        )
        graph[cycle[-2]].remove(cycle[-1])  # break it and look for another
