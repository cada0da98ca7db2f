// A user task: who does it (its lane), the product's forms (handlers) it offers, the statuses
// shown while it waits, and a form defined in the diagram.
import { t } from "../i18n.js";
import { h } from "../dom.js";
import { checkbox, note, row, section, selectInput, textInput } from "./controls.js";
import { formSection } from "./form.js";

function laneNote({ element, model, config, panel }) {
  const lane = model.laneOf(element);
  const role = lane && config.roles.find((r) => r.value === lane.name);
  if (role) {
    return note(t("task.lane", { role: role.label }));
  }
  const text = lane ? t("task.laneUnmapped", { name: lane.name || lane.id }) : t("task.noLane");
  const warning = note(text, "warn");
  if (lane) {
    const link = h("button", { type: "button", class: "link" }, t("task.openLane"));
    link.addEventListener("click", () => {
      const shape = panel.modeler.get("elementRegistry").get(lane.id);
      if (shape) {
        panel.select(shape);
      }
    });
    warning.append(" ", link);
  }
  return warning;
}

function handlersSection({ element, model, config }) {
  const chosen = model.getHandlers(element);
  const known = new Set(config.handlers.map((handler) => handler.value));
  const unknown = chosen.filter((name) => !known.has(name));
  const toggle = (name, on) => {
    const next = on ? [...chosen, name] : chosen.filter((other) => other !== name);
    model.setHandlers(element, next);
  };
  const boxes = [
    ...config.handlers.map((handler) => checkbox({
      key: `handler-${handler.value}`,
      label: h("span", {}, handler.label, " ", h("code", { class: "muted" }, handler.value)),
      checked: chosen.includes(handler.value),
      onCommit: (on) => toggle(handler.value, on),
    })),
    ...unknown.map((name) => checkbox({
      key: `handler-${name}`,
      label: t("task.unknownHandler", { name }),
      checked: true,
      onCommit: (on) => toggle(name, on),
    })),
  ];
  return h("fieldset", { class: "field mp-checklist" },
    h("legend", {}, t("task.handlers")),
    h("div", { class: "mp-choices" }, boxes),
    h("p", { class: "help" }, t("task.handlersHelp")));
}

function statusRow({ element, model }, key, property, statuses) {
  const value = model.getProperties(element).get(property) || "";
  const known = statuses.some((status) => status.value === value);
  const options = [
    { value: "", label: t("task.noStatus") },
    ...(value && !known ? [{ value, label: value }] : []),
    ...statuses,
  ];
  return row({
    key,
    label: t(`task.${key}`),
    control: selectInput({
      options, value, onCommit: (chosen) => model.setProperty(element, property, chosen),
    }),
  });
}

// A task of the Team lane (app.teams): the team it goes to, and for a change board's vote (a
// multi-instance task) the rule that decides it.
function teamRows({ element, model }) {
  const lane = model.laneOf(element);
  if (!lane || lane.name !== "Team") {
    return [];
  }
  const properties = model.getProperties(element);
  const rule = properties.get("approval_rule") || "";
  return [
    row({
      key: "team",
      label: t("task.team"),
      help: t("task.teamHelp"),
      control: textInput({
        value: properties.get("team") || "",
        onCommit: (value) => model.setProperty(element, "team", value.trim()),
      }),
    }),
    row({
      key: "approvalRule",
      label: t("task.approvalRule"),
      help: t("task.approvalRuleHelp"),
      control: selectInput({
        options: [{ value: "", label: t("task.noApprovalRule") },
          ...["all", "any", "majority"].map((value) => ({
            value, label: t(`task.approvalRules.${value}`) }))],
        value: rule,
        onCommit: (value) => model.setProperty(element, "approval_rule", value),
      }),
    }),
  ];
}

export function userTaskSections(context) {
  const { config } = context;
  return [
    section(t("task.title"),
      laneNote(context),
      ...teamRows(context),
      handlersSection(context),
      statusRow(context, "requestStatus", "request_status", config.requestStatuses),
      statusRow(context, "ticketStatus", "ticket_status", config.ticketStatuses),
      note(t("task.statusHelp"))),
    formSection(context),
  ];
}
