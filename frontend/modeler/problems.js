// Validation problems: listed in a box beside the canvas (a click selects the element)
// and drawn on the diagram (a marker that turns the element red, and an overlay with the
// message). The list belongs to one validation: after any change to the diagram it is marked
// as outdated, and the problems of elements that were removed are dropped.
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

import { h } from "./dom.js";
import { t } from "./i18n.js";

const MARKER = "mesa-invalid";
const OVERLAY = "mesa-problem";

export function createProblems({ modeler, box, list, title, note }) {
  const canvas = modeler.get("canvas");
  const overlays = modeler.get("overlays");
  const registry = modeler.get("elementRegistry");
  const selection = modeler.get("selection");
  // One entry per problem: {problem, shapeId (null when not on a shape), item (its <li>)}.
  let entries = [];
  let outdated = false;

  /** The shape to show a problem on; a process is shown on the pool (participant) of it. */
  function shapeFor(elementId) {
    if (!elementId) {
      return null;
    }
    const direct = registry.get(elementId);
    if (direct && direct.type !== "label") {
      return direct;
    }
    return registry.find((element) => is(element, "bpmn:Participant")
      && getBusinessObject(element).processRef?.id === elementId) || null;
  }

  /** Removes markers and bubbles; an element no longer in the diagram has none to remove. */
  function unmark() {
    for (const id of new Set(entries.map((entry) => entry.shapeId).filter(Boolean))) {
      const shape = registry.get(id);
      if (shape) {
        canvas.removeMarker(shape, MARKER);
      }
    }
    overlays.remove({ type: OVERLAY });
  }

  function clear() {
    unmark();
    entries = [];
    outdated = false;
    list.replaceChildren();
    render();
  }

  function focus(entry) {
    const shape = entry.shapeId ? registry.get(entry.shapeId) : null;
    if (!shape) {
      prune();
      return;
    }
    selection.select(shape);
    canvas.scrollToElement(shape, { top: 160, bottom: 120, left: 160, right: 160 });
    canvas.focus();
  }

  function describe(shape, elementId) {
    if (!elementId) {
      return t("problems.diagram");
    }
    const name = shape ? getBusinessObject(shape).name : null;
    return name ? `${name} (${elementId})` : elementId;
  }

  function mark() {
    const messages = new Map();
    for (const { problem, shapeId } of entries) {
      const shape = shapeId ? registry.get(shapeId) : null;
      if (shape) {
        if (!messages.has(shape.id)) {
          messages.set(shape.id, { shape, texts: [] });
        }
        messages.get(shape.id).texts.push(problem.message);
      }
    }
    for (const { shape, texts } of messages.values()) {
      canvas.addMarker(shape, MARKER);
      const bubble = h("div", { class: "mesa-problem-bubble", title: texts.join("\n") },
        texts.length > 1 ? t("problems.several", { n: texts.length, first: texts[0] }) : texts[0]);
      const position = shape.waypoints ? { top: -24, left: 0 } : { top: -6, left: 0 };
      overlays.add(shape, OVERLAY, { position, html: bubble });
    }
  }

  function render() {
    title.textContent = t("problems.title", { n: entries.length });
    note.hidden = !outdated;
    box.classList.toggle("is-outdated", outdated);
    canvas.getContainer().classList.toggle("mesa-problems-outdated", outdated);
    box.hidden = entries.length === 0;
  }

  function show(problems) {
    clear();
    for (const problem of problems) {
      const shape = shapeFor(problem.element_id);
      const entry = { problem, shapeId: shape ? shape.id : null, item: null };
      const where = describe(shape, problem.element_id);
      const label = shape
        ? h("button", { type: "button", class: "link", onclick: () => focus(entry) }, where)
        : h("strong", {}, where);
      entry.item = h("li", { dataset: { elementId: problem.element_id || "" } },
        label, ": ", problem.message);
      entries.push(entry);
      list.append(entry.item);
    }
    mark();
    box.open = true;
    render();
  }

  /** Drops the problems of elements no longer in the diagram (deleted, or an import undone). */
  function prune() {
    const gone = entries.filter((entry) => entry.shapeId && !registry.get(entry.shapeId));
    for (const entry of gone) {
      entry.item.remove();
    }
    entries = entries.filter((entry) => !gone.includes(entry));
    render();
    return gone.length;
  }

  /** The diagram changed since the problems were listed: they may be fixed, or new ones made. */
  function outdate() {
    if (entries.length === 0) {
      return;
    }
    outdated = true;
    prune();
  }

  return { show, clear, outdate, prune, get count() { return entries.length; } };
}
