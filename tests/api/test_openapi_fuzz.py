"""Property-based run (Schemathesis) against /api/v1/openapi.json: no 5xx, answers as documented.

Schemathesis' pytest fixture mode does not work with pytest 9, so its Python API drives one
Hypothesis run per operation here, and every failure is reported with its operation.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi import checks as openapi_checks

from app.api import tokens_service
from app.extensions import db
from app.models import User

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 25
# The operations are shared out over this many tests, so pytest-xdist's workers split the run
# (one test of every operation was the suite's longest by far: about two minutes)
PARTS = 6


def _token(email: str) -> str:
    user = db.session.query(User).filter_by(email=email).one()
    raw, _ = tokens_service.issue(user, "fuzz", 1)
    db.session.commit()
    return raw


@pytest.mark.parametrize("part", range(PARTS))
def test_every_operation_answers_as_documented(app, demo, part):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {_token('director@acme.test')}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16
    failures = []
    for operation in operations[part::PARTS]:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))
        def run(case):
            with app.app_context():  # each call in its own context, as in production
                case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect all, report together
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
