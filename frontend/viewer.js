// The live diagram on a request page (app/templates/requests/detail.html): the request's own
// process version drawn by bpmn-js, with the path taken, the current step(s), where it stopped,
// and who completed each user task and when.
//
// The data comes from GET /requests/<id>/diagram.json (the URL is in data-url on the container);
// every word shown is translated on the server and given in <script type="application/json"
// id="viewer-config">. Names of steps and people are tenant data: bpmn-js draws the step names
// as SVG text, and the overlays below are built with textContent only.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

import { fill, placement, readJson, text } from "./diagram/notes";
import { controls } from "./diagram/controls";
import { wholeWordsModule } from "./diagram/wholewords";

const MARKERS = {
  completed: "trail-done",
  flows: "trail-flow",
  current: "trail-current",
  stopped: "trail-stopped",
};
const FIT_MARGIN = 0.95; // share of the viewport the fitted diagram fills
const MAX_LINES = 4; // completions listed on a step; older ones are counted, not listed
// Below this zoom the notes would hide the steps they describe (a phone shows the whole diagram
// at about a fifth of its size, a wide screen at about two thirds): they show again once the reader zooms in.
const NOTES_MIN_ZOOM = 0.4;

// A note is a list of lines, each {text, kind}; kind is a class suffix (who, when, waiting...).
function note(className, lines, where) {
  const box = document.createElement("div");
  box.className = `trail-note ${className} trail-note-${where}`;
  lines.forEach((line) => box.appendChild(text("div", `trail-line trail-line-${line.kind}`, line.text)));
  box.title = lines.map((line) => line.text).join("\n");
  return box;
}

// Completions of one step, oldest first: the person once, then the time of each of their turns.
function doneLines(entries, labels) {
  const shown = entries.length > MAX_LINES ? entries.slice(-(MAX_LINES - 1)) : entries;
  const lines = [];
  if (shown.length < entries.length) {
    const count = String(entries.length - shown.length);
    lines.push({ kind: "earlier", text: fill(labels.earlier, { count }) });
  }
  let previous;
  shown.forEach((entry) => {
    if (entry.by && entry.by !== previous) {
      lines.push({ kind: "who", text: entry.by });
    }
    previous = entry.by;
    lines.push({ kind: "when", text: entry.when || "" });
  });
  return lines;
}

function waitingLine(step, labels) {
  const people = (step.waiting_on || []).join(", ");
  const taken = step.taken_by ? ` (${fill(labels.takenBy, { name: step.taken_by })})` : "";
  return { kind: "waiting", text: `${labels.waitingFor || ""} ${people}${taken}`.trim() };
}

function decorate(viewer, data, labels) {
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const overlays = viewer.get("overlays");
  const known = (id) => registry.get(id); // an element of another version is simply skipped
  const mark = (ids, marker) => (ids || []).filter(known).forEach((id) => canvas.addMarker(id, marker));
  const add = (id, className, lines) => {
    const shape = known(id);
    if (!shape || !lines.length) {
      return;
    }
    const { where, position } = placement(registry, shape);
    overlays.add(id, "trail", {
      position,
      scale: { min: 0.85 },
      show: { minZoom: NOTES_MIN_ZOOM },
      html: note(className, lines, where),
    });
  };

  mark(data.flows, MARKERS.flows);
  mark(data.completed, MARKERS.completed);
  mark(data.stopped, MARKERS.stopped);
  mark((data.current || []).map((step) => step.id), MARKERS.current);

  // One note per step: its completions, then what it waits on now or that it stopped there.
  const notes = new Map();
  const noteOf = (id) => {
    if (!notes.has(id)) {
      notes.set(id, { kind: "done", lines: doneLines((data.steps || {})[id] || [], labels) });
    }
    return notes.get(id);
  };
  Object.keys(data.steps || {}).forEach(noteOf);
  (data.stopped || []).forEach((id) => {
    const entry = noteOf(id);
    entry.kind = "stopped";
    entry.lines.push({ kind: "stopped", text: labels.stopped || "" });
  });
  (data.current || []).forEach((step) => {
    const entry = noteOf(step.id);
    entry.kind = "current";
    entry.lines.push(waitingLine(step, labels));
  });
  notes.forEach((entry, id) => add(id, `trail-note-${entry.kind}`, entry.lines));
}

// The notes keep their size while the diagram is fitted, so some may stick out of the frame:
// move the drawing up or down into the free room, and make the frame taller if that is not enough.
function keepNotesInside(viewer, container) {
  const canvas = viewer.get("canvas");
  const parts = [container.querySelector("svg .viewport"), ...container.querySelectorAll(".trail-note")]
    .filter(Boolean)
    .map((node) => node.getBoundingClientRect())
    .filter((rect) => rect.width > 0 && rect.height > 0); // notes hidden at this zoom take no room
  if (!parts.length) {
    return;
  }
  const frame = container.getBoundingClientRect();
  const margin = 6;
  const top = Math.min(...parts.map((r) => r.top)) - frame.top - margin;
  const bottom = frame.bottom - Math.max(...parts.map((r) => r.bottom)) - margin;
  if (top >= 0 && bottom >= 0) {
    return;
  }
  if (top + bottom >= 0) {
    canvas.scroll({ dx: 0, dy: top < 0 ? -top : bottom });
    return;
  }
  canvas.scroll({ dx: 0, dy: -top });
  container.style.height = `${frame.height - (top + bottom)}px`;
  canvas.resized();
}

function fail(container, labels) {
  container.replaceChildren(text("p", "muted diagram-message", labels.loadError || ""));
  container.classList.add("diagram-failed");
}

async function show(container) {
  const config = readJson("viewer-config");
  const labels = config.labels || {};
  let data;
  try {
    const response = await fetch(container.dataset.url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    data = await response.json();
  } catch (error) {
    fail(container, labels);
    return;
  }

  container.replaceChildren();
  container.classList.add("diagram-ready");
  const viewer = new NavigatedViewer({ container, additionalModules: [wholeWordsModule] });
  try {
    await viewer.importXML(data.xml);
  } catch (error) {
    viewer.destroy();
    fail(container, labels);
    return;
  }
  const canvas = viewer.get("canvas");
  canvas.zoom("fit-viewport", "auto");
  canvas.zoom(canvas.zoom() * FIT_MARGIN); // room at the edges for the notes
  decorate(viewer, data, labels);
  keepNotesInside(viewer, container);
  controls(viewer, container, labels, FIT_MARGIN);
  container.dataset.state = "ready"; // for tests and styles: markers and notes are in place
}

const container = document.getElementById("diagram-viewer");
if (container && container.dataset.url) {
  show(container);
}
