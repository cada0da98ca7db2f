"""The change board's count: pure, no database. Who decides what, for each rule.

A vote has ``size`` seats (one per board member when it opened). Each seat holds at most one
answer: ``approve``, ``reject`` or ``withdrawn`` (its member left the board or was deactivated
before answering: not counted for or against, and the rule is applied to the others).

- ``all``: approved when every remaining seat approved; rejected at the first rejection.
- ``any``: approved at the first approval; rejected when every remaining seat rejected.
- ``majority``: approved when more than half of the remaining seats approved; rejected as soon
  as that can no longer happen. A tie (as many approvals as rejections, nobody left to answer)
  is **rejected**: a change goes ahead only with a majority for it.
- Every seat withdrawn: rejected (nobody approved it).

The outcome is decided as early as the rule allows; the other seats are then closed.
"""

from dataclasses import dataclass

RULES = ("all", "any", "majority")
APPROVE, REJECT, WITHDRAWN = "approve", "reject", "withdrawn"
ANSWERS = (APPROVE, REJECT, WITHDRAWN)
APPROVED, REJECTED, OPEN = "approved", "rejected", ""


@dataclass(frozen=True)
class Tally:
    approvals: int
    rejections: int
    withdrawn: int
    pending: int
    outcome: str  # "approved", "rejected" or "" (still open)

    @property
    def eligible(self) -> int:
        return self.approvals + self.rejections + self.pending


def count(rule: str, votes: dict, size: int) -> Tally:
    """The count of ``votes`` (seat -> answer) among ``size`` seats under ``rule``."""
    if rule not in RULES:
        raise ValueError(f"unknown approval rule {rule!r}")
    answers = [v for v in votes.values() if v in ANSWERS]
    approvals = answers.count(APPROVE)
    rejections = answers.count(REJECT)
    withdrawn = answers.count(WITHDRAWN)
    pending = max(size - len(answers), 0)
    eligible = approvals + rejections + pending
    if eligible == 0:
        outcome = REJECTED
    elif rule == "all":
        outcome = REJECTED if rejections else APPROVED if approvals == eligible else OPEN
    elif rule == "any":
        outcome = APPROVED if approvals else REJECTED if rejections == eligible else OPEN
    else:
        outcome = (APPROVED if 2 * approvals > eligible
                   else REJECTED if 2 * (approvals + pending) <= eligible else OPEN)
    return Tally(approvals, rejections, withdrawn, pending, outcome)
