"""The count (pure) and the change template as a tenant's diagram: it passes the same
validation, holds no script, draws every element, and a Team lane's tasks are checked."""

import itertools

import pytest
from lxml import etree

from app.engine import validation
from app.engine.xml import BPMN_NS
from app.handlers.registry import DATA_VOCABULARY, HOST_DATA, OPERATIONS, TASK_HANDLERS
from app.process_catalog.labels import LABELS
from app.teams.tally import APPROVED, OPEN, REJECTED, count
from tests.teams.helpers import TEMPLATE, template

B = f"{{{BPMN_NS}}}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"


def _votes(*answers):
    return {str(i): a for i, a in enumerate(answers) if a}


@pytest.mark.parametrize("rule, answers, size, outcome", [
    ("all", ("approve", "approve"), 3, OPEN),
    ("all", ("approve", "approve", "approve"), 3, APPROVED),
    ("all", ("reject",), 3, REJECTED),
    ("all", ("approve", "withdrawn", "approve"), 3, APPROVED),
    ("any", ("reject", "reject"), 3, OPEN),
    ("any", ("reject", "approve"), 3, APPROVED),
    ("any", ("reject", "reject", "withdrawn"), 3, REJECTED),
    ("majority", ("approve",), 3, OPEN),
    ("majority", ("approve", "approve"), 3, APPROVED),
    ("majority", ("reject", "reject"), 3, REJECTED),
    ("majority", ("approve", "reject"), 2, REJECTED),       # a tie rejects
    ("majority", ("approve", "approve", "reject"), 4, OPEN),  # 2 of 4 so far
    ("majority", ("approve", "reject", "withdrawn"), 3, REJECTED),  # 1 of 2 remaining: tie
    ("majority", ("approve", "approve", "withdrawn", "withdrawn"), 5, APPROVED),  # 2 of 3
    ("all", ("withdrawn", "withdrawn"), 2, REJECTED),     # nobody left to approve
    ("any", (), 1, OPEN),
])
def test_the_rules(rule, answers, size, outcome):
    assert count(rule, _votes(*answers), size).outcome == outcome


def test_every_complete_vote_is_decided_and_counts_each_seat_once():
    for rule, size in itertools.product(("all", "any", "majority"), range(1, 6)):
        for answers in itertools.product(("approve", "reject", "withdrawn"), repeat=size):
            tally = count(rule, _votes(*answers), size)
            assert tally.outcome in (APPROVED, REJECTED)
            assert tally.approvals + tally.rejections + tally.withdrawn == size
            assert tally.pending == 0


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError):
        count("unanimous", {}, 1)


def _problems(xml: str):
    root = etree.fromstring(xml.encode())
    return validation.check_tree(root, set(TASK_HANDLERS), set(OPERATIONS), DATA_VOCABULARY,
                                 HOST_DATA)


@pytest.mark.parametrize("rule", ["all", "any", "majority"])
def test_the_template_passes_the_tenants_validation(app, rule):
    assert _problems(template(rule)) == []


def test_the_template_has_no_script_and_draws_every_element(app):
    root = etree.parse(str(TEMPLATE)).getroot()
    assert not list(root.iter(f"{B}scriptTask")) and b"Script" not in TEMPLATE.read_bytes()
    process = root.find(f"{B}process")
    kinds = process.find(f"{B}extensionElements")
    assert 'name="kind" value="change"' in etree.tostring(kinds).decode()
    elements = {el.get("id") for el in process if el.get("id") and el.tag != f"{B}laneSet"
                and el.tag != f"{B}extensionElements"}
    elements |= {lane.get("id") for lane in root.iter(f"{B}lane")}
    drawn = {d.get("bpmnElement") for d in root.iter(f"{DI}BPMNShape", f"{DI}BPMNEdge")}
    assert elements <= drawn
    names = {el.get("name") for el in process if el.get("name")
             and el.tag not in (f"{B}sequenceFlow", f"{B}laneSet")}
    assert names <= set(LABELS["change_request"])  # every step's English name is marked


def test_a_team_task_needs_its_team(app):
    xml = template().replace('<spiffworkflow:property name="team" value="change_board" />', "")
    assert any("needs the property 'team'" in text for _, text in _problems(xml))


def test_a_bad_team_key_or_rule_or_vote_form_is_refused(app):
    bad_key = template().replace('value="change_board" />', 'value="Comité!" />', 1)
    assert any("is not a team key" in text for _, text in _problems(bad_key))
    bad_rule = template().replace('name="approval_rule" value="majority"',
                                  'name="approval_rule" value="most"')
    assert any("approval rule 'most'" in text for _, text in _problems(bad_rule))
    no_reject = template().replace('<mesa:option value="reject" label="Rechazar"/>', "")
    assert any("field 'vote'" in text for _, text in _problems(no_reject))
