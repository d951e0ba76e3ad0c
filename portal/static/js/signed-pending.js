// A document page whose signed PDF is still being prepared asks every few seconds whether it is ready, then shows
// it by loading the page again. Without scripts the page offers a "refresh" link instead.
(function () {
  "use strict";
  var notice = document.querySelector("[data-signed-pending]");
  if (!notice || !window.fetch) { return; }
  var url = notice.getAttribute("data-status-url");
  var tries = 0;
  function ask() {
    tries += 1;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { ready: false }; })
      .then(function (answer) {
        if (answer.ready) { window.location.reload(); } else if (tries < 40) { window.setTimeout(ask, 3000); }
      })
      .catch(function () { if (tries < 40) { window.setTimeout(ask, 3000); } });
  }
  window.setTimeout(ask, 2000);
})();
