"""The category page's field editor, a server-rendered form that needs no script: one block
of inputs per field (``rf-<i>-name``, ``-label``, ``-type``, ``-required``, ``-min``,
``-max``, ``-options``, ``-position``, ``-remove``) and a few empty blocks to add fields.

``rows_from_form`` reads the blocks back into the JSON list ``specs.clean`` checks: empty
blocks and those marked for removal left out, the rest in the order of their positions. The
limits are one pair of inputs whose meaning follows the type (characters for text, values for
a number or a date); options are one a line, ``value = label`` or just ``value``.
"""

PREFIX = "rf-"
BLANK_ROWS = 2
MAX_ROWS = 60  # blocks read from one page (the list itself is bounded by specs.MAX_FIELDS)
MAX_OPTION_LINES = 200
LENGTH_TYPES = ("text", "longtext")
BOUND_TYPES = ("number", "date")


def _text(form, key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def _options(text: str) -> list[dict]:
    options = []
    for line in text.splitlines()[:MAX_OPTION_LINES]:
        value, _sep, label = line.partition("=")
        if value.strip():
            options.append({"value": value.strip(), "label": label.strip() or value.strip()})
    return options


def _row(form, index: int) -> dict | None:
    key = f"{PREFIX}{index}-"
    if form.get(key + "remove"):
        return None
    name, label = _text(form, key + "name"), _text(form, key + "label")
    options = _text(form, key + "options")
    if not (name or label or options):
        return None  # an empty block
    kind = _text(form, key + "type")
    item: dict = {"name": name, "label": label, "type": kind,
                  "required": form.get(key + "required") == "yes"}
    low, high = _text(form, key + "min"), _text(form, key + "max")
    if kind in LENGTH_TYPES:
        item.update({k: v for k, v in (("minLength", low), ("maxLength", high)) if v})
    elif kind in BOUND_TYPES:
        item.update({k: v for k, v in (("min", low), ("max", high)) if v})
    if kind == "choice":
        item["options"] = _options(options)
    return item


def _position(form, index: int) -> float:
    text = _text(form, f"{PREFIX}{index}-position")
    try:
        return float(text) if text and len(text) < 12 else float(index + 1)
    except ValueError:
        return float(index + 1)


def rows_from_form(form) -> list[dict]:
    """The fields a submitted editor gives, in their new order (JSON items, unchecked)."""
    try:
        count = min(int(_text(form, f"{PREFIX}count") or 0), MAX_ROWS)
    except ValueError:
        count = 0
    kept = []
    for index in range(max(count, 0)):
        item = _row(form, index)
        if item is not None:
            kept.append((_position(form, index), index, item))
    return [item for _pos, _index, item in sorted(kept, key=lambda k: (k[0], k[1]))]


def rows_for_page(items: list, blank: int = BLANK_ROWS) -> list[dict]:
    """The editor's blocks for a list of fields (as kept, or as sent back refused), plus
    ``blank`` empty ones."""
    rows = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type") or "text"
        low = item.get("minLength") if kind in LENGTH_TYPES else item.get("min")
        high = item.get("maxLength") if kind in LENGTH_TYPES else item.get("max")
        options = "\n".join(
            o.get("value", "") if o.get("label") in (None, "", o.get("value"))
            else f"{o.get('value', '')} = {o.get('label')}"
            for o in item.get("options") or [] if isinstance(o, dict))
        rows.append({"name": item.get("name") or "", "label": item.get("label") or "",
                     "type": kind, "required": bool(item.get("required")),
                     "min": "" if low is None else low, "max": "" if high is None else high,
                     "options": options})
    rows.extend({"name": "", "label": "", "type": "text", "required": False, "min": "",
                 "max": "", "options": ""} for _ in range(blank))
    return rows
