"""Process owners' pages: processes, new process as a draft, category -> process, versions with
changes, export, reset, and moving running requests after a dry run."""

from app.extensions import db
from app.models import Category, HistoryEvent, Membership, ProcessDraft
from app.services import drafts, processes
from tests.factories import file, open_task, request_at, user
from tests.services.test_processes import deploy_shorter, without_viability_step
from tests.views.helpers import html


def _category(name="Electricidad", tenant_email="ana@acme.test") -> Category:
    db.session.rollback()
    tenant_id = user(tenant_email).tenant_id
    return db.session.query(Category).filter_by(tenant_id=tenant_id, name=name).one()


def test_only_process_owners_see_the_pages(demo, browser):
    director = browser("director@acme.test")
    for url in ("/processes", "/processes/service_request/versions",
                "/processes/service_request/migrate"):
        assert director.get(url).status_code == 404
    assert director.post("/processes/new", {"process_key": "otro"}).status_code == 404
    assert "/processes" not in html(director.get("/inbox"))
    owner = browser("admin@acme.test")
    page = html(owner.get("/processes"))
    assert "service_request" in page and 'href="/processes"' in page


def test_a_new_process_starts_as_a_draft_copy(demo, browser):
    owner = browser("admin@acme.test")
    made = owner.post("/processes/new", {"process_key": "trabajos_menores",
                                         "copy_from": "service_request"})
    assert made.status_code == 302 and "/processes/trabajos_menores/modeler" in made.location
    db.session.rollback()
    tenant_id = user("admin@acme.test").tenant_id
    draft = drafts.get_draft(tenant_id, "trabajos_menores")
    assert draft is not None and "Task_Evaluate" in draft.bpmn_xml
    assert processes.process_keys(tenant_id) == ["service_request", "trabajos_menores"]
    assert processes.deployed_keys(tenant_id) == ["service_request"]

    for bad in ("Trabajos menores", "1x", "x", "a-b", "trabajos_menores", "service_request"):
        owner.post("/processes/new", {"process_key": bad})
    db.session.rollback()
    assert db.session.query(ProcessDraft).count() == 1
    page = html(owner.get("/processes"))
    assert "There is already a process called" in page or "Ya existe un proceso" in page


def test_a_category_follows_another_deployed_process(demo, browser):
    owner = browser("admin@acme.test")
    tenant_id = user("admin@acme.test").tenant_id
    electricidad = _category()
    # Not deployed yet: refused, nothing changes.
    drafts.save_draft(tenant_id, "trabajos_menores", without_viability_step(), None)
    db.session.commit()
    owner.post(f"/processes/categories/{electricidad.id}", {"process_key": "trabajos_menores"})
    assert _category().process_key == "service_request"

    processes.deploy(tenant_id, "trabajos_menores", without_viability_step(),
                     user("admin@acme.test"), "small jobs")
    db.session.commit()
    assert drafts.get_draft(tenant_id, "trabajos_menores") is None  # deploying used the draft
    before = file(category="Electricidad")
    done = owner.post(f"/processes/categories/{electricidad.id}",
                      {"process_key": "trabajos_menores"})
    assert done.status_code == 302 and _category().process_key == "trabajos_menores"

    from app.services import workflow

    head = user("jefe.finanzas@acme.test")
    small = file(category="Electricidad")
    other = file(category=_other_category_name(tenant_id))
    for req in (before, small, other):
        workflow.complete(head, open_task(req, "Task_Authorize"), "authorize",
                          {"decision": "authorize"})
        db.session.commit()
    assert small.instance.definition.process_key == "trabajos_menores"
    assert open_task(small, "Task_Assign")  # no viability evaluation
    assert open_task(before, "Task_Evaluate")  # filed before the change: keeps its process
    assert open_task(other, "Task_Evaluate")  # other categories are untouched


def _other_category_name(tenant_id) -> str:
    return db.session.query(Category.name).filter(
        Category.tenant_id == tenant_id, Category.name != "Electricidad",
        Category.active.is_(True)).order_by(Category.name).first()[0]


def test_versions_page_shows_changes_exports_and_resets(demo, browser):
    deploy_shorter("sin viabilidad")
    owner = browser("admin@acme.test")
    page = html(owner.get("/processes/service_request/versions"))
    assert "sin viabilidad" in page and "Task_Evaluate" in page
    exported = owner.get("/processes/service_request/versions/1.bpmn")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert b"Task_Evaluate" in exported.data
    assert owner.get("/processes/service_request/versions/9.bpmn").status_code == 404
    assert owner.post("/processes/service_request/reset").status_code == 302
    db.session.rollback()
    found = processes.versions(user("admin@acme.test").tenant_id)
    assert [v.version for v in found] == [3, 2, 1] and found[0].checksum == found[2].checksum

    renamed = found[0].bpmn_xml.replace('name="Autorizar solicitud"', 'name="Visto bueno"')
    renamed = renamed.replace("requester_is_head == True",
                              "requester_is_head == True or priority == 'urgent'")
    processes.deploy(found[0].tenant_id, "service_request", renamed, None, "rename")
    db.session.commit()
    page = html(owner.get("/processes/service_request/versions"))
    newest = page[page.index('id="v4"'):page.index('id="v3"')]
    assert "«Autorizar solicitud» → «Visto bueno»" in newest and "Task_Authorize" in newest
    assert ("<code>requester_is_head == True</code> → <code>requester_is_head == True or "
            "priority == &#39;urgent&#39;</code>") in newest
    assert "Flow_SkipAuthorization" in newest
    assert newest.count("Task_Authorize") == 1  # the rename is not listed twice


def test_migration_page_dry_run_then_move(demo, browser):
    stuck, _ = request_at("Task_Evaluate")
    movable, _ = request_at("Task_Authorize")
    deploy_shorter()
    owner = browser("admin@acme.test")
    page = html(owner.get("/processes/service_request/migrate"))
    assert stuck.number in page and movable.number in page
    assert "Evaluar viabilidad" in page  # the reason the stuck one cannot move
    db.session.rollback()
    assert movable.instance.definition.version == 1  # a dry run changes nothing

    moved = owner.post("/processes/service_request/migrate")
    assert moved.status_code == 200
    db.session.rollback()
    assert movable.instance.definition.version == 2
    assert stuck.instance.definition.version == 1
    assert db.session.query(HistoryEvent).filter_by(request_id=movable.id,
                                                    action="migrated").count() == 1
    assert db.session.query(HistoryEvent).filter_by(request_id=stuck.id,
                                                    action="migrated").count() == 0


def test_owners_touch_only_their_tenant(demo, browser):
    globex_director = user("director@globex.test")
    db.session.add(Membership(tenant_id=globex_director.tenant_id, user=globex_director,
                              role="process_owner"))
    db.session.commit()
    acme_category = _category()
    globex_owner = browser("director@globex.test")
    refused = globex_owner.post(f"/processes/categories/{acme_category.id}",
                                {"process_key": "service_request"})
    assert refused.status_code == 404
    deploy_shorter("acme only")
    page = html(globex_owner.get("/processes/service_request/versions"))
    assert "acme only" not in page and "Version 2" not in page and "Versión 2" not in page


def test_the_versions_page_shows_ten_versions_a_page_with_their_changes(demo, browser):
    """Each version shown is compiled with the one before it: a page bounds that work."""
    from app.services import definitions
    from app.services.definitions import default_diagram

    admin = user("admin@acme.test")
    for number in range(12):
        xml = default_diagram().replace("Autorizar solicitud", f"Autorizar v{number}", 1)
        last = definitions.deploy(admin.tenant_id, xml, user=admin, note=f"cambio {number}")
    db.session.commit()
    newest = last.version  # 12 or 13, whether the demo deployed a first version or not
    owner = browser("admin@acme.test")
    first = html(owner.get("/processes/service_request/versions"))
    assert first.count('class="card version"') == 10
    assert f'id="v{newest}"' in first and f'id="v{newest - 9}"' in first
    assert f'id="v{newest - 10}"' not in first
    assert "Autorizar v10" in first  # the newest's change from the one before: a rename
    second = html(owner.get("/processes/service_request/versions?page=2"))
    assert second.count('class="card version"') == newest - 10
    assert f'id="v{newest - 10}"' in second and "Página 2 de 2" in second
    assert owner.get("/processes/service_request/versions?page=3").status_code == 404
    assert owner.get("/processes/service_request/versions?page=x").status_code == 200
