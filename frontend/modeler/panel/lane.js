// A lane: the role whose people do the tasks in it. Our engine reads the lane's name.
import { getBusinessObject } from "bpmn-js/lib/util/ModelUtil";

import { t } from "../i18n.js";
import { row, section, selectInput } from "./controls.js";

export function laneSection({ element, model, config }) {
  const name = getBusinessObject(element).name || "";
  const known = config.roles.some((role) => role.value === name);
  const options = [
    ...(known ? [] : [{ value: name, label: name ? t("lane.unmapped", { name }) : t("lane.choose") }]),
    ...config.roles.map((role) => ({ value: role.value, label: role.label })),
  ];
  return section(t("lane.title"), row({
    key: "lane-role",
    label: t("lane.role"),
    help: t("lane.help"),
    error: known ? null : t("lane.notMapped"),
    control: selectInput({
      options,
      value: name,
      onCommit: (value) => model.setName(element, value),
    }),
  }));
}
