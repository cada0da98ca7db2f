"""Compiling a diagram as the app does, with every handler and operation the product has."""

import pytest

from app.engine.specs import compile_process
from app.engine.xml import DiagramError
from app.handlers.operations import OPERATIONS
from app.handlers.registry import DATA_VOCABULARY, HOST_DATA, TASK_HANDLERS


def compile_xml(xml):
    return compile_process(xml, set(TASK_HANDLERS), set(OPERATIONS))


def problems_of(xml) -> list:
    """The problems a new diagram is refused with at validation and deploy (fails the test if
    it is accepted): checked as ``services.definitions`` checks one, with the data vocabulary
    and the host's sample data (a version already deployed is compiled without them)."""
    with pytest.raises(DiagramError) as info:
        compile_process(xml, set(TASK_HANDLERS), set(OPERATIONS), vocabulary=DATA_VOCABULARY,
                        host=HOST_DATA)
    return info.value.problems
