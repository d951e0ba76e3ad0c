// Autosave of the application form: every few seconds while something changed, when a field loses focus, and
// when the page is hidden. The draft lives on the server, so a time-out or another device loses nothing.
// A signed-out session answers 401: we say so, and once the person has signed in again (in another tab) we
// fetch a fresh CSRF token and carry on saving.
(function () {
  "use strict";
  var form = document.querySelector("form[data-draft-url]");
  if (!form || !window.fetch) { return; }
  var url = form.getAttribute("data-draft-url");
  var every = (parseInt(form.getAttribute("data-autosave"), 10) || 5) * 1000;
  var status = form.querySelector("[data-draft-status]");
  var alertBox = form.querySelector("[data-draft-alert]");
  var dirty = false;
  var saving = false;
  var needToken = false;

  function msg(name) { return form.getAttribute("data-msg-" + name) || ""; }
  function token() {
    var input = form.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }
  function values() {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.type === "file" || el.disabled) { return; }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      out[el.name] = el.value;
    });
    return out;
  }
  function saved() {
    alertBox.textContent = "";
    if (status.textContent !== msg("saved")) { status.textContent = msg("saved"); }
  }
  function problem(signedOut) {
    status.textContent = "";
    var text = signedOut ? msg("signed-out") : msg("save-failed");
    if (alertBox.getAttribute("data-text") === text) { return; }  // say it once, not every few seconds
    alertBox.setAttribute("data-text", text);
    alertBox.textContent = text + " ";
    if (signedOut) {
      var link = document.createElement("a");
      link.href = form.getAttribute("data-login-url");
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = form.getAttribute("data-msg-sign-in") || link.href;
      alertBox.appendChild(link);
    }
  }
  function refreshToken() {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw r; }
      return r.json();
    }).then(function (body) {
      document.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.value = body.csrf_token; });
      needToken = false;
    });
  }
  function post(body, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token() },
      body: body
    });
  }
  function save(keepalive) {
    if (!dirty || saving) { return; }
    saving = true;
    dirty = false;
    var body = JSON.stringify(values());
    (needToken ? refreshToken() : Promise.resolve()).then(function () {
      return post(body, keepalive);
    }).then(function (r) {
      if (r.ok) { alertBox.removeAttribute("data-text"); saved(); return; }
      dirty = true;
      if (r.status === 401 || r.status === 400) { needToken = true; }
      problem(r.status === 401 || r.status === 400);
    }).catch(function (error) {
      dirty = true;
      problem(!!(error && error.status === 401));
    }).then(function () { saving = false; });
  }

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  form.addEventListener("motcua:changed", function () { dirty = true; save(); });
  form.addEventListener("focusout", function () { save(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { save(true); }
  });
  window.setInterval(save, every);
})();
