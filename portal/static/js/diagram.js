// The procedure's diagram on the dossier page (bpmn-js viewer, served by the portal): the steps done are
// shaded, the step the dossier waits at is outlined. The timeline table says the same in words. A file
// without a diagram layout (some tools export only the process) is laid out first, with bpmn-auto-layout
// loaded from data-layout-url only then.
(function () {
  "use strict";
  var box = document.getElementById("diagram");
  if (!box || !window.BpmnJS || !window.fetch || !window.Promise) { return; }
  function ids(name) { return (box.getAttribute(name) || "").split(",").filter(Boolean); }
  var viewer = new window.BpmnJS({ container: box });

  function hasLayout(xml) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) { return true; }  // bpmn-js reports it
    return doc.getElementsByTagNameNS("http://www.omg.org/spec/BPMN/20100524/DI", "BPMNShape").length > 0;
  }
  function loadLayout() {
    if (window.MotCuaAutoLayout) { return Promise.resolve(window.MotCuaAutoLayout); }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = box.getAttribute("data-layout-url");
      script.onload = function () { resolve(window.MotCuaAutoLayout); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  function laidOut(xml) {
    if (hasLayout(xml)) { return xml; }
    return loadLayout().then(function (autoLayout) { return autoLayout.layout(xml); });
  }

  fetch(box.getAttribute("data-bpmn-url"), { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    return r.text();
  }).then(laidOut).then(function (xml) {
    return viewer.importXML(xml);
  }).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport");
    ids("data-done").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "done-step"); } });
    ids("data-current").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "current-step"); } });
  }).catch(function () {
    box.textContent = box.getAttribute("data-msg-failed");
  });
})();
