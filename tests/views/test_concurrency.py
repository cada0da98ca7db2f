"""Two people completing one task at the same moment: one wins, the other is told clearly."""

import threading

from app.extensions import db
from app.models import HistoryEvent, HumanTask, ProcessInstance
from tests.factories import request_at


def race(browser, task_id, email, form, rounds=2):
    clients = [browser(email) for _ in range(rounds)]
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def submit(index):
        barrier.wait()
        results[index] = clients[index].post(f"/tasks/{task_id}", form)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_simultaneous_completions_one_succeeds(demo, browser):
    for _ in range(3):
        req, task = request_at("Task_Evaluate")
        version = db.session.query(ProcessInstance).filter_by(request_id=req.id).one().version
        results = race(browser, task.id, "director@acme.test", {
            "handler": "evaluate", "decision": "approve", "estimated_cost": "10",
            "estimated_hours": "8", "staff_available": "true"})
        codes = sorted(r.status_code for r in results)
        assert codes == [302, 409], codes
        loser = next(r for r in results if r.status_code == 409)
        assert "ya" in loser.get_data(as_text=True) or "already" in loser.get_data(as_text=True)
        db.session.rollback()
        assert db.session.query(HistoryEvent).filter_by(
            request_id=req.id, action="evaluate").count() == 1
        assert db.session.query(ProcessInstance).filter_by(
            request_id=req.id).one().version == version + 1
        open_tasks = db.session.query(HumanTask).filter_by(request_id=req.id, status="open")
        assert [t.spec_id for t in open_tasks] == ["Task_Assign"]
