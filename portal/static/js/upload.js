// File fields of the citizen forms: each chosen file is uploaded at once (XMLHttpRequest, for its progress
// events), checked by the server, and its attachment id added to the field's hidden input. Without this script
// the file input is simply posted with the form (the server handles both).
(function () {
  "use strict";
  var form = document.querySelector("form.step-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var MAX_BYTES = 10 * 1024 * 1024;

  function msg(name, vars) {
    var text = form.getAttribute("data-msg-" + name) || "";
    Object.keys(vars || {}).forEach(function (key) { text = text.split("%(" + key + ")s").join(vars[key]); });
    return text;
  }
  function token() {
    var input = form.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }
  function parse(text) {
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  function setup(box) {
    var ids = box.querySelector("[data-ids]");
    var list = box.querySelector("[data-list]");
    var input = box.querySelector("input[type=file]");
    var status = box.querySelector("[data-status]");
    var progress = box.querySelector("[data-progress]");
    var bar = progress.querySelector("progress");
    var barText = progress.querySelector("[data-progress-text]");
    var max = parseInt(box.getAttribute("data-max"), 10) || 10;

    function current() { return ids.value ? ids.value.split(",").filter(Boolean) : []; }
    function setIds(values) {
      ids.value = values.join(",");
      form.dispatchEvent(new CustomEvent("motcua:changed"));  // the draft script saves the new list
    }
    function say(text, ok) {
      status.textContent = text;
      status.className = "upload-status" + (ok ? "" : " is-error");
    }
    function viewUrl(id) { return form.getAttribute("data-view-url").replace("/0/", "/" + id + "/"); }

    function add(body) {
      setIds(current().concat(String(body.id)));
      var li = document.createElement("li");
      li.setAttribute("data-id", body.id);
      var link = document.createElement("a");
      link.href = viewUrl(body.id);
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = body.filename;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.setAttribute("data-remove", "");
      button.textContent = msg("remove");
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " " + body.filename;
      button.appendChild(hidden);
      li.appendChild(link);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(button);
      list.appendChild(li);
    }

    function send(file, done) {
      var data = new FormData();
      data.append("file", file);
      data.append("field", box.getAttribute("data-field"));
      var xhr = new XMLHttpRequest();
      xhr.open("POST", box.getAttribute("data-url"));
      xhr.setRequestHeader("X-CSRFToken", token());
      xhr.setRequestHeader("Accept", "application/json");
      progress.hidden = false;
      bar.value = 0;
      barText.textContent = msg("uploading", { name: file.name });
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { bar.value = Math.round((event.loaded * 100) / event.total); }
      });
      xhr.addEventListener("load", function () {
        progress.hidden = true;
        var body = parse(xhr.responseText);
        if (xhr.status === 201 && body && body.id) {
          add(body);
          say(msg("uploaded", { name: body.filename }), true);
        } else if (xhr.status === 401) {
          say((body && body.message) || msg("signed-out"), false);
        } else {
          say((body && body.message) || msg("failed", { name: file.name }), false);  // the message names the file
        }
        done();
      });
      xhr.addEventListener("error", function () {
        progress.hidden = true;
        say(msg("failed", { name: file.name }), false);
        done();
      });
      xhr.send(data);
    }

    function queue(files) {
      if (!files.length) { return; }
      var file = files.shift();
      if (current().length >= max) { say(msg("too-many", { n: max }), false); return; }
      if (file.size > MAX_BYTES) { say(msg("too-big", { name: file.name }), false); queue(files); return; }
      send(file, function () { queue(files); });
    }

    list.querySelectorAll("[data-remove]").forEach(function (button) { button.hidden = false; });
    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove]");
      if (!button) { return; }
      var li = button.closest("li");
      var id = li.getAttribute("data-id");
      var name = li.querySelector("a").textContent;
      setIds(current().filter(function (value) { return value !== id; }));
      li.remove();
      say(msg("removed", { name: name }), true);
      input.focus();
    });
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files);
      input.value = "";  // uploaded now: not posted again with the form
      queue(files);
    });
  }

  form.querySelectorAll("[data-upload]").forEach(setup);
})();
