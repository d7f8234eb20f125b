// The extension editor page: CodeMirror on the script field (Ctrl/Cmd+S saves), the schema panel
// and the test bench are HTMX; this file only wires the editor. No inline script (CSP).
(function () {
  function init() {
    var textarea = document.querySelector("textarea[data-editor=javascript]");
    if (!textarea || !window.HubEditor) return;
    var form = textarea.form;
    var line = parseInt(textarea.getAttribute("data-error-line") || "", 10);
    var nonce = document.body.getAttribute("data-csp-nonce") || textarea.getAttribute("data-nonce") || "";
    // The editable box is CodeMirror's, not the textarea its <label> names: give it that label.
    var label = textarea.id && document.querySelector('label[for="' + textarea.id + '"]');
    window.hubEditorView = window.HubEditor.attach(textarea, {
      nonce: nonce,
      line: isNaN(line) ? null : line,
      label: label ? label.textContent.trim() : "Script",
      onSave: function () { if (form.requestSubmit) form.requestSubmit(); else form.submit(); },
    });
  }
  document.addEventListener("keydown", function (event) {
    // Ctrl/Cmd+S anywhere on an extension or store page saves its main form.
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      var form = document.querySelector("form[data-save-shortcut]");
      if (form) {
        event.preventDefault();
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    }
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
