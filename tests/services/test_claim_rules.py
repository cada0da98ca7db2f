"""Only a candidate may take a shared task: a unit head's authorization is not the director's,
a worker's, another unit's head's, the tenant admin's or the requester's to claim, through the
service, the task page and the API alike. Nothing is recorded for a refused claim."""

import pytest

from app import policy
from app.extensions import db
from app.models import HistoryEvent, HumanTask
from app.services import workflow
from tests.factories import request_at, user
from tests.views.helpers import html

HEAD = "jefe.finanzas@acme.test"
# People who may see the authorization (director of the service unit, tenant admin, requester)
# and so are told "not yours" (403), and people who may not even see it (404).
SEE_IT = ["director@acme.test", "admin@acme.test", "ana@acme.test"]
DO_NOT_SEE_IT = ["tecnico1@acme.test", "jefe.produccion@acme.test", "luis@acme.test",
                 "jefe@globex.test"]


def claim_state(task_id: int) -> tuple:
    db.session.rollback()  # a fresh snapshot
    task = db.session.get(HumanTask, task_id)
    claims = db.session.query(HistoryEvent).filter_by(request_id=task.request_id,
                                                      action="claimed").count()
    return task.status, task.claimed_by_id, claims


def api_token(app, email: str) -> str:
    with app.app_context():
        response = app.test_client().post("/api/v1/tokens",
                                          json={"email": email, "password": "demo1234"})
    assert response.status_code == 201, response.json
    return response.json["token"]


def api_claim(app, email: str, task_id: int):
    headers = {"Authorization": f"Bearer {api_token(app, email)}"}
    with app.app_context():
        return app.test_client().post(f"/api/v1/tasks/{task_id}/claim", headers=headers)


@pytest.mark.parametrize("email", SEE_IT + DO_NOT_SEE_IT)
def test_the_service_refuses_a_claim_by_someone_who_is_not_a_candidate(demo, email):
    _, task = request_at("Task_Authorize")
    before = claim_state(task.id)
    assert before == ("open", None, 0)
    person = user(email)
    task = db.session.get(HumanTask, task.id)
    assert not policy.is_task_candidate(person, task)
    assert not policy.can_claim_task(person, task)
    with pytest.raises(workflow.NotAllowed):
        workflow.claim(person, task)
    assert claim_state(task.id) == before


def test_the_head_may_claim_it(demo):
    _, task = request_at("Task_Authorize")
    head = user(HEAD)
    assert policy.can_claim_task(head, task)
    workflow.claim(head, task)
    db.session.commit()
    assert claim_state(task.id) == ("open", head.id, 1)


@pytest.mark.parametrize("email", SEE_IT)
def test_the_page_answers_403_to_those_who_see_it(demo, browser, email):
    _, task = request_at("Task_Authorize")
    before = claim_state(task.id)
    client = browser(email)
    page = html(client.get(f"/tasks/{task.id}"))
    assert f"/tasks/{task.id}/claim" not in page  # no button to take it
    assert client.post(f"/tasks/{task.id}/claim").status_code == 403
    assert claim_state(task.id) == before


@pytest.mark.parametrize("email", DO_NOT_SEE_IT)
def test_the_page_answers_404_to_those_who_do_not(demo, browser, email):
    _, task = request_at("Task_Authorize")
    before = claim_state(task.id)
    assert browser(email).post(f"/tasks/{task.id}/claim").status_code == 404
    assert claim_state(task.id) == before


@pytest.mark.parametrize("email,status", [(e, 403) for e in SEE_IT]
                         + [(e, 404) for e in DO_NOT_SEE_IT])
def test_the_api_refuses_them_too(app, demo, email, status):
    _, task = request_at("Task_Authorize")
    before = claim_state(task.id)
    assert api_claim(app, email, task.id).status_code == status
    assert claim_state(task.id) == before


def test_the_head_claims_through_the_page_and_the_api(app, demo, browser):
    _, by_page = request_at("Task_Authorize")
    _, by_api = request_at("Task_Authorize")
    head = browser(HEAD)
    assert head.post(f"/tasks/{by_page.id}/claim").status_code == 302
    response = api_claim(app, HEAD, by_api.id)
    assert response.status_code == 200 and response.json["claimed_by"]["email"] == HEAD
    head_id = user(HEAD).id
    assert claim_state(by_page.id) == ("open", head_id, 1)
    assert claim_state(by_api.id) == ("open", head_id, 1)


def test_a_task_assigned_to_someone_is_not_offered_to_be_taken(demo):
    """A worker's start step is assigned to her: nobody claims it, not even her (it is
    already hers), and another worker of the unit may not take it."""
    _, task = request_at("Task_Start")
    mine, other = user("tecnico1@acme.test"), user("tecnico2@acme.test")
    assert policy.can_complete_task(mine, task)
    assert not policy.can_claim_task(mine, task)
    assert not policy.can_claim_task(other, task)
    with pytest.raises(workflow.NotAllowed):
        workflow.claim(other, task)
    workflow.claim(mine, task)  # already hers: nothing to do, nothing recorded
    assert claim_state(task.id) == ("open", None, 0)
