"""Turns a definition's XML into an executable spec, once per checksum."""

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from app.engine.forms import HOST_DATA_NAMES, FormSpec, parse_forms, result_variables
from app.engine.pathdata import read_names
from app.engine.validation import B, check_tree, to_bytes
from app.engine.xml import DEFAULT_MAX_BYTES, DiagramError, load_bpmn_tree

CACHE_SIZE = 256
TOO_DEEP = ("the diagram nests or chains too many steps for the engine (a few hundred steps "
            "in a row); split it into shorter processes")


@dataclass(frozen=True)
class CompiledProcess:
    checksum: str
    process_id: str
    spec: object
    subprocess_specs: dict = field(default_factory=dict)
    # The diagram's forms by user task id (``<mesa:form>``): the one source of truth for them.
    forms: dict[str, FormSpec] = field(default_factory=dict)
    # Names its expressions read that neither the host (``forms.HOST_DATA_NAMES``), its forms
    # nor its service tasks write: fields of the requests' categories (app.request_fields),
    # started as None when a request's category has no field of that name.
    free_names: frozenset = frozenset()


def checksum_of(xml: bytes | str) -> str:
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    return hashlib.sha256(xml).hexdigest()


def _executable_process_id(root) -> str:
    processes = list(root.iter(f"{B}process"))
    executable = [p for p in processes if p.get("isExecutable", "true").lower() == "true"]
    chosen = (executable or processes)[0]
    return chosen.get("id")


def compile_process(xml: bytes | str, handler_names, operation_names,
                    max_bytes: int = DEFAULT_MAX_BYTES, vocabulary=None,
                    host=None) -> CompiledProcess:
    """Load, check and parse a diagram; raises DiagramError listing every problem found.
    ``vocabulary`` and ``host`` (new diagrams) add the checks of what expressions read."""
    root = load_bpmn_tree(xml, max_bytes=max_bytes)
    problems = check_tree(root, handler_names, operation_names, vocabulary, host)
    if problems:
        raise DiagramError(problems)
    process_id = _executable_process_id(root)
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(root.getroottree(), filename=f"{process_id}.bpmn")
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except RecursionError:
        raise DiagramError([(None, TOO_DEEP)]) from None
    except ValidationException as exc:
        if "recursion" in str(exc).lower():  # the parser wraps a RecursionError
            raise DiagramError([(None, TOO_DEEP)]) from None
        raise DiagramError([(getattr(exc, "id", None), str(exc).splitlines()[0])]) from None
    except Exception as exc:  # the parser raises assorted errors on malformed models
        raise DiagramError([(None, f"the engine cannot read the diagram: {exc}")]) from None
    forms, _ = parse_forms(root, stored=vocabulary is None)  # already checked above
    written = HOST_DATA_NAMES | result_variables(root) | {
        f.name for form in forms.values() for f in form.fields}
    free = frozenset(read_names(root) - written)
    return CompiledProcess(checksum_of(xml), process_id, spec, subprocess_specs, forms, free)


class SpecCache:
    """A small LRU of compiled processes keyed by checksum; parsed once per process lifetime."""

    def __init__(self, size: int = CACHE_SIZE):
        self._items: OrderedDict[str, CompiledProcess] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, xml, checksum: str, handler_names, operation_names) -> CompiledProcess:
        """``xml`` is the diagram, or a function returning it: read only on a miss (a stored
        diagram is tens of kilobytes; a hit should not fetch it from the database)."""
        with self._lock:
            hit = self._items.get(checksum)
            if hit is not None:
                self._items.move_to_end(checksum)
                return hit
        compiled = compile_process(xml() if callable(xml) else xml, handler_names,
                                   operation_names)
        with self._lock:
            self._items[checksum] = compiled
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return compiled

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


spec_cache = SpecCache()
__all__ = ["CompiledProcess", "DiagramError", "FormSpec", "compile_process", "spec_cache",
           "to_bytes"]
