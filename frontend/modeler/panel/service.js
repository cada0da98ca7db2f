// A service task: the registered operation it calls, where its result goes, its parameters.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { PARAMETER_TYPES } from "../model.js";
import {
  datalist, iconButton, note, row, section, selectInput, smallButton, textInput,
} from "./controls.js";

export function serviceTaskSection({ element, model, config }) {
  const operator = model.getOperator(element) || { id: "", resultVariable: "", parameters: [] };
  const known = config.operations.find((operation) => operation.value === operator.id);
  const save = (values) => model.setOperator(element, { ...operator, ...values });
  const options = [
    { value: "", label: t("service.choose") },
    ...(operator.id && !known
      ? [{ value: operator.id, label: t("service.unknown", { name: operator.id }) }] : []),
    ...config.operations.map((operation) => ({
      value: operation.value, label: `${operation.label} (${operation.value})`,
    })),
  ];
  const parts = [row({
    key: "operation",
    label: t("service.operation"),
    error: operator.id && !known ? t("service.unknownHelp") : null,
    control: selectInput({
      options,
      value: operator.id,
      onCommit: (id) => save({
        id,
        resultVariable: operator.resultVariable || (id ? `${id}_result` : ""),
      }),
    }),
  })];
  if (!operator.id) {
    parts.push(note(t("service.none"), "warn"));
    return section(t("service.title"), parts);
  }

  const params = operator.parameters;
  const setParams = (next) => save({ parameters: next });
  const edit = (i, values) => setParams(params.map((p, j) => (j === i ? { ...p, ...values } : p)));
  const suggestions = known ? known.parameters : [];
  parts.push(row({
    key: "result-variable",
    label: t("service.resultVariable"),
    help: t("service.resultVariableHelp"),
    control: textInput({ value: operator.resultVariable, class: "mono",
      onCommit: (value) => save({ resultVariable: value.trim() }) }),
  }));
  const rows = params.map((param, i) => h("tr", {},
    h("td", {}, textInput({ value: param.id, "aria-label": t("service.parameterName"),
      list: "mp-operation-parameters", "data-key": `param-${i}-id`, class: "mono",
      onCommit: (id) => edit(i, { id: id.trim() }) })),
    h("td", {}, selectInput({ options: PARAMETER_TYPES.map((type) => ({
      value: type, label: t(`parameterTypes.${type}`),
    })), value: param.type, "aria-label": t("service.parameterType"),
    "data-key": `param-${i}-type`, onCommit: (type) => edit(i, { type }) })),
    h("td", {}, textInput({ value: param.value, "aria-label": t("service.parameterValue"),
      "data-key": `param-${i}-value`, class: "mono",
      onCommit: (value) => edit(i, { value: value.trim() }) })),
    h("td", {}, iconButton({ key: `param-${i}-remove`, icon: "✕", danger: true,
      label: t("service.removeParameter"), onClick: () => setParams(params.filter((_, j) => j !== i)) }))));
  parts.push(h("fieldset", { class: "field" },
    h("legend", {}, t("service.parameters")),
    params.length
      ? h("table", { class: "mp-params" },
        h("thead", {}, h("tr", {}, h("th", {}, t("service.parameterName")),
          h("th", {}, t("service.parameterType")), h("th", {}, t("service.parameterValue")),
          h("th", {}))),
        h("tbody", {}, rows))
      : note(t("service.noParameters")),
    datalist("mp-operation-parameters", suggestions),
    smallButton({ key: "param-add", label: t("service.addParameter"),
      onClick: () => setParams([...params, {
        id: suggestions.find((name) => !params.some((p) => p.id === name)) || "",
        type: "str", value: "",
      }]) }),
    h("p", { class: "help" }, t("service.parameterHelp"))));
  return section(t("service.title"), parts);
}
