"""The one hardened way to read BPMN XML: no DTD, no entities, no network, a size cap."""

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# Our own extension elements (forms defined in the diagram): <mesa:form><mesa:field .../>
MESA_NS = "https://mesa-de-servicios.org/schema/bpmn/1.0"
DEFAULT_MAX_BYTES = 1024 * 1024


class DiagramError(Exception):
    """A diagram that cannot be used; ``problems`` lists (element id or None, message)."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(f"{eid}: {msg}" if eid else msg for eid, msg in self.problems))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def load_bpmn_tree(data: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse diagram bytes into an lxml tree, refusing DOCTYPEs, entities and oversize input."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise DiagramError([(None, f"the diagram is larger than {max_bytes} bytes")])
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise DiagramError([(None, "DOCTYPE and entity declarations are not allowed")])
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise DiagramError([(None, f"the file is not well-formed XML: {exc}")]) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise DiagramError([(None, "DOCTYPE and entity declarations are not allowed")])
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise DiagramError([(None, "the file is not a BPMN 2.0 diagram (bpmn:definitions)")])
    return root
