// The procedure's diagram on the dossier page: the steps done are shaded, the step the dossier waits at is
// outlined. The timeline table says the same in words. Loading and layout: bpmn-view.js.
(function () {
  "use strict";
  var box = document.getElementById("diagram");
  if (!box || !window.MotCuaDiagram) { return; }
  function ids(name) { return (box.getAttribute(name) || "").split(",").filter(Boolean); }

  window.MotCuaDiagram.show(box, function (viewer) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    ids("data-done").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "done-step"); } });
    ids("data-current").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "current-step"); } });
  });
})();
