"""What one task completion costs the server when the instance has looped 1, 10, 50 and 100
times (hold and resume on the worker's step is such a loop): the same service call the API
makes (lock, restore, engine step, sync, save, history), timed in-process, committed."""

import time

from bench.common import median

LOOPS = (1, 10, 50, 100)


def run(database_url: str, requests: int = 3) -> dict:
    from app import create_app
    from app.extensions import db
    from app.models import HumanTask, ProcessInstance, User
    from app.services import workflow
    from app.sqlite import writing
    from tests.factories import request_at

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "EMBEDDED_TIMERS": False})
    timings = {n: [] for n in LOOPS}
    sizes = {n: [] for n in LOOPS}
    with app.app_context(), writing():
        worker_id = db.session.query(User.id).filter_by(email="tecnico1@acme.test").scalar()

        def step(req_id: int, spec_id: str, handler: str, form: dict) -> float:
            started = time.perf_counter()
            user = db.session.get(User, worker_id)
            task = db.session.query(HumanTask).filter_by(
                request_id=req_id, spec_id=spec_id, status="open").one()
            workflow.complete(user, task, handler, form)
            db.session.commit()
            return (time.perf_counter() - started) * 1000

        for _ in range(requests):
            req, _ = request_at("Task_Work")
            req_id = req.id
            done = 0
            for target in LOOPS:
                while done < target:
                    hold = step(req_id, "Task_Work", "hold", {"reason": "Falta material"})
                    resume = step(req_id, "Task_OnHold", "resume", {})
                    done += 1
                    if done == target:  # the loop that brings it to ``target``
                        timings[target].extend((hold, resume))
                state = db.session.query(ProcessInstance.state).filter_by(
                    request_id=req_id).scalar()
                sizes[target].append(len(state) / 1024)
    return {n: {"ms": median(timings[n]), "state_kb": median(sizes[n])} for n in LOOPS}
