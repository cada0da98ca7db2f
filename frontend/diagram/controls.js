// Zoom, pan and full screen for a diagram drawn by bpmn-js's NavigatedViewer.
//
// - Buttons (in a bar above the drawing): zoom in, zoom out, fit the whole diagram, and full
//   screen / close. Their words come translated from the page (labels.zoomIn...).
// - Mouse: drag to pan, Ctrl + wheel (a touchpad's pinch) to zoom (NavigatedViewer itself).
// - Touch: one finger pans, two fingers pinch to zoom (here: diagram-js has no touch support).
// - Full screen: the diagram's card covers the window (class diagram-fullscreen, app's
//   viewer.css), the page under it does not scroll; Close or Escape brings it back.
const STEP = 1.25;
const MIN_ZOOM = 0.2;
const MAX_ZOOM = 4;

function button(className, label, symbol) {
  const node = document.createElement("button");
  node.type = "button";
  node.className = `diagram-button ${className}`;
  node.setAttribute("aria-label", label);
  node.title = label;
  const icon = document.createElement("span");
  icon.setAttribute("aria-hidden", "true");
  icon.textContent = symbol;
  node.appendChild(icon);
  return node;
}

function clamp(value) {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, value));
}

function touchGestures(canvas, container) {
  const points = new Map();
  let last = null; // {x, y, distance} of the previous move

  const state = () => {
    const [a, b] = Array.from(points.values());
    if (!b) {
      return { x: a.x, y: a.y, distance: 0 };
    }
    return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, distance: Math.hypot(a.x - b.x, a.y - b.y) };
  };
  const end = (event) => {
    points.delete(event.pointerId);
    last = points.size ? state() : null;
  };
  container.addEventListener("pointerdown", (event) => {
    if (event.pointerType !== "touch") {
      return;
    }
    points.set(event.pointerId, { x: event.clientX, y: event.clientY });
    last = state();
  });
  container.addEventListener("pointermove", (event) => {
    if (event.pointerType !== "touch" || !points.has(event.pointerId)) {
      return;
    }
    points.set(event.pointerId, { x: event.clientX, y: event.clientY });
    const now = state();
    if (last) {
      canvas.scroll({ dx: now.x - last.x, dy: now.y - last.y });
      if (now.distance && last.distance) {
        const frame = container.getBoundingClientRect();
        const zoom = clamp(canvas.zoom() * (now.distance / last.distance));
        canvas.zoom(zoom, { x: now.x - frame.left, y: now.y - frame.top });
      }
    }
    last = now;
    event.preventDefault();
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach((name) => container.addEventListener(name, end));
}

export function controls(viewer, container, labels, fitMargin) {
  const canvas = viewer.get("canvas");
  const card = container.closest(".diagram-card") || container.parentElement;
  const fit = () => {
    canvas.zoom("fit-viewport", "auto");
    canvas.zoom(canvas.zoom() * fitMargin);
  };
  const zoomBy = (factor) => {
    const box = container.getBoundingClientRect();
    canvas.zoom(clamp(canvas.zoom() * factor), { x: box.width / 2, y: box.height / 2 });
  };

  const bar = document.createElement("div");
  bar.className = "diagram-tools";
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", labels.tools || "");
  const zoomIn = button("diagram-zoom-in", labels.zoomIn || "+", "+");
  const zoomOut = button("diagram-zoom-out", labels.zoomOut || "-", "−");
  const whole = button("diagram-fit", labels.fit || "Fit", "⤢");
  const open = button("diagram-open", labels.fullScreen || "Full screen", "");
  open.textContent = labels.fullScreen || "Full screen";
  const close = button("diagram-close", labels.close || "Close", "✕");
  close.appendChild(document.createTextNode(` ${labels.close || ""}`));
  close.hidden = true;
  bar.append(zoomIn, zoomOut, whole, open, close);
  container.parentElement.insertBefore(bar, container);

  const setFull = (on) => {
    card.classList.toggle("diagram-fullscreen", on);
    document.documentElement.classList.toggle("diagram-fullscreen-open", on);
    open.hidden = on;
    close.hidden = !on;
    canvas.resized();
    fit();
    (on ? close : open).focus();
  };
  zoomIn.addEventListener("click", () => zoomBy(STEP));
  zoomOut.addEventListener("click", () => zoomBy(1 / STEP));
  whole.addEventListener("click", fit);
  open.addEventListener("click", () => setFull(true));
  close.addEventListener("click", () => setFull(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && card.classList.contains("diagram-fullscreen")) {
      setFull(false);
    }
  });
  touchGestures(canvas, container);
}
