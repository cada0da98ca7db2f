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
    "change_request": {
        "RFC registrada": _l("RFC filed"),
        "Evaluar riesgo e impacto": _l("Assess risk and impact"),
        "Abrir votación del comité": _l("Open the change board's vote"),
        "Votar el cambio": _l("Vote on the change"),
        "¿Aprobado por el comité?": _l("Approved by the board?"),
        "Marcar RFC rechazada": _l("Mark the RFC rejected"),
        "Avisar al solicitante": _l("Tell the requester"),
        "RFC rechazada": _l("RFC rejected"),
        "Programar ventana de implementación": _l("Schedule the implementation window"),
        "Esperar el inicio de la ventana": _l("Wait for the window to open"),
        "Implementar el cambio": _l("Implement the change"),
        "Revisión posterior a la implementación": _l("Post-implementation review"),
        "¿Revisión satisfactoria?": _l("Review passed?"),
        "Revertir el cambio": _l("Roll back the change"),
        "Cerrar RFC revertida": _l("Close the rolled-back RFC"),
        "Cambio revertido": _l("Change rolled back"),
        "Cerrar RFC": _l("Close the RFC"),
        "Cambio implementado": _l("Change implemented"),
    },
    "security_incident": {},
}


def steps() -> dict:
    """Every template's step names, Spanish -> English (lazy)."""
    merged = {}
    for names in LABELS.values():
        merged.update(names)
    return merged
