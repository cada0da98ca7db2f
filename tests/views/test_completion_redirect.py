"""After completing a step the person lands where they may look: the request's page while they
still see it, else their inbox (with the success message), never on 'Page not found'."""

from app import policy
from tests.factories import request_at
from tests.views.helpers import html


def test_completion_goes_to_the_request_when_still_visible(demo, browser):
    req, task = request_at("Task_Authorize")
    head = browser("jefe.finanzas@acme.test")
    done = head.post(f"/tasks/{task.id}", {"handler": "authorize", "decision": "authorize"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/requests/{req.id}")


def test_completion_goes_to_the_inbox_when_the_request_is_out_of_sight(demo, browser,
                                                                         monkeypatch):
    req, task = request_at("Task_Authorize")
    head = browser("jefe.finanzas@acme.test")
    # Like a worker whose step was their only tie to the request: once done, no longer theirs.
    monkeypatch.setattr(policy, "can_view_request", lambda user, request: False)
    done = head.post(f"/tasks/{task.id}", {"handler": "authorize", "decision": "authorize"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/inbox")
    page = html(head.get("/inbox"))
    assert "Página no encontrada" not in page and "Page not found" not in page
    assert "Listo:" in page or "Done:" in page
