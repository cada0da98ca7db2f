"""The change board's entries in a request's history read as words in the reader's language
(Outcome: Approved, Rule: Majority, Approvals: 2...), not as the stored keys and codes."""

import re

from tests.teams.helpers import BOARD, assess, deploy_change, file_change, vote

FIN, PROD, _ = BOARD


def _history_terms(html: str) -> list[str]:
    timeline = html[html.index('class="timeline"'):]
    return [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<d[td]>(.*?)</d[td]>", timeline)]


def test_the_board_decision_is_told_in_words(demo, browser):
    deploy_change("majority")
    req = file_change()
    assess(req)
    vote(req, FIN, "approve")
    vote(req, PROD, "approve")  # two of three: the majority decides

    page = browser("ana@acme.test")
    page.post("/language", {"code": "en", "next": f"/requests/{req.id}"})
    terms = _history_terms(page.get(f"/requests/{req.id}").get_data(as_text=True))

    for raw in ("outcome", "approvals", "rejections", "withdrawn", "pending", "members",
                "approved", "majority"):
        assert raw not in terms, raw
    pairs = dict(zip(terms[::2], terms[1::2], strict=False))
    assert pairs.get("Outcome") == "Approved"
    assert pairs.get("Rule") == "Majority"
    assert pairs.get("Approvals") == "2"
    assert pairs.get("Members") == "3"
