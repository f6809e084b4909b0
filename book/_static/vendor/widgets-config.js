// Point RequireJS at the vendored files so that the widget bundle (embed-amd.js)
// resolves its assets (Font Awesome fonts) under _static/vendor/amd/ instead of
// relative to the page. Loaded after require.js and before embed-amd.js.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.requirejs) {
    return;
  }
  var src = script.src.split("?")[0];
  var vendor = src.substring(0, src.lastIndexOf("/") + 1);
  window.requirejs.config({ baseUrl: vendor + "amd/" });
})();
