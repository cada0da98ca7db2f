"""The indicators page (/indicators): tenant admins, directors and unit heads each see their
own figures, in tables with the charts' numbers beside them; a requester or a worker finds
nothing (404); a bad filter is answered on its field (422: from after to; 404: another
company's id), with no figures; the form keeps the filters, and so do the export links."""

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ServiceRequest, Tenant, Unit, User
from app.services import workflow
from tests import factories
from tests.accounts.conftest import english

ADMIN = "admin@acme.test"
DIRECTOR = "director@acme.test"
HEAD = "jefe.finanzas@acme.test"
REQUESTER = "ana@acme.test"
WORKER = "tecnico1@acme.test"
ISLAND = re.compile(r'<script type="application/json" id="indicators-charts">(.*?)</script>',
                    re.S)
SECTIONS = ("volumes", "rates", "lead-times", "backlog", "on-time", "sla", "workload", "cost",
            "satisfaction")


def completed(rating: int, comment: str, requester=REQUESTER, head=HEAD) -> ServiceRequest:
    """A request walked through the whole lifecycle, confirmed with ``rating``."""
    req, task = factories.request_at("Task_Confirm", requester=requester, head=head)
    workflow.complete(factories.user(requester), task, "confirm",
                      {"rating": str(rating), "comment": comment})
    db.session.commit()
    return req


def charts_of(html: str) -> dict:
    found = ISLAND.search(html)
    assert found, "no chart data on the page"
    return json.loads(unescape(found.group(1)))


def filed_total(html: str) -> int:
    volumes = charts_of(html)["volumes"]
    return sum(next(s["data"] for s in volumes["series"] if s["name"] == "Filed requests"))


def filed_in(*conditions) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(ServiceRequest.id)).where(*conditions))


def acme() -> Tenant:
    return db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()


def unit_named(name: str) -> Unit:
    return db.session.scalars(select(Unit).where(Unit.name == name)).one()


def test_admin_director_and_head_each_see_their_figures(demo, browser):
    rated = completed(5, "Excelente <b>servicio</b>")
    tenant_id = acme().id
    finance = unit_named("Finanzas")
    service = unit_named("Servicios Generales")
    expected = {
        ADMIN: filed_in(ServiceRequest.tenant_id == tenant_id),
        DIRECTOR: filed_in(ServiceRequest.service_unit_id == service.id),
        HEAD: filed_in(ServiceRequest.unit_id == finance.id),
    }
    assert expected[HEAD] < expected[ADMIN]
    for email, filed in expected.items():
        page = english(browser(email)).get("/indicators")
        html = page.get_data(as_text=True)
        assert page.status_code == 200, email
        assert page.headers["Cache-Control"] == "no-store"
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert "<script>" not in html and "dist/indicators.js" in html
        for section in SECTIONS:
            assert f'id="{section}"' in html, (email, section)
        assert 'href="/indicators">Indicators</a>' in html  # the menu link
        assert filed_total(html) == filed, email
        # Names come translated; the comment is text, its markup escaped, linked to its request
        assert "Rejected by the unit head" in html and "Whole service" in html
        assert "Excelente &lt;b&gt;servicio&lt;/b&gt;" in html
        assert re.search(rf'<a href="/requests/{rated.id}">{rated.number}</a>', html)


def test_each_table_holds_the_numbers_its_chart_draws(demo, browser):
    completed(4, "Bien")
    html = english(browser(ADMIN)).get("/indicators").get_data(as_text=True)
    charts = charts_of(html)
    assert set(charts) == {"volumes", "backlog", "lead_times", "sla", "workload", "cost",
                           "satisfaction"}
    for name in ("volumes", "lead_times", "backlog", "workload", "satisfaction"):
        assert f'data-chart="{name}"' in html, name
    ratings = charts["satisfaction"]["series"][0]["data"]
    assert ratings == [0, 0, 0, 1, 0]
    # The ratings table: four stars, one request
    table = html[html.index('id="table-satisfaction"'):]
    assert re.search(r"4 stars</th><td class=\"n\">1</td>", table)
    # the backlog's rows are the statuses of the chart, in the same order
    backlog = charts["backlog"]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>',
                      html[html.index('id="table-backlog"'):html.index('id="on-time"')])
    assert rows[:len(backlog["categories"])] == backlog["categories"]


@pytest.mark.parametrize("email", [REQUESTER, WORKER])
def test_who_sees_no_indicators_finds_nothing(demo, browser, email):
    person = english(browser(email))
    assert person.get("/indicators").status_code == 404
    assert 'href="/indicators"' not in person.get("/inbox").get_data(as_text=True)


def test_a_visitor_is_sent_to_log_in(demo, app):
    response = app.test_client().get("/indicators")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_from_after_to_is_refused_on_its_field(demo, browser):
    page = english(browser(ADMIN)).get("/indicators?preset=&from=2026-10-01&to=2026-09-01")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert re.search(r'id="error-to">The last day comes before the first\.<', html)
    assert 'name="to" id="filter-to" value="2026-09-01" aria-invalid="true"' in html
    assert ISLAND.search(html) is None and 'id="volumes"' not in html


@pytest.mark.parametrize("args,field", [("from=2026-13-01&to=2026-12-31", "from"),
                                        ("from=2000-01-01&to=2026-01-01", "from"),
                                        ("preset=tomorrow", "preset"),
                                        ("priority=whenever", "priority"),
                                        ("category_id=abc", "category_id")])
def test_bad_values_are_refused_with_a_message(demo, browser, args, field):
    page = english(browser(ADMIN)).get(f"/indicators?{args}")
    assert page.status_code == 422
    assert f'id="error-{field}"' in page.get_data(as_text=True)


def test_another_companys_ids_are_not_found(demo, browser):
    globex = db.session.scalars(select(Tenant).where(Tenant.slug == "globex")).one()
    theirs = {u.is_service_unit: u.id for u in db.session.scalars(
        select(Unit).where(Unit.tenant_id == globex.id))}
    their_worker = db.session.scalars(select(User).where(
        User.email == "tecnico@globex.test")).one().id
    admin = english(browser(ADMIN))
    for field, value in (("unit_id", theirs[False]), ("service_unit_id", theirs[True]),
                         ("worker_id", their_worker)):
        page = admin.get(f"/indicators?{field}={value}")
        html = page.get_data(as_text=True)
        assert page.status_code == 404, field
        assert f'id="error-{field}">Not found among what you may see.<' in html
        assert ISLAND.search(html) is None


def test_a_head_cannot_narrow_to_a_unit_they_do_not_head(demo, browser):
    production = unit_named("Producción")
    page = english(browser(HEAD)).get(f"/indicators?unit_id={production.id}")
    assert page.status_code == 404
    # and the form does not offer it
    own = english(browser(HEAD)).get("/indicators").get_data(as_text=True)
    assert "Producción" not in own.split('id="filter-unit_id"')[1].split("</select>")[0]


def test_the_form_keeps_the_filters(demo, browser):
    finance = unit_named("Finanzas")
    category = factories.file().category_id
    worker = factories.user(WORKER).id
    query = (f"preset=&from=2026-01-01&to=2026-03-31&unit_id={finance.id}"
             f"&category_id={category}&priority=high&worker_id={worker}")
    page = english(browser(ADMIN)).get(f"/indicators?{query}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="from" id="filter-from" value="2026-01-01"' in html
    assert 'name="to" id="filter-to" value="2026-03-31"' in html
    for field, value in (("unit_id", finance.id), ("category_id", category),
                         ("priority", "high"), ("worker_id", worker)):
        select_html = html.split(f'id="filter-{field}"')[1].split("</select>")[0]
        assert f'<option value="{value}" selected>' in select_html, field
    preset = html.split('id="filter-preset"')[1].split("</select>")[0]
    assert '<option value="" selected>' in preset  # custom dates
    assert "From 1 Jan 2026 to 31 Mar 2026" in html


def test_a_listed_period_wins_over_the_days_the_form_also_sends(demo, browser):
    html = english(browser(ADMIN)).get(
        "/indicators?preset=this_year&from=2020-01-01&to=2020-01-31").get_data(as_text=True)
    preset = html.split('id="filter-preset"')[1].split("</select>")[0]
    assert '<option value="this_year" selected>' in preset
    assert "2020" not in html.split('class="ind-scope"')[1].split("</p>")[0]
    assert charts_of(html)["volumes"]["categories"]  # weeks of this year


def test_the_export_links_carry_the_filters(demo, browser, app):
    if "indicators_exports.requests" not in app.view_functions:
        pytest.skip("the export routes are not registered yet")
    finance = unit_named("Finanzas")
    page = english(browser(ADMIN)).get(
        f"/indicators?preset=last_90_days&unit_id={finance.id}&priority=normal")
    html = page.get_data(as_text=True)
    links = [unescape(h) for h in re.findall(r'<a href="([^"]+)" data-export>', html)]
    assert {urlsplit(u).path for u in links} >= {"/indicators/export/requests.csv",
                                                 "/indicators/export/requests.xlsx",
                                                 "/indicators/export/tickets.csv",
                                                 "/indicators/export/tickets.xlsx"}
    for url in links:
        args = parse_qs(urlsplit(url).query)
        assert args == {"preset": ["last_90_days"], "unit_id": [str(finance.id)],
                        "priority": ["normal"]}, url


def test_the_heatmap_link_carries_the_filters(demo, browser, app):
    if "indicators_heatmap.page" not in app.view_functions:
        pytest.skip("the heatmap page is not registered yet")
    html = english(browser(DIRECTOR)).get(
        "/indicators?preset=this_year&priority=high").get_data(as_text=True)
    found = re.search(r'<a class="button small secondary" href="([^"]+)">Process heatmap</a>',
                      html)
    assert found, "no link to the heatmap"
    url = urlsplit(unescape(found.group(1)))
    assert url.path == "/indicators/heatmap"
    assert parse_qs(url.query) == {"preset": ["this_year"], "priority": ["high"]}
