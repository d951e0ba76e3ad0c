// The admin modeler page: loads the version's BPMN (or a blank one, or a file from the admin's computer),
// lets the admin edit it with bpmn-js and the Camunda 7 properties panel, and posts it to the server, which
// validates it exactly like `procedure validate`. Each problem is listed with a button that selects and
// marks its element on the diagram. All words come from the page's data-msg-* attributes.
(function () {
  "use strict";
  var root = document.getElementById("modeler");
  if (!root || !window.MotCuaModeler || !window.fetch) { return; }
  var status = document.getElementById("modeler-status");
  var box = document.getElementById("modeler-problems");
  var list = box.querySelector("ul");
  var title = box.querySelector("h2");
  var marked = [];
  var modeler = window.MotCuaModeler.createModeler(
    document.getElementById("modeler-canvas"), document.getElementById("modeler-panel"));

  function msg(name, values) {
    var text = root.getAttribute("data-msg-" + name) || "";
    Object.keys(values || {}).forEach(function (key) { text = text.split("%(" + key + ")s").join(values[key]); });
    return text;
  }
  function say(text) { status.textContent = text; }

  // A file without a diagram layout (some tools export only the process) is laid out first; the admin is told,
  // and saving keeps that layout. bpmn-js's own error messages are English: the page says it in its words.
  function open(xml) {
    clearProblems();
    var laidOut = !window.MotCuaModeler.hasLayout(xml);
    root.removeAttribute("data-laid-out");
    return Promise.resolve(laidOut ? window.MotCuaModeler.layout(xml) : xml).then(function (shown) {
      return modeler.importXML(shown);
    }).then(function () {
      modeler.get("canvas").zoom("fit-viewport");
      if (laidOut) { root.setAttribute("data-laid-out", "true"); }
      say(msg(laidOut ? "laid-out" : "loaded"));
    }).catch(function () { say(msg("load-failed")); });
  }

  function clearProblems() {
    var canvas = modeler.get("canvas");
    marked.forEach(function (id) { try { canvas.removeMarker(id, "has-problem"); } catch (e) { /* gone */ } });
    marked = [];
    list.innerHTML = "";
    box.hidden = true;
  }

  function showElement(id) {
    var registry = modeler.get("elementRegistry");
    var element = registry.get(id);
    if (!element) { return; }
    modeler.get("selection").select(element);
    modeler.get("canvas").scrollToElement(element);
    modeler.get("canvas").addMarker(id, "selected-problem");
    window.setTimeout(function () { modeler.get("canvas").removeMarker(id, "selected-problem"); }, 2000);
  }

  function showProblems(problems) {
    clearProblems();
    var registry = modeler.get("elementRegistry");
    title.textContent = problems.length === 1 ? msg("problem") : msg("problems", { n: problems.length });
    problems.forEach(function (p) {
      var item = document.createElement("li");
      var where = document.createElement("span");
      where.className = "problem-where";
      var element = p.element_name ? p.element_name + " (" + p.element_id + ")" : p.element_id;
      where.textContent = msg("line", { n: p.line }) + " · " + element + " ";
      item.appendChild(where);
      item.appendChild(document.createTextNode(p.reason + " "));
      if (registry.get(p.element_id)) {
        modeler.get("canvas").addMarker(p.element_id, "has-problem");
        marked.push(p.element_id);
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.setAttribute("data-element", p.element_id);
        button.textContent = msg("show") + " (" + p.element_id + ")";
        button.addEventListener("click", function () { showElement(p.element_id); });
        item.appendChild(button);
      }
      list.appendChild(item);
    });
    box.hidden = false;
    say("");
  }

  function saved(answer) {
    clearProblems();
    say(msg(answer.unchanged ? "unchanged" : "saved", { n: answer.number }) + " ");
    var link = document.createElement("a");
    link.href = answer.procedure_url;
    link.textContent = msg("open-version");
    status.appendChild(link);
    root.setAttribute("data-procedure-url", answer.procedure_url);
  }

  function save() {
    say(msg("saving"));
    var agency = document.getElementById("modeler-agency");
    modeler.saveXML({ format: true }).then(function (result) {
      var body = { xml: result.xml, agency: agency ? agency.value : null };
      var id = root.getAttribute("data-procedure-id");
      if (id) { body.procedure_id = parseInt(id, 10); }
      return fetch(root.getAttribute("data-save-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": root.getAttribute("data-csrf") },
        body: JSON.stringify(body)
      });
    }).then(function (response) {
      return response.json().then(function (answer) { return { status: response.status, answer: answer }; });
    }).then(function (reply) {
      if (reply.answer.ok) { saved(reply.answer); }
      else if (reply.answer.problems) { showProblems(reply.answer.problems); }
      else { say(reply.answer.message || msg("failed")); }
    }).catch(function () { say(msg("failed")); });
  }

  // Each edit (on the canvas or in the panel) counts, so the page can say there is something to save.
  var changes = 0;
  modeler.on("commandStack.changed", function () {
    changes += 1;
    root.setAttribute("data-changes", String(changes));
    say(msg("unsaved"));
  });

  document.getElementById("modeler-save").addEventListener("click", save);
  document.getElementById("modeler-file").addEventListener("change", function (event) {
    var file = event.target.files && event.target.files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () { open(String(reader.result)); };
    reader.readAsText(file);
  });

  say(msg("loading"));
  fetch(root.getAttribute("data-xml-url"), { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    return r.text();
  }).then(open).catch(function () { say(msg("fetch-failed")); });
})();
