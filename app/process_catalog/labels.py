"""English names of the catalog templates' steps (the diagrams are written in Spanish): marked
here so the translation catalog carries them and pages show a step in the reader's language
(merged into ``app.labels.STEP``). Authors of a template add its names to its dict."""

from flask_babel import lazy_gettext as _l

LABELS = {
    "incident": {
        "Incidente registrado": _l("Incident filed"),
        "Clasificar": _l("Classify"),
        "Priorizar por impacto y urgencia": _l("Prioritize by impact and urgency"),
        "Asignar automáticamente": _l("Assign automatically"),
        "Crear ticket": _l("Create ticket"),
        "Iniciar trabajo": _l("Start work"),
        "Resolver en primera línea": _l("Resolve at the first line"),
        "Reanudar trabajo": _l("Resume work"),
        "Tiempo de primera línea agotado": _l("First-line time is up"),
        "Escalar a segunda línea": _l("Escalate to the second line"),
        "Resolver en segunda línea": _l("Resolve at the second line"),
        "Confirmar y calificar": _l("Confirm and rate"),
        "¿Resuelto?": _l("Solved?"),
        "¿Escalado?": _l("Escalated?"),
        "¿Resultado?": _l("Outcome?"),
        "Cerrar incidente": _l("Close the incident"),
        "Cerrar automáticamente": _l("Close automatically"),
        "Cierre automático": _l("Automatic closing"),
        "Incidente resuelto": _l("Incident resolved"),
        "Cerrado automáticamente": _l("Closed automatically"),
    },
    "change_request": {},
    "security_incident": {},
}


def steps() -> dict:
    """Every template's step names, Spanish -> English (lazy)."""
    merged = {}
    for names in LABELS.values():
        merged.update(names)
    return merged
