// "Data you can use": the names a condition can read. The service desk's own (from the page
// config: priority, decisions...) and the diagram's: the fields of its tasks' forms and the
// result variables of its service tasks, read from the diagram as it is now.
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { section } from "./controls.js";

function quoted(value) {
  return `'${String(value).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function fieldValues(field) {
  if (field.type === "choice") {
    return field.options.filter((option) => option.value).map((option) => quoted(option.value));
  }
  return field.type === "boolean" ? ["True", "False"] : [];
}

function elementName(element) {
  const bo = getBusinessObject(element);
  return bo.name || bo.id;
}

/** [{name, description, sources: [{step, values}]}]: one entry per name, sources merged. */
export function dataNames({ model, config, panel }) {
  const byName = new Map();
  const add = (name, description, source) => {
    if (!name) {
      return;
    }
    if (!byName.has(name)) {
      byName.set(name, { name, description, sources: [] });
    }
    byName.get(name).sources.push(source);
  };
  for (const entry of config.dataNames || []) {
    for (const source of entry.sources) {
      add(entry.name, entry.description, source);
    }
  }
  const registry = panel.modeler.get("elementRegistry");
  for (const element of registry.filter((e) => is(e, "bpmn:UserTask") && e.type !== "label")) {
    for (const field of model.getForm(element)) {
      add(field.name, field.label || field.name, {
        step: t("data.formOf", { task: elementName(element) }),
        values: fieldValues(field),
      });
    }
  }
  for (const element of registry.filter((e) => is(e, "bpmn:ServiceTask") && e.type !== "label")) {
    const operator = model.getOperator(element);
    if (operator && operator.resultVariable) {
      add(operator.resultVariable, t("data.result"), {
        step: elementName(element), values: [],
      });
    }
  }
  return [...byName.values()];
}

function sourceLine({ step, values }) {
  return h("li", {},
    step ? h("span", { class: "muted" }, step, values.length ? ": " : "") : null,
    values.length ? values.map((value, i) => [i ? ", " : "", h("code", {}, value)]) : null);
}

export function dataSection(context) {
  const names = dataNames(context);
  if (!names.length) {
    return null;
  }
  const items = names.map((entry) => h("div", { class: "mp-data-item" },
    h("dt", {}, h("code", {}, entry.name)),
    h("dd", {}, entry.description,
      h("ul", {}, entry.sources.map(sourceLine)))));
  return section(t("data.title"), h("p", { class: "mp-note" }, t("data.help")),
    h("dl", { class: "mp-data", dataset: { key: "data-names" } }, items));
}
