"""All models, imported here so Alembic and the app see every table."""

from app.accounts.models import AccountLink  # noqa: E402
from app.admin.models import AuditEntry  # noqa: E402
from app.attachments.models import Attachment  # noqa: E402, F401 (a capability's own models)
from app.checklists.models import Checklist, TaskChecklistItem  # noqa: E402, F401
from app.classification.models import (  # noqa: E402, F401 (a capability's own models)
    AssignmentTurn,
    ClassificationRule,
    WorkerSkill,
)
from app.conversation.models import CannedResponse, Follower  # noqa: E402, F401
from app.indicators.models import ElementPass  # noqa: E402 (a capability's own models)
from app.models import append_only  # noqa: E402, F401 (history and audit are never rewritten)
from app.models.audit import HistoryEvent
from app.models.catalog import PRIORITIES, Category
from app.models.integration import (
    WEBHOOK_EVENTS,
    ApiToken,
    WebhookEndpoint,
)
from app.models.org import ROLES, LoginAttempt, Membership, Unit, User
from app.models.process import (
    HumanTask,
    ProcessDefinition,
    ProcessDraft,
    ProcessIncident,
    ProcessInstance,
)
from app.models.request import (
    OPEN_REQUEST_STATUSES,
    REQUEST_STATUSES,
    NumberSequence,
    ServiceRequest,
)
from app.models.session import UserSession
from app.models.tenant import Tenant
from app.models.ticket import OPEN_TICKET_STATUSES, TICKET_STATUSES, Ticket, ticket_helpers
from app.notifications.models import (  # noqa: E402 (a capability's own models)
    Notification,
    NotificationPreference,
    NotificationTemplate,
)
from app.outbox.models import OutboxMessage  # noqa: E402
from app.recurring.models import RecurringOccurrence, RecurringSchedule  # noqa: E402, F401
from app.search.models import SearchDocument  # noqa: E402, F401 (a capability's own models)
from app.sla.models import BusinessCalendar, SlaClock, SlaTarget  # noqa: E402
from app.suggestions.models import SuggestionModel  # noqa: E402, F401 (learned models)
from app.teams.models import Team, TeamMember  # noqa: E402, F401 (a capability's own models)
from app.viability.models import Budget  # noqa: E402

__all__ = [
    "AccountLink",
    "AuditEntry",
    "Budget",
    "BusinessCalendar",
    "ElementPass",
    "SlaClock",
    "SlaTarget",
    "PRIORITIES",
    "ROLES",
    "REQUEST_STATUSES",
    "OPEN_REQUEST_STATUSES",
    "TICKET_STATUSES",
    "OPEN_TICKET_STATUSES",
    "Category",
    "HistoryEvent",
    "HumanTask",
    "LoginAttempt",
    "Membership",
    "NumberSequence",
    "Notification",
    "NotificationPreference",
    "NotificationTemplate",
    "OutboxMessage",
    "ProcessDefinition",
    "ProcessDraft",
    "ProcessIncident",
    "ProcessInstance",
    "ServiceRequest",
    "Tenant",
    "Ticket",
    "Unit",
    "User",
    "UserSession",
    "ticket_helpers",
    "ApiToken",
    "WebhookEndpoint",
    "WEBHOOK_EVENTS",
]
