// The API reference page (/api/v1/docs): Swagger UI on the portal's own OpenAPI document. No request leaves the
// portal: the online validator badge is switched off.
(function () {
  "use strict";
  var element = document.getElementById("swagger-ui");
  if (!element || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: element.getAttribute("data-spec-url"),
    domNode: element,
    deepLinking: true,
    validatorUrl: null,
  });
})();
