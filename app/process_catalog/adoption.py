"""Adopting a catalog template: the company gets its own process from it, as a draft or as a
first version, with the teams and checklists the template names. Only flushes: the caller
(a page or the API) commits, so everything lands together or not at all."""

from dataclasses import dataclass

from sqlalchemy import text

from app.admin import audit
from app.extensions import db
from app.models import ProcessDefinition, ProcessDraft, User
from app.process_catalog import templates
from app.services import drafts, processes
from app.tenancy import quotas


class AdoptError(ValueError):
    """Why a template cannot be adopted under that key; ``code`` for the API, the message in
    words for a person (translated by the caller)."""

    def __init__(self, code: str, key: str = ""):
        super().__init__(code)
        self.code = code
        self.key = key


@dataclass
class Adopted:
    template: templates.Template
    process_key: str
    draft: ProcessDraft | None = None
    definition: ProcessDefinition | None = None
    teams: tuple[str, ...] = ()
    checklists: tuple[str, ...] = ()


def adopt(tenant_id: int, template_key: str, user: User | None, process_key: str | None = None,
          deploy: bool = False) -> Adopted:
    """Create the company's process ``process_key`` (default: the template's key) from the
    template: a draft, or with ``deploy`` its first version (validated like any diagram; the
    plan's ``custom_processes`` counts it unless the key is a built-in one). Creates the teams
    the template names (empty when new) and the checklists it needs. Raises AdoptError
    ("unknown_template", "invalid_key", "key_taken"), QuotaExceeded, DiagramError or
    DeployConflict before anything is kept."""
    template = templates.get(template_key)
    if template is None:
        raise AdoptError("unknown_template", template_key)
    key = (process_key or template.key).strip().lower()
    if not processes.is_process_key(key):
        raise AdoptError("invalid_key", key)
    _one_adoption_at_a_time(tenant_id, key)
    if key in processes.process_keys(tenant_id):
        raise AdoptError("key_taken", key)
    quotas.require_new_process_key(tenant_id, key)  # also for a draft: said now, not at deploy
    xml = template.xml()
    adopted = Adopted(template, key)
    if deploy:
        adopted.definition = processes.deploy(tenant_id, key, xml, user,
                                              note=f"catalog: {template.key}")
    else:
        adopted.draft = drafts.save_draft(tenant_id, key, xml, user)
    adopted.teams = _ensure_teams(tenant_id, template)
    adopted.checklists = _ensure_checklists(tenant_id, key, template, user)
    audit.record(tenant_id, user, "process.adopted", "process", None, target_label=key,
                 after={"template": template.key, "process_key": key,
                        "deployed": bool(deploy),
                        "version": adopted.definition.version if adopted.definition else None,
                        "teams": list(adopted.teams), "checklists": list(adopted.checklists)})
    return adopted


def _one_adoption_at_a_time(tenant_id: int, key: str) -> None:
    """On PostgreSQL, adoptions of one key in one company take turns until their commit (a
    transaction advisory lock), so the second sees the first's process and is refused as
    taken: without it both passed the check, and the second deployed its template as version
    2 over the first (or replaced its draft). SQLite serializes writers already."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                           {"key": f"adopt:{tenant_id}:{key}"})


def _ensure_teams(tenant_id: int, template: templates.Template) -> tuple[str, ...]:
    if not template.teams:
        return ()
    from app.teams import service as teams

    for team in template.teams:
        teams.ensure(tenant_id, team.key, team.names())
    return tuple(team.key for team in template.teams)


def _ensure_checklists(tenant_id: int, process_key: str, template: templates.Template,
                       user: User | None) -> tuple[str, ...]:
    if not template.checklists:
        return ()
    from app.checklists import service as checklists

    checklists.ensure_defaults(tenant_id, process_key, template.key, user)
    return template.checklists
