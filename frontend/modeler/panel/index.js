// The properties panel beside the canvas: what our engine reads of the selected element.
// Every edit goes through bpmn-js modeling commands (see ../model.js), so undo/redo works, and
// the panel redraws from the diagram after each command.
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

import { h } from "../dom.js";
import { t, tOr } from "../i18n.js";
import { giveEdit, note, row, section, takeEdit, textInput } from "./controls.js";
import { flowSections, gatewaySection } from "./flow.js";
import { laneSection } from "./lane.js";
import { processSection } from "./process.js";
import { serviceTaskSection } from "./service.js";
import { timerSection } from "./timer.js";
import { userTaskSections } from "./task.js";

function typeLabel(element) {
  const type = getBusinessObject(element).$type;
  return tOr(`types.${type.replace(":", "_")}`, type.replace(/^bpmn:/, ""));
}

function hasName(element) {
  return !is(element, "bpmn:Lane") && !is(element, "bpmn:Process")
    && !is(element, "bpmn:Collaboration") && !is(element, "bpmn:TextAnnotation")
    && !is(element, "bpmn:Group") && !is(element, "bpmn:Association");
}

function hints(element) {
  if (is(element, "bpmn:ScriptTask")) {
    return note(t("panel.scriptTask"), "warn");
  }
  if (is(element, "bpmn:BusinessRuleTask") || is(element, "bpmn:ManualTask")
      || is(element, "bpmn:SendTask") || is(element, "bpmn:ReceiveTask")) {
    return note(t("panel.unsupportedTask"), "warn");
  }
  if (getBusinessObject(element).$type === "bpmn:Task") {
    return note(t("panel.plainTask"), "warn");
  }
  return null;
}

export class Panel {
  constructor({ container, modeler, model, config }) {
    this.container = container;
    this.modeler = modeler;
    this.model = model;
    this.config = config;
    this.elementId = null;
    this.pending = null;
    this.errors = {};

    const eventBus = modeler.get("eventBus");
    eventBus.on("selection.changed", ({ newSelection }) => {
      this.errors = {};
      const [chosen] = newSelection.length === 1 ? newSelection : [null];
      // A click on an external label (of an event, gateway or flow) edits its element.
      this.elementId = chosen ? (chosen.labelTarget || chosen).id : null;
      this.schedule();
    });
    eventBus.on("commandStack.changed", () => this.schedule());
    eventBus.on("import.done", () => {
      this.elementId = null;
      this.schedule();
    });
    this.render();
  }

  /** A field-level message shown until the next redraw of another element. */
  setError(key, message) {
    if (message) {
      this.errors[key] = message;
    } else {
      delete this.errors[key];
    }
    this.schedule();
  }

  /** Redraw after the current event: focus has moved by then, so it can be given back. */
  schedule() {
    if (this.pending === null) {
      this.pending = setTimeout(() => {
        this.pending = null;
        this.render();
      }, 0);
    }
  }

  select(element) {
    this.modeler.get("selection").select(element);
  }

  render() {
    const active = document.activeElement;
    const focusKey = active && this.container.contains(active) ? active.dataset.key : null;
    const element = this.elementId
      ? this.modeler.get("elementRegistry").get(this.elementId) : null;
    let parts;
    try {
      parts = element ? this.sections(element) : this.emptySections();
    } catch (error) {
      // A bug of ours must not leave the panel showing another element: say so, log it.
      console.error(error);
      parts = [h("h2", {}, t("panel.title")), note(t("errors.unexpected"), "warn")];
    }
    const edit = focusKey ? takeEdit(active) : null;
    this.container.replaceChildren(...parts);
    if (focusKey) {
      const again = this.container.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
      if (again) {
        again.focus();
        giveEdit(again, edit);
      }
    }
  }

  /** Nothing selected: the process the diagram holds (its kind of work) and how to begin. */
  emptySections() {
    const root = this.modeler.get("canvas").getRootElement();
    return [
      h("h2", {}, t("panel.title")),
      note(t("panel.empty")),
      processSection({ element: root, model: this.model, config: this.config }),
      note(t("panel.howTo")),
    ].filter(Boolean);
  }

  sections(element) {
    const bo = getBusinessObject(element);
    const context = { element, model: this.model, config: this.config, panel: this };
    const parts = [
      h("h2", {}, typeLabel(element)),
      h("p", { class: "mp-id" }, h("span", { class: "muted" }, t("panel.id")), " ",
        h("code", {}, bo.id)),
      hints(element),
    ];
    if (hasName(element)) {
      parts.push(row({
        key: "name",
        label: t("panel.name"),
        control: textInput({ value: bo.name || "", onCommit: (value) => this.model.setName(element, value) }),
      }));
    }
    if (is(element, "bpmn:Lane")) {
      parts.push(laneSection(context));
    }
    if (is(element, "bpmn:UserTask")) {
      parts.push(...userTaskSections(context));
    }
    if (is(element, "bpmn:ServiceTask")) {
      parts.push(serviceTaskSection(context));
    }
    if (is(element, "bpmn:SequenceFlow")) {
      parts.push(...flowSections(context));
    }
    if (is(element, "bpmn:ExclusiveGateway") || is(element, "bpmn:InclusiveGateway")) {
      parts.push(gatewaySection(context));
    }
    if (this.model.getTimer(element)) {
      parts.push(timerSection(context));
    }
    if (is(element, "bpmn:Participant")) {
      parts.push(section(t("panel.participant"), note(t("panel.participantHelp"))),
        processSection(context));
    }
    return parts.filter(Boolean);
  }
}
