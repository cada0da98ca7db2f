"""The process heatmap: where a process version's requests spend their time.

Per element of one version of a process (``element_passes``, written by every engine step):

- ``passes``: passes that ended by going on (completed) in the period; ``requests``: how many
  requests made them; ``cut_short``: passes that ended otherwise in the period (a withdrawal,
  an interrupting timer, a move to another version);
- ``median_minutes``/``p90_minutes``: the time those completed passes took, from entering the
  element to leaving it, in business time of the company's default business calendar
  (wall-clock time when it has none), over at most ``SAMPLE`` passes per element, the latest
  to end (``sampled`` says when there were more);
- ``waiting``: passes open now that began before the period ended (requests waiting there);
- per sequence flow, ``taken``: how many times it was taken in the period (a flow is taken when
  the pass after it opens; a branch that arrives at a join counts, though it merges there).

The requests counted are the caller's (``view_of``: the same scope and filters as the
indicators page); the period is the page's. Every query is one GROUP BY over the version's
passes in the period, except the durations' sample (one bounded query).

Requests filed before the heatmap existed have passes only for their user tasks (taken from
their inbox rows by migration ``0013_element_passes``): their flows and their automatic
elements are not known, and those user-task passes count for the version the request was on
when the heatmap came.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import undefer

from app import policy
from app.engine.xml import BPMN_NS, load_bpmn_tree
from app.extensions import db
from app.indicators import figures, filters, stages
from app.models import PRIORITIES, ElementPass, ProcessDefinition, ServiceRequest, User
from app.models.base import utcnow
from app.services import definitions
from app.tenancy import clock

SAMPLE = 1000  # completed passes per element whose durations give its median and p90
CUT_SHORT = ("cancelled", "moved")
# Filters a process owner without an indicators role may not use (see ``view_of``)
UNIT_FILTERS = ("unit_id", "service_unit_id", "worker_id")
_NODE_SUFFIXES = ("Task", "Event", "Gateway")
_NODE_NAMES = {"task", "subProcess", "callActivity", "transaction"}


# --- who sees what -----------------------------------------------------------------------------

@dataclass(frozen=True)
class View:
    """A heatmap view: the period and filters, and the WHERE on ServiceRequest they give."""

    filters: filters.Filters
    clause: object
    whole_company: bool


def may_view(user: User) -> bool:
    """Whether ``user`` sees the heatmap at all: whoever sees indicators, and process
    owners."""
    return bool(user and user.is_authenticated
                and (policy.can_own_processes(user) or not filters.scope_of(user).empty))


def _narrowed(args) -> bool:
    return any((args.get(name) or "").strip() for name in UNIT_FILTERS)


def view_of(user: User, args, now: datetime | None = None) -> View:
    """The view ``args`` asks for, for ``user``.

    Tenant admins, service directors and unit heads get the indicators' own scope and filters
    (``filters.parse``). A process owner sees the whole company's passes through the process
    they own, with the period, category and priority filters: not narrowed by unit, service
    unit or worker, which would make them one unit's indicators (the indicators roles' own).
    A process owner with an indicators role as well gets that role's scope when they narrow
    by unit, service unit or worker. Raises ``PermissionError`` (no such role) or
    ``filters.FilterError`` (a bad value: 422, or out of scope: 404)."""
    owner = policy.can_own_processes(user)
    if not owner or _narrowed(args):
        if owner and filters.scope_of(user).empty:
            name = next(n for n in UNIT_FILTERS if (args.get(n) or "").strip())
            raise filters.FilterError(404, name, filters.NOT_FOUND)
        f = filters.parse(user, args, now)
        scope = filters.scope_of(user)
        return View(f, filters.request_clause(user, f), scope.whole_company)
    return _company_view(user, args, now)


def _company_view(user: User, args, now: datetime | None) -> View:
    """A process owner's view: the company's requests, by period, category and priority."""
    tenant = user.tenant
    start, end, preset = filters._period(args, clock.today(tenant, now or utcnow()))
    category_id = filters._id(args, "category_id")
    if category_id is not None:
        filters._check_category(
            filters.Scope(user.tenant_id, True, frozenset(), frozenset()), category_id)
    priority = (args.get("priority") or "").strip() or None
    if priority is not None and priority not in PRIORITIES:
        raise filters.FilterError(422, "priority", _l("Choose one of the listed priorities."))
    f = filters.Filters(tenant_id=user.tenant_id, zone=clock.zone(tenant), start=start,
                        end=end, preset=preset, category_id=category_id, priority=priority)
    parts = [ServiceRequest.tenant_id == user.tenant_id]
    if category_id is not None:
        parts.append(ServiceRequest.category_id == category_id)
    if priority is not None:
        parts.append(ServiceRequest.priority == priority)
    return View(f, and_(*parts), True)


# --- the version and its diagram ---------------------------------------------------------------

def versions(tenant_id: int, process_key: str) -> list[ProcessDefinition]:
    """The company's versions of a process, newest first (without their diagrams)."""
    return list(db.session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.tenant_id == tenant_id,
                                        ProcessDefinition.process_key == process_key)
        .order_by(ProcessDefinition.version.desc())))


def process_keys(tenant_id: int) -> list[str]:
    """The company's processes that have a version (the default one always)."""
    definitions.active_definition(tenant_id)
    return sorted(set(db.session.scalars(
        select(ProcessDefinition.process_key).where(ProcessDefinition.tenant_id == tenant_id))))


def find_version(tenant_id: int, process_key: str, number: int | None
                 ) -> ProcessDefinition | None:
    """A version of the company's process with its diagram; ``number`` None: the active one."""
    if process_key == definitions.DEFAULT_PROCESS_KEY:
        definitions.active_definition(tenant_id)  # the default process always exists
    stmt = select(ProcessDefinition).options(undefer(ProcessDefinition.bpmn_xml)).where(
        ProcessDefinition.tenant_id == tenant_id, ProcessDefinition.process_key == process_key)
    if number is None:
        stmt = stmt.where(ProcessDefinition.is_active.is_(True))
    else:
        stmt = stmt.where(ProcessDefinition.version == number)
    return db.session.scalar(stmt)


@dataclass(frozen=True)
class Element:
    id: str
    name: str
    kind: str  # the BPMN element: userTask, exclusiveGateway, boundaryEvent...


@dataclass(frozen=True)
class Flow:
    id: str
    name: str
    source: str
    target: str


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


@lru_cache(maxsize=64)
def diagram(checksum: str, xml: str) -> tuple[tuple[Element, ...], tuple[Flow, ...]]:
    """The elements (flow nodes, in the diagram's order) and sequence flows of a version.
    ``checksum`` keys the cache; the XML is the stored, validated version, read through the
    one hardened loader."""
    root = load_bpmn_tree(xml, max_bytes=len(xml.encode("utf-8")) + 1)
    elements, flows = [], []
    for node in root.iter(f"{{{BPMN_NS}}}*"):
        kind, node_id = _local(node.tag), node.get("id")
        if not node_id:
            continue
        if kind == "sequenceFlow":
            flows.append(Flow(node_id, node.get("name") or "", node.get("sourceRef") or "",
                              node.get("targetRef") or ""))
        elif kind.endswith(_NODE_SUFFIXES) or kind in _NODE_NAMES:
            if kind.endswith("EventDefinition"):
                continue
            elements.append(Element(node_id, " ".join((node.get("name") or "").split()), kind))
    return tuple(elements), tuple(flows)


# --- the figures -------------------------------------------------------------------------------

def _passes(view: View, definition: ProcessDefinition, *columns):
    return (select(*columns)
            .join(ServiceRequest, ServiceRequest.id == ElementPass.request_id)
            .where(ElementPass.tenant_id == view.filters.tenant_id,
                   ElementPass.definition_id == definition.id, view.clause))


def _ended_in(view: View):
    f = view.filters
    return and_(ElementPass.left_at >= f.start_at, ElementPass.left_at < f.end_at)


def _ended(view: View, definition: ProcessDefinition) -> dict[str, dict]:
    """Per element: passes completed (``timed``: those that took any time), requests that
    completed one, passes cut short. Grouped by request first: cheaper than counting distinct
    requests per element."""
    timed = case((ElementPass.left_at > ElementPass.entered_at, 1), else_=0)
    per_request = _passes(view, definition, ElementPass.element_id, ElementPass.state,
                          ElementPass.request_id, func.count().label("n"),
                          func.sum(timed).label("timed")) \
        .where(_ended_in(view), ElementPass.state.in_(("completed", *CUT_SHORT))) \
        .group_by(ElementPass.element_id, ElementPass.state, ElementPass.request_id).subquery()
    rows = db.session.execute(
        select(per_request.c.element_id, per_request.c.state, func.count(),
               func.sum(per_request.c.n), func.sum(per_request.c.timed))
        .group_by(per_request.c.element_id, per_request.c.state))
    found: dict[str, dict] = defaultdict(
        lambda: {"passes": 0, "requests": 0, "cut_short": 0, "timed": 0})
    for element_id, state, requests, count, timed_count in rows:
        if state == "completed":
            found[element_id]["passes"] += int(count)
            found[element_id]["requests"] += requests
            found[element_id]["timed"] += int(timed_count or 0)
        else:
            found[element_id]["cut_short"] += int(count)
    return found


def _waiting(view: View, definition: ProcessDefinition) -> dict[str, int]:
    return dict(db.session.execute(
        _passes(view, definition, ElementPass.element_id, func.count())
        .where(ElementPass.left_at.is_(None), ElementPass.entered_at < view.filters.end_at)
        .group_by(ElementPass.element_id)).all())


def _arrivals(view: View, definition: ProcessDefinition) -> dict[tuple[str, str], int]:
    """(came from, element) -> passes opened in the period."""
    f = view.filters
    rows = db.session.execute(
        _passes(view, definition, ElementPass.came_from, ElementPass.element_id, func.count())
        .where(ElementPass.came_from.is_not(None), ElementPass.entered_at >= f.start_at,
               ElementPass.entered_at < f.end_at)
        .group_by(ElementPass.came_from, ElementPass.element_id))
    return {(source, target): count for source, target, count in rows}


def _requests(view: View, definition: ProcessDefinition) -> int:
    """Requests with a pass that ended in the period."""
    ids = _passes(view, definition, ElementPass.request_id).where(_ended_in(view)).distinct()
    return db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0


def _minutes(calendar, entered_at: datetime, left_at: datetime) -> float:
    if calendar is None:
        return (left_at - entered_at).total_seconds() / 60
    return calendar.business_time(entered_at, left_at).total_seconds() / 60


def _durations(view: View, definition: ProcessDefinition, calendar,
               ended: dict[str, dict]) -> dict[str, list]:
    """Per element, the minutes its completed passes of the period took, ascending: the
    passes that took no time (a decision, an automatic step...) are counted, not read; of
    the others, the latest ``SAMPLE`` to end are read. When there were more, the passes that
    took no time join the sample in their share of all."""
    ranked = _passes(
        view, definition, ElementPass.element_id, ElementPass.entered_at, ElementPass.left_at,
        func.row_number().over(partition_by=ElementPass.element_id,
                               order_by=(ElementPass.left_at.desc(), ElementPass.id.desc()))
        .label("rank"),
    ).where(_ended_in(view), ElementPass.state == "completed",
            ElementPass.left_at > ElementPass.entered_at).subquery()
    rows = db.session.execute(select(ranked.c.element_id, ranked.c.entered_at,
                                     ranked.c.left_at).where(ranked.c.rank <= SAMPLE))
    minutes: dict[str, list] = defaultdict(list)
    for element_id, entered_at, left_at in rows:
        minutes[element_id].append(_minutes(calendar, entered_at, left_at))
    for element_id, counts in ended.items():
        timed, instant = counts["timed"], counts["passes"] - counts["timed"]
        if instant > 0 and timed > SAMPLE:
            instant = round(instant * SAMPLE / timed)
        minutes[element_id] = [0.0] * instant + sorted(minutes.get(element_id, ()))
    return minutes


def heatmap(view: View, definition: ProcessDefinition) -> dict:
    """The figures of ``definition`` (loaded with its diagram) in ``view``: JSON-ready."""
    f = view.filters
    elements, flows = diagram(definition.checksum, definition.bpmn_xml)
    calendar = stages.company_calendar(f.tenant_id)
    ended = _ended(view, definition)
    waiting = _waiting(view, definition)
    minutes = _durations(view, definition, calendar, ended)
    arrivals = _arrivals(view, definition)
    listed = list(elements)
    known = {e.id for e in elements}
    for element_id in sorted((set(ended) | set(waiting)) - known):  # not drawn: still listed
        listed.append(Element(element_id, "", ""))
    rows = []
    for element in listed:
        counts = ended.get(element.id, {"passes": 0, "requests": 0, "cut_short": 0})
        sample = minutes.get(element.id, [])
        rows.append({
            "id": element.id, "name": element.name, "kind": element.kind,
            "passes": counts["passes"], "requests": counts["requests"],
            "cut_short": counts["cut_short"],
            "waiting": waiting.get(element.id, 0),
            "median_minutes": figures.quantile(sample, 0.5),
            "p90_minutes": figures.quantile(sample, 0.9),
            "sampled": counts["passes"] > len(sample),
        })
    # Flows between the same two elements (rare) share their count: the engine does not say
    # which one was taken, so the first of them in the diagram gets it
    counted: set[tuple[str, str]] = set()
    flow_rows = []
    for flow in flows:
        pair = (flow.source, flow.target)
        taken = arrivals.get(pair, 0) if pair not in counted else 0
        counted.add(pair)
        flow_rows.append({"id": flow.id, "name": flow.name, "source": flow.source,
                          "target": flow.target, "taken": taken})
    return {
        "filters": f.as_json(),
        "process_key": definition.process_key,
        "version": definition.version,
        "active": definition.is_active,
        "deployed_at": definition.created_at.isoformat() if definition.created_at else None,
        "measure": "wall_clock" if calendar is None else "business",
        "sample": SAMPLE,
        "requests": _requests(view, definition),
        "elements": rows,
        "flows": flow_rows,
    }
