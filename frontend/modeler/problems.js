// Validation problems: listed under the toolbar (a click selects the element) and drawn on the
// diagram (a marker that turns the element red, and an overlay with the message).
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

import { h } from "./dom.js";
import { t } from "./i18n.js";

const MARKER = "mesa-invalid";
const OVERLAY = "mesa-problem";

export function createProblems({ modeler, box, list, title }) {
  const canvas = modeler.get("canvas");
  const overlays = modeler.get("overlays");
  const registry = modeler.get("elementRegistry");
  const selection = modeler.get("selection");
  let marked = [];

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

  function clear() {
    for (const id of marked) {
      canvas.removeMarker(id, MARKER);
    }
    marked = [];
    overlays.remove({ type: OVERLAY });
    list.replaceChildren();
    box.hidden = true;
  }

  function focus(shape) {
    selection.select(shape);
    canvas.scrollToElement(shape, { top: 120, bottom: 120, left: 160, right: 160 });
  }

  function describe(shape, elementId) {
    if (!elementId) {
      return t("problems.diagram");
    }
    const name = shape ? getBusinessObject(shape).name : null;
    return name ? `${name} (${elementId})` : elementId;
  }

  function show(problems) {
    clear();
    if (!problems.length) {
      return;
    }
    const messages = new Map();
    for (const problem of problems) {
      const shape = shapeFor(problem.element_id);
      const where = describe(shape, problem.element_id);
      const item = shape
        ? h("button", { type: "button", class: "link", onclick: () => focus(shape) }, where)
        : h("strong", {}, where);
      list.append(h("li", { dataset: { elementId: problem.element_id || "" } },
        item, ": ", problem.message));
      if (shape) {
        if (!messages.has(shape.id)) {
          messages.set(shape.id, { shape, texts: [] });
        }
        messages.get(shape.id).texts.push(problem.message);
      }
    }
    for (const { shape, texts } of messages.values()) {
      canvas.addMarker(shape.id, MARKER);
      marked.push(shape.id);
      const bubble = h("div", { class: "mesa-problem-bubble", title: texts.join("\n") },
        texts.length > 1 ? t("problems.several", { n: texts.length, first: texts[0] }) : texts[0]);
      const position = shape.waypoints ? { top: -24, left: 0 } : { top: -6, left: 0 };
      overlays.add(shape.id, OVERLAY, { position, html: bubble });
    }
    title.textContent = t("problems.title", { n: problems.length });
    box.hidden = false;
  }

  return { show, clear };
}
