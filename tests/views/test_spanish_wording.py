"""Spanish wording a newcomer found odd: the comment button, the worker choice's open tickets,
tickets called tickets in notices, and the refusal of a web page or SVG posing as a file."""

import re

from flask_babel import force_locale, gettext, ngettext

from app.notifications import defaults
from tests import factories
from tests.views.helpers import html, open_task


def test_the_comment_button_says_comentar(demo, browser):
    req = factories.file()
    page = html(browser("director@acme.test").get(f"/requests/{req.id}"))
    assert '<button class="button secondary">Comentar</button>' in page


def test_the_worker_choice_counts_open_tickets_without_double_parentheses(demo, browser):
    factories.request_at("Task_Work")  # tecnico1 has open tickets
    other, _task = factories.request_at("Task_Assign")
    task = open_task(other.id, "Task_Assign")
    page = html(browser("director@acme.test").get(f"/tasks/{task.id}"))
    worker = factories.user("tecnico1@acme.test")
    option = page[page.index(f'<option value="{worker.id}"'):]
    option = option[:option.index("</option>")]
    assert re.search(rf"{re.escape(worker.name)} · (1 ticket abierto|[02-9]\d* tickets abiertos)$",
                     option), option
    assert ") (" not in option


def test_one_open_ticket_is_singular(app):
    with app.test_request_context(), force_locale("es"):
        assert ngettext("%(num)s open ticket", "%(num)s open tickets", 1) == "1 ticket abierto"
        assert ngettext("%(num)s open ticket", "%(num)s open tickets", 3) == "3 tickets abiertos"


def test_a_web_page_posing_as_a_file_is_refused_in_plain_words(app):
    with app.test_request_context(), force_locale("es"):
        text = gettext("%(name)s is a web page or a drawing (%(kind)s), whatever its name says: "
                       "such files are not accepted.", name="evil.png", kind="Página HTML")
    assert text == ("evil.png es una página web o una imagen SVG (Página HTML); esos tipos no "
                    "se aceptan aunque el nombre del archivo diga otra cosa.")
    assert "dibujo" not in text and "diga lo que diga" not in text


def test_notices_call_a_ticket_a_ticket():
    for subject, text, sms in defaults._ES.values():
        for wording in (subject, text, sms):
            assert " orden " not in wording and "(orden" not in wording, wording
    assert defaults._ES["ticket.assigned_to_you"][0] == "Se le asignó el ticket {{ ticket_number }}"
