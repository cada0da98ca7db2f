// Form controls of the properties panel. Each control has a stable `data-key`, so the panel can
// give focus back to it after it redraws; changes are reported on "change" (not per keystroke),
// so each edit is one step of the undo history.
import { h, select } from "../dom.js";

function identify(control, key) {
  control.id = `mp-${key}`;
  control.dataset.key = key;
  return control;
}

/** A labelled row: label, control, help text and an error message (both optional). */
export function row({ key, label, control, help = null, error = null, extra = null }) {
  identify(control, key);
  return h("div", { class: error ? "field has-error" : "field" },
    h("label", { for: control.id }, label),
    control,
    extra,
    error ? h("p", { class: "field-error", role: "alert" }, error) : null,
    help ? h("p", { class: "help" }, help) : null);
}

/**
 * Reports a text control's value once per edit. A control marks itself "editing" from the first
 * keystroke until the edit is committed; a redraw in between carries the edit over to the new
 * control (see `takeEdit`), which then commits it when it loses focus, since the browser fires
 * no "change" for a value the page itself set.
 */
function committing(control, onCommit) {
  const shown = control.value;
  control.addEventListener("input", () => { control.dataset.editing = "1"; });
  control.addEventListener("change", () => {
    if (control.dataset.replaced) {
      return; // Chromium reports a change as the control is removed: its copy carries it on
    }
    delete control.dataset.editing;
    onCommit(control.value);
  });
  control.addEventListener("blur", () => {
    if (control.dataset.editing && !control.dataset.replaced) {
      delete control.dataset.editing;
      if (control.value !== shown) {
        onCommit(control.value);
      }
    }
  });
  return control;
}

export function textInput({ value, onCommit, type = "text", ...attrs }) {
  return committing(h("input", { type, value: value ?? "", autocomplete: "off", ...attrs }),
    onCommit);
}

export function textArea({ value, onCommit, rows = 3, ...attrs }) {
  const area = h("textarea", { rows, spellcheck: "false", ...attrs });
  area.value = value ?? "";
  return committing(area, onCommit);
}

/**
 * What a person is doing in the focused control `control`, taken before the panel redraws:
 * a value typed and not yet committed, and the caret or selection. The control is marked as
 * replaced: the change and blur the browser reports as it is removed commit nothing.
 */
export function takeEdit(control) {
  if (!control || !("selectionStart" in control)) {
    return null;
  }
  const edit = {
    tagName: control.tagName,
    editing: Boolean(control.dataset.editing),
    value: control.value,
    selection: control.selectionStart === null ? null
      : [control.selectionStart, control.selectionEnd, control.selectionDirection || "none"],
  };
  control.dataset.replaced = "1";
  return edit;
}

/** Gives the redrawn copy of a control what `takeEdit` took from the one it replaces. */
export function giveEdit(control, edit) {
  if (!edit || edit.tagName !== control.tagName) {
    return;
  }
  if (edit.editing) {
    control.value = edit.value;
    control.dataset.editing = "1";
  }
  if (edit.selection && control.value === edit.value) {
    try {
      control.setSelectionRange(...edit.selection);
    } catch {
      // Controls such as type=number have no selection to give back.
    }
  }
}

export function selectInput({ options, value, onCommit, ...attrs }) {
  const control = select(attrs, options, value);
  control.addEventListener("change", () => onCommit(control.value));
  return control;
}

/** A checkbox with its label after it (a row of its own, or inside a list). */
export function checkbox({ key, label, checked, onCommit, disabled = false }) {
  const input = identify(h("input", { type: "checkbox", checked, disabled }), key);
  input.addEventListener("change", () => onCommit(input.checked));
  return h("label", { class: "choice", for: input.id }, input, " ", label);
}

/** A small button with a text for assistive technology and as a tooltip. */
export function iconButton({ key, icon, label, onClick, disabled = false, danger = false }) {
  const button = h("button", {
    type: "button", class: danger ? "mp-icon danger" : "mp-icon", title: label,
    "aria-label": label, disabled,
  }, icon);
  button.dataset.key = key;
  button.addEventListener("click", onClick);
  return button;
}

export function smallButton({ key, label, onClick }) {
  const button = h("button", { type: "button", class: "button small secondary" }, label);
  button.dataset.key = key;
  button.addEventListener("click", onClick);
  return button;
}

/** A section of the panel; `title` null for one whose first label says what it is. */
export function section(title, ...children) {
  return h("section", { class: "mp-section" }, title ? h("h3", {}, title) : null, children);
}

export function note(text, kind = "") {
  return h("p", { class: kind ? `mp-note ${kind}` : "mp-note" }, text);
}

export function datalist(id, values) {
  return h("datalist", { id }, values.map((value) => h("option", { value })));
}
