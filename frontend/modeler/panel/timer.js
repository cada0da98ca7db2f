// A timer event: when it fires. The value is an ISO 8601 text (PT48H, P7D, a date) or the name
// of a company setting (authorization_reminder_after); model.js writes it as the expression the
// engine evaluates.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { datalist, row, section, selectInput, textInput } from "./controls.js";

const KINDS = ["timeDuration", "timeDate", "timeCycle"];

export function timerSection({ element, model, config }) {
  const timer = model.getTimer(element);
  return section(t("timer.title"),
    row({
      key: "timer-kind",
      label: t("timer.kind"),
      control: selectInput({
        options: KINDS.map((kind) => ({ value: kind, label: t(`timer.${kind}`) })),
        value: timer.kind,
        onCommit: (kind) => model.setTimer(element, kind, timer.value),
      }),
    }),
    row({
      key: "timer-value",
      label: t("timer.value"),
      help: t(`timer.${timer.kind}Help`, { settings: config.timerSettings.join(", ") }),
      control: textInput({
        value: timer.value,
        list: "mp-timer-settings",
        class: "mono",
        placeholder: timer.kind === "timeDuration" ? "PT48H" : "",
        onCommit: (value) => model.setTimer(element, timer.kind, value),
      }),
      extra: datalist("mp-timer-settings", config.timerSettings),
    }),
    timer.value ? null : h("p", { class: "field-error" }, t("timer.empty")));
}
