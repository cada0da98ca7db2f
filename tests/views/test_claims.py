"""A task several people could take: claiming locks it to one, releasing gives it back."""

import pytest

from app.extensions import db
from app.models import HistoryEvent, Membership, Unit, User
from tests.factories import request_at, user
from tests.views.helpers import html


@pytest.fixture
def two_heads(demo):
    """Finanzas gets a second head, so its authorizations are shared."""
    first = user("jefe.finanzas@acme.test")
    second = User(tenant_id=first.tenant_id, email="subjefe.finanzas@acme.test",
                  name="Sara Subjefa", password_hash=first.password_hash)
    finance = db.session.query(Unit).filter_by(tenant_id=first.tenant_id, name="Finanzas").one()
    db.session.add_all([second, Membership(tenant_id=first.tenant_id, user=second,
                                           unit_id=finance.id, role="unit_head")])
    db.session.commit()
    return "jefe.finanzas@acme.test", "subjefe.finanzas@acme.test"


def test_claim_release_and_complete(two_heads, browser):
    req, task = request_at("Task_Authorize")
    first, second = (browser(email) for email in two_heads)
    assert f"/tasks/{task.id}\"" in html(first.get("/inbox"))
    assert f"/tasks/{task.id}\"" in html(second.get("/inbox"))

    assert first.post(f"/tasks/{task.id}/claim").status_code == 302
    assert f"/tasks/{task.id}\"" not in html(second.get("/inbox"))
    assert second.post(f"/tasks/{task.id}/claim").status_code == 409
    refused = second.post(f"/tasks/{task.id}", {"handler": "authorize",
                                                "decision": "authorize"})
    assert refused.status_code == 409
    assert second.post(f"/tasks/{task.id}/release").status_code == 403

    assert first.post(f"/tasks/{task.id}/release").status_code == 302
    assert f"/tasks/{task.id}\"" in html(second.get("/inbox"))
    assert second.post(f"/tasks/{task.id}", {"handler": "authorize",
                                             "decision": "authorize"}).status_code == 302
    db.session.rollback()
    actions = [e.action for e in db.session.query(HistoryEvent).filter_by(request_id=req.id)]
    assert actions.count("claimed") == 1 and actions.count("released") == 1
    assert actions.count("authorize") == 1


def test_assigned_tasks_cannot_be_claimed(demo, browser):
    req, task = request_at("Task_Start")
    other = browser("tecnico2@acme.test")
    assert other.post(f"/tasks/{task.id}/claim").status_code == 404  # not hers: not found
