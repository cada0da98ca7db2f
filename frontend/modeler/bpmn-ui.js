// bpmn-js's own interface, adapted to the service desk: its texts (palette, context pad, the
// "Change element" menu, modeling errors) in the page's language, and no offer of the kinds of
// task the server refuses.

// Kinds of task our engine refuses (see app/engine/validation.py): not offered as replacements.
const REFUSED_REPLACEMENTS = [
  "replace-with-script-task",
  "replace-with-rule-task",
  "replace-with-manual-task",
  "replace-with-send-task",
  "replace-with-receive-task",
];
const REFUSED_APPENDS = ["append.receive-task"];

/**
 * A bpmn-js module whose `translate` looks the English template up in `dictionary` (rendered
 * by the page with gettext, so the .po catalog holds the translations), then fills in the
 * `{placeholders}` as bpmn-js's own translate does.
 */
export function translateModule(dictionary) {
  const texts = dictionary || {};
  function translate(template, replacements = {}) {
    const text = Object.prototype.hasOwnProperty.call(texts, template) ? texts[template] : template;
    return text.replace(/{([^}]+)}/g, (match, key) => (
      Object.prototype.hasOwnProperty.call(replacements, key) ? replacements[key] : match));
  }
  return { translate: ["value", translate] };
}

function RefusedKinds(popupMenu, contextPad) {
  // Low priority: runs after bpmn-js's providers and takes their entries out.
  popupMenu.registerProvider("bpmn-replace", 100, {
    getPopupMenuEntries: () => (entries) => {
      const kept = { ...entries };
      for (const id of REFUSED_REPLACEMENTS) {
        delete kept[id];
      }
      return kept;
    },
  });
  contextPad.registerProvider(100, {
    getContextPadEntries: () => (entries) => {
      const kept = { ...entries };
      for (const id of REFUSED_APPENDS) {
        delete kept[id];
      }
      return kept;
    },
  });
}
RefusedKinds.$inject = ["popupMenu", "contextPad"];

export const refusedKindsModule = {
  __init__: ["mesaRefusedKinds"],
  mesaRefusedKinds: ["type", RefusedKinds],
};
