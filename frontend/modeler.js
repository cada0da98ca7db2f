// The process modeler page (app/templates/processes/modeler.html): bpmn-js Modeler with our
// moddle extensions, a properties panel of our own, and the toolbar's calls to the server.
// Texts and choices come from the page (JSON data blocks), so they follow its language; so do
// bpmn-js's own texts (palette, context pad, menus), through its translate module.
import Modeler from "bpmn-js/lib/Modeler";

import { ApiError, createApi } from "./modeler/api.js";
import { refusedKindsModule, translateModule } from "./modeler/bpmn-ui.js";
import mesaDescriptor from "./modeler/descriptors/mesa.json";
import spiffDescriptor from "./modeler/descriptors/spiffworkflow.json";
import { h, readJson } from "./modeler/dom.js";
import { setStrings, t, tCount } from "./modeler/i18n.js";
import { batchModule, createModel } from "./modeler/model.js";
import { Panel } from "./modeler/panel/index.js";
import { createProblems } from "./modeler/problems.js";

function byId(id) {
  return document.getElementById(id);
}

/** A message of our own, already in the page's language, shown as it is. */
class Notice extends Error {}

// Keys that type into a field: there, Ctrl+Z undoes the typing, not the diagram.
const NOT_TYPING = new Set(["checkbox", "radio", "button", "submit", "reset", "file", "range",
  "color"]);

function isTyping(target) {
  if (!(target instanceof Element)) {
    return false;
  }
  if (target.isContentEditable || target.matches("textarea, select")) {
    return true;
  }
  return target.matches("input") && !NOT_TYPING.has(target.type);
}

function start() {
  const root = byId("modeler");
  const config = readJson("modeler-config");
  if (!root || !config) {
    return;
  }
  setStrings(readJson("modeler-strings"));
  const api = createApi(config.csrfToken);

  const canvasElement = byId("modeler-canvas");
  const modeler = new Modeler({
    container: canvasElement,
    moddleExtensions: { spiffworkflow: spiffDescriptor, mesa: mesaDescriptor },
    additionalModules: [batchModule, translateModule(readJson("modeler-bpmn-texts")),
      refusedKindsModule],
    // Hovering the diagram gives it the keyboard back when nothing else has it (Ctrl+Z).
    canvas: { autoFocus: true },
  });
  const model = createModel(modeler);
  const commandStack = modeler.get("commandStack");
  const canvas = modeler.get("canvas");
  const problems = createProblems({
    modeler, box: byId("modeler-problems"), list: byId("modeler-problem-list"),
    title: byId("modeler-problems-title"), note: byId("modeler-problems-outdated"),
  });
  new Panel({ container: byId("modeler-panel"), modeler, model, config });

  const buttons = Object.fromEntries([...root.querySelectorAll("[data-action]")]
    .map((button) => [button.dataset.action, button]));
  const sourceLine = byId("modeler-source");
  const message = byId("modeler-message");
  const messageText = byId("modeler-message-text");
  const versionsLink = byId("modeler-versions");
  let dirty = false;
  let busy = false;
  let loaded = false;
  // The message shows the result of the last validation (until the next message or change).
  let showsValidation = false;

  function say(text, kind = "info") {
    message.className = `flash modeler-message ${kind}`;
    messageText.replaceChildren(text);
    message.hidden = false;
    showsValidation = false;
  }

  /** An error for the person: ours and the server's as they are, anything else generic. */
  function report(error) {
    if (error instanceof ApiError || error instanceof Notice) {
      say(error.message, "error");
      return;
    }
    console.error(error);
    say(t("errors.unexpected"), "error");
  }

  function setSource(text) {
    sourceLine.replaceChildren(text);
  }

  function refreshButtons() {
    for (const [action, button] of Object.entries(buttons)) {
      if (action === "undo") {
        button.disabled = busy || !commandStack.canUndo();
      } else if (action === "redo") {
        button.disabled = busy || !commandStack.canRedo();
      } else {
        button.disabled = busy || !loaded;
      }
    }
    root.classList.toggle("is-dirty", dirty);
    byId("modeler-dirty").hidden = !dirty;
  }

  function setDirty(value) {
    dirty = value;
    refreshButtons();
  }

  // After a change the last validation no longer speaks for the diagram.
  function validationOutdated() {
    problems.outdate();
    if (showsValidation) {
      say(t("status.changedSinceValidation"), "info");
      message.classList.add("is-stale");
    }
  }

  modeler.on("commandStack.changed", (event) => {
    if (event.trigger !== "clear") {
      setDirty(true);
      validationOutdated();
      // A command from the context pad or the panel may leave the keyboard nowhere.
      canvas.restoreFocus();
    }
    refreshButtons();
  });

  window.addEventListener("beforeunload", (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  async function run(action) {
    if (busy) {
      return;
    }
    busy = true;
    refreshButtons();
    try {
      await action();
    } catch (error) {
      report(error);
      if (error instanceof ApiError && error.problems) {
        problems.show(error.problems);
        showsValidation = true; // a refused save or deploy is a validation too
      }
    } finally {
      busy = false;
      refreshButtons();
    }
  }

  async function currentXml() {
    const { xml } = await modeler.saveXML({ format: true });
    return xml;
  }

  // Fits the diagram into the canvas right of the palette, never enlarged past 100 %.
  function fit() {
    const { inner, outer } = canvas.viewbox();
    if (!inner.width || !inner.height || !outer.width) {
      return;
    }
    const left = 130;
    const pad = 24;
    const scale = Math.min((outer.width - left - pad) / inner.width,
      (outer.height - 2 * pad) / inner.height, 1);
    canvas.viewbox({
      x: inner.x - left / scale,
      y: inner.y - (outer.height / scale - inner.height) / 2,
      width: outer.width / scale,
      height: outer.height / scale,
    });
  }

  async function open(xml) {
    const { warnings } = await modeler.importXML(xml);
    fit();
    problems.clear();
    return warnings || [];
  }

  // Dates come formatted by the server (`saved_when`), as every other page shows them.
  function describeSource(data) {
    if (data.source === "draft") {
      return data.saved_by
        ? t("source.draftBy", { when: data.saved_when, who: data.saved_by })
        : t("source.draft", { when: data.saved_when });
    }
    if (data.source === "version") {
      return t("source.version", { version: data.version, when: data.saved_when });
    }
    return t(data.source === "default" ? "source.default" : "source.new");
  }

  async function load() {
    say(t("status.loading"));
    const data = await api.get(config.urls.diagram);
    const warnings = await open(data.xml);
    loaded = true;
    setDirty(false);
    setSource(describeSource(data));
    message.hidden = true;
    if (warnings.length) {
      say(t("status.openedWithWarnings", { n: warnings.length }), "info");
    }
  }

  const actions = {
    undo: () => commandStack.undo(),
    redo: () => commandStack.redo(),
    fit,

    save: () => run(async () => {
      say(t("status.saving"));
      const data = await api.post(config.urls.draft, { xml: await currentXml() });
      setDirty(false);
      setSource(t("source.draft", { when: data.saved_when }));
      say(t("status.saved", { when: data.saved_when }), "success");
    }),

    validate: () => run(async () => {
      say(t("status.validating"));
      const data = await api.post(config.urls.validate, { xml: await currentXml() });
      problems.show(data.problems);
      say(data.valid ? t("status.valid") : tCount("status.invalid", data.problems.length),
        data.valid ? "success" : "error");
      showsValidation = true;
    }),

    deploy: () => {
      if (loaded && !busy) {
        const dialog = byId("deploy-dialog");
        byId("deploy-note").value = "";
        dialog.returnValue = "";
        dialog.showModal();
      }
    },

    export: () => run(async () => {
      const xml = await currentXml();
      const url = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
      const link = h("a", { href: url, download: `${config.processKey}.bpmn`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }),

    // Importing replaces the diagram and cannot be undone: unsaved changes are asked about.
    import: () => {
      if (!loaded || busy) {
        return;
      }
      if (dirty) {
        const dialog = byId("import-dialog");
        dialog.returnValue = "";
        dialog.showModal();
      } else {
        byId("modeler-file").click();
      }
    },
  };

  async function deploy(note) {
    await run(async () => {
      say(t("status.deploying"));
      const data = await api.post(config.urls.deploy, { xml: await currentXml(), note });
      problems.clear();
      setDirty(false);
      setSource(t("source.deployed", { version: data.version }));
      say(t("status.deployed", { version: data.version }), "success");
      if (versionsLink) {
        versionsLink.hidden = false;
      }
    });
  }

  async function importFile(file) {
    await run(async () => {
      const previous = await currentXml();
      const text = await file.text();
      try {
        const warnings = await open(text);
        setDirty(true);
        say(warnings.length
          ? t("status.importedWithWarnings", { name: file.name, n: warnings.length })
          : t("status.imported", { name: file.name }), warnings.length ? "info" : "success");
      } catch (error) {
        await open(previous);
        // bpmn-js says why (e.g. "unparsable content ... detected"): its first line is enough.
        const why = String(error && error.message ? error.message : error).split("\n")[0];
        throw new Notice(t("status.importFailed", { name: file.name, error: why }));
      }
    });
  }

  for (const [action, button] of Object.entries(buttons)) {
    button.addEventListener("click", () => actions[action]?.());
  }
  byId("modeler-file").addEventListener("change", (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (file) {
      importFile(file);
    }
  });
  byId("deploy-dialog").addEventListener("close", (event) => {
    if (event.target.returnValue === "deploy") {
      deploy(byId("deploy-note").value.trim());
    }
  });
  byId("import-dialog").addEventListener("close", (event) => {
    if (event.target.returnValue === "import") {
      byId("modeler-file").click();
    }
  });
  byId("modeler-message-close").addEventListener("click", () => {
    message.hidden = true;
  });

  // Ctrl+Z / Ctrl+Y (Ctrl+Shift+Z) anywhere on the page but in a text field: bpmn-js's own
  // keyboard only listens on the diagram, which loses the focus to the panel and the menus.
  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.altKey || event.defaultPrevented
        || canvasElement.contains(event.target) || isTyping(event.target)
        || (event.target instanceof Element && event.target.closest("dialog"))) {
      return;
    }
    const key = event.key.toLowerCase();
    const action = key === "z" && !event.shiftKey ? "undo"
      : (key === "y" || (key === "z" && event.shiftKey)) ? "redo" : null;
    if (action && loaded && !busy) {
      event.preventDefault();
      actions[action]();
    }
  });

  // The canvas follows the size of its box (the page's layout fits it to the window).
  new ResizeObserver(() => canvas.resized()).observe(canvasElement);

  refreshButtons();
  // Whatever escapes (a bug of ours or of bpmn-js): a message in the page's language, never
  // the raw error; the browser's console keeps the details.
  window.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    report(event.reason);
  });
  window.addEventListener("error", () => say(t("errors.unexpected"), "error"));
  run(load).then(() => {
    if (!loaded) {
      setSource(t("status.loadFailed"));
    }
  });
  window.mesaModeler = modeler; // for the browser tests and for curious process owners
}

start();
