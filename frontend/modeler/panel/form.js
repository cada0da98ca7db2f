// The form editor of a user task: <mesa:form> with <mesa:field> (and <mesa:option>) elements.
// The form is rewritten whole on each edit, as one command of the undo history.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { FIELD_LIMITS, FIELD_NAME, FIELD_TYPES } from "../model.js";
import {
  checkbox, iconButton, note, row, section, selectInput, smallButton, textInput,
} from "./controls.js";

const NUMBER = /^-?\d+(\.\d+)?$/;
const INTEGER = /^\d+$/;

function limitControl(kind, type, value, onCommit) {
  if (type === "date") {
    return textInput({ value, onCommit, type: "date" });
  }
  if (kind === "minLength" || kind === "maxLength") {
    return textInput({ value, onCommit, type: "number", min: 0, step: 1 });
  }
  return textInput({ value, onCommit, inputmode: "decimal" });
}

function limitProblem(kind, type, value) {
  if (!value) {
    return null;
  }
  if ((kind === "minLength" || kind === "maxLength") && !INTEGER.test(value)) {
    return t("form.badInteger");
  }
  if (type === "number" && !NUMBER.test(value)) {
    return t("form.badNumber");
  }
  return null;
}

function uniqueName(fields) {
  const taken = new Set(fields.map((field) => field.name));
  let n = fields.length + 1;
  while (taken.has(`field_${n}`)) {
    n += 1;
  }
  return `field_${n}`;
}

export function formSection({ element, model, panel, config }) {
  const reserved = new Set(config.reservedFieldNames || []);
  const fields = model.getForm(element);
  // Writes start from the model as it is now, not as it was drawn: an edit committed just
  // before the panel redraws must not be undone by the next one.
  const current = () => model.getForm(element);
  const save = (next) => model.setForm(element, next);
  const change = (index, values) => save(current().map((field, i) => (
    i === index ? { ...field, ...values } : field)));

  // A value that cannot be written yet stays in its input with a message beside it.
  const checked = (key, value, problem, write) => {
    if (problem) {
      panel.setError(key, { message: problem, value });
      return;
    }
    panel.setError(key, null);
    write(value.trim());
  };
  const shown = (key, value) => (panel.errors[key] ? panel.errors[key].value : value);
  const error = (key) => (panel.errors[key] ? panel.errors[key].message : null);

  function move(index, offset) {
    const next = [...current()];
    const [field] = next.splice(index, 1);
    next.splice(index + offset, 0, field);
    save(next);
  }

  function fieldCard(field, index) {
    const key = (name) => `field-${index}-${name}`;
    const nameProblem = (value) => {
      if (!FIELD_NAME.test(value.trim())) {
        return t("form.badName");
      }
      if (fields.some((other, i) => i !== index && other.name === value.trim())) {
        return t("form.duplicateName");
      }
      if (reserved.has(value.trim())) {
        return t("form.reservedName");
      }
      return null;
    };
    const header = h("div", { class: "mp-card-head" },
      h("strong", {}, `${index + 1}. `, field.label || field.name),
      h("span", { class: "mp-card-tools" },
        iconButton({ key: key("up"), icon: "↑", label: t("form.moveUp"), disabled: index === 0,
          onClick: () => move(index, -1) }),
        iconButton({ key: key("down"), icon: "↓", label: t("form.moveDown"),
          disabled: index === fields.length - 1, onClick: () => move(index, 1) }),
        iconButton({ key: key("remove"), icon: "✕", label: t("form.removeField"), danger: true,
          onClick: () => save(current().filter((_, i) => i !== index)) })));

    const typeOptions = FIELD_TYPES.map((type) => ({ value: type, label: t(`fieldTypes.${type}`) }));
    // Limits carry over only between types that read them alike (text and long text).
    const onType = (type) => {
      const alike = (type === "date") === (field.type === "date");
      const kept = {};
      for (const limit of ["minLength", "maxLength", "min", "max"]) {
        const shared = FIELD_LIMITS[type].includes(limit)
          && FIELD_LIMITS[field.type]?.includes(limit);
        kept[limit] = shared && alike ? field[limit] : "";
      }
      change(index, { type, ...kept });
    };

    const parts = [
      header,
      h("div", { class: "mp-grid" },
        row({ key: key("name"), label: t("form.name"), error: error(key("name")),
          control: textInput({ value: shown(key("name"), field.name),
            onCommit: (value) => checked(key("name"), value, nameProblem(value),
              (name) => change(index, { name })) }) }),
        row({ key: key("type"), label: t("form.type"),
          control: selectInput({ options: typeOptions, value: field.type, onCommit: onType }) })),
      row({ key: key("label"), label: t("form.label"),
        control: textInput({ value: field.label,
          onCommit: (label) => change(index, { label: label.trim() }) }) }),
      checkbox({ key: key("required"), label: t("form.required"), checked: field.required,
        onCommit: (required) => change(index, { required }) }),
    ];

    const limits = FIELD_LIMITS[field.type] || [];
    if (limits.length) {
      parts.push(h("div", { class: "mp-grid" }, limits.map((limit) => row({
        key: key(limit),
        label: t(`form.${field.type === "date" ? `${limit}Date` : limit}`),
        error: error(key(limit)),
        control: limitControl(limit, field.type, shown(key(limit), field[limit]),
          (value) => checked(key(limit), value, limitProblem(limit, field.type, value.trim()),
            (clean) => change(index, { [limit]: clean }))),
      }))));
    }
    if (field.type === "choice") {
      parts.push(optionsEditor(field, index, key, change, () => current()[index].options));
    }
    return h("li", { class: "mp-card" }, parts);
  }

  const list = fields.length
    ? h("ol", { class: "mp-cards" }, fields.map(fieldCard))
    : note(t("form.none"));
  const add = smallButton({
    key: "form-add",
    label: t("form.add"),
    onClick: () => {
      const now = current();
      const name = uniqueName(now);
      save([...now, { name, type: "text", label: t("form.newLabel", { n: now.length + 1 }),
        required: false, minLength: "", maxLength: "", min: "", max: "", options: [] }]);
    },
  });
  return section(t("form.title"), note(t("form.help")), list, h("div", { class: "mp-add" }, add));
}

function optionsEditor(field, index, key, change, latest) {
  const options = field.options;
  // Each edit applies to the options as they are now (see `current` in formSection).
  const setOptions = (update) => change(index, { options: update(latest()) });
  const rows = options.map((option, i) => h("div", { class: "mp-option" },
    textInput({ value: option.value, "aria-label": t("form.optionValue"),
      placeholder: t("form.optionValue"), "data-key": key(`option-${i}-value`),
      onCommit: (value) => setOptions((now) => now.map((o, j) => (
        j === i ? { ...o, value: value.trim() } : o))) }),
    textInput({ value: option.label, "aria-label": t("form.optionLabel"),
      placeholder: t("form.optionLabel"), "data-key": key(`option-${i}-label`),
      onCommit: (label) => setOptions((now) => now.map((o, j) => (
        j === i ? { ...o, label: label.trim() } : o))) }),
    iconButton({ key: key(`option-${i}-remove`), icon: "✕", label: t("form.removeOption"),
      danger: true, onClick: () => setOptions((now) => now.filter((_, j) => j !== i)) })));
  return h("fieldset", { class: "field mp-options" },
    h("legend", {}, t("form.options")),
    // Column headings: the placeholders are gone once the inputs are filled.
    options.length
      ? [h("div", { class: "mp-option mp-option-head", "aria-hidden": "true" },
        h("span", {}, t("form.optionValue")), h("span", {}, t("form.optionLabel"))), rows]
      : note(t("form.noOptions"), "warn"),
    smallButton({
      key: key("option-add"),
      label: t("form.addOption"),
      onClick: () => setOptions((now) => [...now, {
        value: `option_${now.length + 1}`, label: "",
      }]),
    }));
}
