"""Teams: named groups of a company's people (second line, change board, security responders)
that a diagram's ``Team`` lane hands a task to, and the change board's vote.

- ``models``: Team, TeamMember.
- ``service``: ensure / get / member_ids / membership edits (only flush).
- ``board``: the multi-instance vote (snapshot of the members, tally, withdrawn approvers);
  ``tally``: the count itself (pure).
- ``admin`` (audited edits), ``views`` (pages /teams), ``api`` (/api/v1/admin/teams).
"""


def init_app(app) -> None:
    from app.teams import views

    views.init_app(app)


def init_api(api) -> None:
    from app.teams import api as teams_api

    api.register_blueprint(teams_api.blp)
