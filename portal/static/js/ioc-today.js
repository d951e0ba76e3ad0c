// Today's figures refresh by themselves: every data-interval seconds the page asks data-url (JSON) and puts
// the new numbers in place; the chart beside the channel table follows. Without JavaScript a reload does it.
(function () {
  "use strict";
  var box = document.getElementById("ioc-today");
  if (!box || !window.fetch) { return; }
  var seconds = Math.max(1, parseInt(box.getAttribute("data-interval"), 10) || 30);
  var lang = document.documentElement.lang || "vi";
  var numbers = new Intl.NumberFormat(lang === "en" ? "en-US" : "vi-VN");
  var status = document.getElementById("ioc-updated");
  var template = box.getAttribute("data-msg-updated") || "";

  function put(element, n) {
    var text = numbers.format(n);
    if (element.textContent !== text) { element.textContent = text; }
  }
  function apply(data) {
    Array.prototype.forEach.call(box.querySelectorAll("[data-figure]"), function (el) {
      var n = data.figures[el.getAttribute("data-figure")];
      if (typeof n === "number") { put(el, n); }
    });
    Array.prototype.forEach.call(box.querySelectorAll("[data-channel]"), function (el) {
      var n = data.received_by_channel[el.getAttribute("data-channel")];
      if (typeof n === "number") { put(el, n); }
    });
    if (status && template) {
      status.textContent = template.replace("{time}", new Date(data.at).toLocaleTimeString(lang === "en" ? "en-GB" : "vi-VN"));
    }
    var table = document.getElementById("ioc-channels");
    if (table && window.MotCuaIoc) { window.MotCuaIoc.refresh(table); }
  }
  function tick() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(apply)
      .catch(function () { /* the next tick tries again; the numbers on the page stay as they were */ })
      .then(function () { window.setTimeout(tick, seconds * 1000); });
  }
  window.setTimeout(tick, seconds * 1000);
})();
