"""Two details of the conversation's pages: internal notes marked as such in a staff task
page's "Latest comments", and the canned response's "Insert" keeping what was typed."""

import io

from tests.conversation.conftest import ADMIN, DIRECTOR, REQUESTER, WORKER
from tests.conversation.test_canned import create
from tests.views.helpers import html, open_task


def test_internal_notes_are_marked_in_a_task_pages_latest_comments(browser, working):
    director = browser(DIRECTOR)
    for text, internal in (("Nota-del-equipo-41", "true"), ("Aviso-publico-42", None)):
        form = {"comment": text, **({"internal": internal} if internal else {})}
        assert director.post(f"/requests/{working}/comments", form).status_code in (302, 303)
    task = open_task(working, "Task_Work")
    page = html(browser(WORKER).get(f"/tasks/{task.id}"))
    comments = page[page.index('<ul class="comments">'):]
    comments = comments[:comments.index("</ul>")]
    items = comments.split("<li")[1:]
    [note] = [li for li in items if "Nota-del-equipo-41" in li]
    [public] = [li for li in items if "Aviso-publico-42" in li]
    assert 'class="badge internal"' in note and "ev-internal" in note
    assert "badge internal" not in public and "ev-internal" not in public


def test_insert_keeps_the_typed_text_and_adds_the_reply_after_it(api, browser, working):
    row = create(api, ADMIN).json
    director = browser(DIRECTOR)
    page = html(director.get(f"/requests/{working}"))
    assert 'name="insert_canned"' in page and 'formaction=' in page
    response = director.post(f"/requests/{working}/comments", {
        "comment": "Ya revisé el medidor.", "canned": str(row["id"]), "insert_canned": "1",
        "internal": "true"})
    assert response.status_code == 200
    page = html(response)
    box = page[page.index('id="comment-text"'):]
    box = box[box.index(">") + 1:box.index("</textarea>")]
    assert box.startswith("Ya revisé el medidor.\n\nHola Ana Gómez: sobre ")
    assert 'name="internal" value="true" checked' in page  # the note's box stays ticked
    # nothing was saved: the text is not in the history yet
    history = html(director.get(f"/requests/{working}"))
    assert "Ya revisé el medidor." not in history


def test_insert_with_an_empty_box_gives_the_reply_alone(api, browser, working):
    row = create(api, ADMIN).json
    response = browser(DIRECTOR).post(f"/requests/{working}/comments", {
        "comment": "", "canned": str(row["id"]), "insert_canned": "1"})
    page = html(response)
    box = page[page.index('id="comment-text"'):]
    assert box[box.index(">") + 1:].startswith("Hola Ana Gómez")


def test_insert_says_the_chosen_files_were_not_kept(api, browser, working):
    row = create(api, ADMIN).json
    response = browser(DIRECTOR).post(f"/requests/{working}/comments", {
        "comment": "Con foto", "canned": str(row["id"]), "insert_canned": "1",
        "files": [(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "acta.pdf")]},
        content_type="multipart/form-data")
    page = html(response)
    assert 'id="comment-files-not-kept"' in page and "acta.pdf" in page
    assert 'id="attach-files-not-kept"' not in page  # the panel's own upload form is another


def test_the_requester_posting_insert_gets_no_reply(api, browser, working):
    row = create(api, ADMIN).json
    response = browser(REQUESTER).post(f"/requests/{working}/comments", {
        "comment": "Mi texto", "canned": str(row["id"]), "insert_canned": "1"})
    page = html(response)
    assert response.status_code == 200 and "Hola Ana Gómez" not in page
    assert "canned-choice" not in page
