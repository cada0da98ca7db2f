// The process modeler page (app/templates/processes/modeler.html): bpmn-js Modeler with our
// moddle extensions, a properties panel of our own, and the toolbar's calls to the server.
// Texts and choices come from the page (JSON data blocks), so they follow its language.
import Modeler from "bpmn-js/lib/Modeler";

import { ApiError, createApi } from "./modeler/api.js";
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

function formatWhen(iso) {
  if (!iso) {
    return "";
  }
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso
    : date.toLocaleString(document.documentElement.lang || undefined,
      { dateStyle: "medium", timeStyle: "short" });
}

function start() {
  const root = byId("modeler");
  const config = readJson("modeler-config");
  if (!root || !config) {
    return;
  }
  setStrings(readJson("modeler-strings"));
  const api = createApi(config.csrfToken);

  const modeler = new Modeler({
    container: byId("modeler-canvas"),
    moddleExtensions: { spiffworkflow: spiffDescriptor, mesa: mesaDescriptor },
    additionalModules: [batchModule],
  });
  const model = createModel(modeler);
  const commandStack = modeler.get("commandStack");
  const canvas = modeler.get("canvas");
  const problems = createProblems({
    modeler, box: byId("modeler-problems"), list: byId("modeler-problem-list"),
    title: byId("modeler-problems-title"),
  });
  new Panel({ container: byId("modeler-panel"), modeler, model, config });

  const buttons = Object.fromEntries([...root.querySelectorAll("[data-action]")]
    .map((button) => [button.dataset.action, button]));
  const sourceLine = byId("modeler-source");
  const message = byId("modeler-message");
  const versionsLink = byId("modeler-versions");
  let dirty = false;
  let busy = false;
  let loaded = false;

  function say(text, kind = "info") {
    message.className = `flash ${kind}`;
    message.replaceChildren(text);
    message.hidden = false;
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

  modeler.on("commandStack.changed", (event) => {
    if (event.trigger !== "clear") {
      setDirty(true);
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
      if (error instanceof ApiError && error.problems) {
        problems.show(error.problems);
      }
      say(error.message || String(error), "error");
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

  function describeSource(data) {
    if (data.source === "draft") {
      return data.saved_by
        ? t("source.draftBy", { when: formatWhen(data.saved_at), who: data.saved_by })
        : t("source.draft", { when: formatWhen(data.saved_at) });
    }
    if (data.source === "version") {
      return t("source.version", { version: data.version, when: formatWhen(data.saved_at) });
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
      setSource(t("source.draft", { when: formatWhen(data.saved_at) }));
      say(t("status.saved", { when: formatWhen(data.saved_at) }), "success");
    }),

    validate: () => run(async () => {
      say(t("status.validating"));
      const data = await api.post(config.urls.validate, { xml: await currentXml() });
      problems.show(data.problems);
      say(data.valid ? t("status.valid") : tCount("status.invalid", data.problems.length),
        data.valid ? "success" : "error");
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

    import: () => byId("modeler-file").click(),
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
        throw new Error(t("status.importFailed", { name: file.name, error: error.message }));
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

  refreshButtons();
  run(load).then(() => {
    if (!loaded) {
      setSource(t("status.loadFailed"));
    }
  });
  window.mesaModeler = modeler; // for the browser tests and for curious process owners
}

start();
