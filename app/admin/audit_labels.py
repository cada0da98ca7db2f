"""What the audit page calls actions, targets and fields: in the reader's language, never the
codes stored in the entries (an entry whose code has no label here shows the code)."""

from flask_babel import lazy_gettext as _l

ACTIONS = {
    "api_token.issued": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "budget.created": _l("Budget created"),
    "budget.updated": _l("Budget changed"),
    "budget.deleted": _l("Budget deleted"),
    "checklist.created": _l("Checklist created"),
    "checklist.updated": _l("Checklist changed"),
    "checklist.deleted": _l("Checklist deleted"),
    "category.created": _l("Category created"),
    "category.updated": _l("Category changed"),
    "category.process_changed": _l("Category's process changed"),
    "import.applied": _l("CSV file imported"),
    "membership.added": _l("Role given"),
    "membership.removed": _l("Role taken away"),
    "notifications.defaults_changed": _l("Notification defaults changed"),
    "notifications.message_resent": _l("Message sent again"),
    "notifications.whatsapp_template_changed": _l("WhatsApp template changed"),
    "notifications.wording_changed": _l("Message wording changed"),
    "notifications.wording_reset": _l("Message wording reset"),
    "process.deployed": _l("Process deployed"),
    "process.instances_migrated": _l("Requests moved to another version"),
    "security_alerts.changed": _l("Alerts by severity changed"),
    "settings.changed": _l("Settings changed"),
    "sla_calendar.created": _l("Business calendar created"),
    "sla_calendar.updated": _l("Business calendar changed"),
    "sla_calendar.deleted": _l("Business calendar deleted"),
    "sla_target.created": _l("SLA target created"),
    "sla_target.updated": _l("SLA target changed"),
    "sla_target.deleted": _l("SLA target deleted"),
    "sla_target.applied": _l("SLA target applied to open requests"),
    "settings.logo_changed": _l("Logo changed"),
    "settings.logo_removed": _l("Logo removed"),
    "team.created": _l("Team created"),
    "team.updated": _l("Team changed"),
    "team.member_added": _l("Person added to a team"),
    "team.member_removed": _l("Person taken out of a team"),
    "tenant.created": _l("Company created"),
    "tenant.plan_changed": _l("Plan changed"),
    "tenant.suspended": _l("Company suspended"),
    "tenant.resumed": _l("Company resumed"),
    "unit.created": _l("Unit created"),
    "unit.updated": _l("Unit changed"),
    "unit.moved": _l("Unit moved"),
    "unit.archived": _l("Unit archived"),
    "unit.unarchived": _l("Unit back in use"),
    "unit.deleted": _l("Unit deleted"),
    "unit.rate_changed": _l("Service unit's hourly rate changed"),
    "user.invited": _l("Person invited"),
    "user.invitation_resent": _l("Invitation sent again"),
    "user.updated": _l("Person changed"),
    "user.deactivated": _l("Person deactivated"),
    "user.reactivated": _l("Person reactivated"),
    "user.rate_changed": _l("Worker's hourly rate changed"),
    "webhook.created": _l("Webhook endpoint registered"),
    "webhook.enabled": _l("Webhook endpoint enabled"),
    "webhook.disabled": _l("Webhook endpoint disabled"),
    "webhook.deleted": _l("Webhook endpoint deleted"),
    "webhook.delivery_retried": _l("Webhook delivery retried"),
}

TARGETS = {
    "api_token": _l("API token"), "budget": _l("Budget"), "category": _l("Category"),
    "import": _l("Import"),
    "process": _l("Process"), "settings": _l("Settings"), "tenant": _l("Company"),
    "unit": _l("Unit"), "user": _l("Person"), "webhook": _l("Webhook endpoint"),
    "webhook_endpoint": _l("Webhook endpoint"), "notifications": _l("Notifications"),
    "outbox": _l("Message"), "notification_template": _l("Message wording"),
    "business_calendar": _l("Business calendar"), "sla_target": _l("SLA target"),
    "team": _l("Team"),
}

FIELDS = {
    "name": _l("Name"), "email": _l("E-mail"), "phone": _l("Phone"), "locale": _l("Language"),
    "active": _l("Active"), "roles": _l("Roles"), "parent_id": _l("Parent unit"),
    "is_service_unit": _l("Service unit"), "archived_at": _l("Archived"),
    "names": _l("Names"), "description": _l("Description"),
    "service_unit_id": _l("Service unit"), "default_priority": _l("Default priority"),
    "process_key": _l("Process"), "timezone": _l("Time zone"), "plan": _l("Plan"),
    "status": _l("Status"), "suspended_reason": _l("Reason"),
    "request_number_prefix": _l("Request number prefix"),
    "ticket_number_prefix": _l("Ticket number prefix"),
    "authorization_reminder_after": _l("Authorization reminder after"),
    "auto_close_after": _l("Automatic close after"),
    "url": _l("Address"), "events": _l("Events"), "expires_at": _l("Expires"),
    "revoked_at": _l("Revoked"), "prefix": _l("Beginning"), "version": _l("Version"),
    "currency": _l("Currency"),
    "over_budget_approval": _l("Second approval over budget"),
    "category_id": _l("Category"), "requesting_unit_id": _l("Requesting unit"),
    "period": _l("Period"), "starts_on": _l("Starts"), "ends_on": _l("Ends"),
    "amount": _l("Amount"), "note": _l("Note"), "hourly_rate": _l("Hourly rate"),
    "time_zone": _l("Time zone"), "week": _l("Working hours"), "holidays": _l("Holidays"),
    "is_default": _l("Default"), "kind": _l("Service-level target"), "priority": _l("Priority"),
    "minutes": _l("Length (business minutes)"), "warn_percent": _l("Warning at (%)"),
    "pause_statuses": _l("Paused while"), "calendar_id": _l("Calendar"),
    "applied_to_open": _l("Applied to open requests"),
}


def action_label(code: str) -> str:
    return str(ACTIONS[code]) if code in ACTIONS else code


def target_label(code: str) -> str:
    return str(TARGETS[code]) if code in TARGETS else code


def field_label(code: str) -> str:
    return str(FIELDS[code]) if code in FIELDS else code
