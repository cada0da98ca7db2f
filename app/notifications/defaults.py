"""The product's wording of every notice, in Spanish and English: what a tenant starts from and
what it gets for whatever it did not rewrite. Each is (subject, text, sms); the e-mail's HTML is
made from the text unless a tenant writes its own."""

_FOOT = {
    "es": "\n\nÁbrala aquí: {{ link }}\n\n{{ tenant_name }} · Mesa de Servicios",
    "en": "\n\nOpen it here: {{ link }}\n\n{{ tenant_name }} · Mesa de Servicios",
}

# A security incident's severity as the Spanish wording says it (app.checklists.alerts)
_SEVERITY_ES = ("{% if severity == 'critical' %}crítica{% elif severity == 'high' %}"
                "alta{% elif severity == 'medium' %}media{% else %}baja{% endif %}")

_ES = {
    "task.waiting": (
        "{{ request_number }}: «{{ step }}» le espera",
        "Hola {{ recipient_name }}:\n\nLa solicitud {{ request_number }} «{{ request_title }}» "
        "espera su paso «{{ step }}».",
        "{{ request_number }}: «{{ step }}» le espera. {{ link }}"),
    "task.reminder": (
        "Recordatorio: {{ request_number }} espera su autorización",
        "Hola {{ recipient_name }}:\n\nLe recordamos que la solicitud {{ request_number }} "
        "«{{ request_title }}» sigue esperando su paso «{{ step }}».",
        "Recordatorio: {{ request_number }} espera «{{ step }}». {{ link }}"),
    "request.authorized": (
        "{{ request_number }} fue autorizada",
        "Hola {{ recipient_name }}:\n\n{{ actor_name }} autorizó su solicitud "
        "{{ request_number }} «{{ request_title }}». Ahora la evalúa la dirección de servicios."
        "{% if comment %}\n\nComentario: {{ comment }}{% endif %}",
        "{{ request_number }} fue autorizada. {{ link }}"),
    "request.rejected": (
        "{{ request_number }} fue rechazada",
        "Hola {{ recipient_name }}:\n\n{{ actor_name }} rechazó su solicitud "
        "{{ request_number }} «{{ request_title }}».{% if comment %}\n\nMotivo: {{ comment }}"
        "{% endif %}",
        "{{ request_number }} fue rechazada. {{ link }}"),
    "request.approved": (
        "{{ request_number }} fue aprobada",
        "Hola {{ recipient_name }}:\n\nSu solicitud {{ request_number }} «{{ request_title }}» "
        "fue aprobada; pronto se asignará a un trabajador.",
        "{{ request_number }} fue aprobada. {{ link }}"),
    "request.returned": (
        "{{ request_number }} necesita más información",
        "Hola {{ recipient_name }}:\n\n{{ actor_name }} devolvió su solicitud "
        "{{ request_number }} «{{ request_title }}» para que la complete."
        "{% if comment %}\n\nQué falta: {{ comment }}{% endif %}",
        "{{ request_number }} necesita más información. {{ link }}"),
    "ticket.assigned": (
        "{{ request_number }} fue asignada a {{ worker_name }}",
        "Hola {{ recipient_name }}:\n\nSu solicitud {{ request_number }} «{{ request_title }}» "
        "fue asignada a {{ worker_name }} (ticket {{ ticket_number }}).",
        "{{ request_number }} asignada a {{ worker_name }}. {{ link }}"),
    "ticket.started": (
        "Comenzó el trabajo en {{ request_number }}",
        "Hola {{ recipient_name }}:\n\n{{ actor_name }} comenzó a trabajar en su solicitud "
        "{{ request_number }} «{{ request_title }}».{% if comment %}\n\nComentario: "
        "{{ comment }}{% endif %}",
        "Comenzó el trabajo en {{ request_number }}. {{ link }}"),
    "ticket.on_hold": (
        "{{ request_number }} está en espera",
        "Hola {{ recipient_name }}:\n\nEl trabajo en su solicitud {{ request_number }} "
        "«{{ request_title }}» quedó en espera.{% if comment %}\n\nMotivo: {{ comment }}"
        "{% endif %}",
        "En espera {{ request_number }}: {{ link }}{% if comment %} Motivo: {{ comment }}"
        "{% endif %}"),
    "ticket.resumed": (
        "Se reanudó el trabajo en {{ request_number }}",
        "Hola {{ recipient_name }}:\n\nSe reanudó el trabajo en su solicitud "
        "{{ request_number }} «{{ request_title }}».",
        "Se reanudó {{ request_number }}. {{ link }}"),
    "ticket.finished": (
        "{{ request_number }} está terminada: confírmela y califíquela",
        "Hola {{ recipient_name }}:\n\n{{ actor_name }} terminó el trabajo de su solicitud "
        "{{ request_number }} «{{ request_title }}».{% if comment %}\n\nQué se hizo: "
        "{{ comment }}{% endif %}\n\nConfirme que quedó bien y califique el servicio."
        "{% if survey_link %}\n\nPuede calificarlo sin iniciar sesión: {{ survey_link }}"
        "{% endif %}",
        "{{ request_number }} terminada: confírmela y califíquela. {{ link }}"),
    "ticket.assigned_to_you": (
        "Se le asignó el ticket {{ ticket_number }}",
        "Hola {{ recipient_name }}:\n\nSe le asignó el ticket {{ ticket_number }} de la "
        "solicitud {{ request_number }} «{{ request_title }}».",
        "Se le asignó {{ ticket_number }} ({{ request_number }}). {{ link }}"),
    "ticket.reopened": (
        "{{ request_number }} no quedó resuelta: vuelve a su ticket {{ ticket_number }}",
        "Hola {{ recipient_name }}:\n\n{{ actor_name }} indicó que el trabajo de la solicitud "
        "{{ request_number }} «{{ request_title }}» no quedó resuelto; el ticket "
        "{{ ticket_number }} vuelve a usted.{% if comment %}\n\nQué falta: {{ comment }}"
        "{% endif %}",
        "{{ request_number }} no quedó resuelta; {{ ticket_number }} vuelve a usted. {{ link }}"),
    "ticket.unassigned": (
        "El ticket {{ ticket_number }} pasó a {{ worker_name }}",
        "Hola {{ recipient_name }}:\n\n{{ actor_name }} asignó el ticket {{ ticket_number }} "
        "de la solicitud {{ request_number }} «{{ request_title }}» a {{ worker_name }}; ya no "
        "está a su cargo.{% if comment %}\n\nMotivo: {{ comment }}{% endif %}",
        "{{ ticket_number }} pasó a {{ worker_name }}. {{ link }}"),
    "ticket.replanned": (
        "Cambiaron las fechas del ticket {{ ticket_number }}",
        "Hola {{ recipient_name }}:\n\n{{ actor_name }} cambió las fechas previstas del "
        "ticket {{ ticket_number }} de la solicitud {{ request_number }} «{{ request_title }}»."
        "{% if comment %}\n\n{{ comment }}{% endif %}",
        "Nuevas fechas de {{ ticket_number }}. {{ link }}"),
    "request.comment": (
        "Nuevo comentario en {{ request_number }}",
        "Hola {{ recipient_name }}:\n\n{{ actor_name }} comentó su solicitud "
        "{{ request_number }} «{{ request_title }}»:\n\n{{ comment }}",
        "{{ actor_name }} comentó {{ request_number }}. {{ link }}"),
    "ticket.comment": (
        "Nuevo comentario en {{ ticket_number }}",
        "Hola {{ recipient_name }}:\n\n{{ actor_name }} comentó la solicitud "
        "{{ request_number }} «{{ request_title }}» de su ticket {{ ticket_number }}:\n\n"
        "{{ comment }}",
        "{{ actor_name }} comentó {{ request_number }}. {{ link }}"),
    "request.mention": (
        "{{ actor_name }} le mencionó en {{ request_number }}",
        "Hola {{ recipient_name }}:\n\n{{ actor_name }} le mencionó en un comentario de la "
        "solicitud {{ request_number }} «{{ request_title }}»:\n\n{{ comment }}",
        "{{ actor_name }} le mencionó en {{ request_number }}. {{ link }}"),
    "request.followed": (
        "Novedad en {{ request_number }}, que usted sigue",
        "Hola {{ recipient_name }}:\n\nHay novedades en la solicitud {{ request_number }} "
        "«{{ request_title }}», que usted sigue (estado: {{ request_status }}).\n\n"
        "{{ event }}{% if actor_name %} · {{ actor_name }}{% endif %}"
        "{% if comment %}\n\n{{ comment }}{% endif %}",
        "Novedad en {{ request_number }}, que usted sigue. {{ link }}"),
    "security.alert": (
        "Incidente de seguridad {{ request_number }}: severidad " + _SEVERITY_ES,
        "Hola {{ recipient_name }}:\n\nSe clasificó el incidente de seguridad "
        "{{ request_number }} «{{ request_title }}» con severidad " + _SEVERITY_ES
        + ". Usted está entre las personas que deben saberlo de inmediato."
        "{% if step %}\n\nLe espera el paso «{{ step }}».{% endif %}",
        "Incidente de seguridad {{ request_number }} (severidad " + _SEVERITY_ES
        + "). {{ link }}"),
    "process.message": (
        "Novedad de {{ request_number }}",
        "Hola {{ recipient_name }}:\n\nHay novedades en la solicitud {{ request_number }} "
        "«{{ request_title }}» (estado: {{ request_status }}).",
        "Novedad de {{ request_number }}. {{ link }}"),
    "sla.warning": (
        "{{ request_number }} se acerca a su plazo{% if sla_target %} ({{ sla_target }})"
        "{% endif %}",
        "Hola {{ recipient_name }}:\n\nLa solicitud {{ request_number }} «{{ request_title }}» "
        "espera por usted{% if step %} en el paso «{{ step }}»{% endif %} y se acerca al "
        "vencimiento de su acuerdo de servicio{% if sla_target %} ({{ sla_target }}){% endif %}"
        "{% if sla_due %}: vence el {{ sla_due }}{% endif %}.",
        "{{ request_number }} vence pronto{% if sla_due %} ({{ sla_due }}){% endif %}. "
        "{{ link }}"),
    "sla.breached": (
        "{{ request_number }} superó su plazo{% if sla_target %} ({{ sla_target }}){% endif %}",
        "Hola {{ recipient_name }}:\n\nLa solicitud {{ request_number }} «{{ request_title }}» "
        "superó el plazo de su acuerdo de servicio{% if sla_target %} ({{ sla_target }})"
        "{% endif %}{% if sla_due %}, que vencía el {{ sla_due }}{% endif %}. Estado actual: "
        "{{ request_status }}.",
        "{{ request_number }} superó su plazo{% if sla_due %} ({{ sla_due }}){% endif %}. "
        "{{ link }}"),
    "indicators.monthly": (
        "Indicadores de {{ summary_period }}: {{ summary_scope }}",
        "Hola {{ recipient_name }}:\n\nEste es el resumen de los indicadores de servicio de "
        "{{ summary_scope }} en {{ summary_period }}.\n\n"
        "Solicitudes registradas: {{ filed }}\n"
        "Solicitudes completadas: {{ completed }}\n"
        "Solicitudes abiertas hoy: {{ backlog }}\n"
        "Trabajos terminados a tiempo: {{ on_time }}\n"
        "Cumplimiento de los acuerdos de servicio: decisión {{ sla_decision }}, inicio "
        "{{ sla_start }}, solución {{ sla_resolution }}\n"
        "Calificación media: {{ mean_rating }}\n\n"
        "El detalle, con sus gráficos, está en la página de indicadores.",
        "Indicadores de {{ summary_period }}: {{ filed }} registradas, {{ completed }} "
        "completadas, {{ backlog }} abiertas. {{ link }}"),
    "recurring.failed": (
        "No se pudo registrar la solicitud recurrente «{{ schedule_title }}»",
        "Hola {{ recipient_name }}:\n\nLa solicitud recurrente «{{ schedule_title }}» no se "
        "pudo registrar esta vez: {{ failure }}{% if paused %}\n\nSe pausó tras varios intentos "
        "fallidos seguidos: revísela y reanúdela.{% endif %}",
        "No se pudo registrar «{{ schedule_title }}»: {{ failure }} {{ link }}"),
}

_EN = {
    "task.waiting": (
        "{{ request_number }}: “{{ step }}” waits for you",
        "Hello {{ recipient_name }},\n\nRequest {{ request_number }} “{{ request_title }}” "
        "waits for your step “{{ step }}”.",
        "{{ request_number }}: “{{ step }}” waits for you. {{ link }}"),
    "task.reminder": (
        "Reminder: {{ request_number }} waits for your authorization",
        "Hello {{ recipient_name }},\n\nA reminder that request {{ request_number }} "
        "“{{ request_title }}” still waits for your step “{{ step }}”.",
        "Reminder: {{ request_number }} waits for “{{ step }}”. {{ link }}"),
    "request.authorized": (
        "{{ request_number }} was authorized",
        "Hello {{ recipient_name }},\n\n{{ actor_name }} authorized your request "
        "{{ request_number }} “{{ request_title }}”. General services now evaluate it."
        "{% if comment %}\n\nComment: {{ comment }}{% endif %}",
        "{{ request_number }} was authorized. {{ link }}"),
    "request.rejected": (
        "{{ request_number }} was rejected",
        "Hello {{ recipient_name }},\n\n{{ actor_name }} rejected your request "
        "{{ request_number }} “{{ request_title }}”.{% if comment %}\n\nReason: {{ comment }}"
        "{% endif %}",
        "{{ request_number }} was rejected. {{ link }}"),
    "request.approved": (
        "{{ request_number }} was approved",
        "Hello {{ recipient_name }},\n\nYour request {{ request_number }} "
        "“{{ request_title }}” was approved; a worker will be assigned soon.",
        "{{ request_number }} was approved. {{ link }}"),
    "request.returned": (
        "{{ request_number }} needs more information",
        "Hello {{ recipient_name }},\n\n{{ actor_name }} returned your request "
        "{{ request_number }} “{{ request_title }}” for you to complete."
        "{% if comment %}\n\nWhat is missing: {{ comment }}{% endif %}",
        "{{ request_number }} needs more information. {{ link }}"),
    "ticket.assigned": (
        "{{ request_number }} was assigned to {{ worker_name }}",
        "Hello {{ recipient_name }},\n\nYour request {{ request_number }} "
        "“{{ request_title }}” was assigned to {{ worker_name }} (ticket {{ ticket_number }}).",
        "{{ request_number }} assigned to {{ worker_name }}. {{ link }}"),
    "ticket.started": (
        "Work on {{ request_number }} started",
        "Hello {{ recipient_name }},\n\n{{ actor_name }} started working on your request "
        "{{ request_number }} “{{ request_title }}”.{% if comment %}\n\nComment: "
        "{{ comment }}{% endif %}",
        "Work on {{ request_number }} started. {{ link }}"),
    "ticket.on_hold": (
        "{{ request_number }} is on hold",
        "Hello {{ recipient_name }},\n\nWork on your request {{ request_number }} "
        "“{{ request_title }}” is on hold.{% if comment %}\n\nReason: {{ comment }}{% endif %}",
        "On hold {{ request_number }}: {{ link }}{% if comment %} Reason: {{ comment }}"
        "{% endif %}"),
    "ticket.resumed": (
        "Work on {{ request_number }} resumed",
        "Hello {{ recipient_name }},\n\nWork on your request {{ request_number }} "
        "“{{ request_title }}” resumed.",
        "{{ request_number }} resumed. {{ link }}"),
    "ticket.finished": (
        "{{ request_number }} is finished: confirm and rate it",
        "Hello {{ recipient_name }},\n\n{{ actor_name }} finished the work on your request "
        "{{ request_number }} “{{ request_title }}”.{% if comment %}\n\nWhat was done: "
        "{{ comment }}{% endif %}\n\nPlease confirm it was done well and rate the service."
        "{% if survey_link %}\n\nYou can rate it without logging in: {{ survey_link }}"
        "{% endif %}",
        "{{ request_number }} finished: confirm and rate it. {{ link }}"),
    "ticket.assigned_to_you": (
        "Ticket {{ ticket_number }} was assigned to you",
        "Hello {{ recipient_name }},\n\nTicket {{ ticket_number }} of request "
        "{{ request_number }} “{{ request_title }}” was assigned to you.",
        "{{ ticket_number }} ({{ request_number }}) assigned to you. {{ link }}"),
    "ticket.reopened": (
        "{{ request_number }} is not solved: ticket {{ ticket_number }} is back with you",
        "Hello {{ recipient_name }},\n\n{{ actor_name }} said the work on request "
        "{{ request_number }} “{{ request_title }}” did not solve it; ticket "
        "{{ ticket_number }} is back with you.{% if comment %}\n\nWhat is still wrong: "
        "{{ comment }}{% endif %}",
        "{{ request_number }} not solved; {{ ticket_number }} is back with you. {{ link }}"),
    "ticket.unassigned": (
        "Ticket {{ ticket_number }} went to {{ worker_name }}",
        "Hello {{ recipient_name }},\n\n{{ actor_name }} assigned ticket {{ ticket_number }} "
        "of request {{ request_number }} “{{ request_title }}” to {{ worker_name }}; it is no "
        "longer yours.{% if comment %}\n\nReason: {{ comment }}{% endif %}",
        "{{ ticket_number }} went to {{ worker_name }}. {{ link }}"),
    "ticket.replanned": (
        "The dates of ticket {{ ticket_number }} changed",
        "Hello {{ recipient_name }},\n\n{{ actor_name }} changed the planned dates of ticket "
        "{{ ticket_number }} of request {{ request_number }} “{{ request_title }}”."
        "{% if comment %}\n\n{{ comment }}{% endif %}",
        "New dates for {{ ticket_number }}. {{ link }}"),
    "request.comment": (
        "New comment on {{ request_number }}",
        "Hello {{ recipient_name }},\n\n{{ actor_name }} commented on your request "
        "{{ request_number }} “{{ request_title }}”:\n\n{{ comment }}",
        "{{ actor_name }} commented on {{ request_number }}. {{ link }}"),
    "ticket.comment": (
        "New comment on {{ ticket_number }}",
        "Hello {{ recipient_name }},\n\n{{ actor_name }} commented on request "
        "{{ request_number }} “{{ request_title }}” of your ticket {{ ticket_number }}:\n\n"
        "{{ comment }}",
        "{{ actor_name }} commented on {{ request_number }}. {{ link }}"),
    "request.mention": (
        "{{ actor_name }} mentioned you on {{ request_number }}",
        "Hello {{ recipient_name }},\n\n{{ actor_name }} mentioned you in a comment on "
        "request {{ request_number }} “{{ request_title }}”:\n\n{{ comment }}",
        "{{ actor_name }} mentioned you on {{ request_number }}. {{ link }}"),
    "request.followed": (
        "News on {{ request_number }}, which you follow",
        "Hello {{ recipient_name }},\n\nThere is news on request {{ request_number }} "
        "“{{ request_title }}”, which you follow (status: {{ request_status }}).\n\n"
        "{{ event }}{% if actor_name %} · {{ actor_name }}{% endif %}"
        "{% if comment %}\n\n{{ comment }}{% endif %}",
        "News on {{ request_number }}, which you follow. {{ link }}"),
    "security.alert": (
        "Security incident {{ request_number }}: {{ severity }} severity",
        "Hello {{ recipient_name }},\n\nSecurity incident {{ request_number }} "
        "“{{ request_title }}” was triaged with {{ severity }} severity. You are among "
        "the people who must know at once."
        "{% if step %}\n\nThe step “{{ step }}” waits for you.{% endif %}",
        "Security incident {{ request_number }} ({{ severity }} severity). {{ link }}"),
    "process.message": (
        "News on {{ request_number }}",
        "Hello {{ recipient_name }},\n\nThere is news on request {{ request_number }} "
        "“{{ request_title }}” (status: {{ request_status }}).",
        "News on {{ request_number }}. {{ link }}"),
    "sla.warning": (
        "{{ request_number }} nears its due time{% if sla_target %} ({{ sla_target }})"
        "{% endif %}",
        "Hello {{ recipient_name }},\n\nRequest {{ request_number }} “{{ request_title }}” "
        "waits for you{% if step %} at the step “{{ step }}”{% endif %} and nears the due time "
        "of its service level{% if sla_target %} ({{ sla_target }}){% endif %}"
        "{% if sla_due %}: it is due {{ sla_due }}{% endif %}.",
        "{{ request_number }} is due soon{% if sla_due %} ({{ sla_due }}){% endif %}. "
        "{{ link }}"),
    "sla.breached": (
        "{{ request_number }} is past its due time{% if sla_target %} ({{ sla_target }})"
        "{% endif %}",
        "Hello {{ recipient_name }},\n\nRequest {{ request_number }} “{{ request_title }}” "
        "went past the due time of its service level{% if sla_target %} ({{ sla_target }})"
        "{% endif %}{% if sla_due %}, due {{ sla_due }}{% endif %}. Current status: "
        "{{ request_status }}.",
        "{{ request_number }} is past its due time{% if sla_due %} ({{ sla_due }}){% endif %}. "
        "{{ link }}"),
    "indicators.monthly": (
        "Indicators of {{ summary_period }}: {{ summary_scope }}",
        "Hello {{ recipient_name }},\n\nHere is the summary of the service indicators of "
        "{{ summary_scope }} in {{ summary_period }}.\n\n"
        "Requests filed: {{ filed }}\n"
        "Requests completed: {{ completed }}\n"
        "Requests open today: {{ backlog }}\n"
        "Work finished on time: {{ on_time }}\n"
        "Service-level compliance: decision {{ sla_decision }}, start {{ sla_start }}, "
        "resolution {{ sla_resolution }}\n"
        "Mean rating: {{ mean_rating }}\n\n"
        "The detail, with its charts, is on the indicators page.",
        "Indicators of {{ summary_period }}: {{ filed }} filed, {{ completed }} completed, "
        "{{ backlog }} open. {{ link }}"),
    "recurring.failed": (
        "The recurring request “{{ schedule_title }}” could not be filed",
        "Hello {{ recipient_name }},\n\nThe recurring request “{{ schedule_title }}” could not "
        "be filed this time: {{ failure }}{% if paused %}\n\nIt was paused after several "
        "failures in a row: check it and resume it.{% endif %}",
        "“{{ schedule_title }}” could not be filed: {{ failure }} {{ link }}"),
}

DEFAULTS = {"es": _ES, "en": _EN}
LOCALES = tuple(DEFAULTS)


def default(event: str, locale: str) -> tuple[str, str, str]:
    """(subject, text, sms) the product says for ``event`` in ``locale``; a tenant's own
    message (``custom.*``) without wording of its own says what ``process.message`` says."""
    texts = DEFAULTS.get(locale, _ES)
    subject, text, sms = texts.get(event, texts["process.message"])
    return subject, text + _FOOT[locale if locale in _FOOT else "es"], sms
