// The map above the public feed of field reports (/public/reports), shown only when a tile server is configured.
// The list under it is rendered by the server and is the map's text alternative: without this script, without
// Leaflet, or with the tiles out of reach, the list stays. The markers are the public reports of the visible
// area (map.json), loaded again a moment after the map stops moving.
(function () {
  "use strict";
  var box = document.getElementById("reports-map");
  var section = document.getElementById("reports-map-section");
  if (!box || !section || typeof window.L === "undefined") { return; }
  var L = window.L;
  var status = document.getElementById("reports-map-status");
  var DEBOUNCE_MS = 300;

  function text(value) {  // Leaflet writes attribution and popups as HTML: give it text only
    var span = document.createElement("span");
    span.textContent = value;
    return span.innerHTML;
  }

  function clamp(value, low, high) { return Math.min(high, Math.max(low, value)); }

  section.hidden = false;
  var map = L.map(box, { keyboard: true });
  L.tileLayer(box.dataset.tiles, {
    maxZoom: 19,
    attribution: text(box.dataset.attribution || ""),
    crossOrigin: false
  }).addTo(map);

  // Start on the reports of the page's list (they carry their positions), else on Vietnam.
  var listed = [];
  document.querySelectorAll(".report-card[data-lat][data-lon]").forEach(function (card) {
    var lat = parseFloat(card.dataset.lat), lon = parseFloat(card.dataset.lon);
    if (isFinite(lat) && isFinite(lon)) { listed.push([lat, lon]); }
  });
  if (listed.length) {
    map.fitBounds(L.latLngBounds(listed).pad(0.2), { maxZoom: 16 });
  } else {
    map.setView([16.0, 106.5], 6);
  }

  var markers = L.layerGroup().addTo(map);
  var timer = null;
  var request = 0;

  function bbox() {
    var b = map.getBounds();
    return [
      clamp(b.getWest(), -180, 180).toFixed(6),
      clamp(b.getSouth(), -90, 90).toFixed(6),
      clamp(b.getEast(), -180, 180).toFixed(6),
      clamp(b.getNorth(), -90, 90).toFixed(6)
    ].join(",");
  }

  function show(answer) {
    markers.clearLayers();
    answer.points.forEach(function (point) {
      var label = point.category + " · " + point.code + " · " + point.status;
      var marker = L.marker([point.lat, point.lon], { title: label, alt: label, keyboard: true });
      var link = document.createElement("a");
      link.href = point.url;  // a path on this site (url_for), from the server
      link.textContent = box.dataset.open + ": " + point.code;
      var popup = document.createElement("div");
      var heading = document.createElement("strong");
      heading.textContent = point.category;
      popup.appendChild(heading);
      popup.appendChild(document.createElement("br"));
      popup.appendChild(document.createTextNode(point.status));
      popup.appendChild(document.createElement("br"));
      popup.appendChild(link);
      marker.bindPopup(popup);
      markers.addLayer(marker);
    });
    status.textContent = answer.truncated ? box.dataset.truncated : "";
  }

  function load() {
    var params = new URLSearchParams({ bbox: bbox() });
    if (box.dataset.category) { params.set("category", box.dataset.category); }
    if (box.dataset.status) { params.set("status", box.dataset.status); }
    var mine = ++request;
    fetch(box.dataset.points + "?" + params.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (answer) { if (mine === request) { show(answer); } })
      .catch(function () { if (mine === request) { status.textContent = box.dataset.failed; } });
  }

  map.on("moveend", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(load, DEBOUNCE_MS);
  });
  load();
}());
