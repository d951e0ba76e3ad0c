// Showing a procedure's diagram read-only (bpmn-js viewer, served by the portal), shared by the dossier page and
// the operations centre. `MotCuaDiagram.show(box, decorate)` fetches the BPMN at the box's data-bpmn-url, lays it
// out first when the file has no diagram layout (some tools export only the process; bpmn-auto-layout is loaded
// from data-layout-url only then), fits it to the box and hands the viewer to `decorate` for markers and
// overlays. When anything fails, the box says data-msg-failed instead.
(function () {
  "use strict";
  var DI = "http://www.omg.org/spec/BPMN/20100524/DI";

  function hasLayout(xml) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) { return true; }  // bpmn-js reports it
    return doc.getElementsByTagNameNS(DI, "BPMNShape").length > 0;
  }
  function loadLayout(url) {
    if (window.MotCuaAutoLayout) { return Promise.resolve(window.MotCuaAutoLayout); }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = url;
      script.onload = function () { resolve(window.MotCuaAutoLayout); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function show(box, decorate) {
    if (!box || !window.BpmnJS || !window.fetch || !window.Promise) { return; }
    var viewer = new window.BpmnJS({ container: box });
    fetch(box.getAttribute("data-bpmn-url"), { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    }).then(function (xml) {
      if (hasLayout(xml)) { return xml; }
      return loadLayout(box.getAttribute("data-layout-url")).then(function (auto) { return auto.layout(xml); });
    }).then(function (xml) {
      return viewer.importXML(xml);
    }).then(function () {
      viewer.get("canvas").zoom("fit-viewport");
      decorate(viewer);
    }).catch(function () {
      box.textContent = box.getAttribute("data-msg-failed");
    });
  }

  window.MotCuaDiagram = { show: show };
})();
