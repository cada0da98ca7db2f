"""The request page shows each clock computed from the request's history: its state, its due
time in the company's time zone, the business time elapsed and left, and its pauses."""

import re

import pytest

from app.extensions import db
from app.models import Tenant
from tests import factories
from tests.sla import sla_helpers
from tests.sla.sla_walks import (
    approve_at,
    assign_at,
    at,
    bogota,
    file_at,
    in_english,
    step_at,
)

DIRECTOR, HEAD, WORKER, REQUESTER = ("director@acme.test", "jefe.finanzas@acme.test",
                                     "tecnico1@acme.test", "ana@acme.test")


def _panel(browser, email, request_id) -> str:
    db.session.rollback()  # the test's own reads end before the pages write (SQLite)
    response = browser(email).get(f"/requests/{request_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    if 'id="sla"' not in html:
        return ""
    return html[html.index('id="sla"'):].split("</section>")[0]


def _row(panel: str, kind: str) -> str:
    return re.sub(r"\s+", " ", panel[panel.index(f'class="sla-{kind}"'):].split("</tr>")[0])


@pytest.fixture
def held(demo):
    """Filed Monday 09:00 (Bogotá), approved and assigned at 10:00, started at 11:00, put on
    hold at 13:00 (decision 4 h, start 8 h, resolution 40 h; 08:00-18:00 Monday to Friday)."""
    in_english(DIRECTOR, HEAD, WORKER, REQUESTER)
    sla_helpers.targets(decision=240, start=480, resolution=2400)
    req = file_at(bogota(7, 9), "Pedido en espera")
    approve_at(bogota(7, 10), req)
    assign_at(bogota(7, 10), req, "2026-12-11")
    step_at(bogota(7, 11), req, "Task_Start", WORKER, "start", {})
    step_at(bogota(7, 13), req, "Task_Work", WORKER, "hold", {"reason": "Falta material"})
    return req


def test_a_hold_shows_as_an_ongoing_pause_with_the_time_left_frozen(held, browser):
    for moment in (bogota(7, 15), bogota(8, 8, 30)):
        with at(moment):
            panel = _panel(browser, DIRECTOR, held.id)
        decision, start, resolution = (_row(panel, k) for k in ("decision", "start",
                                                                  "resolution"))
        assert "Time to decision" in decision and "met" in decision
        assert "1 h" in decision and "stopped 7 Dec 2026, 10:00" in decision
        assert "Time to start" in start and "met" in start and "1 h" in start
        assert "Time to resolution" in resolution and "paused" in resolution
        assert "40 h of business time" in resolution
        assert "4 h" in resolution and "36 h" in resolution
        assert "7 Dec 2026, 13:00 – <strong>ongoing</strong>" in resolution
        assert "moves while paused" in resolution


def test_after_the_hold_the_pause_has_an_end_and_the_due_time_moved(held, browser):
    """Resumed Tuesday 09:00: the hold took 13:00-18:00 and 08:00-09:00, 6 business hours, so
    the resolution due Friday 09:00 is due Friday 15:00 (Bogotá)."""
    step_at(bogota(8, 9), held, "Task_OnHold", WORKER, "resume", {})
    with at(bogota(8, 10)):
        resolution = _row(_panel(browser, REQUESTER, held.id), "resolution")
    assert "running" in resolution
    assert "11 Dec 2026, 15:00" in resolution          # the company's time zone
    assert "5 h" in resolution and "35 h" in resolution
    assert "7 Dec 2026, 13:00 – 8 Dec 2026, 09:00" in resolution
    assert "ongoing" not in resolution


def test_an_overdue_clock_says_by_how_much(demo, browser):
    in_english(HEAD)
    sla_helpers.targets(decision=240, start=480, resolution=2400)
    req = file_at(bogota(7, 9), "Pedido sin decidir")
    with at(bogota(7, 19)):
        panel = _panel(browser, HEAD, req.id)
    decision = _row(panel, "decision")
    assert "overdue" in decision and "st-rejected" in decision
    assert "7 Dec 2026, 13:00" in decision and "overdue by 5 h" in decision
    start = _row(panel, "start")
    assert "not started" in start and "not started yet" in start
    assert "none" in start  # no pauses


def test_everyone_who_sees_the_request_sees_its_clocks(held, browser):
    with at(bogota(7, 15)):
        for email in (REQUESTER, HEAD, DIRECTOR, WORKER):
            assert "Time to resolution" in _panel(browser, email, held.id), email
        for email in ("maria@acme.test", "director@globex.test"):  # may not see it at all
            assert browser(email).get(f"/requests/{held.id}").status_code == 404, email


def test_no_targets_no_panel_and_spanish_renders(demo, browser):
    plain = factories.file()
    assert _panel(browser, REQUESTER, plain.id) == ""
    sla_helpers.targets(decision=240)
    measured = file_at(bogota(7, 9), "Pedido medido")
    with at(bogota(7, 19)):
        panel = _panel(browser, REQUESTER, measured.id)  # the company's language: Spanish
    assert "vencido" in panel  # "overdue", already in the catalog


def test_times_follow_the_companys_zone(held, browser):
    tenant = db.session.query(Tenant).filter_by(slug="acme").one()
    tenant.timezone = "Europe/Madrid"   # the calendar stays in Bogotá; times are shown here
    db.session.commit()
    with at(bogota(7, 15)):
        decision = _row(_panel(browser, DIRECTOR, held.id), "decision")
    assert "stopped 7 Dec 2026, 16:00" in decision   # 10:00 in Bogotá
