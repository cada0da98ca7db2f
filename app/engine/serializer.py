"""Instance state as JSON without a copy of the spec (the spec is parsed once and cached).

``mesa-instance-2`` adds the compacted history (``app.engine.compact.History``): what was
pruned from the task tree, folded. ``mesa-instance-1`` states, saved before compaction
existed, still load; they come back with no history, and the caller compacts them.
"""

import json
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from app.engine.compact import History

FORMAT = "mesa-instance-2"
LEGACY_FORMAT = "mesa-instance-1"  # no history: the whole task tree is there


class InstanceOnlyConverter(BpmnWorkflowConverter):
    """Like the stock converter, but leaves the spec out and takes it back in on restore."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = InstanceOnlyConverter
registry = BpmnWorkflowSerializer.configure(_config)
_registry = registry  # the converters know our instance-only format
_serializer = BpmnWorkflowSerializer(_registry)


def dump_instance(workflow, history: History) -> str:
    _registry._encoder_mode = True
    try:
        dct = _registry.convert(workflow)
    finally:
        _registry._encoder_mode = False
    dct["format"] = FORMAT
    dct["history"] = history.to_json()
    return json.dumps(dct, cls=_serializer._encoder_cls, separators=(",", ":"))


def load_instance(state: str, spec, subprocess_specs) -> tuple[BpmnWorkflow, History | None]:
    """The workflow and its history; None for the history of a state saved before it."""
    dct = json.loads(state)
    found = dct.pop("format", None)
    if found not in (FORMAT, LEGACY_FORMAT):
        raise ValueError("unknown instance state format")
    history = History.from_json(dct.pop("history", None)) if found == FORMAT else None
    workflow = _registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    return workflow, history
