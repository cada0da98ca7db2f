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

export function textInput({ value, onCommit, type = "text", ...attrs }) {
  const input = h("input", { type, value: value ?? "", autocomplete: "off", ...attrs });
  input.addEventListener("change", () => onCommit(input.value));
  return input;
}

export function textArea({ value, onCommit, rows = 3, ...attrs }) {
  const area = h("textarea", { rows, spellcheck: "false", ...attrs });
  area.value = value ?? "";
  area.addEventListener("change", () => onCommit(area.value));
  return area;
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
