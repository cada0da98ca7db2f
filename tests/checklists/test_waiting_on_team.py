"""The reporter of a security incident reads whom it waits on by the team's name ("Equipo de
seguridad"), not the lane's word "Team", with its members; the diagram's current step names
the team."""

from tests.checklists.conftest import REPORTER, RESPONDERS, report_incident
from tests.factories import user
from tests.views.helpers import html


def test_the_reporter_sees_the_teams_name(security, browser):
    req = report_incident(security)
    reporter = browser(REPORTER)
    page = html(reporter.get(f"/requests/{req.id}"))
    waiting = page[page.index('class="waiting"'):]
    waiting = waiting[:waiting.index("</ul>")]
    assert "Seguridad" in waiting and "Equipo<" not in waiting and "Team<" not in waiting
    # and who in it: the team's active members, as the API's waiting_on says
    assert all(user(email).name in waiting for email in RESPONDERS), waiting
    body = reporter.get(f"/requests/{req.id}/diagram.json").get_json()
    assert [step["waiting_on"] for step in body["current"]] == [["Seguridad"]]
