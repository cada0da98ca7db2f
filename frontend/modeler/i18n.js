// Texts of the page, translated by the server (the template renders them with gettext).

let strings = {};

export function setStrings(value) {
  strings = value || {};
}

/** The text for `key`, with `{name}` placeholders replaced from `params`. */
export function t(key, params = {}) {
  const text = key.split(".").reduce((node, part) => (node ? node[part] : undefined), strings);
  const template = typeof text === "string" ? text : key;
  return template.replace(/\{(\w+)\}/g, (match, name) => (
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : match));
}

/** The text for `key` if the page has one, else `fallback`. */
export function tOr(key, fallback) {
  const text = key.split(".").reduce((node, part) => (node ? node[part] : undefined), strings);
  return typeof text === "string" ? text : fallback;
}

/** `key` for several (with `{n}`), or `keyOne` when there is exactly one. */
export function tCount(key, n, params = {}) {
  return n === 1 ? t(`${key}One`, params) : t(key, { ...params, n });
}
