"""Pages name processes by their names (the catalog template's in the reader's language, or the
diagram's own title) with the key beside; impact and urgency read as their own words, not the
priority's; the matrix page offers the fields only where a process prioritizes with them."""

from sqlalchemy import select

from app.extensions import db
from app.models import Category
from app.process_catalog import adopt, fields, names
from tests.process_catalog.test_incident_lifecycle import file_incident

OWNER = "admin@acme.test"


def test_a_shipped_template_is_named_by_the_catalog_in_the_readers_language(app):
    with app.test_request_context():
        assert names.title(("incident", "Gestión de incidentes"), "es") == "Incidente"
        assert names.title(("incident", "Gestión de incidentes"), "en") == "Incident"
        assert names.title(("change_request", "Solicitud de cambio (RFC)"), "en") \
            == "Change request (RFC)"


def test_a_renamed_or_own_process_is_named_by_its_diagram(app):
    with app.test_request_context():
        assert names.title(("incident", "Incidentes de TI"), "en") == "Incidentes de TI"
        assert names.title(("trabajos", "Trabajos menores"), "es") == "Trabajos menores"
        assert names.title(("trabajos", "trabajos"), "es") is None  # no title but its id
        assert names.title(("trabajos", ""), "es") is None
        assert names.title(None, "es") is None


def test_pages_show_the_process_name_with_the_key_beside(incidents, browser):
    owner = browser(OWNER)
    adopt(incidents.tenant_id, "security_incident", None, deploy=True)
    db.session.commit()
    processes = owner.get("/processes").get_data(as_text=True)
    assert 'Incidente <small class="muted"><code>incident</code></small>' in processes
    assert "Solicitud de servicio <small" in processes
    assert ">Incidente (incident)</option>" in processes  # the category -> process selects
    checklists = owner.get("/checklists").get_data(as_text=True)
    assert "Incidente de seguridad <small" in checklists
    assert "Proceso <code>security_incident</code>" not in checklists
    categories = owner.get("/admin/categories").get_data(as_text=True)
    assert 'Incidente <small class="muted"><code>incident</code></small>' in categories
    form = owner.get(f"/admin/categories/{incidents.id}").get_data(as_text=True)
    assert "Incidente (incident)</option>" in form


def test_impact_and_urgency_read_as_their_own_words(incidents, browser):
    owner = browser(OWNER)
    matrix_page = owner.get("/processes/priority-matrix").get_data(as_text=True)
    assert '<th scope="row">Alto</th>' in matrix_page  # impacto alto
    assert '<th scope="col">Alta</th>' in matrix_page  # urgencia alta
    assert '<th scope="row">Alta</th>' not in matrix_page
    req = file_incident(incidents, "high", "medium")
    shown = browser("ana@acme.test").get(f"/requests/{req.id}").get_data(as_text=True)
    assert "<dd>Alto</dd>" in shown and "<dd>Media</dd>" in shown


def test_the_fields_are_offered_only_where_a_process_prioritizes(incidents, browser):
    plain = db.session.scalar(select(Category).where(
        Category.tenant_id == incidents.tenant_id, Category.process_key == "service_request"))
    incidents.request_fields = []
    db.session.commit()
    assert fields.prioritizing_keys(incidents.tenant_id) == {"incident"}
    owner = browser(OWNER)
    html = owner.get("/processes/priority-matrix").get_data(as_text=True)
    section = html[html.index('id="fields"'):]
    assert section.index(incidents.name) < section.index(plain.name)  # listed first
    assert section.count('name="category_id"') == 1  # one button: the incident category's
    assert f'value="{incidents.id}"' in section and f'value="{plain.id}"' not in section
    assert "no tendrían efecto" in section
    assert "Solicitud de servicio <small" in section  # which process each follows
    refused = owner.post("/processes/priority-matrix/fields", {"category_id": plain.id})
    assert refused.status_code == 302
    db.session.rollback()
    assert not fields.has_them(db.session.get(Category, plain.id))
    owner.post("/processes/priority-matrix/fields", {"category_id": incidents.id})
    db.session.rollback()
    assert fields.has_them(db.session.get(Category, incidents.id))


def test_the_matrix_page_says_how_the_first_lines_time_is_counted(incidents, browser):
    from tests.sla.sla_helpers import calendar

    owner = browser(OWNER)
    assert "Cuentan todas las horas" in owner.get("/processes/priority-matrix").get_data(
        as_text=True)
    calendar(name="Oficina")
    db.session.commit()
    page = owner.get("/processes/priority-matrix").get_data(as_text=True)
    assert "las de Oficina, su calendario laboral predeterminado" in page


def test_messages_and_headings_name_the_process(incidents, browser):
    owner = browser(OWNER)
    owner.get("/processes")
    adopted = owner.post("/processes/catalog/change_request/adopt", data={"deploy": "1"})
    assert adopted.status_code in (302, 303)
    page = owner.get("/processes").get_data(as_text=True)
    assert "Solicitud de cambio (RFC) (change_request)" in page  # the flash message
    versions = owner.get("/processes/incident/versions").get_data(as_text=True)
    assert "Incidente (incident)" in versions.split("</h1>")[0]
    modeler = owner.get("/processes/incident/modeler").get_data(as_text=True)
    assert "Incidente (incident)" in modeler.split("</h1>")[0]
