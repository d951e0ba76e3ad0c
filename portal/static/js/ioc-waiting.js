// Where dossiers wait: the procedure version's diagram (bpmn-js viewer) with an overlay on each step (dossiers
// waiting now, median and 90th-percentile time, share finished late) and on each sequence flow (times taken).
// The overlays are read from the tables below the diagram, which say the same thing in words.
(function () {
  "use strict";
  var box = document.getElementById("ioc-diagram");
  if (!box || !window.BpmnJS || !window.fetch || !window.Promise) { return; }
  var viewer = new window.BpmnJS({ container: box });

  function hasLayout(xml) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) { return true; }
    return doc.getElementsByTagNameNS("http://www.omg.org/spec/BPMN/20100524/DI", "BPMNShape").length > 0;
  }
  function laidOut(xml) {
    if (hasLayout(xml)) { return xml; }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = box.getAttribute("data-layout-url");
      script.onload = function () { resolve(window.MotCuaAutoLayout.layout(xml)); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  function badge(text, className) {
    var el = document.createElement("div");
    el.className = className;
    el.textContent = text;
    return el;
  }

  fetch(box.getAttribute("data-bpmn-url"), { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    return r.text();
  }).then(laidOut).then(function (xml) {
    return viewer.importXML(xml);
  }).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    canvas.zoom("fit-viewport");
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
  }).catch(function () {
    box.textContent = box.getAttribute("data-msg-failed");
  });
})();
