"""What every user-task handler and service operation has in common."""

from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, ValidationError, pre_load

from app.models import HumanTask, ServiceRequest, User


class FormSchema(Schema):
    """Form input: strings trimmed, empty values treated as absent, unknown fields ignored."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _clean(self, data, **kwargs):
        cleaned = {}
        for key, value in dict(data).items():
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    continue
            if isinstance(value, list):
                value = [v for v in value if not (isinstance(v, str) and not v.strip())]
                if not value:
                    continue
            cleaned[key] = value
        return cleaned


def require_when(data: dict, field: str, condition: bool, message) -> None:
    if condition and not (data.get(field) or "").strip():
        raise ValidationError({field: [str(message)]})


@dataclass
class TaskContext:
    """What a handler works on: who acts, on which request, through which task."""

    user: User
    request: ServiceRequest
    task: HumanTask


@dataclass
class OperationContext:
    """What a service operation works on; ``actor`` is None when a timer triggered it."""

    request: ServiceRequest
    actor: User | None


class TaskHandler:
    """A kind of user task: its form (a marshmallow schema), its checks, and what it changes."""

    name: str = ""
    title = ""
    submit_label = ""
    schema: type[Schema] = FormSchema

    def load(self, ctx: TaskContext, form: dict) -> dict:
        """Validate form input; raises ValidationError with field messages and changes nothing."""
        data = self.schema().load(form)
        self.check(ctx, data)
        return data

    def check(self, ctx: TaskContext, data: dict) -> None:
        """Checks that need the database (e.g. the worker belongs to the service unit)."""

    def apply(self, ctx: TaskContext, data: dict) -> dict:
        """Change the domain rows; return the values the diagram's gateways read."""
        return {}

    def comment(self, data: dict) -> str | None:
        return data.get("comment")
