// "Use my location" on /reports/new: fills the hidden latitude/longitude fields from the device's position.
// Without this script (or without a position) the address field is enough.
(function () {
  "use strict";
  var box = document.querySelector("[data-locate]");
  if (!box || !("geolocation" in navigator)) { return; }
  var button = box.querySelector("[data-locate-button]");
  var status = box.querySelector("[data-locate-status]");
  var latitude = document.querySelector("[data-position=latitude]");
  var longitude = document.querySelector("[data-position=longitude]");
  box.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = status.dataset.waiting;
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (found) {
      latitude.value = found.coords.latitude.toFixed(6);
      longitude.value = found.coords.longitude.toFixed(6);
      status.textContent = status.dataset.found;
      button.disabled = false;
    }, function () {
      status.textContent = status.dataset.failed;
      button.disabled = false;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
}());
