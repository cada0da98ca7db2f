"""Per-tenant versions: a changed diagram drives new requests, old ones keep their path until
moved in bulk (dry run first); each validation rule names the element that breaks it."""

import pytest
from lxml import etree

from app.engine.xml import BPMN_NS, DiagramError
from app.extensions import db
from app.models import HistoryEvent
from app.services import definitions, processes
from tests.factories import file, open_task, request_at, user

B = f"{{{BPMN_NS}}}"


def without_viability_step() -> str:
    """The default diagram with Task_Evaluate removed (and the step that answered its
    questions): authorized requests go to assignment."""
    root = etree.fromstring(definitions.default_diagram().encode())
    gone = {"Task_Evaluate", "Gateway_Viability", "Task_ProvideInformation",
            "Gateway_OverBudget", "Task_ApproveOverBudget", "Gateway_OverBudgetDecision"}
    for el in list(root.iter()):
        ids = {el.get("id"), el.get("sourceRef"), el.get("targetRef"), el.get("bpmnElement")}
        if el.tag == f"{B}flowNodeRef" and (el.text or "").strip() in gone:
            ids.add(el.text.strip())
        if ids & gone:
            el.getparent().remove(el)
    process = next(root.iter(f"{B}process"))
    flow = etree.SubElement(process, f"{B}sequenceFlow", id="Flow_Direct",
                            sourceRef="Gateway_MergeEvaluate", targetRef="Task_Assign")
    assert flow is not None
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


def deploy_shorter(note="no viability step"):
    db.session.rollback()  # a fresh transaction: requests made since may have written
    admin = user("admin@acme.test")
    definition = definitions.deploy(admin.tenant_id, without_viability_step(), user=admin,
                                    note=note)
    db.session.commit()
    return definition


def test_a_deployed_change_drives_new_requests_while_old_ones_keep_their_path(demo):
    before, _ = request_at("Task_Authorize")
    new_version = deploy_shorter()
    assert new_version.version == 2 and new_version.is_active
    after, task = request_at("Task_Authorize")
    from app.services import workflow

    head = user("jefe.finanzas@acme.test")
    workflow.complete(head, task, "authorize", {"decision": "authorize"})
    workflow.complete(head, open_task(before, "Task_Authorize"), "authorize",
                      {"decision": "authorize"})
    db.session.commit()
    assert after.status == "pending_assignment" and open_task(after, "Task_Assign")
    assert before.status == "pending_evaluation" and open_task(before, "Task_Evaluate")
    assert before.instance.definition.version == 1 and after.instance.definition.version == 2


def test_versions_list_and_readable_diff(demo):
    deploy_shorter("quicker for small jobs")
    tenant = user("admin@acme.test").tenant_id
    v2, v1 = processes.versions(tenant)
    assert (v2.version, v2.note, v2.created_by_id) == (2, "quicker for small jobs",
                                                        user("admin@acme.test").id)
    assert v1.checksum != v2.checksum and not v1.is_active
    change = processes.diff(v1, v2)
    assert "Task_Evaluate: Evaluar viabilidad" in change.removed
    assert processes.diff(v1, v1).empty
    reset = processes.reset_to_default(tenant, user("admin@acme.test"))
    db.session.commit()
    assert reset.version == 3 and reset.checksum == v1.checksum and reset.is_active


def test_migration_dry_run_then_move_all(demo):
    waiting_evaluation, _ = request_at("Task_Evaluate")
    waiting_authorization, _ = request_at("Task_Authorize")
    deploy_shorter()
    tenant = user("admin@acme.test").tenant_id
    checks = {c.request.id: c for c in processes.plan(tenant)}
    assert checks[waiting_authorization.id].movable
    blocked = checks[waiting_evaluation.id]
    assert not blocked.movable and "Evaluar viabilidad" in blocked.reasons[0]
    results = processes.move_all(user("admin@acme.test"), tenant)
    db.session.commit()
    moved = {c.request.id for c in results if c.movable}
    assert waiting_authorization.id in moved and waiting_evaluation.id not in moved
    db.session.refresh(waiting_authorization.instance)
    assert waiting_authorization.instance.definition.version == 2
    assert waiting_evaluation.instance.definition.version == 1
    entry = db.session.query(HistoryEvent).filter_by(request_id=waiting_authorization.id,
                                                     action="migrated").one()
    assert entry.changes == {"from_version": 1, "to_version": 2}
    from app.services import workflow

    workflow.complete(user("jefe.finanzas@acme.test"),
                      open_task(waiting_authorization, "Task_Authorize"), "authorize",
                      {"decision": "authorize"})
    db.session.commit()
    assert waiting_authorization.status == "pending_assignment"   # the new path
    assert processes.plan(tenant) == [c for c in processes.plan(tenant) if not c.movable]


def _problems(xml):
    admin = user("admin@acme.test")
    with pytest.raises(DiagramError) as info:
        definitions.deploy(admin.tenant_id, xml, user=admin)
    db.session.rollback()
    return info.value.problems


@pytest.mark.parametrize("old,new,element,words", [
    (">authorization_reminder_after<", ">'48 hours'<", "Timer_AuthorizationReminder",
     "ISO 8601"),
    ("decision == 'authorize'", "decision ==", "Flow_Authorized", "syntax"),
    ('value="authorize" />', 'value="" />', "Task_Authorize", "names no handler"),
    ('<bpmn:flowNodeRef>Task_Start</bpmn:flowNodeRef>', '', "Task_Start", "lane"),
    # Expressions may read only data the process has, and compare it to values it can take.
    ("decision == 'authorize'", "decison == 'authorize'", "Flow_Authorized",
     "did you mean 'decision'"),
    ("decision == 'authorize'", "decision == authorize", "Flow_Authorized",
     "text goes in quotes"),
    ("decision == 'authorize'", "decision == 'autorizada'", "Flow_Authorized",
     "never 'autorizada'"),
    ("action == 'hold'", "action in ('hold', 'pause')", "Flow_Hold", "never 'pause'"),
    ("requester_is_head == True", "priority == 'urgente'", "Flow_SkipAuthorization",
     "'low', 'normal', 'high', 'urgent'"),
    # Every step reachable from the start; no ids the engine keeps for itself.
    ('sourceRef="Gateway_Viability" targetRef="Task_ProvideInformation"',
     'sourceRef="Gateway_Viability" targetRef="Gateway_MergeEvaluate"',
     "Task_ProvideInformation", "no path leads to this step"),
    ('id="End_Rejected"', 'id="End"', "End", "used by the engine"),
])
def test_each_rule_names_the_element_and_deploys_nothing(demo, old, new, element, words):
    xml = definitions.default_diagram()
    assert old in xml
    xml = xml.replace(old, new, 1)
    before = len(processes.versions(user("admin@acme.test").tenant_id))
    problems = _problems(xml)
    assert any(eid == element and words in msg for eid, msg in problems), problems
    assert len(processes.versions(user("admin@acme.test").tenant_id)) == before


def test_versions_deployed_before_a_stricter_rule_still_run(demo):
    """The data-name check applies when deploying, not when a stored version is loaded."""
    from app.models import ProcessDefinition

    loose = definitions.default_diagram().replace("decision == 'authorize'",
                                                  "decison == 'authorize'")
    with pytest.raises(DiagramError):
        definitions.compile_xml(loose)
    stored = ProcessDefinition(tenant_id=user("admin@acme.test").tenant_id,
                               process_key="service_request", version=99,
                               bpmn_process_id="x", bpmn_xml=loose,
                               checksum=definitions.checksum_of(loose))
    assert definitions.compiled(stored).process_id


def test_no_path_to_an_end_is_refused(demo):
    xml = definitions.default_diagram()
    for end in ("End_Completed", "End_Rejected", "End_ReminderSent", "End_AutoClosed"):
        xml = xml.replace(f'<bpmn:endEvent id="{end}"', f'<bpmn:intermediateThrowEvent id="{end}"')
    xml = xml.replace("</bpmn:endEvent>", "</bpmn:intermediateThrowEvent>")
    problems = _problems(xml)
    assert ("Start_Filed", "no path leads from this start event to an end") in problems


def test_filing_still_works_after_a_reset(demo):
    deploy_shorter()
    processes.reset_to_default(user("admin@acme.test").tenant_id, user("admin@acme.test"))
    db.session.commit()
    req = file()
    assert open_task(req, "Task_Authorize").request.instance.definition.version == 3


def test_the_diff_sees_a_changed_form():
    from app.engine import migration
    from tests.form_diagrams import FORM, with_review

    before = definitions.compile_xml(with_review())
    after = definitions.compile_xml(with_review(
        FORM.replace('max="40"', 'max="60"')))
    change = migration.compare(before, after)
    assert change.changed == {"Task_Review: Revisar": ["form"]}
    assert migration.compare(before, before).empty
