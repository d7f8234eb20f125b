// Hub's extension editor: CodeMirror 6 with JavaScript highlighting, line numbers, and a
// way to mark the line of a compile error. Bundled by build.sh into static/extensions/codemirror.js
// (an IIFE exposing window.HubEditor), so the page needs no CDN and no inline script.
import { EditorView, basicSetup } from "codemirror";
import { javascript } from "@codemirror/lang-javascript";
import { keymap, Decoration } from "@codemirror/view";
import { StateField, StateEffect } from "@codemirror/state";

const markLine = StateEffect.define();
const errorLine = StateField.define({
  create() { return Decoration.none; },
  update(marks, tr) {
    for (const e of tr.effects) if (e.is(markLine)) {
      if (!e.value) return Decoration.none;
      const line = tr.state.doc.line(Math.min(e.value, tr.state.doc.lines));
      return Decoration.set([Decoration.line({ class: "cm-hub-error-line" }).range(line.from)]);
    }
    return tr.docChanged ? Decoration.none : marks;
  },
  provide: (f) => EditorView.decorations.from(f),
});

// ``label`` names the editable box for assistive technology (its aria-label): the textarea's own
// <label> does not reach CodeMirror's contenteditable element, and setting the attribute after
// attach fights CodeMirror's own management of the element's attributes.
export function attach(textarea, { nonce, onSave, line, label } = {}) {
  const view = new EditorView({
    doc: textarea.value,
    extensions: [
      basicSetup,
      javascript(),
      errorLine,
      label ? EditorView.contentAttributes.of({ "aria-label": label }) : [],
      nonce ? EditorView.cspNonce.of(nonce) : [],
      keymap.of([{ key: "Mod-s", preventDefault: true, run: () => { onSave && onSave(); return true; } }]),
      EditorView.updateListener.of((u) => { if (u.docChanged) textarea.value = u.state.doc.toString(); }),
    ],
  });
  textarea.style.display = "none";
  textarea.parentNode.insertBefore(view.dom, textarea.nextSibling);
  if (line) {
    view.dispatch({ effects: markLine.of(line), selection: { anchor: view.state.doc.line(Math.min(line, view.state.doc.lines)).from }, scrollIntoView: true });
  }
  return view;
}
