"""Whose requests each person's indicators count (app.indicators.data with filters.parse):
a unit head their units (and those under them), a director their service units, a tenant
admin the whole company; another company's requests never. Counts are worked out by hand from
the November walked below and the demo's own requests (listed in ``DEMO_OPEN``).
"""

import pytest

from app.extensions import db
from app.indicators import data, filters
from app.models import User
from tests.indicators.walks import bogota, file_at, ids, more_acme, walk

PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}
NOW = bogota(12, 1, 7)
SISTEMAS = "director.sistemas@acme.test"


def nov(day, hour, minute=0):
    return bogota(11, day, hour, minute)


def november() -> dict:
    """Eight acme requests and two of globex, filed and walked in November 2026."""
    more = more_acme()
    made = {}
    # Finanzas
    made["f1"] = walk(file_at(nov(3, 9), "ana@acme.test", "Electricidad"),
                      (nov(3, 10), "authorize"), (nov(3, 11), "approve"),
                      (nov(3, 12), "assign"), (nov(3, 13), "start"), (nov(4, 10), "finish"),
                      (nov(5, 9), "confirm"))
    made["f2"] = walk(file_at(nov(4, 9), "luis@acme.test", "Plomería"),
                      (nov(4, 10), "reject_head"))
    made["f3"] = walk(file_at(nov(5, 9), "ana@acme.test", "Limpieza"), (nov(5, 10), "authorize"))
    made["f4"] = walk(file_at(nov(6, 9), "luis@acme.test", "Redes"), (nov(6, 10), "authorize"),
                      (nov(6, 11), "approve", {"director": SISTEMAS}))
    # Tesorería, under Finanzas
    made["t1"] = walk(file_at(nov(9, 9), "teo@acme.test", "Electricidad"),
                      (nov(9, 10), "authorize"))
    # Producción
    made["p1"] = walk(file_at(nov(10, 9), "maria@acme.test", "Electricidad"),
                      (nov(10, 10), "authorize"), (nov(10, 11), "reject"))
    made["p2"] = walk(file_at(nov(11, 9), "maria@acme.test", "Redes"), (nov(11, 10), "cancel"))
    made["p3"] = file_at(nov(12, 9), "maria@acme.test", "Transporte")
    # globex, same days
    made["g1"] = walk(file_at(nov(3, 9), "pedro@globex.test"), (nov(3, 10), "authorize"),
                      (nov(3, 11), "approve"), (nov(3, 12), "assign"), (nov(3, 13), "start"),
                      (nov(4, 10), "finish"), (nov(5, 9), "confirm"))
    made["g2"] = walk(file_at(nov(4, 9), "pedro@globex.test"), (nov(4, 10), "cancel"))
    assert {k: r.status for k, r in made.items()} == {
        "f1": "completed", "f2": "rejected", "f3": "pending_evaluation",
        "f4": "pending_assignment", "t1": "pending_evaluation", "p1": "rejected",
        "p2": "cancelled", "p3": "pending_authorization", "g1": "completed",
        "g2": "cancelled"}
    assert made["t1"].unit_id == more["tesoreria"]
    return made


def figures_of(email, **narrow) -> dict:
    user = db.session.query(User).filter_by(email=email).one()
    f = filters.parse(user, {**PERIOD, **{k: str(v) for k, v in narrow.items()}}, NOW)
    return data.indicators(user, f, now=NOW)


def volumes(result) -> dict:
    return {k: v for k, v in result["volumes"]["totals"].items() if v}


# The demo's requests (filed when the test starts, after November) still open now, by unit:
# Finanzas r1 pending authorization and r2 pending evaluation; Producción r3 and r6 in
# service; all attended by Servicios Generales. Its globex request waits for authorization.
DEMO_OPEN = {"Finanzas": {"pending_authorization": 1, "pending_evaluation": 1},
             "Producción": {"in_service": 2}}

EXPECTED = {
    # f1, f2, f3, f4 (Finanzas) and t1 (Tesorería, under it)
    "jefe.finanzas@acme.test": {
        "volumes": {"filed": 5, "authorized": 4, "rejected_by_head": 1, "approved": 2,
                    "completed": 1},
        "backlog": {"pending_authorization": 1, "pending_evaluation": 3,
                    "pending_assignment": 1}},
    # p1, p2, p3
    "jefe.produccion@acme.test": {
        "volumes": {"filed": 3, "authorized": 1, "rejected_by_director": 1, "cancelled": 1},
        "backlog": {"pending_authorization": 1, "in_service": 2}},
    # Servicios Generales attends f1, f2, f3, t1, p1, p3
    "director@acme.test": {
        "volumes": {"filed": 6, "authorized": 4, "rejected_by_head": 1, "approved": 1,
                    "rejected_by_director": 1, "completed": 1},
        "backlog": {"pending_authorization": 2, "pending_evaluation": 3,
                    "in_service": 2}},
    # Sistemas attends f4 and p2
    SISTEMAS: {
        "volumes": {"filed": 2, "authorized": 1, "approved": 1, "cancelled": 1},
        "backlog": {"pending_assignment": 1}},
    # the whole company, nothing of globex
    "admin@acme.test": {
        "volumes": {"filed": 8, "authorized": 5, "rejected_by_head": 1, "approved": 2,
                    "rejected_by_director": 1, "completed": 1, "cancelled": 1},
        "backlog": {"pending_authorization": 2, "pending_evaluation": 3,
                    "pending_assignment": 1, "in_service": 2}},
    "director@globex.test": {
        "volumes": {"filed": 2, "authorized": 1, "approved": 1, "completed": 1,
                    "cancelled": 1},
        "backlog": {"pending_authorization": 1}},
}


def nonzero(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if v}


@pytest.mark.parametrize("email", list(EXPECTED))
def test_each_role_counts_its_own_requests(demo, email):
    november()
    result = figures_of(email)
    assert volumes(result) == EXPECTED[email]["volumes"]
    assert nonzero(result["backlog"]["by_status"]) == EXPECTED[email]["backlog"]
    assert result["backlog"]["total"] == sum(EXPECTED[email]["backlog"].values())


def test_heads_directors_and_the_admin_see_different_cost_workload_and_satisfaction(demo):
    november()
    acme = ids("acme")
    admin = figures_of("admin@acme.test")
    # f1 is the only ticket finished in November (1 hour, no materials, estimated 100)
    assert admin["cost"]["total"] == {"requests": 1, "estimated_cost": "100.00",
                                      "actual_cost": "0.00", "materials_cost": "0.00",
                                      "estimated_hours": "8.00", "hours_spent": "1.00"}
    assert [(g["id"], g["requests"]) for g in admin["cost"]["by_unit"]] == [
        (acme["Finanzas"], 1)]
    assert [(g["id"], g["requests"]) for g in admin["cost"]["by_category"]] == [
        (acme["Electricidad"], 1)]
    # open tickets now: the demo's r3 (Tomás, 12 hours estimated) and r6 (Teresa, 4)
    workload = {w["worker_id"]: (w["open_tickets"], w["hours_planned"], w["hours_spent"])
                for w in admin["workload"]}
    assert workload == {acme["tecnico1@acme.test"]: (1, "12.00", "1.00"),
                        acme["tecnico2@acme.test"]: (1, "4.00", "0.00")}
    # 21 weekdays in November 2026, 8 hours each (no business calendar)
    assert {w["available_hours"] for w in admin["workload"]} == {"168.00"}
    assert admin["satisfaction"]["completed"] == 1 and admin["satisfaction"]["mean"] == 5.0

    finanzas = figures_of("jefe.finanzas@acme.test")
    assert finanzas["cost"]["total"]["requests"] == 1
    assert {w["worker_id"]: (w["open_tickets"], w["hours_spent"])
            for w in finanzas["workload"]} == {acme["tecnico1@acme.test"]: (0, "1.00")}
    produccion = figures_of("jefe.produccion@acme.test")
    assert produccion["cost"]["total"]["requests"] == 0
    assert produccion["cost"]["by_unit"] == [] and produccion["satisfaction"]["completed"] == 0
    assert {w["worker_id"]: (w["open_tickets"], w["hours_spent"])
            for w in produccion["workload"]} == {acme["tecnico1@acme.test"]: (1, "0.00"),
                                                 acme["tecnico2@acme.test"]: (1, "0.00")}
    sistemas = figures_of(SISTEMAS)
    assert sistemas["workload"] == [] and sistemas["cost"]["total"]["requests"] == 0
    assert sistemas["rates"]["approval"] == {"value": 1.0, "numerator": 1, "denominator": 1}


def test_filters_narrow_within_the_callers_scope(demo):
    november()
    acme = ids("acme")
    # a head narrowing to a service unit: their requests it attends (f4)
    assert volumes(figures_of("jefe.finanzas@acme.test",
                              service_unit_id=acme["Sistemas"]))["filed"] == 1
    # ... to the unit under them (t1)
    assert volumes(figures_of("jefe.finanzas@acme.test",
                              unit_id=acme["Tesorería"]))["filed"] == 1
    # a director narrowing to a unit: that unit's requests they attend (p1, p3)
    assert volumes(figures_of("director@acme.test", unit_id=acme["Producción"])) == {
        "filed": 2, "authorized": 1, "rejected_by_director": 1}
    # the admin: Finanzas alone (f1..f4, not Tesorería), a category, a worker, a priority
    assert volumes(figures_of("admin@acme.test", unit_id=acme["Finanzas"]))["filed"] == 4
    assert volumes(figures_of("admin@acme.test", category_id=acme["Redes"])) == {
        "filed": 2, "authorized": 1, "approved": 1, "cancelled": 1}
    assert volumes(figures_of("admin@acme.test", worker_id=acme["tecnico1@acme.test"])) == {
        "filed": 1, "authorized": 1, "approved": 1, "completed": 1}
    # Electricidad is high priority: f1, t1, p1
    assert volumes(figures_of("admin@acme.test", priority="high"))["filed"] == 3
    # a director of Sistemas narrowing to Finanzas: f4 only
    assert volumes(figures_of(SISTEMAS, unit_id=acme["Finanzas"])) == {
        "filed": 1, "authorized": 1, "approved": 1}


def test_no_filter_value_reveals_another_scope(demo):
    november()
    acme, globex = ids("acme"), ids("globex")
    refusals = [
        ("jefe.produccion@acme.test", "unit_id", acme["Finanzas"], 404),
        ("jefe.finanzas@acme.test", "unit_id", acme["Producción"], 404),
        ("director@acme.test", "service_unit_id", acme["Sistemas"], 404),
        (SISTEMAS, "service_unit_id", acme["Servicios Generales"], 404),
        (SISTEMAS, "worker_id", acme["tecnico1@acme.test"], 404),
        ("admin@acme.test", "unit_id", globex["Operaciones"], 404),
        ("admin@acme.test", "service_unit_id", globex["Mantenimiento"], 404),
        ("admin@acme.test", "category_id", globex["Mantenimiento locativo"], 404),
        ("admin@acme.test", "worker_id", globex["tecnico@globex.test"], 404),
        ("director@globex.test", "category_id", acme["Electricidad"], 404),
        ("director@globex.test", "unit_id", acme["Finanzas"], 404),
    ]
    for email, field, value, status in refusals:
        with pytest.raises(filters.FilterError) as caught:
            figures_of(email, **{field: value})
        assert (caught.value.status, caught.value.field) == (status, field), (email, field)
