"""The live diagram of a request: its own process version, the path taken, where it waits, and
who completed each step and when.

Read-only. The caller has already checked that the viewer may see the request; every query here
is scoped to the request's tenant as well.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.engine.validation import lane_role
from app.engine.xml import BPMN_NS, load_bpmn_tree
from app.extensions import db
from app.handlers.base import OperationContext
from app.models import HumanTask, ProcessInstance, ServiceRequest, User
from app.services import inbox, incidents, workflow

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Done:
    """One completion of a user task: by whom (None if nobody is on record) and when."""

    by: str | None
    at: datetime


@dataclass(frozen=True)
class Current:
    """A step the request waits on now, and the people (or the role) it waits on."""

    element_id: str
    name: str
    role: str
    waiting_on: list[str]
    taken_by: str | None


@dataclass
class Trail:
    xml: str
    version: int
    checksum: str = ""
    completed: list[str] = field(default_factory=list)  # in the order first completed
    flows: list[str] = field(default_factory=list)  # sequence flows taken, in order
    current: list[Current] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)  # cut short: withdrawal, timer, error
    steps: dict[str, list[Done]] = field(default_factory=dict)  # user tasks, oldest first


@lru_cache(maxsize=64)
def _flows_between(checksum: str, xml: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """(source id, target id) -> ids of the sequence flows joining them, per diagram version.

    ``checksum`` is part of the key only to make cache hits cheap to reason about; the XML is
    the stored, already validated version, read again through the one hardened loader.
    """
    flows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for flow in load_bpmn_tree(xml, max_bytes=len(xml.encode("utf-8")) + 1).iter(
            f"{{{BPMN_NS}}}sequenceFlow"):
        source, target, flow_id = flow.get("sourceRef"), flow.get("targetRef"), flow.get("id")
        if source and target and flow_id:
            flows[(source, target)].append(flow_id)
    return {pair: tuple(ids) for pair, ids in flows.items()}


def lanes_named(xml: str, checksum: str, names: dict[str, str]) -> str:
    """The diagram with every lane that stands for a role (named ``UnitHead``, ``unit_head``...,
    which is what the engine reads) named ``names[role]`` instead: what a person reads on the
    request page. The stored diagram is not changed."""
    return _lanes_named(checksum, xml, tuple(sorted(names.items())))


@lru_cache(maxsize=64)
def _lanes_named(checksum: str, xml: str, names: tuple[tuple[str, str], ...]) -> str:
    labels = dict(names)
    root = load_bpmn_tree(xml, max_bytes=len(xml.encode("utf-8")) + 1)
    renamed = 0
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        role = lane_role(lane.get("name"))
        if role in labels:
            lane.set("name", labels[role])
            renamed += 1
    if not renamed:
        return xml
    return etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True).decode()


def _instance_of(req: ServiceRequest) -> ProcessInstance | None:
    return db.session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.tenant_id == req.tenant_id, ProcessInstance.request_id == req.id)
        .options(joinedload(ProcessInstance.definition))
    )


def _completions(req: ServiceRequest) -> dict[str, list[Done]]:
    """Who completed each user task and when, oldest first; one query for all of them."""
    rows = db.session.execute(
        select(HumanTask.spec_id, HumanTask.completed_at, User.name)
        .outerjoin(User, (User.id == HumanTask.completed_by_id)
                   & (User.tenant_id == HumanTask.tenant_id))
        .where(HumanTask.tenant_id == req.tenant_id, HumanTask.request_id == req.id,
               HumanTask.status == "completed")
        .order_by(HumanTask.completed_at, HumanTask.id)
    )
    steps: dict[str, list[Done]] = defaultdict(list)
    for spec_id, completed_at, name in rows:
        steps[spec_id].append(Done(by=name, at=completed_at))
    return dict(steps)


def _team_named(task) -> list[str]:
    """A ``Team`` lane's task nobody holds waits on its team, by name (not "Team")."""
    from app.teams import service as teams

    return [teams.waiting_label(task)]


def current_steps(req: ServiceRequest, waiting=None) -> list[Current]:
    """The open user tasks of the request with whom they wait on (the "Where it stands" data);
    ``waiting`` takes the (task, people) pairs the caller may already have."""
    if waiting is None:
        waiting = [(task, inbox.candidates(task)) for task in inbox.open_tasks_for_request(req)]
    return [
        Current(element_id=task.spec_id, name=task.name, role=task.role,
                waiting_on=_team_named(task) if task.role == "team" and task.claimed_by is None
                else [person.name for person in people],
                taken_by=task.claimed_by.name if task.claimed_by is not None else None)
        for task, people in waiting
    ]


def trail_of(req: ServiceRequest, waiting=None) -> Trail | None:
    """The diagram of ``req``'s process version with its path; None if it has no instance."""
    row = _instance_of(req)
    if row is None:
        return None
    definition = row.definition
    trail = Trail(xml=definition.bpmn_xml, version=definition.version,
                  checksum=definition.checksum)
    trail.current = current_steps(req, waiting)
    trail.steps = _completions(req)
    try:
        instance = workflow.restore_instance(row, OperationContext(req, None))
    except workflow.WorkflowError as exc:  # the page still shows the steps from the database
        log.warning("request %s: no path for its diagram: %s", req.id, exc)
        return trail
    flows_between = _flows_between(definition.checksum, definition.bpmn_xml)

    completed, flows, last_state = {}, {}, {}
    for element_id, came_from, state, _at in instance.trail():
        if state == "completed":
            completed.setdefault(element_id, None)
        last_state[element_id] = state
        if came_from is not None:
            for flow_id in flows_between.get((came_from, element_id), ()):
                flows.setdefault(flow_id, None)
    trail.completed = list(completed)
    trail.flows = list(flows)
    trail.stopped = [eid for eid, state in last_state.items() if state == "cancelled"]
    if row.status == "incident":  # the step a diagram error stopped it at
        trail.stopped += [i.element_id for i in incidents.open_of_request(req)
                          if i.element_id not in trail.stopped]
    return trail
