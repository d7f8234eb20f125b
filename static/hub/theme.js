// Bootstrap's colour mode follows the system setting, also when it changes while a page is open.
// A file of its own, loaded first in <head>: the CSP forbids inline scripts, and running before
// the first paint avoids a flash of the light theme in dark mode.
(function () {
  "use strict";
  var query = window.matchMedia("(prefers-color-scheme: dark)");
  function apply() {
    document.documentElement.setAttribute("data-bs-theme", query.matches ? "dark" : "light");
  }
  apply();
  query.addEventListener("change", apply);
})();
