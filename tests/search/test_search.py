"""Search through the app, on SQLite and PostgreSQL: what is found, by whom, in what order,
how it is shown, and what a query can never do."""

import pytest

from app.extensions import db
from app.search import query as search_query
from app.search import text
from app.services import history
from tests import factories
from tests.factories import user


def _file(title, requester="ana@acme.test", description="Detalle del pedido"):
    req = factories.file(requester, title=title)
    if description != "Detalle del pedido":
        req.description = description
        db.session.commit()
    return req


def _comment(req, email, comment, internal=False):
    event = history.record(req, "commented", user(email), comment=comment)
    event.internal = internal
    db.session.commit()


def _found(email, q):
    db.session.rollback()
    return [h.request.id for h in search_query.search(user(email), q).hits]


def test_accents_and_stemming(demo):
    req = _file("Reparación del tablero eléctrico")
    assert req.id in _found("director@acme.test", "electrico")
    assert req.id in _found("director@acme.test", "ELÉCTRICO")
    assert req.id in _found("director@acme.test", "reparaciones")
    assert req.id not in _found("director@acme.test", "fontanería")


def test_english_words_and_every_word_required(demo):
    req = _file("Printers on the third floor jammed")
    assert req.id in _found("director@acme.test", "printer jam")
    assert req.id not in _found("director@acme.test", "printer candelabro")


def test_description_comments_and_edits_follow_in_the_same_transaction(demo):
    req = _file("Cambiar bombillo", description="La sala de juntas quedó a oscuras")
    assert req.id in _found("director@acme.test", "oscuras")
    _comment(req, "ana@acme.test", "También parpadea el proyector")
    assert req.id in _found("director@acme.test", "proyector")
    req.title = "Revisar persiana"
    db.session.commit()
    assert req.id in _found("director@acme.test", "persiana")
    assert req.id not in _found("director@acme.test", "bombillo")


def test_template_values_are_searched(demo):
    req = _file("Transporte")
    if not hasattr(req, "fields"):
        pytest.skip("service_requests.fields is not there yet")
    req.fields = {"origen": "Aeropuerto El Dorado", "pasajeros": 3}
    db.session.commit()
    assert req.id in _found("director@acme.test", "dorado")


def test_scope_requester_sees_only_own_and_no_other_tenant(demo):
    mine = _file("Ventilador ruidoso", requester="ana@acme.test")
    theirs = _file("Ventilador roto", requester="luis@acme.test")
    other_unit = _file("Ventilador nuevo", requester="maria@acme.test")
    globex = _file("Ventilador de bodega", requester="pedro@globex.test")
    assert _found("ana@acme.test", "ventilador") == [mine.id]
    assert set(_found("jefe.finanzas@acme.test", "ventilador")) == {mine.id, theirs.id}
    assert set(_found("director@acme.test", "ventilador")) == {mine.id, theirs.id,
                                                               other_unit.id}
    assert _found("pedro@globex.test", "ventilador") == [globex.id]
    assert globex.id not in _found("admin@acme.test", "ventilador")


def test_internal_comments_are_matched_only_for_who_may_read_them(demo):
    req = _file("Cambiar chapa")
    _comment(req, "director@acme.test", "Proveedor cobra sobrecosto confidencial",
             internal=True)
    assert _found("ana@acme.test", "sobrecosto") == []
    assert _found("director@acme.test", "sobrecosto") == [req.id]
    assert _found("admin@acme.test", "sobrecosto") == [req.id]
    # found by a public word, the requester's snippet never shows the internal text
    db.session.rollback()
    hit = search_query.search(user("ana@acme.test"), "chapa").hits[0]
    assert "sobrecosto" not in str(hit.snippet)


def test_ranking_title_before_description_before_comment(demo):
    in_comment = _file("Pintar pared")
    _comment(in_comment, "ana@acme.test", "Hay humedad cerca")
    in_description = _file("Revisar techo", description="Mucha humedad en la esquina")
    in_title = _file("Humedad en el archivo")
    assert _found("director@acme.test", "humedad") == [in_title.id, in_description.id,
                                                       in_comment.id]


def test_highlighting_is_escaped(demo):
    req = _file("<script>alert('x')</script> candelabro")
    db.session.rollback()
    hit = search_query.search(user("director@acme.test"), "candelabro script").hits[0]
    assert hit.request.id == req.id
    assert "<script>" not in str(hit.title)
    assert "&lt;<mark>script</mark>&gt;" in str(hit.title)
    assert "<mark>candelabro</mark>" in str(hit.title)


INJECTIONS = ['candelabro" OR "a', "candelabro & !x | y", "candelabro:*",
              "NEAR(candelabro bombillo)",
              "candelabro AND OR NOT", "title:candelabro", "{internal_terms}: confidencial",
              "candelabro'; DROP TABLE service_requests; --", "candelabro) OR (1=1",
              "internal_terms:confidencial", "candelabro \\ % _", "candelabro <-> x"]


@pytest.mark.parametrize("q", INJECTIONS)
def test_a_query_is_only_words(demo, q):
    req = _file("Cambiar candelabro")
    _comment(req, "director@acme.test", "confidencial", internal=True)
    found = _found("ana@acme.test", q)
    assert set(found) <= {req.id}
    # the internal column is never reached by a column filter in the words
    assert _found("ana@acme.test", "{internal_terms}: confidencial") == []
    assert db.session.scalar(db.select(db.func.count()).select_from(
        db.metadata.tables["service_requests"])) >= 1


def test_number_lookup_request_and_ticket(demo):
    req, _task = factories.request_at("Task_Start")
    other = _file("Otra cosa")
    db.session.rollback()
    ticket_number = req.ticket.number
    assert _found("director@acme.test", req.number) == [req.id]
    assert _found("director@acme.test", req.number.lower()) == [req.id]
    assert _found("director@acme.test", ticket_number) == [req.id]
    assert _found("tecnico1@acme.test", ticket_number) == [req.id]
    assert _found("luis@acme.test", req.number) == []
    assert other.id not in _found("director@acme.test", req.number)


def test_a_bare_number_finds_requests_and_tickets_ending_with_it(demo):
    req, _task = factories.request_at("Task_Start")
    other = _file("Otra cosa")
    db.session.rollback()
    request_seq = int(req.number.rsplit("-", 1)[1])
    ticket_seq = int(req.ticket.number.rsplit("-", 1)[1])
    other_seq = int(other.number.rsplit("-", 1)[1])
    assert req.id in _found("director@acme.test", str(request_seq))
    assert req.id in _found("director@acme.test", f"#{ticket_seq}")
    assert other.id in _found("director@acme.test", str(other_seq))
    assert req.id not in _found("director@acme.test", str(other_seq)) or \
        ticket_seq == other_seq
    assert req.id not in _found("luis@acme.test", str(request_seq))  # scope still applies
    assert _found("director@acme.test", "987654") == []


def test_paging_and_counts(demo):
    for i in range(3):
        _file(f"Taburete roto {i}")
    db.session.rollback()
    results = search_query.search(user("director@acme.test"), "taburete", page=1, per_page=2)
    assert (results.total, results.pages, len(results.hits)) == (3, 2, 2)
    second = search_query.search(user("director@acme.test"), "taburete", page=2, per_page=2)
    assert len(second.hits) == 1
    assert {h.request.id for h in second.hits}.isdisjoint({h.request.id for h in results.hits})


def test_rebuild_writes_every_document_again(demo, app):
    req = _file("Cortina caída")
    db.session.execute(db.delete(db.metadata.tables["search_documents"]))
    db.session.commit()
    assert _found("director@acme.test", "cortina") == []
    result = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert _found("director@acme.test", "cortina") == [req.id]


# --- page and API ----------------------------------------------------------------------------

def test_page_shows_results_highlighted_and_escaped(demo, browser):
    _file("<b>Tablero</b> eléctrico")
    page = browser("director@acme.test").get("/search?q=electrico")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "&lt;b&gt;Tablero&lt;/b&gt; <mark>eléctrico</mark>" in html
    assert "<b>Tablero</b>" not in html


@pytest.mark.parametrize("q", ["!!!", "x" * (text.MAX_QUERY_CHARS + 1)])
def test_page_refuses_empty_and_too_long_with_422(demo, browser, q):
    page = browser("director@acme.test").get("/search", query_string={"q": q})
    assert page.status_code == 422


def test_page_without_query_is_the_form(demo, browser):
    assert browser("ana@acme.test").get("/search").status_code == 200


def test_api_search_and_its_errors(demo, api):
    req = _file("Cambiar candelabro del pasillo")
    client = api("director@acme.test")
    response = client.get("/api/v1/search?q=candelabros")
    assert response.status_code == 200
    assert [item["number"] for item in response.json["items"]] == [req.number]
    assert "<mark>candelabro</mark>" in response.json["items"][0]["title_html"]
    assert client.get("/api/v1/search?q=").status_code == 422
    assert client.get("/api/v1/search").status_code == 422
    assert client.get("/api/v1/search?q=" + "x" * 300).status_code == 422
    assert client.get("/api/v1/search?q=luz&page=0").status_code == 422
    assert api("ana@acme.test").get("/api/v1/search?q=candelabro").status_code == 200
    assert api("pedro@globex.test").get("/api/v1/search?q=candelabro").json["items"] == []


def test_api_is_in_the_openapi_document(demo, api):
    doc = api().get("/api/v1/openapi.json")
    assert "/api/v1/search" in doc.json["paths"]


def test_every_page_has_the_search_box(demo, browser):
    html = browser("ana@acme.test").get("/inbox").get_data(as_text=True)
    assert 'action="/search"' in html and 'name="q"' in html


def test_internal_note_through_the_conversation_is_never_found_by_the_requester(demo):
    from app.conversation import comments

    req = _file("Cambiar cerradura")
    director = user("director@acme.test")
    comments.add_comment(director, db.session.get(type(req), req.id),
                         {"comment": "Presupuesto reservado del cerrajero", "internal": True})
    comments.add_comment(director, db.session.get(type(req), req.id),
                         {"comment": "Vamos el martes con el cerrajero"})
    db.session.commit()
    assert _found("ana@acme.test", "presupuesto reservado") == []
    assert _found("ana@acme.test", "martes") == [req.id]
    assert _found("director@acme.test", "presupuesto reservado") == [req.id]
    assert _found("jefe.finanzas@acme.test", "presupuesto reservado") == [req.id]
    db.session.rollback()
    hit = search_query.search(user("ana@acme.test"), "cerrajero").hits[0]
    assert "Presupuesto" not in str(hit.snippet) and "martes" in str(hit.snippet)
