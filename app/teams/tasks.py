"""Where a ``Team`` lane's task goes: its team (task property ``team``) and, for one instance
of a change-board vote, the member whose seat it is (app.teams.board)."""

from app.teams import service

# What the vote's opening writes into the task data (app.teams.board.open_vote, its result
# variable): ``board["members"]``, one seat each (None: an empty team, the directors' seat).
BOARD = "board"


def team_id(req, task) -> int | None:
    return service.id_for_task(req.tenant_id, (task.properties or {}).get("team"))


def assignee(task) -> int | None:
    """The member a vote's instance is for: its seat in the snapshot of the members; None for
    any other team task (every active member is a candidate, or the directors when none)."""
    if task is None or task.loop_index is None or not task.properties.get("approval_rule"):
        return None
    voters = ((task.data or {}).get(BOARD) or {}).get("members")
    if not isinstance(voters, list) or not 0 <= task.loop_index < len(voters):
        return None
    voter = voters[task.loop_index]
    return voter if isinstance(voter, int) and not isinstance(voter, bool) else None
