"""The bell in a real browser: it shows how many notices are unread, its page opens the task
a notice is about, and the pages fit a phone."""

from app.extensions import db
from app.models import Notification
from tests.factories import file, user


def unread(email: str) -> int:
    db.session.rollback()
    return db.session.query(Notification).filter_by(user_id=user(email).id, inapp=True,
                                                    read_at=None).count()


def test_the_bell_counts_and_its_page_opens_the_task(person, tmp_path):
    head = person("jefe.finanzas@acme.test")
    req = file("ana@acme.test", title="Cambiar la chapa de la puerta")
    count = unread("jefe.finanzas@acme.test")
    head.goto("/inbox")
    bell = head.locator("header a.bell")
    assert bell.locator(".bell-count").inner_text() == str(count)
    assert "sin leer" in bell.get_attribute("aria-label")
    with head.expect_navigation():
        bell.click()
    notice = head.locator("li.notice.unread", has_text=req.number)
    assert notice.count() == 1
    with head.expect_navigation():
        notice.locator("a.notice-title").click()
    assert "/tasks/" in head.url
    assert head.locator("h1").inner_text().strip() != ""
    assert req.number in head.locator("main").inner_text()
    assert head.locator("header a.bell .bell-count").count() == (1 if count > 1 else 0)
    if count > 1:
        assert head.locator("header a.bell .bell-count").inner_text() == str(count - 1)
    assert not head.http_errors


def test_the_notification_pages_fit_a_phone(person, tmp_path):
    file("ana@acme.test")
    for email, url in (("jefe.finanzas@acme.test", "/notifications"),
                       ("ana@acme.test", "/notifications/preferences"),
                       ("admin@acme.test", "/admin/notifications"),
                       ("admin@acme.test", "/admin/notifications/log"),
                       ("admin@acme.test", "/admin/notifications/templates/task.waiting/es")):
        page = person(email)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
            f"horizontal scrollbar at 390 px on {url}"
        page.screenshot(path=str(tmp_path / (url.strip("/").replace("/", "_") + ".png")),
                        full_page=True)
        assert not page.http_errors, (url, page.http_errors)
