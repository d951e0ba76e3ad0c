// Where dossiers wait: the procedure version's diagram (bpmn-js viewer) with an overlay on each step (dossiers
// waiting now, median and 90th-percentile time, share finished late) and on each sequence flow (times taken).
// The overlays are read from the tables below the diagram, which say the same thing in words. Loading and
// layout: bpmn-view.js.
(function () {
  "use strict";
  var box = document.getElementById("ioc-diagram");
  if (!box || !window.MotCuaDiagram) { return; }

  function badge(text, className) {
    var el = document.createElement("div");
    el.className = className;
    el.textContent = text;
    return el;
  }

  window.MotCuaDiagram.show(box, function (viewer) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    Array.prototype.forEach.call(document.querySelectorAll("#ioc-bottlenecks tr[data-step]"), function (row) {
      var id = row.getAttribute("data-step");
      if (!registry.get(id)) { return; }
      var hot = row.getAttribute("data-hot") === "yes";
      overlays.add(id, "ioc-step", { position: { bottom: -4, left: 0 },
        html: badge(row.getAttribute("data-overlay"), hot ? "ioc-overlay ioc-hot" : "ioc-overlay") });
      if (hot) { canvas.addMarker(id, "current-step"); }
    });
    Array.prototype.forEach.call(document.querySelectorAll("#ioc-flows tr[data-flow]"), function (row) {
      var id = row.getAttribute("data-flow");
      var taken = row.getAttribute("data-overlay");
      var flow = registry.get(id);
      if (!flow || taken === "0" || !flow.waypoints || !flow.waypoints.length) { return; }
      var mid = flow.waypoints[Math.floor(flow.waypoints.length / 2)];
      var minX = Math.min.apply(null, flow.waypoints.map(function (p) { return p.x; }));
      var minY = Math.min.apply(null, flow.waypoints.map(function (p) { return p.y; }));
      overlays.add(id, "ioc-flow", { position: { top: mid.y - minY - 10, left: mid.x - minX - 8 },
        html: badge("×" + taken, "ioc-flow-overlay") });
    });
  });
})();
