"""The budget pages (/budgets): a tenant admin manages every service unit's budgets, a director
their units' only; create, edit and delete are audited field by field and every refusal
changes nothing; the list's figures are ``budgets.figures``; periods and amounts read as the
page's language writes them; others find nothing there."""

from datetime import date
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from sqlalchemy import select

from app.extensions import db
from app.models import Budget, ServiceRequest
from app.viability import budgets
from tests.accounts.conftest import english
from tests.viability.budget_helpers import (
    ADMIN,
    DIRECTOR,
    HEAD,
    IT,
    REQUESTER,
    SERVICES,
    WORKER,
    add_budget,
    budget_form,
    budget_rows,
    category,
    costed_request,
    entries,
    make_other_unit,
    unit,
)


@pytest.fixture
def other_unit(demo):
    return make_other_unit()


def only_budget() -> Budget:
    db.session.rollback()
    return db.session.scalars(select(Budget)).one()


def test_the_admin_creates_a_budget_typed_in_spanish_and_the_audit_records_it(demo, browser):
    admin = browser(ADMIN)
    page = admin.get("/budgets/new")
    assert page.status_code == 200 and 'type="month"' in page.get_data(as_text=True)
    response = admin.post("/budgets/new", budget_form(amount="1.500.000,50"))
    assert response.status_code == 302, response.get_data(as_text=True)
    budget = only_budget()
    assert response.headers["Location"].endswith(f"/budgets/{budget.id}")
    assert (budget.period, budget.starts_on, budget.ends_on, budget.amount) == (
        "month", date(2026, 12, 1), date(2026, 12, 31), Decimal("1500000.50"))
    [entry] = entries("budget.")
    assert (entry.action, entry.target_type, entry.target_id) == (
        "budget.created", "budget", budget.id)
    assert entry.after == {"service_unit_id": unit(SERVICES).id, "category_id": None,
                           "requesting_unit_id": None, "period": "month",
                           "starts_on": "2026-12-01", "ends_on": "2026-12-31",
                           "amount": "1500000.50", "note": "Mantenimiento de fin de año"}


def test_an_english_page_reads_amounts_as_english_writes_them(demo, browser):
    admin = english(browser(ADMIN))
    response = admin.post("/budgets/new", budget_form(amount="1,500,000.50", period="quarter",
                                                      starts_on="2026-10"))
    assert response.status_code == 302, response.get_data(as_text=True)
    budget = only_budget()
    assert (budget.amount, budget.ends_on) == (Decimal("1500000.50"), date(2026, 12, 31))


def test_editing_records_only_what_changed_and_nothing_changed_writes_nothing(demo, browser):
    budget = add_budget(amount="1000000")
    admin = browser(ADMIN)
    form = admin.get(f"/budgets/{budget.id}/edit").get_data(as_text=True)
    assert 'value="1.000.000,00"' in form and 'value="2026-12"' in form
    same = budget_form(amount="1.000.000,00", note="")
    assert admin.post(f"/budgets/{budget.id}/edit", same).status_code == 302
    assert entries("budget.") == []
    changed = budget_form(amount="1.250.000", note="")
    assert admin.post(f"/budgets/{budget.id}/edit", changed).status_code == 302
    [entry] = entries("budget.")
    assert entry.action == "budget.updated"
    assert (entry.before, entry.after) == ({"amount": "1000000.00"}, {"amount": "1250000.00"})


def test_deleting_asks_first_and_leaves_the_requests_as_they_were(demo, browser):
    budget_id = add_budget(starts_on=date(2025, 3, 1)).id
    req = costed_request(on=date(2025, 3, 10), estimate="200000")
    admin = browser(ADMIN)
    confirm = admin.get(f"/budgets/{budget_id}/delete")
    assert confirm.status_code == 200 and budget_rows() != []
    assert "csrf_token" in confirm.get_data(as_text=True)
    response = admin.post(f"/budgets/{budget_id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/budgets")
    assert budget_rows() == []
    kept = db.session.get(ServiceRequest, req.id)
    assert (kept.committed_on, kept.estimated_cost) == (date(2025, 3, 10), Decimal("200000"))
    [entry] = entries("budget.")
    assert entry.action == "budget.deleted" and entry.before["amount"] == "1000000.00"
    assert admin.get(f"/budgets/{budget_id}").status_code == 404


def test_an_overlapping_budget_of_the_same_scope_is_refused_another_scope_is_not(demo,
                                                                                 browser):
    add_budget(period="quarter", starts_on=date(2026, 10, 1))
    admin = english(browser(ADMIN))
    before = budget_rows()
    refused = admin.post("/budgets/new", budget_form(starts_on="2026-11"))
    assert refused.status_code == 422
    assert "already covers part of this period" in refused.get_data(as_text=True)
    assert budget_rows() == before and entries("budget.") == []
    split = budget_form(starts_on="2026-11", category_id=str(category("Electricidad").id))
    assert admin.post("/budgets/new", split).status_code == 302
    per_unit = budget_form(starts_on="2026-11", requesting_unit_id=str(unit("Finanzas").id))
    assert admin.post("/budgets/new", per_unit).status_code == 302
    assert len(budget_rows()) == 3


@pytest.mark.parametrize(("amount", "message"), [
    ("-5", "Give an amount of zero or more"),
    ("1e15", "Enter a number"),  # an exponent is refused, not read
    ("1000000000000000", "Give an amount of zero or more"),
    ("mucho", "Enter a number."),
    ("NaN", "Enter a number."),
    ("", "Enter a number."),
])
def test_a_negative_absurd_or_unreadable_amount_is_refused(demo, browser, amount, message):
    admin = english(browser(ADMIN))
    response = admin.post("/budgets/new", budget_form(amount=amount))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert budget_rows() == [] and entries("budget.") == []


@pytest.mark.parametrize(("field", "message"), [
    ("category_id", "Choose a category the service unit attends."),
    ("requesting_unit_id", "Choose a unit of the company."),
    ("service_unit_id", "Choose a service unit of the company."),
])
def test_unknown_or_another_companys_ids_are_refused(demo, browser, field, message):
    globex = {"category_id": category("Aire acondicionado", "globex").id,
              "requesting_unit_id": unit("Operaciones", "globex").id,
              "service_unit_id": unit("Mantenimiento", "globex").id}
    admin = english(browser(ADMIN))
    for bad, expected in ((str(globex[field]), message), ("999999", message),
                          ("abc", "Enter a whole number."), ("0", "Choose from the list.")):
        response = admin.post("/budgets/new", budget_form(**{field: bad}))
        assert response.status_code == 422, bad
        assert expected in response.get_data(as_text=True), bad
    assert budget_rows() == [] and entries("budget.") == []


def test_a_category_of_another_service_unit_is_refused(demo, browser, other_unit):
    admin = english(browser(ADMIN))
    response = admin.post("/budgets/new", budget_form(category_id=str(category("Redes").id)))
    assert response.status_code == 422
    assert "Choose a category the service unit attends." in response.get_data(as_text=True)
    assert budget_rows() == []


@pytest.mark.parametrize(("period", "start"), [
    ("quarter", "2026-11"), ("year", "2026-03"), ("month", "2026-12-15"),
    ("month", "diciembre"), ("month", "2026-13"), ("week", "2026-12"),
])
def test_a_start_that_does_not_begin_the_period_is_refused(demo, browser, period, start):
    admin = english(browser(ADMIN))
    response = admin.post("/budgets/new", budget_form(period=period, starts_on=start))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert any(m in html for m in ("a quarter on 1 January", "Write the start as a month",
                                   "Choose month, quarter or year."))
    assert budget_rows() == []


def test_a_director_manages_their_units_budgets_only(demo, browser, other_unit):
    mine = add_budget()
    theirs = add_budget(IT)
    director = english(browser(DIRECTOR))
    listing = director.get("/budgets").get_data(as_text=True)
    assert f"/budgets/{mine.id}" in listing and f"/budgets/{theirs.id}" not in listing
    assert f'value="{other_unit.id}"' not in listing  # not among the filter's units
    for path in (f"/budgets/{theirs.id}", f"/budgets/{theirs.id}/edit",
                 f"/budgets/{theirs.id}/delete"):
        assert director.get(path).status_code == 404, path
    before = budget_rows()
    assert director.post(f"/budgets/{theirs.id}/edit", budget_form()).status_code == 404
    assert director.post(f"/budgets/{theirs.id}/delete").status_code == 404
    moved = director.post(f"/budgets/{mine.id}/edit",
                          budget_form(service_unit_id=str(other_unit.id)))
    assert moved.status_code == 422
    assert "Choose one of the service units you direct." in moved.get_data(as_text=True)
    created = director.post("/budgets/new", budget_form(service_unit_id=str(other_unit.id),
                                                        starts_on="2027-01"))
    assert created.status_code == 422
    assert budget_rows() == before
    form = director.get("/budgets/new").get_data(as_text=True)
    units_offered = form[form.index('id="service_unit_id"'):form.index('id="category_id"')]
    assert SERVICES in units_offered and IT not in units_offered
    assert "Redes" not in form  # nor the other unit's categories
    assert director.get("/budgets/rates").status_code == 403
    assert director.post("/budgets/new", budget_form(starts_on="2027-01")).status_code == 302


def test_the_top_bar_offers_budgets_to_directors_and_the_admin_menu_to_admins(demo, browser):
    director = browser(DIRECTOR).get("/inbox").get_data(as_text=True)
    assert 'href="/budgets"' in director
    admin = browser(ADMIN).get("/admin/people").get_data(as_text=True)
    assert 'href="/budgets"' in admin and 'href="/budgets/rates"' in admin


@pytest.mark.parametrize("email", [HEAD, REQUESTER, WORKER])
def test_others_see_no_entry_point_and_find_nothing(demo, browser, email):
    budget = add_budget(requesting_unit="Finanzas")
    person = browser(email)
    assert 'href="/budgets"' not in person.get("/inbox").get_data(as_text=True)
    for path in ("/budgets", "/budgets/new", f"/budgets/{budget.id}",
                 f"/budgets/{budget.id}/edit", "/budgets/rates"):
        assert person.get(path).status_code == 404, path
    assert person.post("/budgets/new", budget_form()).status_code == 404
    assert person.post(f"/budgets/{budget.id}/delete").status_code == 404
    assert len(budget_rows()) == 1


def test_anonymous_visitors_are_sent_to_log_in(demo, app):
    response = app.test_client().get("/budgets")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_list_shows_the_figures_budgets_figures_gives(demo, browser):
    whole = add_budget(starts_on=date(2025, 11, 1), amount="500000")
    electric = add_budget(starts_on=date(2025, 11, 1), amount="100000",
                          category_name="Electricidad")
    costed_request(on=date(2025, 11, 3), estimate="80000", category_name="Electricidad")
    costed_request(on=date(2025, 11, 4), estimate="70000", actual="65000.50",
                   category_name="Electricidad")
    costed_request(on=date(2025, 11, 5), estimate="30000", category_name="Plomería")
    costed_request(on=date(2025, 11, 6), estimate="999", status="rejected",
                   category_name="Plomería")
    costed_request(on=date(2025, 12, 1), estimate="5000", category_name="Plomería")
    figures = budgets.figures([whole, electric])
    assert figures[electric.id].committed == Decimal("80000.00")
    assert figures[electric.id].spent == Decimal("65000.50")
    assert figures[electric.id].left == Decimal("-45000.50")
    assert (figures[whole.id].committed, figures[whole.id].spent) == (
        Decimal("30000.00"), Decimal("0.00"))
    html = browser(ADMIN).get("/budgets?year=2025").get_data(as_text=True)
    for fig in figures.values():
        for amount in (fig.amount, fig.committed, fig.spent, fig.left):
            assert money_es(amount) in html, amount
    assert 'class="negative"' in html  # the category's budget went over
    assert html.count('class="negative"') == 1


def money_es(amount: Decimal) -> str:
    """An amount as a Spanish page writes it in pesos (the default currency)."""
    return format_currency(amount, "COP", locale="es", currency_digits=False)


def test_the_budget_page_lists_the_requests_it_covers_as_allot_gives_them(demo, browser):
    whole = add_budget(starts_on=date(2025, 11, 1), amount="500000")
    electric = add_budget(starts_on=date(2025, 11, 1), amount="100000",
                          category_name="Electricidad")
    lamp = costed_request(on=date(2025, 11, 3), estimate="80000",
                          category_name="Electricidad")
    pipe = costed_request(on=date(2025, 11, 5), estimate="30000", category_name="Plomería")
    later = costed_request(on=date(2025, 12, 1), estimate="5000", category_name="Plomería")
    covered = {b.id: set(db.session.scalars(budgets.covered_requests(b).with_only_columns(
        ServiceRequest.id))) for b in (whole, electric)}
    assert covered == {whole.id: {pipe.id}, electric.id: {lamp.id}}
    admin = browser(ADMIN)
    html = admin.get(f"/budgets/{whole.id}").get_data(as_text=True)
    assert pipe.number in html and lamp.number not in html and later.number not in html
    assert f"/requests/{pipe.id}" in html
    html = admin.get(f"/budgets/{electric.id}").get_data(as_text=True)
    assert lamp.number in html and pipe.number not in html


def test_filters_stay_in_the_url_and_the_list_pages(demo, browser):
    for month in range(1, 13):
        add_budget(starts_on=date(2025, month, 1))
    for month in range(1, 13):
        add_budget(starts_on=date(2026, month, 1), category_name="Limpieza")
    for month in (1, 2):
        add_budget(starts_on=date(2027, month, 1), category_name="Limpieza")
    add_budget(period="year", starts_on=date(2025, 1, 1), requesting_unit="Finanzas")
    admin = browser(ADMIN)
    first = admin.get("/budgets?period=month").get_data(as_text=True)
    assert "Page 1 of 1" not in first and "period=month" in first and "page=2" in first
    year = admin.get("/budgets?year=2025&period=year").get_data(as_text=True)
    assert year.count('<tr>') == 2  # the header and the one yearly budget
    assert admin.get("/budgets?year=abc&period=nope&unit=-1&page=0").status_code == 200


def test_periods_and_amounts_in_spanish_and_in_english(demo, browser):
    add_budget(starts_on=date(2026, 12, 1), amount="1500000.50")
    add_budget(period="quarter", starts_on=date(2026, 10, 1), category_name="Limpieza")
    add_budget(period="year", starts_on=date(2026, 1, 1), requesting_unit="Finanzas")
    spanish = browser(ADMIN).get("/budgets").get_data(as_text=True)
    assert '<html lang="es">' in spanish
    assert "diciembre de 2026" in spanish and "T4 2026" in spanish and ">2026<" in spanish
    assert "1.500.000,50" in spanish
    english_page = english(browser(ADMIN)).get("/budgets").get_data(as_text=True)
    assert '<html lang="en">' in english_page
    assert "December 2026" in english_page and "Q4 2026" in english_page
    assert "1,500,000.50" in english_page
    assert "Whole service unit" in english_page and "Limpieza" in english_page


def test_tables_stack_on_a_phone(demo, browser):
    """At 390 px, ``table.list.stack`` rows become blocks whose cells say what they are
    (app.css): every list of these pages is one."""
    budget = add_budget(starts_on=date(2025, 11, 1))
    costed_request(on=date(2025, 11, 3), estimate="80000")
    admin = browser(ADMIN)
    for path in ("/budgets", f"/budgets/{budget.id}", "/budgets/rates"):
        html = admin.get(path).get_data(as_text=True)
        assert 'class="list stack' in html, path
        assert 'data-label="' in html, path
        assert 'name="viewport" content="width=device-width' in html
