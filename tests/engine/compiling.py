"""Compiling a diagram as the app does, with every handler and operation the product has."""

import pytest

from app.engine.specs import compile_process
from app.engine.xml import DiagramError
from app.handlers.operations import OPERATIONS
from app.handlers.registry import TASK_HANDLERS


def compile_xml(xml):
    return compile_process(xml, set(TASK_HANDLERS), set(OPERATIONS))


def problems_of(xml) -> list:
    """The problems a diagram is refused with (fails the test if it is accepted)."""
    with pytest.raises(DiagramError) as info:
        compile_xml(xml)
    return info.value.problems
