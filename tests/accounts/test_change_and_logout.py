"""Change password (page and API): the current one required, the rules, other sessions end
and tokens are revoked, this session stays. Log out everywhere (page and API): every session,
this one too, and every token."""

from sqlalchemy import select

from app.api import tokens_service
from app.extensions import db
from app.models import User, UserSession
from tests.accounts.conftest import GOOD, english

ANA = "ana@acme.test"


def form(current, new, again=None):
    return {"current_password": current, "new_password": new,
            "new_password_again": new if again is None else again}


def test_change_password_page(demo, browser):
    here, elsewhere = browser(ANA), browser(ANA)
    raw, _ = tokens_service.issue(demo.user(ANA), "script", 24)
    db.session.commit()
    english(here)
    page = here.get("/account/password")
    assert page.status_code == 200 and 'href="/account/password"' in here.get(
        "/account/sessions").get_data(as_text=True)
    cases = [
        (form("wrong", GOOD), "current password is not right"),
        (form("demo1234", "short"), "at least 10 characters"),
        (form("demo1234", "password1234"), "most common"),
        (form("demo1234", "qwertyuiop"), "most common"),
        (form("demo1234", "ana@acme.test"), "your name"),
        (form("demo1234", "AnaGomez2024"), "your name"),
        (form("demo1234", GOOD, GOOD + "!"), "not the same"),
        (form("demo1234", "x" * 1025), "at most 1024"),
    ]
    for data, said in cases:
        response = here.post("/account/password", data)
        assert response.status_code == 422, data
        assert said in response.get_data(as_text=True), (data, said)
    db.session.rollback()
    assert demo.user(ANA).check_password("demo1234")                  # nothing changed
    assert elsewhere.get("/inbox").status_code == 200

    done = here.post("/account/password", form("demo1234", GOOD))
    assert done.status_code == 302
    assert here.get("/inbox").status_code == 200                      # this session stays
    assert elsewhere.get("/inbox").status_code == 302                 # the other one ended
    db.session.rollback()
    assert tokens_service.authenticate(raw) is None                   # tokens revoked
    ana = demo.user(ANA)
    assert ana.password_hash.startswith("$argon2id$") and ana.check_password(GOOD)
    browser().login(ANA, GOOD)


def test_change_password_api(demo, client):
    token = client.post("/api/v1/tokens", json={"email": ANA, "password": "demo1234"}
                        ).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    wrong = client.post("/api/v1/me/password", headers=auth,
                        json={"current_password": "nope", "new_password": GOOD})
    assert wrong.status_code == 422 and "current_password" in wrong.get_json()["errors"]
    common = client.post("/api/v1/me/password", headers=auth,
                         json={"current_password": "demo1234", "new_password": "1234567890"})
    assert common.status_code == 422 and "new_password" in common.get_json()["errors"]
    assert client.post("/api/v1/me/password", json={"current_password": "demo1234",
                                                    "new_password": GOOD}).status_code == 401
    ok = client.post("/api/v1/me/password", headers=auth,
                     json={"current_password": "demo1234", "new_password": GOOD})
    assert ok.status_code == 200
    assert client.get("/api/v1/me", headers=auth).status_code == 401  # this token too
    assert client.post("/api/v1/tokens", json={"email": ANA, "password": GOOD}
                       ).status_code == 201


def test_log_out_everywhere_page(demo, browser):
    here, elsewhere = browser(ANA), browser(ANA)
    raw, _ = tokens_service.issue(demo.user(ANA), "script", 24)
    db.session.commit()
    page = here.get("/account/sessions").get_data(as_text=True)
    assert "/account/logout-everywhere" in page
    done = here.post("/account/logout-everywhere")
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert here.get("/inbox").status_code == 302
    assert elsewhere.get("/inbox").status_code == 302
    db.session.rollback()
    assert tokens_service.authenticate(raw) is None
    ana = demo.user(ANA)
    assert db.session.scalar(select(UserSession).where(
        UserSession.user_id == ana.id, UserSession.ended_at.is_(None))) is None
    assert browser(ANA).get("/inbox").status_code == 200              # the password still works


def test_log_out_everywhere_api(demo, client, browser):
    web = browser(ANA)
    tokens = [client.post("/api/v1/tokens", json={"email": ANA, "password": "demo1234"}
                          ).get_json()["token"] for _ in range(2)]
    response = client.post("/api/v1/me/logout-everywhere",
                           headers={"Authorization": f"Bearer {tokens[0]}"})
    assert response.status_code == 200 and response.get_json()["sessions_ended"] == 1
    for token in tokens:
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                          ).status_code == 401
    assert web.get("/inbox").status_code == 302


def test_a_deactivated_person_cannot_log_in_nor_use_a_token(demo, client, browser):
    token = client.post("/api/v1/tokens", json={"email": ANA, "password": "demo1234"}
                        ).get_json()["token"]
    ana = db.session.scalar(select(User).where(User.email == ANA))
    ana.active = False
    db.session.commit()
    refused = browser().post("/login", {"email": ANA, "password": "demo1234"})
    assert refused.status_code == 401
    assert client.post("/api/v1/tokens", json={"email": ANA, "password": "demo1234"}
                       ).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 401
