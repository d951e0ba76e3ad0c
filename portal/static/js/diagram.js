// The procedure's diagram on the dossier page (bpmn-js viewer, served by the portal): the steps done are
// shaded, the step the dossier waits at is outlined. The timeline table says the same in words.
(function () {
  "use strict";
  var box = document.getElementById("diagram");
  if (!box || !window.BpmnJS || !window.fetch) { return; }
  function ids(name) { return (box.getAttribute(name) || "").split(",").filter(Boolean); }
  var viewer = new window.BpmnJS({ container: box });
  fetch(box.getAttribute("data-bpmn-url"), { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    return r.text();
  }).then(function (xml) {
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
