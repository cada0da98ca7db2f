"""The change board's vote, hosted: one instance of a multi-instance user task per member.

How it runs (the diagram: processes/change_request.bpmn):

1. The service operation ``open_vote`` (parameter ``team``) takes a snapshot of the team's
   active members and writes it as its result (``board``): ``members`` (one seat each, by user
   id; ``[None]`` when the team has nobody: one seat the service unit's directors answer),
   ``size``, ``votes`` {} and ``outcome`` "". The multi-instance task reads
   ``loopCardinality: board["size"]`` (the engine caps it at 100) and ends on
   ``completionCondition: board["outcome"] != ""``.
2. Each instance is assigned to the member of its seat (``app.teams.tasks.assignee``).
3. SpiffWorkflow merges each completed instance's data into the multi-instance task and
   evaluates the completion condition on the LAST completed instance's data only. So before an
   instance runs, the host (``before_vote``, under the instance's lock) reads the votes merged
   so far, adds this one (a seat answers once: a second answer is refused), marks withdrawn
   members' seats, counts them (``app.teams.tally``, the task property ``approval_rule``) and
   writes the whole count into the completing instance's ``board``: what the condition reads
   is the count of every vote, and the merge carries it on.
4. A withdrawn approver (removed from the team, or deactivated, while their seat is open) is
   skipped: their seat is closed with the answer ``withdrawn`` (history entry
   ``vote_withdrawn``) and the rule is applied to the others. This happens when the membership
   changes or the person is deactivated (``withdraw_member``), and again at the next vote of
   that board (``before_vote`` / ``after_vote``), whichever comes first.
"""

from marshmallow import ValidationError
from sqlalchemy import select

from app.engine.runner import MAX_INSTANCES
from app.extensions import db
from app.handlers.operations import OperationError
from app.models import HumanTask
from app.services import history
from app.teams import service
from app.teams.tally import APPROVE, REJECT, RULES, WITHDRAWN, count

BOARD = "board"   # the result variable of open_vote: what the diagram's expressions read
VOTE = "vote"     # the vote form's field: "approve" or "reject"


class NotAVoter(Exception):
    """The seat is not this person's (any more): they left the board or were deactivated."""


class AlreadyVoted(Exception):
    """The seat has an answer already (two posts of one vote: the second finds it)."""


def open_vote(ctx, params: dict, data: dict) -> dict:
    """Operation: open a vote of team ``params['team']`` with a snapshot of its members."""
    key = params.get("team")
    if not service.valid_key(key):
        raise OperationError(f"open_vote: 'team' must be a team key, not {str(key)[:40]!r}")
    req = ctx.request
    service.ensure(req.tenant_id, key, {})
    members = service.member_ids(req.tenant_id, key)
    if len(members) > MAX_INSTANCES:
        raise OperationError(f"open_vote: the team '{key}' has {len(members)} members; a vote "
                             f"takes at most {MAX_INSTANCES}")
    seats = members or [None]  # nobody: one seat for the service unit's directors
    history.record(req, "vote_opened", None,  # the process opens it: System
                   changes={"team": key, "members": len(members)})
    return {"team": key, "members": seats, "size": len(seats), "votes": {},
            "approvals": 0, "rejections": 0, "withdrawn": 0, "outcome": ""}


RESULT_SAMPLES = {"open_vote": tuple(
    {"team": "change_board", "members": [1, 2, 3], "size": 3, "votes": {}, "approvals": a,
     "rejections": r, "withdrawn": 0, "outcome": outcome}
    for a, r, outcome in ((0, 0, ""), (2, 1, "approved"), (1, 2, "rejected")))}
OPERATIONS = {"open_vote": open_vote}


def _vote_of(instance, uuid: str):
    """(ready task, its seat, the board as merged so far, rule) of a vote's instance, or None
    for any other task."""
    ready = instance.ready_task(uuid)
    if ready is None or ready.loop_index is None:
        return None
    rule = ready.properties.get("approval_rule")
    board = (instance.loop_data(uuid) or {}).get(BOARD)
    if rule not in RULES or not isinstance(board, dict) or not isinstance(
            board.get("members"), list) or not 0 <= ready.loop_index < len(board["members"]):
        return None
    return ready, ready.loop_index, board, rule


def _counted(req, ready, board: dict, rule: str, votes: dict, actor) -> dict:
    """``board`` with ``votes`` counted; the decision, when this count makes it, recorded."""
    tally = count(rule, votes, len(board["members"]))
    if tally.outcome and not board.get("outcome"):
        history.record(req, "board_decided", actor, step=ready.name, changes={
            "outcome": tally.outcome, "rule": rule, "approvals": tally.approvals,
            "rejections": tally.rejections, "withdrawn": tally.withdrawn,
            "pending": tally.pending})
    return {**board, "votes": votes, "rule": rule, "approvals": tally.approvals,
            "rejections": tally.rejections, "withdrawn": tally.withdrawn,
            "outcome": tally.outcome}


def _mark_withdrawn(req, ready, board: dict, votes: dict, current: set[int]) -> None:
    """Seats of members no longer on the board (or inactive) with no answer: withdrawn."""
    for seat, member in enumerate(board["members"]):
        if member is not None and member not in current and str(seat) not in votes:
            votes[str(seat)] = WITHDRAWN
            history.record(req, "vote_withdrawn", None, step=ready.name,
                           changes={"member": member, "seat": seat})


def before_vote(instance, req, task: HumanTask, user, task_data: dict) -> dict:
    """The data a vote's instance completes with: the answer plus the whole count (see the
    module's docstring). Any other task's data is returned as it is."""
    found = _vote_of(instance, task.task_uuid)
    if found is None:
        return task_data
    ready, seat, board, rule = found
    votes = dict(board.get("votes") or {})
    if str(seat) in votes:
        raise AlreadyVoted()
    current = set(service.member_ids(req.tenant_id, board.get("team") or ""))
    member = board["members"][seat]
    if member is not None and (member != user.id or member not in current):
        raise NotAVoter()
    answer = task_data.get(VOTE)
    if answer not in (APPROVE, REJECT):
        raise ValidationError({VOTE: ["choose approve or reject"]})
    votes[str(seat)] = answer
    _mark_withdrawn(req, ready, board, votes, current)
    return {**task_data, BOARD: _counted(req, ready, board, rule, votes, user)}


def after_vote(instance, req, actor=None) -> bool:
    """Close the open seats of withdrawn members (each counted as it closes, so the rule is
    applied to the others). True if any seat was closed."""
    closed = False
    members_now: dict[str, set[int]] = {}
    for _ in range(MAX_INSTANCES + 1):
        target = None
        for ready in instance.ready_tasks():
            found = _vote_of(instance, ready.uuid)
            if found is None:
                continue
            _, seat, board, _ = found
            key = board.get("team") or ""
            if key not in members_now:
                members_now[key] = set(service.member_ids(req.tenant_id, key))
            member = board["members"][seat]
            if member is not None and member not in members_now[key]:
                target = found
                break
        if target is None:
            return closed
        ready, seat, board, rule = target
        votes = dict(board.get("votes") or {})
        if votes.get(str(seat)) != WITHDRAWN:
            votes[str(seat)] = WITHDRAWN
            history.record(req, "vote_withdrawn", None, step=ready.name,
                           changes={"member": board["members"][seat], "seat": seat})
        instance.complete(ready.uuid, {VOTE: WITHDRAWN,
                                       BOARD: _counted(req, ready, board, rule, votes, actor)})
        closed = True
    return closed


def withdraw_member(tenant_id: int, user_id: int, actor) -> int:
    """Skip the open vote seats of a person who left a team or was deactivated: each of their
    requests' votes goes on without them (one locked step per request). Returns how many
    requests' votes changed."""
    from app.services import workflow

    tasks = list(db.session.scalars(
        select(HumanTask).where(HumanTask.tenant_id == tenant_id, HumanTask.status == "open",
                                HumanTask.team_id.is_not(None),
                                HumanTask.assigned_user_id == user_id)
        .order_by(HumanTask.id)))
    changed = 0
    for task in tasks:
        if workflow.host_step(task, actor, lambda instance, req: after_vote(instance, req,
                                                                              actor)):
            changed += 1
    return changed
