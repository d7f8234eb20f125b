// Console behaviour shared by every screen. A file, not inline: the CSP allows scripts from 'self'
// only. htmx.onLoad runs for the page and again for every fragment HTMX swaps in.
(function () {
  "use strict";
  htmx.onLoad(function (root) {
    // Multi-selects become searchable (Tom Select); the <select> stays the form's field.
    root.querySelectorAll("select[multiple]:not(.tomselected):not([data-plain])").forEach(function (select) {
      // Tom Select points the field's <label> at its own input; the <select> keeps the label's text.
      var label = select.labels && select.labels[0];
      if (label && !select.hasAttribute("aria-label")) {
        select.setAttribute("aria-label", label.textContent.replace(/:\s*$/, "").trim());
      }
      new TomSelect(select, { plugins: ["remove_button"], maxOptions: null, hidePlaceholder: true });
    });
  });
  // Destructive actions ask first; the question names what goes (data-confirm on the button or form).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
})();
