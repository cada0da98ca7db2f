"""The account's sessions page in a real browser: fits a phone, ends the other session."""


def test_the_sessions_page_on_a_phone_ends_the_other_session(person, tmp_path):
    desk = person("ana@acme.test")
    phone = person("ana@acme.test")
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto("/account/sessions")
    assert phone.locator("table.list tbody tr").count() == 2
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        "horizontal scrollbar at 390 px"
    phone.screenshot(path=str(tmp_path / "sessions-390.png"), full_page=True)
    with phone.expect_navigation():
        phone.click("form[action$='/account/sessions/end-others'] button")
    assert phone.locator("table.list tbody tr").count() == 1
    desk.goto("/inbox")
    assert "/login" in desk.url
    assert not phone.http_errors and not desk.http_errors
