"""``flask tenants ...``: every subcommand, its bad inputs (a clear error, nothing changed)
and the audit entry of each operator's action."""

import pytest
from sqlalchemy import func, select

from app.admin.models import AuditEntry
from app.extensions import db
from app.models import (
    Category,
    Membership,
    ProcessDefinition,
    ServiceRequest,
    Tenant,
    Unit,
    User,
)


def counts() -> dict:
    db.session.rollback()
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Tenant, User, Unit, Category, Membership, ProcessDefinition,
                          AuditEntry)}


def tenant(slug) -> Tenant:
    db.session.rollback()
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def entries(slug, action) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.tenant_id == tenant(slug).id, AuditEntry.action == action)))


CREATE = ["--name", "Nova", "--admin-email", "nora@nova.test", "--admin-name", "Nora"]


@pytest.mark.parametrize(("args", "message"), [
    (["Bad Slug", *CREATE], "not a valid slug"),
    (["ab", *CREATE], "not a valid slug"),
    (["9nova", *CREATE], "not a valid slug"),
    (["nova-", *CREATE], "not a valid slug"),
    (["no--va", *CREATE], "not a valid slug"),
    (["acme", *CREATE], "taken by another company"),
    (["nova", "--name", "Nova", "--admin-email", "ana@acme.test", "--admin-name", "Nora"],
     "already has an account"),
    (["nova", "--name", "Nova", "--admin-email", "ANA@acme.test", "--admin-name", "Nora"],
     "already has an account"),
    (["nova", "--name", "Nova", "--admin-email", "not-an-address", "--admin-name", "Nora"],
     "not an e-mail address"),
    (["nova", "--name", "  ", "--admin-email", "nora@nova.test", "--admin-name", "Nora"],
     "company's name"),
    (["nova", "--name", "Nova", "--admin-email", "nora@nova.test", "--admin-name", ""],
     "admin's name"),
    (["nova", *CREATE, "--plan", "gratis"], "Unknown plan 'gratis'"),
    (["nova", *CREATE, "--language", "fr"], "Unknown language 'fr'"),
    (["nova", *CREATE, "--timezone", "Mars/Olympus"], "Unknown time zone"),
])
def test_create_refuses_bad_input_and_changes_nothing(demo, cli, args, message):
    before = counts()
    result = cli("create", *args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert counts() == before


def test_create_without_required_options_is_a_usage_error(cli):
    result = cli("create", "nova", "--name", "Nova")
    assert result.exit_code == 2
    assert "--admin-email" in result.output


def test_help_texts(cli):
    listing = cli("--help").output
    for command in ("create", "list", "show", "suspend", "resume", "set-plan", "delete"):
        assert command in listing
    assert "first administrator" in cli("create", "--help").output
    assert "--reason" in cli("suspend", "--help").output
    assert "--force" in cli("set-plan", "--help").output
    assert "--yes" in cli("delete", "--help").output


def test_list_is_a_table_of_every_company(demo, cli, new_company):
    new_company()
    lines = cli("list").output.splitlines()
    assert lines[0].split() == ["SLUG", "NAME", "PLAN", "STATUS", "USERS", "REQUESTS"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {"acme", "globex", "nova"}
    acme_users = db.session.scalar(select(func.count(User.id)).where(
        User.tenant_id == tenant("acme").id))
    acme_requests = db.session.scalar(select(func.count(ServiceRequest.id)).where(
        ServiceRequest.tenant_id == tenant("acme").id))
    assert rows["acme"][-4:] == ["profesional", "active", str(acme_users), str(acme_requests)]
    assert rows["nova"][-2:] == ["1", "0"]


def test_list_without_companies(cli):
    assert "No companies yet" in cli("list").output


def test_show_gives_details_and_usage(demo, cli):
    output = cli("show", "acme").output
    assert "acme: Acme Industrial S.A." in output
    assert "Plan:      profesional" in output
    assert "active_users" in output and "of 250" in output
    assert "requests_per_month" in output and "of 5000" in output
    assert "api_access           yes" in output
    missing = cli("show", "nadie")
    assert missing.exit_code == 1 and "No company has the slug 'nadie'" in missing.output


def test_suspend_and_resume(demo, cli):
    result = cli("suspend", "acme", "--reason", "Factura vencida")
    assert result.exit_code == 0, result.output
    acme = tenant("acme")
    assert (acme.status, acme.suspended_reason) == ("suspended", "Factura vencida")
    assert acme.suspended_at is not None
    [entry] = entries("acme", "tenant.suspended")
    assert entry.actor_label == "operator" and entry.actor_id is None
    assert entry.before["status"] == "active" and entry.after["status"] == "suspended"
    assert "Suspended:" in cli("show", "acme").output

    again = cli("suspend", "acme", "--reason", "Otra vez")
    assert again.exit_code == 1 and "suspended already" in again.output
    assert tenant("acme").suspended_reason == "Factura vencida"

    assert cli("resume", "acme").exit_code == 0
    acme = tenant("acme")
    assert (acme.status, acme.suspended_reason, acme.suspended_at) == ("active", None, None)
    [entry] = entries("acme", "tenant.resumed")
    assert entry.before["suspended_reason"] == "Factura vencida"
    not_suspended = cli("resume", "acme")
    assert not_suspended.exit_code == 1 and "is not suspended" in not_suspended.output


def test_suspend_bad_input(demo, cli):
    assert cli("suspend", "acme").exit_code == 2  # --reason is required
    blank = cli("suspend", "acme", "--reason", "   ")
    assert blank.exit_code == 1 and "reason" in blank.output
    long = cli("suspend", "acme", "--reason", "x" * 501)
    assert long.exit_code == 1
    assert cli("suspend", "nadie", "--reason", "x").exit_code == 1
    assert cli("resume", "nadie").exit_code == 1
    assert tenant("acme").status == "active"
    assert entries("acme", "tenant.suspended") == []


def test_set_plan(demo, cli):
    result = cli("set-plan", "acme", "empresa")
    assert result.exit_code == 0, result.output
    assert tenant("acme").plan == "empresa"
    [entry] = entries("acme", "tenant.plan_changed")
    assert (entry.before, entry.after["plan"]) == ({"plan": "profesional"}, "empresa")

    down = cli("set-plan", "acme", "basico")  # within its limits, but no API any more
    assert down.exit_code == 0, down.output
    assert "no API access" in down.output
    assert tenant("acme").plan == "basico"


def test_set_plan_bad_input(demo, cli):
    unknown = cli("set-plan", "acme", "gratis")
    assert unknown.exit_code == 1 and "Unknown plan 'gratis'" in unknown.output
    same = cli("set-plan", "acme", "profesional")
    assert same.exit_code == 1 and "already" in same.output
    assert cli("set-plan", "nadie", "basico").exit_code == 1
    assert tenant("acme").plan == "profesional"
    assert entries("acme", "tenant.plan_changed") == []


def test_set_plan_refuses_a_plan_the_usage_is_over_unless_forced(demo, cli):
    acme = tenant("acme")
    db.session.add_all(User(tenant_id=acme.id, email=f"extra{n}@acme.test", name=f"Extra {n}",
                            password_hash="!") for n in range(25))
    db.session.commit()
    active = db.session.scalar(select(func.count(User.id)).where(
        User.tenant_id == acme.id, User.active.is_(True)))
    refused = cli("set-plan", "acme", "basico")
    assert refused.exit_code == 1
    assert f"active_users {active} (allowed 25)" in refused.output
    assert "Nothing was changed" in refused.output
    assert tenant("acme").plan == "profesional"

    forced = cli("set-plan", "acme", "basico", "--force")
    assert forced.exit_code == 0, forced.output
    assert f"active_users is {active}, over the new limit of 25" in forced.output
    assert tenant("acme").plan == "basico"
    [entry] = entries("acme", "tenant.plan_changed")
    assert entry.after["over_limits"] == {"active_users": {"allowed": 25, "used": active}}


def test_delete_asks_for_the_slug(demo, cli):
    before = counts()
    wrong = cli("delete", "acme", input="globex\n")
    assert wrong.exit_code == 1 and "nothing was deleted" in wrong.output
    assert counts() == before
    missing = cli("delete", "nadie", "--yes")
    assert missing.exit_code == 1 and "No company" in missing.output
    assert counts() == before


def test_delete_removes_every_row_of_the_company_only(demo, cli):
    from tests import factories

    factories.request_at("Task_Work")  # history, a ticket, tasks, events...
    globex = tenant("globex")
    globex_rows = _rows_of(globex.id)
    acme_id = tenant("acme").id
    assert sum(_rows_of(acme_id).values()) > 50

    result = cli("delete", "acme", input="acme\n")
    assert result.exit_code == 0, result.output
    assert "Deleted 'acme'" in result.output
    assert tenant("acme") is None
    assert sum(_rows_of(acme_id).values()) == 0
    assert _rows_of(globex.id) == globex_rows
    assert db.session.scalar(select(func.count(User.id)).where(
        User.email.like("%@acme.test"))) == 0


def test_delete_with_yes(demo, cli, new_company):
    new_company()
    assert cli("delete", "nova", "--yes").exit_code == 0
    assert tenant("nova") is None and tenant("acme") is not None


def _rows_of(tenant_id: int) -> dict:
    """Rows with ``tenant_id`` in every table that has the column."""
    db.session.rollback()
    found = {}
    for table in db.metadata.sorted_tables:
        if "tenant_id" in table.c:
            found[table.name] = db.session.scalar(
                select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id))
    return found
