// The process heatmap (app/indicators/templates/indicators/heatmap.html): one or two versions of
// a process drawn by bpmn-js, each element coloured by the time requests spent there (or their
// number, or how many wait there now), with its figures in a note, and every path taken drawn
// thicker the more it was taken, with its count.
//
// Everything comes from <script type="application/json" id="heatmap-data">: per version the
// diagram and the figures the table beside it shows (app/indicators/heatmap.py), and every word,
// translated by the server. Names are tenant data: notes are built with textContent only.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

import { fill, placement, readJson, text } from "./diagram/notes";

// Light to dark: readable in grey and for colour-blind readers; text turns white on the two
// darkest (contrast at least 4.5:1 either way).
const SCALE = ["#fff1a8", "#fdc463", "#f47c3c", "#c2261a", "#7f0010"];
const FLOW_STEPS = 4; // thickness classes of a path taken
const FIT_MARGIN = 0.95;
const ACTIVITY = /(Task|^task|^subProcess|^callActivity|^transaction)$/;
const ZOOM_STEP = 1.25;
const METRICS = {
  median: { field: "median_minutes", time: true },
  p90: { field: "p90_minutes", time: true },
  passes: { field: "passes", time: false },
  waiting: { field: "waiting", time: false },
};

const config = readJson("heatmap-data");
const labels = config.labels || {};
const views = config.views || [];
const number = new Intl.NumberFormat(document.documentElement.lang || undefined, {
  maximumFractionDigits: 1,
});

function minutesText(minutes) {
  if (minutes < 60) {
    return fill(labels.minutes, { m: number.format(Math.round(minutes)) });
  }
  const hours = minutes / 60;
  return fill(labels.hours, { h: number.format(hours < 10 ? hours : Math.round(hours)) });
}

function valueText(metric, value) {
  return METRICS[metric].time ? minutesText(value) : number.format(value);
}

function valueOf(element, metric) {
  const value = element[METRICS[metric].field];
  return value === null || value === undefined ? null : value;
}

// The largest value of a metric over every version shown: one scale for all, so that two
// versions side by side compare by colour.
function maxOf(metric) {
  let max = 0;
  views.forEach((view) => (view.figures.elements || []).forEach((element) => {
    const value = valueOf(element, metric);
    if (value !== null && value > max) {
      max = value;
    }
  }));
  return max;
}

// 0: not coloured (no figure; no pass or nobody waiting), else 1..5 by fifths of the maximum.
function binOf(element, metric, max) {
  const value = valueOf(element, metric);
  if (value === null || (!METRICS[metric].time && value <= 0)) {
    return 0;
  }
  if (max <= 0) {
    return 1;
  }
  return Math.min(SCALE.length, Math.max(1, Math.ceil((SCALE.length * value) / max)));
}

function legend(metric, max) {
  const box = document.getElementById("heatmap-legend");
  if (!box) {
    return;
  }
  box.replaceChildren(text("span", "hm-legend-title", labels.scaleTitle || ""));
  const step = max / SCALE.length;
  (max > 0 ? SCALE : SCALE.slice(0, 1)).forEach((colour, index) => {
    const item = document.createElement("span");
    item.className = "hm-legend-item";
    const swatch = text("span", `hm-swatch heat-swatch-${index + 1}`, "");
    item.appendChild(swatch);
    let range;
    if (max > 0 && !METRICS[metric].time) {
      // counts are whole: the values binOf puts in this step, none when it holds no integer
      const first = Math.floor(step * index) + 1;
      const last = Math.floor(step * (index + 1));
      if (last < first) {
        return;
      }
      range = first === last ? `${first}` : `${first}–${last}`;
    } else {
      const low = valueText(metric, step * index);
      const high = valueText(metric, step * (index + 1));
      range = max > 0 ? `${low}–${high}` : low;
    }
    item.appendChild(text("span", "hm-legend-range", range));
    box.appendChild(item);
  });
  const none = document.createElement("span");
  none.className = "hm-legend-item";
  none.appendChild(text("span", "hm-swatch heat-swatch-0", ""));
  none.appendChild(text("span", "hm-legend-range", labels.none || ""));
  box.appendChild(none);
}

function noteLines(element) {
  const lines = [];
  if (element.passes) {
    lines.push({
      kind: "passes",
      text: element.passes === 1 ? labels.onePass : fill(labels.passes, { count: number.format(element.passes) }),
    });
  }
  if (element.median_minutes !== null && element.p90_minutes) {
    lines.push({
      kind: "times",
      text: fill(labels.times, {
        median: minutesText(element.median_minutes),
        p90: minutesText(element.p90_minutes),
      }),
    });
  }
  if (element.waiting) {
    lines.push({ kind: "waiting", text: fill(labels.waiting, { count: number.format(element.waiting) }) });
  }
  if (element.cut_short) {
    lines.push({ kind: "cut", text: fill(labels.cutShort, { count: number.format(element.cut_short) }) });
  }
  return lines;
}

function note(lines, where) {
  const box = document.createElement("div");
  box.className = `heat-note trail-note-${where}`;
  lines.forEach((line) => box.appendChild(text("div", `heat-line heat-line-${line.kind}`, line.text)));
  box.title = lines.map((line) => line.text).join("\n");
  return box;
}

// A path's count goes at the middle of its drawn line (overlay positions are relative to the
// connection's bounding box).
function midpoint(connection) {
  const points = connection.waypoints || [];
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const middle = points[Math.floor((points.length - 1) / 2)] || { x: 0, y: 0 };
  const next = points[Math.floor((points.length - 1) / 2) + 1] || middle;
  return {
    left: (middle.x + next.x) / 2 - Math.min(...xs),
    top: (middle.y + next.y) / 2 - Math.min(...ys),
  };
}

class Drawing {
  constructor(container, view) {
    this.container = container;
    this.view = view;
    this.viewer = new NavigatedViewer({ container });
    this.marked = new Map(); // element id -> its colour marker
  }

  async draw() {
    await this.viewer.importXML(this.view.xml);
    const canvas = this.viewer.get("canvas");
    canvas.zoom("fit-viewport", "auto");
    canvas.zoom(canvas.zoom() * FIT_MARGIN);
    this.registry = this.viewer.get("elementRegistry");
    this.notes();
    this.flows();
  }

  // Notes on activities, and on any element where time passes or someone waits; a decision
  // or an instant event only takes its colour (its count is on the paths and in the table).
  notes() {
    const overlays = this.viewer.get("overlays");
    (this.view.figures.elements || []).forEach((element) => {
      const shape = this.registry.get(element.id);
      const worth = ACTIVITY.test(element.kind || "") || element.waiting > 0 ||
        element.p90_minutes > 0 || element.cut_short > 0;
      const lines = worth ? noteLines(element) : [];
      if (!shape || shape.waypoints || !lines.length) {
        return;
      }
      const { where, position } = placement(this.registry, shape);
      overlays.add(element.id, "heat", { position, scale: { min: 0.85 }, html: note(lines, where) });
    });
  }

  flows() {
    const canvas = this.viewer.get("canvas");
    const overlays = this.viewer.get("overlays");
    const taken = (this.view.figures.flows || []).filter((flow) => flow.taken > 0);
    const most = Math.max(1, ...taken.map((flow) => flow.taken));
    taken.forEach((flow) => {
      const connection = this.registry.get(flow.id);
      if (!connection || !connection.waypoints) {
        return;
      }
      const width = Math.max(1, Math.ceil((FLOW_STEPS * flow.taken) / most));
      canvas.addMarker(flow.id, "heat-flow");
      canvas.addMarker(flow.id, `heat-flow-${width}`);
      overlays.add(flow.id, "heat", {
        position: midpoint(connection),
        html: text("div", "heat-flow-count", fill(labels.flow, { count: number.format(flow.taken) })),
      });
    });
  }

  colour(metric, max) {
    const canvas = this.viewer.get("canvas");
    this.marked.forEach((marker, id) => canvas.removeMarker(id, marker));
    this.marked.clear();
    (this.view.figures.elements || []).forEach((element) => {
      const shape = this.registry.get(element.id);
      const bin = binOf(element, metric, max);
      if (!shape || shape.waypoints || !bin) {
        return;
      }
      canvas.addMarker(element.id, `heat-${bin}`);
      this.marked.set(element.id, `heat-${bin}`);
    });
  }

  zoom(factor) {
    const canvas = this.viewer.get("canvas");
    if (factor === null) {
      canvas.zoom("fit-viewport", "auto");
      canvas.zoom(canvas.zoom() * FIT_MARGIN);
    } else {
      canvas.zoom(canvas.zoom() * factor);
    }
  }
}

function zoomButtons(container, drawing) {
  const bar = document.createElement("div");
  bar.className = "hm-zoom";
  [["+", ZOOM_STEP, labels.zoomIn], ["−", 1 / ZOOM_STEP, labels.zoomOut], ["⤢", null, labels.fit]]
    .forEach(([sign, factor, title]) => {
      const button = text("button", "button small secondary", sign);
      button.type = "button";
      button.title = title || "";
      button.setAttribute("aria-label", title || sign);
      button.addEventListener("click", () => drawing.zoom(factor));
      bar.appendChild(button);
    });
  container.parentNode.insertBefore(bar, container);
}

function fail(container) {
  container.replaceChildren(text("p", "muted diagram-message", labels.loadError || ""));
  container.classList.add("diagram-failed");
}

async function main() {
  const select = document.getElementById("heatmap-metric");
  const drawings = [];
  await Promise.all(views.map(async (view, index) => {
    const container = document.getElementById(`heatmap-diagram-${index}`);
    if (!container) {
      return;
    }
    container.replaceChildren();
    container.classList.add("diagram-ready");
    const drawing = new Drawing(container, view);
    try {
      await drawing.draw();
    } catch (error) {
      drawing.viewer.destroy();
      fail(container);
      return;
    }
    zoomButtons(container, drawing);
    drawings.push(drawing);
  }));
  const apply = () => {
    const metric = select && METRICS[select.value] ? select.value : "median";
    const max = maxOf(metric);
    drawings.forEach((drawing) => drawing.colour(metric, max));
    legend(metric, max);
  };
  apply();
  if (select) {
    select.addEventListener("change", apply);
  }
  drawings.forEach((drawing) => {
    drawing.container.dataset.state = "ready"; // for tests and styles: colours and notes are in place
  });
}

main();
