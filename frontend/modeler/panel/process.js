// The process itself (a pool, or the diagram when nothing is selected): its kind of work, which
// every request following the process takes (app/kinds; `config.kinds` lists them).
import { t } from "../i18n.js";
import { row, section, selectInput } from "./controls.js";

export function processSection({ element, model, config }) {
  if (!model.processOf(element)) {
    return null;
  }
  const value = model.getKind(element) || "request";
  const known = config.kinds.some((kind) => kind.value === value);
  const options = [
    ...(known ? [] : [{ value, label: t("process.unknownKind", { name: value }) }]),
    ...config.kinds,
  ];
  return section(t("process.title"), row({
    key: "process-kind",
    label: t("process.kind"),
    help: t("process.kindHelp"),
    error: known ? null : t("process.notAKind"),
    control: selectInput({
      options,
      value,
      onCommit: (chosen) => model.setKind(element, chosen),
    }),
  }));
}
