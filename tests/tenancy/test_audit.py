"""Actions that left no trace before now write an audit entry of the company, in the same
transaction: webhook endpoints (create, enable, disable, delete, retry a delivery), API tokens
(issue, revoke), process deploys, migrations of running requests, a category's process."""

from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.models import Category, OutboxMessage, WebhookEndpoint
from app.services import definitions
from tests.factories import request_at, user
from tests.services.test_processes import without_viability_step


def audit(action) -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def test_webhook_endpoint_changes_are_audited(demo, browser):
    admin = browser("admin@acme.test")
    acme_admin = user("admin@acme.test")
    made = admin.post("/admin/webhooks/new", {"url": "http://127.0.0.1:9/hook",
                                              "description": "ERP", "events": ["request.filed"]})
    assert made.status_code == 302, made.get_data(as_text=True)
    db.session.rollback()
    endpoint = db.session.scalar(select(WebhookEndpoint))
    [created] = audit("webhook.created")
    assert (created.tenant_id, created.actor_id, created.target_id) == (
        acme_admin.tenant_id, acme_admin.id, endpoint.id)
    assert created.after == {"url": "http://127.0.0.1:9/hook", "description": "ERP",
                             "events": ["request.filed"], "active": True}
    assert endpoint.secret not in str(created.after)

    endpoint_id = endpoint.id
    base = f"/admin/webhooks/{endpoint_id}"
    assert admin.post(f"{base}/active", {"active": "0"}).status_code == 302
    [disabled] = audit("webhook.disabled")
    assert (disabled.before, disabled.after) == ({"active": True}, {"active": False})
    assert admin.post(f"{base}/active", {"active": "1"}).status_code == 302
    [enabled] = audit("webhook.enabled")
    assert (enabled.before, enabled.after) == ({"active": False}, {"active": True})
    admin.post(f"{base}/active", {"active": "1"})  # no change: no entry
    assert len(audit("webhook.enabled")) == 1

    failed = OutboxMessage(tenant_id=endpoint.tenant_id, channel="webhook",
                           event="request.filed", endpoint_id=endpoint.id,
                           idempotency_key="audit-test-1", payload={}, status="failed",
                           attempts=8)
    db.session.add(failed)
    db.session.commit()
    assert admin.post(f"{base}/deliveries/{failed.id}/retry").status_code == 302
    [retried] = audit("webhook.delivery_retried")
    assert retried.before == {"status": "failed"}
    assert retried.after == {"delivery_id": failed.id, "status": "pending"}
    admin.post(f"{base}/deliveries/{failed.id}/retry")  # pending now: refused, no entry
    assert len(audit("webhook.delivery_retried")) == 1

    assert admin.post(f"{base}/delete").status_code == 302
    [deleted] = audit("webhook.deleted")
    assert deleted.before["url"] == "http://127.0.0.1:9/hook" and deleted.after is None
    assert deleted.target_id == endpoint_id


def test_api_tokens_issued_and_revoked_are_audited(demo, browser, api):
    ana = browser("admin@acme.test")  # tenant admins use the API (policy.can_use_api)
    person = user("admin@acme.test")
    page = ana.post("/account/tokens", {"name": "script", "days": "30"})
    assert page.status_code == 200
    [issued] = audit("api_token.issued")
    assert (issued.actor_id, issued.target_label) == (person.id, "script")
    assert set(issued.after) == {"name", "prefix", "expires_at", "revoked_at"}
    assert issued.after["prefix"].startswith("mds_")
    assert ana.post(f"/account/tokens/{issued.target_id}/revoke").status_code == 302
    [revoked] = audit("api_token.revoked")
    assert revoked.target_id == issued.target_id and revoked.actor_id == person.id
    assert revoked.before == {"revoked_at": None} and revoked.after["revoked_at"]

    client = api("pedro@globex.test")
    assert len(audit("api_token.issued")) == 2
    assert client.delete("/api/v1/tokens/current").status_code == 204
    last = audit("api_token.revoked")[-1]
    assert last.tenant_id == user("pedro@globex.test").tenant_id


def test_deploys_migrations_and_a_categorys_process_are_audited(demo, api):
    waiting, _ = request_at("Task_Authorize")
    owner = api("admin@acme.test")
    admin = user("admin@acme.test")
    base = "/api/v1/processes/service_request"
    bad = definitions.default_diagram().replace("decision == 'authorize'", "__import__('os')")
    assert owner.post(f"{base}/versions", {"bpmn_xml": bad}).status_code == 422
    assert audit("process.deployed") == []  # refused: nothing, not even an entry

    deployed = owner.post(f"{base}/versions", {"bpmn_xml": without_viability_step(),
                                               "note": "sin viabilidad"})
    assert deployed.status_code == 201
    [entry] = audit("process.deployed")
    version = definitions.active_definition(admin.tenant_id)
    assert (entry.actor_id, entry.target_id, entry.target_label) == (
        admin.id, version.id, "service_request v2")
    assert entry.after["version"] == 2 and entry.after["note"] == "sin viabilidad"

    assert owner.post(f"{base}/migrate", {"dry_run": True}).status_code == 200
    assert audit("process.instances_migrated") == []  # a dry run changes nothing
    assert owner.post(f"{base}/migrate", {"dry_run": False}).status_code == 200
    [moved] = audit("process.instances_migrated")
    assert moved.before == {"versions": [1]}
    assert moved.after["version"] == 2 and waiting.number in moved.after["requests"]

    assert owner.post(f"{base}/reset").status_code == 201
    assert [e.after["version"] for e in audit("process.deployed")] == [2, 3]

    owner.post("/api/v1/processes/compras/versions", {"bpmn_xml": definitions.default_diagram()})
    category = db.session.scalar(select(Category).where(Category.tenant_id == admin.tenant_id)
                                 .order_by(Category.id).limit(1))
    changed = owner.patch(f"/api/v1/categories/{category.id}", {"process_key": "compras"})
    assert changed.status_code == 200, changed.json
    [entry] = audit("category.process_changed")
    assert (entry.before, entry.after, entry.target_id) == (
        {"process_key": "service_request"}, {"process_key": "compras"}, category.id)
