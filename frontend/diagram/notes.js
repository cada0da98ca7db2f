// Helpers shared by the diagrams drawn with bpmn-js's viewer (frontend/viewer.js on a request
// page, frontend/heatmap.js on the process heatmap): reading the page's JSON data island,
// text-only DOM nodes, filling translated templates, and where a note next to a shape fits.

export const NOTE_GAP = 6; // diagram units between a shape and its note
const NOTE_ROOM = 44; // room a note needs above or below a shape, in diagram units

// The JSON the server put in <script type="application/json" id="...">; {} when unreadable.
export function readJson(id) {
  const node = document.getElementById(id);
  try {
    return node ? JSON.parse(node.textContent) : {};
  } catch (error) {
    return {};
  }
}

export function text(tag, className, content) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = content;
  return node;
}

// Labels carry %(name)s placeholders, as the server's translations do.
export function fill(template, values) {
  return Object.keys(values).reduce(
    (result, key) => result.split(`%(${key})s`).join(values[key]),
    template || "",
  );
}

function overlaps(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

// Notes go above a step when nothing else is drawn there, otherwise below, otherwise above anyway.
export function placement(registry, shape) {
  const others = registry.filter(
    (el) => el !== shape && !el.waypoints && el.type !== "bpmn:Lane" &&
      el.type !== "bpmn:Participant" && el.type !== "bpmn:Process" && el.host !== shape &&
      !(el.labelTarget && el.labelTarget.host === shape),
  );
  const free = (area) => !others.some((el) => overlaps(area, el));
  const above = { x: shape.x, y: shape.y - NOTE_ROOM, width: shape.width, height: NOTE_ROOM };
  const below = { x: shape.x, y: shape.y + shape.height, width: shape.width, height: NOTE_ROOM };
  if (free(above) || !free(below)) {
    return { where: "above", position: { top: -NOTE_GAP, left: 0 } };
  }
  return { where: "below", position: { bottom: -NOTE_GAP, left: 0 } };
}
