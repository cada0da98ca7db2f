"""The API client of tests/api, and a company whose Soporte TI category follows the adopted
incident template."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Category
from app.process_catalog import adopt, fields
from app.teams.models import TeamMember
from tests.api.conftest import api  # noqa: F401


@pytest.fixture
def incidents(demo):
    """Acme adopts and deploys the incident template; Soporte TI follows it and asks for
    impact and urgency; tecnico2 is the second line."""
    owner = demo.user("admin@acme.test")
    adopt(owner.tenant_id, "incident", owner, deploy=True)
    category = db.session.scalar(select(Category).where(
        Category.tenant_id == owner.tenant_id, Category.name == "Soporte TI"))
    category.process_key = "incident"
    category.request_fields = fields.incident_fields()
    from app.teams import service as teams

    team = teams.get(owner.tenant_id, "second_line")
    db.session.add(TeamMember(tenant_id=owner.tenant_id, team_id=team.id,
                              user_id=demo.user("tecnico2@acme.test").id))
    db.session.commit()
    return category
