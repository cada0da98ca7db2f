// Sequence flows leaving a gateway: the condition (a safe expression over the task data) and
// the default flow; and, on the gateway itself, an overview of its outgoing flows.
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { checkbox, note, row, section, textArea } from "./controls.js";
import { dataSection } from "./data.js";

function decides(source) {
  return Boolean(source) && (is(source, "bpmn:ExclusiveGateway")
    || is(source, "bpmn:InclusiveGateway"));
}

// The condition's own label heads its section: one "Condition" is enough.
export function flowSections(context) {
  const { element, model } = context;
  const condition = model.getCondition(element);
  if (!decides(element.source)) {
    return condition
      ? [section(null, note(t("flow.notFromGateway"), "warn"),
        row({ key: "condition", label: t("flow.condition"),
          control: textArea({ value: condition, class: "mono",
            onCommit: (text) => model.setCondition(element, text) }) })),
      dataSection(context)]
      : [];
  }
  const isDefault = model.isDefaultFlow(element);
  return [section(null,
    row({
      key: "condition",
      label: t("flow.condition"),
      help: isDefault ? t("flow.defaultHasNoCondition") : t("flow.conditionHelp"),
      control: textArea({
        value: condition, class: "mono", disabled: isDefault,
        placeholder: isDefault ? "" : "decision == 'approve'",
        onCommit: (text) => model.setCondition(element, text),
      }),
    }),
    checkbox({
      key: "default-flow",
      label: t("flow.default"),
      checked: isDefault,
      onCommit: (on) => model.setDefaultFlow(element, on),
    }),
    note(t("flow.defaultHelp"))),
  isDefault ? null : dataSection(context)];
}

export function gatewaySection({ element, model, panel }) {
  const outgoing = element.outgoing || [];
  if (!is(element, "bpmn:ExclusiveGateway") && !is(element, "bpmn:InclusiveGateway")) {
    return null;
  }
  if (outgoing.length < 2) {
    return section(t("gateway.title"), note(t("gateway.help")));
  }
  const rows = outgoing.map((flow) => {
    const bo = getBusinessObject(flow);
    const target = flow.target ? getBusinessObject(flow.target) : null;
    const condition = model.getCondition(flow);
    const link = h("button", { type: "button", class: "link" },
      bo.name || bo.id, target ? ` → ${target.name || target.id}` : "");
    link.dataset.key = `gateway-flow-${bo.id}`;
    link.addEventListener("click", () => panel.select(flow));
    let what;
    if (model.isDefaultFlow(flow)) {
      what = h("span", { class: "badge" }, t("gateway.default"));
    } else if (condition) {
      what = h("code", {}, condition);
    } else {
      what = h("span", { class: "field-error" }, t("gateway.noCondition"));
    }
    return h("li", {}, link, h("br"), what);
  });
  return section(t("gateway.title"), note(t("gateway.help")), h("ul", { class: "mp-flows" }, rows));
}
