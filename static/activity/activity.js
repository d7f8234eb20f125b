// Activity screen behaviour that HTMX attributes cannot express. Loaded as a file: the CSP forbids
// inline scripts.
(function () {
  "use strict";
  // "Select all on this page" ticks every row checkbox of the list currently shown.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.id !== "select-all") return;
    document.querySelectorAll("#list .row-select").forEach(function (row) {
      row.checked = box.checked;
    });
  });
  // A refused or failed action shows its answer instead of failing silently.
  document.body.addEventListener("htmx:responseError", function (event) {
    var target = document.getElementById("action-result");
    if (target) target.textContent = event.detail.xhr.responseText || "The action failed.";
  });
})();
