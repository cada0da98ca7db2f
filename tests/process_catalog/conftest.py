"""The API client of tests/api."""

from tests.api.conftest import api  # noqa: F401
