"""Seeded requests carry the milestones the steps' fold would have left: replaying their
histories (`stages.rebuild`, what `flask indicators rebuild` runs) changes nothing."""

from sqlalchemy import func, select

from app.extensions import db
from app.indicators import stages
from app.models import ElementPass, HumanTask, ServiceRequest
from app.seeding import seed_scale


def test_seeded_milestones_are_what_their_histories_fold_to(app):
    seed_scale(tenants=1, requests=400, seed=7, progress=False)
    db.session.commit()
    ids = list(db.session.scalars(select(ServiceRequest.id).order_by(ServiceRequest.id)))
    assert len(ids) == 400
    # the seed's stages have every milestone somewhere
    for column in ("authorized_at", "approved_at", "assigned_at", "started_at",
                   "finished_at", "work_minutes", "confirmation_minutes"):
        assert db.session.scalar(select(func.count()).where(
            getattr(ServiceRequest, column).is_not(None))) > 0, column
    assert db.session.scalar(select(func.count()).where(
        ServiceRequest.rejected_by == "unit_head")) > 0
    assert db.session.scalar(select(func.count()).where(
        ServiceRequest.rejected_by == "service_director")) > 0
    assert stages.rebuild(ids) == 0


def test_seeded_people_steps_have_their_heatmap_passes(app):
    seed_scale(tenants=1, requests=200, seed=3, progress=False)
    db.session.commit()
    tasks = db.session.scalar(select(func.count()).select_from(HumanTask).where(
        (HumanTask.status == "open") | HumanTask.completed_at.is_not(None)))
    passes = db.session.scalar(select(func.count()).select_from(ElementPass))
    assert tasks > 200 and passes == tasks

