"""Teams: named groups of a company's people (second line, change board, security responders)
that a diagram's ``Team`` lane hands a task to, and the change board's vote.

- ``models``: Team, TeamMember.
- ``service``: ensure / get / member_ids / membership edits (only flush).
- ``board``: the multi-instance vote (snapshot of the members, tally, withdrawn approvers).
"""
