"""The catalog: process templates shipped with the product (``processes/<file>``), which a
process owner adopts as a new process of the company and then edits like any other.

Each template says its kind of work, its name and description in each language (Spanish as
written, English marked for the translation catalog), the teams its diagram hands tasks to and
the checklists of step-by-step instructions its steps show.
"""

from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.checklists.defaults import CHECKLIST_KEYS
from app.services.definitions import PROCESSES_DIR

LANGUAGES = ("es", "en")


@dataclass(frozen=True)
class Text:
    """A text in Spanish (as the product writes it) and in English (through the catalog)."""

    es: str
    en: object  # a lazy string

    def get(self, locale: str | None) -> str:
        if (locale or "es").startswith("en"):
            with force_locale("en"):
                return str(self.en)
        return self.es

    def by_language(self) -> dict[str, str]:
        return {language: self.get(language) for language in LANGUAGES}


@dataclass(frozen=True)
class Team:
    key: str
    name: Text

    def names(self) -> dict[str, str]:
        return self.name.by_language()


@dataclass(frozen=True)
class Template:
    key: str
    file: str
    kind: str
    name: Text
    description: Text
    teams: tuple[Team, ...] = ()
    # Keys of the checklists of step-by-step instructions its steps carry (app.checklists)
    checklists: tuple[str, ...] = ()
    # What a company sets up for it to work as meant (shown on its card)
    needs: tuple[Text, ...] = field(default=())

    @property
    def path(self) -> Path:
        return PROCESSES_DIR / self.file

    @property
    def available(self) -> bool:
        return self.path.is_file()

    def xml(self) -> str:
        return self.path.read_text(encoding="utf-8")


TEMPLATES = (
    Template(
        key="incident", file="incident.bpmn", kind="incident",
        name=Text("Incidente", _l("Incident")),
        description=Text(
            "Algo dejó de funcionar: se clasifica, se prioriza por impacto y urgencia con la "
            "matriz de la empresa, se asigna solo al trabajador menos cargado y, si la primera "
            "línea no lo resuelve a tiempo, pasa a la segunda línea. El solicitante confirma la "
            "solución. Sin autorización del jefe de unidad.",
            _l("Something stopped working: it is classified, prioritized by impact and urgency "
               "with the company's matrix, assigned to the least-loaded worker on its own and, "
               "when the first line does not solve it in time, handed to the second line. The "
               "requester confirms the solution. No unit head's authorization.")),
        teams=(Team("second_line", Text("Segunda línea", _l("Second line"))),),
        needs=(
            Text("La matriz de prioridad de la empresa (Procesos > Matriz de prioridad).",
                 _l("The company's priority matrix (Processes > Priority matrix).")),
            Text("Campos de la categoría «impact» y «urgency» (alto, medio, bajo) para la "
                 "prioridad; sin ellos se mantiene la prioridad con que se registró.",
                 _l("The category's fields 'impact' and 'urgency' (high, medium, low) for the "
                    "priority; without them the priority it was filed with is kept.")),
            Text("Miembros en el equipo «Segunda línea».",
                 _l("Members in the team 'Second line'.")),
        ),
    ),
    Template(
        key="change_request", file="change_request.bpmn", kind="change",
        name=Text("Solicitud de cambio (RFC)", _l("Change request (RFC)")),
        description=Text(
            "Evaluación de riesgo e impacto, aprobación del comité de cambios (todos, uno o la "
            "mayoría), ventana de implementación, implementación, revisión posterior y "
            "reversión si la revisión falla.",
            _l("Risk and impact assessment, approval by the change board (all, any one or a "
               "majority), an implementation window, implementation, a post-implementation "
               "review and a rollback when the review fails.")),
        teams=(Team("change_board", Text("Comité de cambios", _l("Change board"))),),
        needs=(Text("Miembros en el equipo «Comité de cambios».",
                    _l("Members in the team 'Change board'.")),),
    ),
    Template(
        key="security_incident", file="security_incident.bpmn", kind="security_incident",
        name=Text("Incidente de seguridad", _l("Security incident")),
        description=Text(
            "Triage por severidad, contención, erradicación, recuperación y lecciones "
            "aprendidas, cada paso con sus instrucciones paso a paso como lista de chequeo; la "
            "severidad decide a quién se alerta de inmediato.",
            _l("Triage by severity, containment, eradication, recovery and lessons learned, "
               "each step with its step-by-step instructions as a checklist; the severity "
               "decides who is alerted at once.")),
        teams=(Team("security", Text("Equipo de seguridad", _l("Security team"))),),
        needs=(Text("Miembros en el equipo «Equipo de seguridad» y las instrucciones de cada "
                    "paso (Listas de chequeo).",
                    _l("Members in the team 'Security team' and each step's instructions "
                       "(Checklists).")),),
        checklists=CHECKLIST_KEYS.get("security_incident", ()),
    ),
    Template(
        key="service_request", file="service_request.bpmn", kind="request",
        name=Text("Solicitud de servicio", _l("Service request")),
        description=Text(
            "El proceso de siempre: autorización del jefe de la unidad, evaluación de "
            "viabilidad, asignación, trabajo y confirmación del solicitante.",
            _l("The usual process: the unit head's authorization, a viability evaluation, "
               "assignment, the work and the requester's confirmation.")),
    ),
)

BY_KEY = {t.key: t for t in TEMPLATES}


def get(key: str) -> Template | None:
    """The template ``key`` when its diagram ships with this installation."""
    template = BY_KEY.get(key)
    return template if template is not None and template.available else None


def available() -> list[Template]:
    return [t for t in TEMPLATES if t.available]
