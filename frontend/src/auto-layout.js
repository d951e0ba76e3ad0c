// Automatic layout for BPMN files that carry no diagram (no bpmndi shapes), as some tools export them:
// bpmn-js cannot show such a file ("no diagram to display"), so the portal draws one with bpmn-auto-layout
// before showing it. Used by the admin modeler (bundled into bpmn-modeler.min.js) and by the diagram viewer
// (build-auto-layout.sh makes portal/static/vendor/bpmn-auto-layout/bpmn-auto-layout.min.js, loaded only
// when a file needs it). Only the layout is added; the process itself is kept as it is.
import { BpmnModdle } from "bpmn-moddle";
import { layoutProcess } from "bpmn-auto-layout";

var DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI";

// True when the file has at least one shape to draw. A file that is not XML counts as laid out: bpmn-js
// then reports it as unreadable, which is the truth.
export function hasLayout(xml) {
  var doc = new DOMParser().parseFromString(xml, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) { return true; }
  return doc.getElementsByTagNameNS(DI_NS, "BPMNShape").length > 0;
}

// bpmn-auto-layout follows each node's incoming/outgoing references; some tools write only the sequence
// flows' sourceRef/targetRef. Fill the references in from the flows so the layout follows the process.
function linkFlows(container) {
  var changed = false;
  (container.flowElements || []).forEach(function (element) {
    if (element.$instanceOf("bpmn:SubProcess") && linkFlows(element)) { changed = true; }
    if (!element.$instanceOf("bpmn:SequenceFlow")) { return; }
    var source = element.sourceRef;
    var target = element.targetRef;
    if (source && source.get("outgoing").indexOf(element) < 0) { source.get("outgoing").push(element); changed = true; }
    if (target && target.get("incoming").indexOf(element) < 0) { target.get("incoming").push(element); changed = true; }
  });
  return changed;
}

async function withLinkedFlows(xml) {
  var moddle = new BpmnModdle();
  var parsed = await moddle.fromXML(xml);
  var changed = false;
  (parsed.rootElement.rootElements || []).forEach(function (element) {
    if (element.$instanceOf("bpmn:Process") && linkFlows(element)) { changed = true; }
  });
  return changed ? (await moddle.toXML(parsed.rootElement, { format: true })).xml : xml;
}

// The same file with a diagram layout (shapes and edges) for its process.
export async function layout(xml) {
  return layoutProcess(await withLinkedFlows(xml));
}
