// A small element builder: text always goes in as text nodes, never as HTML.

/**
 * h("button", { class: "button", type: "button", onclick: fn }, "Save")
 * Attributes whose value is false, null or undefined are left out; `true` sets an empty one.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name === "value" || name === "checked" || name === "selected") {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(element, child);
    } else {
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
}

/** A <select> with `options` [{value, label}], the current `value` selected. */
export function select(attrs, options, value) {
  return h("select", attrs, options.map((option) => h("option", {
    value: option.value,
    selected: option.value === value,
  }, option.label)));
}

/** Reads the JSON data block with the given id (a <script type="application/json">). */
export function readJson(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}
