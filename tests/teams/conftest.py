"""The API client of tests/api, for these tests too."""

from tests.api.conftest import api  # noqa: F401
