"""The SMTP server of the notification tests and the API client, for these tests too."""

from tests.api.conftest import api  # noqa: F401
from tests.notifications.conftest import smtp_server  # noqa: F401
