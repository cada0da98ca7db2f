"""Training from the company's own history: when, what is stored, one runner at a time,
never another company's text."""

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Tenant
from app.models.base import utcnow
from app.suggestions import features, learning, training
from app.suggestions.models import SuggestionModel
from app.tenancy import isolation
from tests.suggestions.conftest import START, add_history, tenant_id
from tests.suggestions.history import generate


def row(slug="acme") -> SuggestionModel | None:
    db.session.rollback()
    return db.session.scalar(select(SuggestionModel).where(
        SuggestionModel.tenant_id == tenant_id(slug)))


def set_settings(slug, **values):
    tenant = db.session.get(Tenant, tenant_id(slug))
    tenant.settings = {**(tenant.settings or {}),
                       **{f"suggestions_{k}": v for k, v in values.items()}}
    db.session.commit()


def test_no_training_before_enough_history(history):
    history("acme", 150)
    assert training.run(sweep=True) == 0
    assert row() is None
    set_settings("acme", min_history=100)
    assert training.run(sweep=True) == 1
    assert row().status == "trained"


def test_a_trained_model_beats_the_majority_class_and_is_stored(history):
    history("acme", 600)
    assert training.run(sweep=True) == 1
    stored = row()
    assert stored.status == "trained" and stored.trained_at is not None
    # The generated 600 and the demo's few settled requests
    assert stored.training_rows == stored.history_count == training.settled_count(
        tenant_id("acme"))
    assert 600 <= stored.training_rows < 610
    assert stored.lease_until is None and stored.version == 1
    category = stored.scores["category"]
    assert category["held_out"] == 121 and category["useful"]
    assert category["accuracy"] >= category["baseline"] + 0.35
    model = learning.load(stored.model)
    assert set(model.targets) == {"category", "priority"}
    # Trained: nothing due until more history comes
    assert training.due_tenants(utcnow()) == []


def test_only_settled_requests_teach(history):
    history("acme", 300, status="pending_evaluation")
    history("acme", 100, seed=8, status="rejected", first_number=1000)
    assert training.settled_count(tenant_id("acme")) < 200
    assert training.run(sweep=True) == 0


def test_retraining_waits_for_enough_new_history(history):
    history("acme", 300)
    training.run(sweep=True)
    first_version, first_count = row().version, row().history_count
    set_settings("acme", retrain_after=50)
    add_history("acme", generate(49, seed=11), start=START + timedelta(days=30),
                first_number=5000)
    assert training.run(sweep=True) == 0
    add_history("acme", generate(1, seed=12), start=START + timedelta(days=31),
                first_number=6000)
    assert training.due_tenants(utcnow()) == [tenant_id("acme")]
    assert training.run(sweep=True) == 1
    again = row()
    assert again.version == first_version + 1
    assert again.history_count == first_count + 50


def test_a_disabled_company_is_not_trained(history):
    history("acme", 300)
    set_settings("acme", enabled=False)
    assert training.run(sweep=True) == 0


def test_train_now_is_taken_at_the_next_pass_without_a_sweep(history):
    history("acme", 300)
    with isolation.tenant(tenant_id("acme")):
        training.request_training(tenant_id("acme"))
        db.session.commit()
    assert training.due_tenants(utcnow(), sweep=False) == [tenant_id("acme")]
    assert training.run(sweep=False) == 1
    assert row().requested_at is None and row().status == "trained"


def test_one_runner_at_a_time(history):
    history("acme", 300)
    now = utcnow()
    tid = tenant_id("acme")
    with isolation.tenant(tid):
        assert training.claim(tid, now) is True
        db.session.commit()
        assert training.claim(tid, now) is False  # leased
        db.session.rollback()
        assert training.train_claimed(tid, now) is False
    assert training.due_tenants(now) == []
    # A lease whose runner died expires
    later = now + training.LEASE + timedelta(seconds=1)
    assert training.due_tenants(later) == [tid]
    assert training.run(now=later, sweep=True) == 1


def test_a_failed_training_keeps_the_previous_model(history, monkeypatch):
    history("acme", 300)
    training.run(sweep=True)
    before = row()
    version, model = before.version, before.model

    def broken(*_args, **_kwargs):
        raise MemoryError("simulated")

    monkeypatch.setattr(learning, "fit", broken)
    with isolation.tenant(tenant_id("acme")):
        training.request_training(tenant_id("acme"))
        db.session.commit()
    assert training.run(sweep=False) == 0
    after = row()
    assert after.status == "failed" and "simulated" in after.error
    assert after.version == version and after.model == model
    assert after.requested_at is None and after.lease_until is None


def test_one_companys_model_never_sees_another_companys_text(history):
    # Globex's requests carry a word nobody at Acme wrote
    globex_rows = generate(400, seed=21)
    for r in globex_rows:
        r["description"] += " zorblaxium transporte camión"
    add_history("globex", globex_rows)
    history("acme", 400, seed=22)
    training.run(sweep=True)
    acme, globex = row("acme"), row("globex")
    acme_vocabulary = set(acme.model["vocabulary"])
    secret = set(features.terms("zorblaxium"))
    assert secret and secret <= set(globex.model["vocabulary"])
    assert not secret & acme_vocabulary
    acme_categories = {int(c) for c in acme.model["targets"]["category"]["classes"]}
    globex_categories = {int(c) for c in globex.model["targets"]["category"]["classes"]}
    assert not acme_categories & globex_categories
    assert 400 <= acme.training_rows < 410 and 400 <= globex.training_rows < 410
    # Acme's model is the same as when trained alone: Globex's rows changed nothing
    with isolation.tenant(tenant_id("acme")), db.session.begin_nested():
        alone = training.history(tenant_id("acme"), 20000)
    documents = [text for text, _c, _p in alone]
    model = learning.fit(documents, {"category": [c for _t, c, _p in alone],
                                     "priority": [p for _t, _c, p in alone]}).model
    assert learning.dump(model) == acme.model


def test_the_training_query_sees_only_the_scopes_company(history):
    """The scope alone keeps other companies' rows out (PostgreSQL: row-level security;
    SQLite: the session's criterion), even for a query without a tenant clause."""
    history("acme", 50)
    add_history("globex", generate(50, seed=3))
    from app.models import ServiceRequest

    with isolation.tenant(tenant_id("acme")):
        db.session.rollback()
        seen = set(db.session.scalars(select(ServiceRequest.tenant_id)))
        db.session.rollback()
    assert seen == {tenant_id("acme")}


def test_the_command_trains_a_company_now(app, history):
    history("acme", 250)
    result = app.test_cli_runner().invoke(args=["suggestions", "train", "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "baseline" in result.output
    assert row().status == "trained"
    status = app.test_cli_runner().invoke(args=["suggestions", "status", "--tenant", "acme"])
    assert "settled requests: " in status.output
    missing = app.test_cli_runner().invoke(args=["suggestions", "train", "--tenant", "nadie"])
    assert missing.exit_code != 0
    every = app.test_cli_runner().invoke(args=["suggestions", "train"])
    assert every.exit_code == 0 and "Companies trained: 0." in every.output


def test_a_training_reads_only_the_newest_rows_up_to_the_cap(app, history, monkeypatch):
    history("acme", 300)
    monkeypatch.setitem(app.config, "SUGGESTIONS_MAX_ROWS", 120)
    monkeypatch.setitem(app.config, "SUGGESTIONS_MAX_FEATURES", 30)
    with isolation.tenant(tenant_id("acme")):
        newest = training.history(tenant_id("acme"), 120)
        db.session.rollback()
    assert len(newest) == 120
    generated = [features.document(r["title"], r["description"]) for r in generate(300)]
    read = [text for text, _c, _p in newest]
    assert generated[-1] in read and generated[0] not in read  # the newest, oldest first
    assert read.index(generated[-2]) < read.index(generated[-1])
    assert training.run(sweep=True) == 1
    stored = row()
    assert stored.training_rows == 120 and stored.features == 30
    assert stored.history_count >= 300
