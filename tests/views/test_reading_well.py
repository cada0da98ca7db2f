"""Pages that read well (issue 16, item 8): a request waiting for its rating does not read as
closed, history lines are sentences (never an arrow with an empty side), money shows its
currency and two decimals, numbers keep the decimals they were typed with, and the rating is
five labelled stars."""

import re
from decimal import Decimal

from flask_babel import force_locale

from app import labels
from app.extensions import db
from app.indicators import display
from app.models import ServiceRequest
from tests.factories import request_at
from tests.views.helpers import html


def test_a_typed_number_keeps_its_decimals_in_the_readers_way(app):
    with app.test_request_context(), force_locale("es"):
        assert labels.number_as_entered("1250.50") == "1.250,50"
        assert labels.number_as_entered("1250.5") == "1.250,5"
        assert labels.number_as_entered(12) == "12"
        assert labels.number_as_entered("0.125") == "0,125"
        assert labels.number_as_entered("abc") == "abc"  # never a 500 on an odd stored value
    with app.test_request_context(), force_locale("en"):
        assert labels.number_as_entered(Decimal("1250.50")) == "1,250.50"


def test_a_status_change_never_has_an_empty_side(app):
    with app.test_request_context(), force_locale("en"):
        assert labels.transition(None, "pending") == "Pending"
        assert labels.transition("pending", "in_progress") == "Pending \u2192 In progress"
        assert labels.transition("on_hold", None) == "no longer On hold"
        assert labels.transition(None, None) == ""


def test_money_shows_the_companys_currency_with_two_decimals(app):
    from app.viability.money import money

    with app.test_request_context(), force_locale("es"):
        assert money(Decimal("1250.5"), "COP").replace("\xa0", " ") == "1.250,50 COP"
        assert money(Decimal("1250"), "USD").replace("\xa0", " ").startswith("1.250,00")
    # the cost chart writes its amounts in the company's currency too
    spec = display.charts(_empty_figures(), "month", "COP")["cost"]
    assert spec["currency"] == "COP"


def _empty_figures() -> dict:
    return {
        "volumes": {"buckets": [], "series": {}, "totals": {}},
        "backlog": {"bands": [], "by_status": {}, "matrix": {}},
        "lead_times": [], "sla": [], "workload": [],
        "cost": {"by_category": []},
        "satisfaction": {"distribution": {}},
    }


def test_a_request_waiting_for_its_rating_does_not_read_as_closed(demo, browser):
    req, task = request_at("Task_Confirm")
    ana = browser("ana@acme.test")
    page = html(ana.get(f"/requests/{req.id}"))
    head = page[page.index('class="pagehead"'):page.index("</div>", page.index("pagehead"))]
    # The demo people read Spanish (the catalog is compiled by make test)
    assert "st-awaiting_confirmation" in head and "Pendiente de su confirmación" in head
    director = html(browser("director@acme.test").get(f"/requests/{req.id}"))
    assert "st-awaiting_confirmation" in director and "Pendiente de confirmación" in director
    mine = html(ana.get("/requests"))
    assert "Pendiente de su confirmación" in mine

    form = html(ana.get(f"/tasks/{task.id}"))
    stars = re.findall(r'<input type="radio" name="rating" value="(\d)"', form)
    assert stars == ["1", "2", "3", "4", "5"]  # left to right, one radio group
    for caption in ("1 estrella \u2013 Muy malo", "3 estrellas \u2013 Regular",
                    "5 estrellas \u2013 Excelente"):
        assert caption in form
    assert ana.post(f"/tasks/{task.id}", {"rating": "4", "comment": ""},
                    follow_redirects=False).status_code in (302, 303)
    db.session.rollback()
    closed = html(ana.get(f"/requests/{req.id}"))
    assert "st-awaiting_confirmation" not in closed and "st-completed" in closed


def test_history_lines_are_sentences_and_amounts_show_cents(demo, browser):
    req, _task = request_at("Task_Work")
    row = db.session.get(ServiceRequest, req.id)
    page = html(browser("director@acme.test").get(f"/requests/{row.id}"))
    timeline = page[page.index('<ol class="timeline">'):page.index("</ol>")]
    text = re.sub(r"<[^>]+>", " ", timeline)
    text = re.sub(r"\s+", " ", text)
    # an arrow always has a status on both sides
    assert not re.search(r"(^|[:>]) ?\u2192", text), text
    assert "\u2192 \u2192" not in text
    assert "Estado del ticket Pendiente " in text  # the assignment: the ticket's first status
    assert "Estado del ticket \u2192" not in text
    # the evaluation's estimate (100) in the company's currency, with cents
    assert re.search(r"100,00\s*COP", text), text
