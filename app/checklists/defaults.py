"""What the security-incident template ships: its checklists' default items (per language, the
company's language chosen when they are seeded) and the English names of its steps.

The items are the company's once seeded: it rewrites them on the checklists page; the product
never overwrites them. The step names are those of ``processes/security_incident.bpmn``,
marked here so the pages show them in the reader's language (``app.labels.STEP``).
"""

from flask_babel import lazy_gettext as _l

SECURITY_TEMPLATE = "security_incident"

# checklist key -> items, per language; in the order the diagram's steps use them
_SECURITY_ES = {
    "triage": [
        "Confirmar que el reporte describe un evento de seguridad real",
        "Identificar los sistemas, datos y personas afectados",
        "Asignar la severidad según la guía de la empresa",
        "Registrar la hora de detección y la fuente del reporte",
    ],
    "containment": [
        "Aislar los equipos o cuentas comprometidos",
        "Bloquear las direcciones, dominios o accesos maliciosos",
        "Preservar evidencias (registros, imágenes de disco) antes de cambiar nada",
        "Informar al responsable del servicio afectado",
    ],
    "eradication": [
        "Identificar la causa raíz",
        "Eliminar el software malicioso o el acceso no autorizado",
        "Aplicar parches y cambiar las credenciales expuestas",
        "Verificar que no quedan rastros del atacante",
    ],
    "recovery": [
        "Restaurar los sistemas desde copias limpias",
        "Comprobar que los servicios funcionan con normalidad",
        "Vigilar los sistemas restaurados durante el periodo acordado",
    ],
    "lessons_learned": [
        "Documentar la cronología del incidente",
        "Describir qué funcionó y qué no en la respuesta",
        "Acordar acciones de mejora con responsable y fecha",
        "Compartir el informe con las personas que deben conocerlo",
    ],
}
_SECURITY_EN = {
    "triage": [
        "Confirm the report describes a real security event",
        "Identify the affected systems, data and people",
        "Set the severity by the company's guide",
        "Record when it was detected and who reported it",
    ],
    "containment": [
        "Isolate the compromised machines or accounts",
        "Block the malicious addresses, domains or access",
        "Preserve evidence (logs, disk images) before changing anything",
        "Tell the owner of the affected service",
    ],
    "eradication": [
        "Find the root cause",
        "Remove the malware or the unauthorized access",
        "Apply patches and change the exposed credentials",
        "Check that no trace of the attacker remains",
    ],
    "recovery": [
        "Restore the systems from clean copies",
        "Check that the services work normally",
        "Watch the restored systems for the agreed period",
    ],
    "lessons_learned": [
        "Write down the incident's timeline",
        "Describe what worked in the response and what did not",
        "Agree on improvements, each with an owner and a date",
        "Share the report with the people who need it",
    ],
}

DEFAULTS = {SECURITY_TEMPLATE: {"es": _SECURITY_ES, "en": _SECURITY_EN}}

# What the catalog (app.process_catalog) lists as the checklist sets a template needs
CHECKLIST_KEYS = {template: tuple(by_language["es"])
                  for template, by_language in DEFAULTS.items()}

CHECKLIST_LABELS = {
    "triage": _l("Triage"),
    "containment": _l("Containment"),
    "eradication": _l("Eradication"),
    "recovery": _l("Recovery"),
    "lessons_learned": _l("Lessons learned"),
}

# The names of the template's elements, for app.labels.STEP (the steps' names on pages)
LABELS = {
    "Incidente de seguridad": _l("Security incident"),
    "Incidente reportado": _l("Incident reported"),
    "Clasificar el incidente": _l("Triage the incident"),
    "¿Falso positivo?": _l("False positive?"),
    "Priorizar según la severidad": _l("Prioritize by severity"),
    "Avisar según la severidad": _l("Alert by severity"),
    "Contener el incidente": _l("Contain the incident"),
    "Erradicar la causa": _l("Eradicate the cause"),
    "Recuperar el servicio": _l("Recover the service"),
    "¿Servicio restablecido?": _l("Service restored?"),
    "Lecciones aprendidas": _l("Lessons learned"),
    "Cerrar el incidente": _l("Close the incident"),
    "Incidente cerrado": _l("Incident closed"),
    "Descartar como falso positivo": _l("Dismiss as a false positive"),
    "Descartado como falso positivo": _l("Dismissed as a false positive"),
}


def items_for(template_key: str, checklist_key: str, language: str | None) -> list[str]:
    by_language = DEFAULTS.get(template_key) or {}
    texts = by_language.get(language or "es") or by_language.get("es") or {}
    return list(texts.get(checklist_key, []))
