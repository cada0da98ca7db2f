"""The security-incident template: a valid diagram with layout, no scripts, Spanish names, its
kind; and engine walks (save and restore between every step) of each of its paths."""

import pytest
from lxml import etree

from app.checklists import defaults
from app.checklists.severity import PRIORITY_OF
from app.checklists.tasks import checklist_key
from app.engine.runner import Instance
from app.engine.specs import compile_process
from app.engine.xml import BPMN_NS
from app.handlers.registry import OPERATIONS, TASK_HANDLERS
from app.services import definitions

B = f"{{{BPMN_NS}}}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
STEPS = ("Task_Triage", "Task_Contain", "Task_Eradicate", "Task_Recover", "Task_Lessons")


@pytest.fixture(scope="module")
def xml():
    return definitions.default_diagram("security_incident")


@pytest.fixture(scope="module")
def compiled(xml):
    return compile_process(xml, set(TASK_HANDLERS), set(OPERATIONS))


def test_passes_the_tenants_validation_with_layout_for_every_element(app, xml):
    with app.app_context():
        assert definitions.check_diagram(xml, 1, "security_incident") == "security_incident"
    root = etree.fromstring(xml.encode())
    assert not list(root.iter(f"{B}scriptTask"))
    assert "preScript" not in xml and "postScript" not in xml and "<bpmn:script" not in xml
    process = root.find(f"{B}process")
    kind = [p.get("value") for p in process.iter("{*}property") if p.get("name") == "kind"]
    assert kind[0] == "security_incident"
    shown = {el.get("bpmnElement") for el in root.iter("{*}BPMNShape", "{*}BPMNEdge")}
    elements = {el.get("id") for el in process if el.tag.startswith(B)
                and el.tag[len(B):] not in ("laneSet", "extensionElements")}
    assert len(elements) == 30  # 15 steps, events and gateways; 15 flows
    elements |= {lane.get("id") for lane in root.iter(f"{B}lane")}
    assert elements - shown == set()
    for el in process.iter(f"{B}userTask", f"{B}serviceTask", f"{B}startEvent",
                           f"{B}endEvent"):
        assert el.get("name") and el.get("name") in defaults.LABELS  # translated on pages


def test_every_step_carries_a_checklist_the_template_seeds(compiled):
    keys = [checklist_key(compiled, step) for step in STEPS]
    assert keys == ["triage", "containment", "eradication", "recovery", "lessons_learned"]
    assert set(keys) == set(defaults.CHECKLIST_KEYS["security_incident"])
    for key in keys:
        assert defaults.items_for("security_incident", key, "es")
        assert defaults.items_for("security_incident", key, "en")


class Walk:
    """Drives one instance as the host does: every step restores from the saved JSON."""

    def __init__(self, compiled):
        self.compiled = compiled
        self.calls = []
        instance = Instance.start(compiled, {"priority": "normal"}, self._operation)
        self.state = instance.dump()

    def _operation(self, name, params, data):
        self.calls.append((name, params))
        if name == "alert_by_severity":
            return {"severity": params["severity"], "alerted": 2}
        if name == "prioritize_by_severity":
            return {"severity": params["severity"],
                    "priority": PRIORITY_OF[params["severity"]]}
        return {"request_status": params.get("request_status")}

    def _load(self):
        return Instance.restore(self.compiled, self.state, self._operation)

    def waiting(self):
        return sorted((t.spec_id, t.lane, t.properties.get("team"))
                      for t in self._load().ready_tasks())

    def do(self, spec_id, **data):
        instance = self._load()
        (task,) = [t for t in instance.ready_tasks() if t.spec_id == spec_id]
        instance.complete(task.uuid, data)
        self.state = instance.dump()

    @property
    def completed(self):
        return self._load().is_completed


def _team(spec_id):
    return [(spec_id, "Team", "security")]


def test_a_false_positive_is_dismissed_without_alerting_anyone(compiled):
    w = Walk(compiled)
    assert w.waiting() == _team("Task_Triage")
    w.do("Task_Triage", severity="low", false_positive=True)
    assert w.completed
    assert w.calls == [("prioritize_by_severity", {"severity": "low"}),
                       ("set_status", {"request_status": "completed"})]


@pytest.mark.parametrize("severity", ["low", "medium", "high", "critical"])
def test_a_real_incident_is_alerted_by_its_severity_then_worked_to_closure(compiled, severity):
    w = Walk(compiled)
    w.do("Task_Triage", severity=severity, false_positive=False, triage_notes="Phishing")
    assert w.calls == [("prioritize_by_severity", {"severity": severity}),
                       ("alert_by_severity", {"severity": severity})]
    for step, data in (("Task_Contain", {"containment_notes": "Cuenta bloqueada"}),
                       ("Task_Eradicate", {}),
                       ("Task_Recover", {"restored": True}),
                       ("Task_Lessons", {"lessons": "Formación anual"})):
        assert w.waiting() == _team(step)
        w.do(step, **data)
    assert w.completed
    assert [name for name, _ in w.calls] == ["prioritize_by_severity", "alert_by_severity",
                                             "set_status"]


def test_a_failed_recovery_goes_back_to_eradication(compiled):
    w = Walk(compiled)
    w.do("Task_Triage", severity="high", false_positive=False)
    w.do("Task_Contain")
    w.do("Task_Eradicate")
    w.do("Task_Recover", restored=False)
    assert w.waiting() == _team("Task_Eradicate")
    w.do("Task_Eradicate")
    w.do("Task_Recover", restored=False)
    w.do("Task_Eradicate")
    w.do("Task_Recover", restored=True)
    assert w.waiting() == _team("Task_Lessons")
    w.do("Task_Lessons", lessons="Revisar copias")
    assert w.completed
    assert [name for name, _ in w.calls] == ["prioritize_by_severity", "alert_by_severity",
                                             "set_status"]
