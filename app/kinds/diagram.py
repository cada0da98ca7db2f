"""The kind of work a diagram names: ``<bpmn:process><bpmn:extensionElements>
<spiffworkflow:properties><spiffworkflow:property name="kind" value="incident"/>``.

Only the process element's own properties count (a task's properties are the task's). Absent
means ``request``. Pure XML work (lxml), no database."""

from lxml import etree

from app.engine.xml import BPMN_NS, SPIFF_NS, DiagramError, load_bpmn_tree
from app.kinds import DEFAULT_KIND, KIND_PROPERTY, KINDS

B = f"{{{BPMN_NS}}}"
S = f"{{{SPIFF_NS}}}"


def _kind_properties(process) -> list:
    """The process's own ``kind`` property elements (not its tasks')."""
    found = []
    for ext in process.findall(f"{B}extensionElements"):
        for props in ext.findall(f"{S}properties"):
            found.extend(p for p in props.findall(f"{S}property")
                         if p.get("name") == KIND_PROPERTY)
    return found


def check(root) -> list[tuple[str | None, str]]:
    """Problems with the kind of each process of the diagram (on the process element)."""
    problems = []
    for process in root.iter(f"{B}process"):
        found = _kind_properties(process)
        if len(found) > 1:
            problems.append((process.get("id"), "the process names its kind more than once"))
        for prop in found:
            value = prop.get("value") or ""
            if value not in KINDS:
                problems.append((process.get("id"), f"the process's kind of work {value!r} is "
                                 "not a kind; it must be one of " + ", ".join(KINDS)))
    return problems


def kind_of(root, process_id: str | None = None) -> str:
    """The kind the diagram's process (the one named ``process_id``, else the first that names
    one) is; ``request`` when none does or the value is not a kind."""
    for process in root.iter(f"{B}process"):
        if process_id is not None and process.get("id") != process_id:
            continue
        for prop in _kind_properties(process):
            if prop.get("value") in KINDS:
                return prop.get("value")
    return DEFAULT_KIND


def kind_of_xml(xml: str | bytes, process_id: str | None = None) -> str:
    """``kind_of`` of a diagram's text (a text that does not parse: ``request``)."""
    try:
        root = load_bpmn_tree(xml)
    except DiagramError:
        return DEFAULT_KIND
    return kind_of(root, process_id)


def with_kind(xml: str, kind: str, process_id: str | None = None) -> str:
    """The diagram's text with its process (``process_id``, else the first executable or first
    one) naming ``kind``; ``request`` removes the property (absent means request). Raises
    ValueError for a kind that is not one, DiagramError for a text that is not a diagram."""
    if kind not in KINDS:
        raise ValueError(kind)
    root = load_bpmn_tree(xml)
    processes = list(root.iter(f"{B}process"))
    if process_id is not None:
        processes = [p for p in processes if p.get("id") == process_id]
    else:
        processes = sorted(processes, key=lambda p: p.get("isExecutable") != "true")
    if not processes:
        raise ValueError("no process")
    process = processes[0]
    for prop in _kind_properties(process):
        props = prop.getparent()
        props.remove(prop)
        if len(props) == 0:
            ext = props.getparent()
            ext.remove(props)
            if len(ext) == 0:
                process.remove(ext)
    if kind != DEFAULT_KIND:
        ext = process.find(f"{B}extensionElements")
        if ext is None:
            ext = etree.Element(f"{B}extensionElements")
            process.insert(_first_child_index(process), ext)
        props = ext.find(f"{S}properties")
        if props is None:
            props = etree.SubElement(ext, f"{S}properties")
        etree.SubElement(props, f"{S}property", name=KIND_PROPERTY, value=kind)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


def _first_child_index(process) -> int:
    """Where extensionElements goes: after documentation (BPMN's order), before the rest."""
    index = 0
    for i, child in enumerate(process):
        if isinstance(child.tag, str) and child.tag == f"{B}documentation":
            index = i + 1
    return index
