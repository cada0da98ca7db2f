"""The search's words, pure: folding, stems, the query's limits and the FTS5 expression it
makes, and the escaped highlighting."""

import pytest

from app.search import text


def test_accents_and_case_fold_away():
    assert text.words("Eléctrico ÑANDÚ señal") == ["electrico", "nandu", "senal"]


def test_spanish_and_english_stems_meet():
    assert text.stems("reparaciones") & text.stems(text.fold("reparación"))
    assert text.stems("printers") & text.stems("printer")


def test_number_is_recognized():
    q = text.parse("  sol-2026-000042 ")
    assert q.number == "SOL-2026-000042"
    assert q.words == ("sol", "2026", "000042")


@pytest.mark.parametrize("raw, sequence", [("2", 2), (" 000042 ", 42), ("#7", 7),
                                           ("0", None), ("2 3", None), ("12a", None),
                                           ("1234567890123", None)])
def test_a_bare_number_is_a_sequence(raw, sequence):
    assert text.parse(raw).sequence == sequence


@pytest.mark.parametrize("raw", ["", "   ", "!!! ::: ***", "de la y el", '""'])
def test_empty_queries_are_refused(raw):
    with pytest.raises(text.QueryError) as exc:
        text.parse(raw)
    assert exc.value.kind == "empty"


def test_too_long_is_refused_and_terms_are_bounded():
    with pytest.raises(text.QueryError) as exc:
        text.parse("a" * (text.MAX_QUERY_CHARS + 1))
    assert exc.value.kind == "too_long"
    q = text.parse(" ".join(f"palabra{i}" for i in range(20)))
    assert len(q.words) == text.MAX_TERMS


@pytest.mark.parametrize("raw", [
    'luz" OR "x', "luz & agua | !fuego", "luz:*", "NEAR(luz agua)", "luz AND agua OR x",
    "title:luz", "{internal_terms}: secreto", "'; DROP TABLE service_requests; --",
    "luz^2 -agua +x", "internal_terms : x", "luz*", "luz)",
])
def test_fts5_expression_is_only_quoted_stems(raw):
    q = text.parse(raw)
    expression = q.fts5(("head_terms", "body_terms"))
    assert expression.startswith("{head_terms body_terms} : (")
    inner = expression[len("{head_terms body_terms} : ("):-1]
    # nothing but ("stem" OR "stem") groups joined by AND, every stem letters and digits
    for group in inner.split(" AND "):
        assert group.startswith("(") and group.endswith(")")
        for option in group[1:-1].split(" OR "):
            assert option.startswith('"') and option.endswith('"')
            assert option[1:-1].isalnum()


def test_highlight_escapes_and_marks():
    q = text.parse("script reparación")
    out = str(text.highlight("<script>alert(1)</script> Reparaciones & más", q))
    assert "<script>" not in out
    assert "&lt;<mark>script</mark>&gt;" in out
    assert "<mark>Reparaciones</mark>" in out
    assert "&amp;" in out


def test_snippet_centres_on_the_first_match_and_escapes():
    q = text.parse("eléctrico")
    long = " ".join(["relleno"] * 80) + " tablero <b>electrico</b> " + " ".join(["fin"] * 80)
    out = str(text.snippet(["sin nada", long], q))
    assert out.startswith("… ") and out.endswith(" …")
    assert "&lt;b&gt;<mark>electrico</mark>&lt;/b&gt;" in out
    assert str(text.snippet([], q)) == ""
