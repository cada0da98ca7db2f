"""What notifies whom: the events, the groups a person chooses channels for, the channels."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

CHANNELS = ("inapp", "email", "sms", "whatsapp")
CHANNEL_LABELS = {
    "inapp": _l("In the application"),
    "email": _l("E-mail"),
    "sms": _l("Text message (SMS)"),
    "whatsapp": _l("WhatsApp"),
}

GROUPS = ("tasks", "requests", "tickets", "comments", "process")
GROUP_LABELS = {
    "tasks": _l("Tasks waiting for me, and their reminders"),
    "requests": _l("How my requests move along"),
    "tickets": _l("Tickets assigned to me"),
    "comments": _l("Comments on my requests and tickets"),
    "process": _l("Messages a process sends"),
}
# What a person gets when neither they nor their tenant chose otherwise.
DEFAULT_CHANNELS = {group: ["inapp", "email"] for group in GROUPS}


@dataclass(frozen=True)
class Event:
    group: str
    label: object   # lazy string: the event's name on the preferences and template pages
    rank: int = 1   # the person's one notice of a step is the event of the highest rank


EVENTS = {
    "task.waiting": Event("tasks", _l("A task waits for you"), rank=0),
    "task.reminder": Event("tasks", _l("Reminder of a task that waits for you")),
    "request.authorized": Event("requests", _l("Your request was authorized")),
    "request.rejected": Event("requests", _l("Your request was rejected")),
    "request.approved": Event("requests", _l("Your request was approved")),
    "request.returned": Event("requests", _l("Your request was returned for more information")),
    "ticket.assigned": Event("requests", _l("Your request was assigned to a worker")),
    "ticket.started": Event("requests", _l("Work on your request started")),
    "ticket.on_hold": Event("requests", _l("Work on your request is on hold")),
    "ticket.resumed": Event("requests", _l("Work on your request resumed")),
    "ticket.finished": Event("requests", _l("Your request is finished: confirm and rate it")),
    "ticket.assigned_to_you": Event("tickets", _l("A ticket was assigned to you")),
    "ticket.reopened": Event("tickets", _l("The requester says your work did not solve it")),
    "ticket.unassigned": Event("tickets", _l("A ticket of yours was given to another worker")),
    "ticket.replanned": Event("tickets", _l("The planned dates of a ticket changed")),
    "request.comment": Event("comments", _l("A comment on your request")),
    "ticket.comment": Event("comments", _l("A comment on a ticket assigned to you")),
    # app.conversation: a colleague named you in a comment (above the comment's own notice);
    # news of a request you follow (below any other notice of the same step)
    "request.mention": Event("comments", _l("You were mentioned in a comment"), rank=2),
    "request.followed": Event("requests", _l("News on a request you follow"), rank=-1),
    "process.message": Event("process", _l("A message of the process")),
    # app.checklists.alerts: a security incident was triaged; who its severity names hear
    # at once (above a task waiting for them in the same step: it links to that task)
    "security.alert": Event("process", _l("A security incident was reported, by severity"), rank=3),
    # Sent by the SLA runner (app.sla.signals): to whoever the request waits on, and at breach
    # to the directors of its service unit (and, for a decision, the head above its head).
    "sla.warning": Event("tasks", _l("A request waiting for you nears its service-level due "
                                     "time")),
    "sla.breached": Event("tasks", _l("A request went past its service-level due time")),
    # Sent by ``flask indicators monthly`` (app.indicators.monthly): to tenant admins and
    # service directors, once a month, the last month's figures of what they may see.
    "indicators.monthly": Event("process", _l("The monthly summary of the service "
                                              "indicators")),
    # Sent by the recurring requests' runner (app.recurring.runner) to a schedule's owner
    "recurring.failed": Event("process", _l("A recurring request could not be filed")),
}

# Lifecycle (webhook) events whose notice goes to the requester.
TO_REQUESTER = ("request.authorized", "request.rejected", "request.approved",
                "request.returned", "ticket.assigned", "ticket.started", "ticket.on_hold",
                "ticket.resumed", "ticket.finished")

CUSTOM_PREFIX = "custom."  # a tenant's own messages, sent by a diagram's ``notify`` task
