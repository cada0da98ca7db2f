"""Process definitions per tenant: the default diagram, the active version, compiled specs."""

from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.engine import sandbox
from app.engine.specs import CompiledProcess, checksum_of, compile_process, spec_cache
from app.extensions import db
from app.kinds import diagram as kinds_diagram
from app.models import ProcessDefinition

PROCESSES_DIR = Path(__file__).resolve().parent.parent.parent / "processes"
DEFAULT_PROCESS_KEY = "service_request"


def _names():
    from app.handlers.registry import OPERATIONS, TASK_HANDLERS

    return set(TASK_HANDLERS), set(OPERATIONS)


def default_diagram(process_key: str = DEFAULT_PROCESS_KEY) -> str:
    return (PROCESSES_DIR / f"{process_key}.bpmn").read_text(encoding="utf-8")


def _checks(tenant_id: int | None = None, process_key: str | None = None) -> dict:
    """What a new diagram is checked with: every handler and operation, the data vocabulary
    and the host's sample data (versions already deployed are compiled without the last two).
    With a company and process key, the fields of its categories following that process are
    known data too (``app.request_fields.process``)."""
    from app.handlers.registry import DATA_VOCABULARY, HOST_DATA

    vocabulary, host = DATA_VOCABULARY, HOST_DATA
    if tenant_id is not None and process_key is not None:
        from app.request_fields import process as request_fields

        vocabulary, host = request_fields.extended(tenant_id, process_key, vocabulary, host)
    handlers, operations = _names()
    return {"handler_names": handlers, "operation_names": operations,
            "max_bytes": current_app.config["MAX_DIAGRAM_BYTES"],
            "vocabulary": vocabulary, "host": host}


def check_diagram(xml: str | bytes, tenant_id: int | None = None,
                  process_key: str | None = None) -> str:
    """Validate a diagram a tenant supplied, in a child process within the CPU and memory
    budget of the settings (``engine.sandbox``); returns its executable process id or raises
    DiagramError. What validate and deploy run."""
    config = current_app.config
    budget = sandbox.Budget(cpu_seconds=config["DIAGRAM_CPU_SECONDS"],
                            memory_mb=config["DIAGRAM_MEMORY_MB"])
    return sandbox.check(xml, budget, **_checks(tenant_id, process_key))


def compile_xml(xml: str | bytes, tenant_id: int | None = None,
                process_key: str | None = None) -> CompiledProcess:
    """The same checks in this process, with the compiled result (tests and tools)."""
    return compile_process(xml, **_checks(tenant_id, process_key))


def compiled(definition: ProcessDefinition) -> CompiledProcess:
    handlers, operations = _names()
    return spec_cache.get(lambda: definition.bpmn_xml, definition.checksum, handlers,
                          operations)


def deploy(tenant_id: int, xml: str, *, process_key: str = DEFAULT_PROCESS_KEY,
           user=None, note: str = "") -> ProcessDefinition:
    """Validate and store a new active version; earlier versions stay for running instances."""
    process_id = check_diagram(xml, tenant_id, process_key)
    last = db.session.scalar(
        select(func.max(ProcessDefinition.version)).where(
            ProcessDefinition.tenant_id == tenant_id,
            ProcessDefinition.process_key == process_key,
        )
    ) or 0
    db.session.execute(
        db.update(ProcessDefinition)
        .where(ProcessDefinition.tenant_id == tenant_id,
               ProcessDefinition.process_key == process_key)
        .values(is_active=False)
    )
    definition = ProcessDefinition(
        tenant_id=tenant_id,
        process_key=process_key,
        version=last + 1,
        bpmn_process_id=process_id,
        bpmn_xml=xml,
        checksum=checksum_of(xml),
        kind=kinds_diagram.kind_of_xml(xml, process_id),
        is_active=True,
        note=note,
        created_by_id=user.id if user is not None else None,
    )
    db.session.add(definition)
    db.session.flush()
    return definition


def active_definition(tenant_id: int, process_key: str = DEFAULT_PROCESS_KEY) -> ProcessDefinition:
    definition = db.session.scalar(
        select(ProcessDefinition).where(
            ProcessDefinition.tenant_id == tenant_id,
            ProcessDefinition.process_key == process_key,
            ProcessDefinition.is_active.is_(True),
        )
    )
    if definition is None:
        definition = deploy(tenant_id, default_diagram(process_key), process_key=process_key,
                            note="default diagram")
    return definition
