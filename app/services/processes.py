"""What process owners do with their tenant's processes: versions, diffs, bulk migration.

Deploying is ``definitions.deploy`` (validate, store an immutable version, make it active).
Running requests stay on their version until moved here, in bulk, after a dry run.
"""

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.admin import audit
from app.engine import changes, migration
from app.engine.runner import EngineError
from app.extensions import db
from app.handlers.base import OperationContext
from app.models import ProcessDefinition, ProcessDraft, ProcessInstance, ServiceRequest, User
from app.services import definitions, drafts, workflow
from app.tenancy import quotas

# A process key: how a tenant names a process (URLs, categories); not the diagram's own id.
PROCESS_KEY = re.compile(r"^[a-z][a-z0-9_]{1,79}$")


def is_process_key(key: str) -> bool:
    return bool(PROCESS_KEY.match(key or ""))


class DeployConflict(Exception):
    """Someone else deployed the same process at the same moment."""


def deploy(tenant_id: int, process_key: str, xml: str, user: User | None,
           note: str = "", *, keep_draft: bool = False) -> ProcessDefinition:
    """Validate and deploy a diagram as the new active version, and drop the draft it came
    from. Raises DiagramError (nothing stored), DeployConflict, or QuotaExceeded (a new
    process key past the plan's ``custom_processes``). The deploy is audited."""
    quotas.require_new_process_key(tenant_id, process_key)
    try:
        with db.session.begin_nested():
            definition = definitions.deploy(tenant_id, xml, process_key=process_key,
                                            user=user, note=note)
    except IntegrityError:
        raise DeployConflict(process_key) from None
    if not keep_draft:
        drafts.discard_draft(tenant_id, process_key)
    audit.record(tenant_id, user, "process.deployed", "process_definition", definition.id,
                 target_label=f"{process_key} v{definition.version}",
                 after={"process_key": process_key, "version": definition.version,
                        "checksum": definition.checksum, "note": note},
                 actor_label=None if user is not None else "system")
    return definition


def process_keys(tenant_id: int) -> list[str]:
    """The tenant's processes: every key with a version or a draft (the default one always)."""
    definitions.active_definition(tenant_id)
    keys = set(db.session.scalars(select(ProcessDefinition.process_key).where(
        ProcessDefinition.tenant_id == tenant_id)))
    keys |= set(db.session.scalars(select(ProcessDraft.process_key).where(
        ProcessDraft.tenant_id == tenant_id)))
    return sorted(keys)


def deployed_keys(tenant_id: int) -> list[str]:
    """Processes a category can use: those with an active version."""
    definitions.active_definition(tenant_id)
    return sorted(set(db.session.scalars(select(ProcessDefinition.process_key).where(
        ProcessDefinition.tenant_id == tenant_id, ProcessDefinition.is_active.is_(True)))))


def versions(tenant_id: int, process_key: str = definitions.DEFAULT_PROCESS_KEY):
    """Every version, newest first."""
    return list(db.session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.tenant_id == tenant_id,
                                        ProcessDefinition.process_key == process_key)
        .order_by(ProcessDefinition.version.desc())))


def version(tenant_id: int, process_key: str, number: int) -> ProcessDefinition | None:
    return db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.tenant_id == tenant_id, ProcessDefinition.process_key == process_key,
        ProcessDefinition.version == number))


def diff(old: ProcessDefinition, new: ProcessDefinition) -> migration.VersionDiff:
    return migration.compare(definitions.compiled(old), definitions.compiled(new))


def expression_changes(old: ProcessDefinition, new: ProcessDefinition):
    """Conditions, timers and parameters whose text changed: old and new text."""
    return changes.expression_changes(old.bpmn_xml, new.bpmn_xml)


def reset_to_default(tenant_id: int, user: User,
                     process_key: str = definitions.DEFAULT_PROCESS_KEY) -> ProcessDefinition:
    """Deploy the product's default diagram again, as a new version like any other."""
    return deploy(tenant_id, process_key, definitions.default_diagram(process_key), user,
                  note="reset to the default diagram", keep_draft=True)


class UnknownProcess(ValueError):
    """A category was pointed at a process the tenant has not deployed."""


def set_category_process(category, process_key: str, actor: User | None = None) -> None:
    """Make a category's new requests follow another of the tenant's deployed processes.
    Requests already filed keep the process (and version) they started with. A change is
    audited (``actor`` did it; None: the system)."""
    if process_key not in deployed_keys(category.tenant_id):
        raise UnknownProcess(process_key)
    before = category.process_key
    category.process_key = process_key
    if before != process_key:
        audit.record(category.tenant_id, actor, "category.process_changed", "category",
                     category.id, target_label=category.name,
                     before={"process_key": before}, after={"process_key": process_key},
                     actor_label=None if actor is not None else "system")


@dataclass
class MoveCheck:
    request: ServiceRequest
    from_version: int
    to_version: int
    reasons: list[str]

    @property
    def movable(self) -> bool:
        return not self.reasons


def _running_on_old_versions(tenant_id: int, process_key: str, active: ProcessDefinition):
    return list(db.session.scalars(
        select(ProcessInstance)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.tenant_id == tenant_id,
               ProcessInstance.status.in_(("running", "incident")),
               ProcessDefinition.process_key == process_key,
               ProcessDefinition.id != active.id)
        .order_by(ProcessInstance.id)))


def plan(tenant_id: int, process_key: str = definitions.DEFAULT_PROCESS_KEY) -> list[MoveCheck]:
    """Dry run: for each running request on an older version, whether it can move and why not."""
    active = definitions.active_definition(tenant_id, process_key)
    target = definitions.compiled(active)
    checks = []
    for row in _running_on_old_versions(tenant_id, process_key, active):
        try:
            instance = workflow.restore_instance(row, OperationContext(row.request, None))
            reasons = migration.blockers(instance, target)
        except (workflow.WorkflowError, EngineError) as exc:
            reasons = [str(exc)]
        checks.append(MoveCheck(row.request, row.definition.version, active.version, reasons))
    return checks


def move_all(user: User, tenant_id: int,
             process_key: str = definitions.DEFAULT_PROCESS_KEY) -> list[MoveCheck]:
    """Move every movable request to the active version, each in a savepoint of its own: a
    failure leaves that request as it was. Returns the plan with what happened."""
    results = []
    for check in plan(tenant_id, process_key):
        if check.movable:
            try:
                with db.session.begin_nested():
                    workflow.migrate_instance(user, check.request, check.to_version)
            except (workflow.WorkflowError, workflow.TaskConflict, EngineError) as exc:
                check.reasons.append(str(exc))
        results.append(check)
    moved = [c for c in results if c.movable]
    if moved:
        audit.record(tenant_id, user, "process.instances_migrated", "process", None,
                     target_label=process_key,
                     before={"versions": sorted({c.from_version for c in moved})},
                     after={"version": moved[0].to_version,
                            "requests": [c.request.number for c in moved],
                            "not_moved": [c.request.number for c in results if not c.movable]})
    return results

