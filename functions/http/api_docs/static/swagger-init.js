// Starts Swagger UI on /docs (functions/http/api_docs). A file of the app's own rather than an inline
// script, so the page's Content-Security-Policy is script-src 'self' with no 'unsafe-inline'. The page
// names the OpenAPI document in data-openapi-url, with the stage prefix (/prod/openapi.json under API
// Gateway). The options are FastAPI's defaults, plus no online validator (validator.swagger.io).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
