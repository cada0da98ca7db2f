"""The engine's own limit: the lifecycle with no database and no HTTP, in memory and with our
serializer's save/load after every step (what each completion in the app pays)."""

import time

from bench.common import ROOT, median

STEPS = [
    ("Task_Authorize", {"decision": "authorize"}),
    ("Task_Evaluate", {"decision": "approve", "estimated_cost": 100.0, "estimated_hours": 8.0,
                       "staff_available": True, "over_budget": False,
                       "over_budget_approval": False}),
    ("Task_Assign", {"assignment": {"worker_id": 1, "helper_ids": [],
                                    "planned_start": "2026-01-05", "planned_end": "2026-01-07"}}),
    ("Task_Start", {}),
    ("Task_Work", {"action": "finish"}),
    ("Task_Confirm", {"rating": 5}),
]
START_DATA = {"requester_is_head": False, "priority": "normal",
              "authorization_reminder_after": "PT48H", "auto_close_after": "P7D"}


def _operation(name, params, data):
    if name == "create_ticket":
        return {"ticket_id": 1, "number": "TKT-2026-000001"}
    return {}


def compiled_default():
    from app.engine.specs import compile_process
    from app.handlers.registry import OPERATIONS, TASK_HANDLERS

    xml = (ROOT / "processes/service_request.bpmn").read_bytes()
    return compile_process(xml, set(TASK_HANDLERS), set(OPERATIONS))


def lifecycle(compiled, persist: bool) -> None:
    from app.engine.runner import Instance

    instance = Instance.start(compiled, dict(START_DATA), _operation)
    if persist:
        instance = Instance.restore(compiled, instance.dump(), _operation)
    for spec_id, data in STEPS:
        uuid = next(t.uuid for t in instance.ready_tasks() if t.spec_id == spec_id)
        instance.complete(uuid, dict(data))
        instance.ready_tasks()  # the app reads them after every step to sync its rows
        if persist:
            instance = Instance.restore(compiled, instance.dump(), _operation)
    assert instance.is_completed


def run(lifecycles: int = 300, repeats: int = 3) -> dict:
    compiled = compiled_default()
    results = {}
    for persist in (False, True):
        lifecycle(compiled, persist)  # warm-up
        rates = []
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(lifecycles):
                lifecycle(compiled, persist)
            rates.append(lifecycles / (time.perf_counter() - started))
        results["persisted" if persist else "memory"] = median(rates)
    return results
