"""Adding a team member without knowing addresses: the e-mail field completes from the
company's active people (names and e-mails, at most PICKER_LIMIT), and a search by name or
e-mail (no script needed) lists up to SEARCH_LIMIT people, each with its own add button.
Members, inactive people and other companies' people are never offered."""

import re

import pytest
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import User
from app.teams import service as teams
from tests.factories import user
from tests.views.helpers import html

ADMIN, DIRECTOR = "admin@acme.test", "director@acme.test"


def _board():
    team = teams.ensure(user(ADMIN).tenant_id, "change_board", {"es": "Comité de cambios"})
    teams.add_member(team, user("jefe.finanzas@acme.test"))
    db.session.commit()
    return team


def _options(body: str) -> list[tuple[str, str]]:
    listed = body[body.index('<datalist id="member-people">'):]
    listed = listed[:listed.index("</datalist>")]
    return re.findall(r'<option value="([^"]+)">([^<]*)</option>', listed)


def _found(body: str) -> list[str]:
    if 'id="member-found"' not in body:
        return []
    table = body[body.index('id="member-found"'):]
    table = table[:table.index("</table>")]
    return re.findall(r'name="email" value="([^"]+)"', table)


def _crowd(count: int, prefix: str = "persona") -> None:
    tenant_id = user(ADMIN).tenant_id
    for n in range(count):
        db.session.add(User(tenant_id=tenant_id, email=f"{prefix}{n:02d}@acme.test",
                            name=f"Persona {n:02d}", active=True,
                            password_hash=generate_password_hash("x", method="pbkdf2:sha256:1")))
    db.session.commit()


def test_the_email_field_completes_from_the_companys_active_people(demo, browser):
    _board()
    ana = user("ana@acme.test")
    user("tecnico1@acme.test").active = False
    db.session.commit()
    options = _options(html(browser(ADMIN).get("/teams/change_board")))
    emails = [email for email, _name in options]
    assert ("ana@acme.test", ana.name) in options
    assert "jefe.finanzas@acme.test" not in emails        # already a member
    assert "tecnico1@acme.test" not in emails             # inactive
    assert not any(e.endswith("@globex.test") for e in emails)
    names = [name.lower() for _email, name in options]
    assert names == sorted(names)


def test_a_search_lists_people_with_an_add_button_and_adding_works(demo, browser):
    _board()
    page = browser(ADMIN)
    body = html(page.get("/teams/change_board?q=ANA@ACME.TEST"))
    assert _found(body) == ["ana@acme.test"]
    assert _found(html(page.get("/teams/change_board?q=finanzas"))) == []   # a member
    assert _found(html(page.get("/teams/change_board?q=globex"))) == []
    assert "Nadie activo" in html(page.get("/teams/change_board?q=zzz"))
    assert page.post("/teams/change_board/members",
                     {"email": "ana@acme.test"}).status_code == 303
    assert user("ana@acme.test").id in teams.member_ids(user(ADMIN).tenant_id, "change_board")


def test_large_companies_get_a_bounded_list_and_a_bounded_search(demo, browser):
    _board()
    _crowd(teams.PICKER_LIMIT + 5)
    page = browser(ADMIN)
    body = html(page.get("/teams/change_board"))
    assert len(_options(body)) == teams.PICKER_LIMIT
    assert "busque arriba" in body                        # the list says it is not everyone
    body = html(page.get("/teams/change_board?q=persona"))
    assert len(_found(body)) == teams.SEARCH_LIMIT
    assert "Solo se muestran las primeras" in body
    body = html(page.get("/teams/change_board?q=persona%2007"))
    assert _found(body) == ["persona07@acme.test"]


def test_readers_get_no_picker(demo, browser):
    _board()
    body = html(browser(DIRECTOR).get("/teams/change_board?q=ana"))
    assert "member-people" not in body and 'id="member-found"' not in body
    assert "ana@acme.test" not in body


@pytest.mark.parametrize("typed", ["tomas", "TOMÁS", "Tomás", "herre"])
def test_a_name_is_found_whatever_its_accents_and_case(demo, typed):
    from app.admin import people

    admin = user("admin@acme.test")
    person = user("tecnico1@acme.test")
    person.name = "Tomás Herrera"
    db.session.commit()
    found = db.session.scalars(people.search(admin.tenant_id, q=typed)).all()
    assert person in found and all(isinstance(u, User) for u in found)
