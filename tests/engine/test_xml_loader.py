"""The hardened XML loader, rule by rule. A DOCTYPE is refused wherever it sits: the quick
byte scan only looks at the first 4096 bytes (and cannot read UTF-16 or UTF-32 at all), so a
DOCTYPE behind a long comment, blank lines or processing instructions, or in another encoding,
is refused by the check of the parsed document. Each refused case has an accepted twin that
differs only by the DOCTYPE, so what is refused is the DOCTYPE and nothing else."""

import pytest
from lxml import etree

from app.engine.xml import BPMN_NS, DEFAULT_MAX_BYTES, DiagramError, load_bpmn_tree

SCAN = 4096  # bytes the quick scan reads
REFUSED = [(None, "DOCTYPE and entity declarations are not allowed")]
ROOT = (f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="Defs">'
        '<bpmn:process id="p" isExecutable="true"/></bpmn:definitions>')
PADDINGS = {
    "a long comment": "<!--" + "x" * (SCAN + 100) + "-->",
    "blank lines": "\n" * (SCAN + 100),
    "spaces and tabs": " \t" * (SCAN // 2 + 100),
    "processing instructions": '<?mesa note="x"?>' * (SCAN // 16 + 10),
    "many short comments": "<!-- -->\n" * (SCAN // 8 + 10),
}
DOCTYPES = {
    "bare": "<!DOCTYPE bpmn:definitions>",
    "odd spacing": "<!DOCTYPE\n\t  bpmn:definitions  \n>",
    "system id": '<!DOCTYPE bpmn:definitions SYSTEM "http://127.0.0.1:9/evil.dtd">',
    "public id": ('<!DOCTYPE bpmn:definitions PUBLIC "-//Evil//DTD//EN" '
                  '"file:///etc/passwd">'),
    "internal subset, no entity": (
        '<!DOCTYPE bpmn:definitions [<!ATTLIST bpmn:definitions name CDATA "x">]>'),
    "internal entity": '<!DOCTYPE bpmn:definitions [<!ENTITY e "boom">]>',
    "external entity": '<!DOCTYPE bpmn:definitions [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
}


def document(doctype: str = "", padding: str = "", encoding: str = "UTF-8") -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?>{padding}{doctype}{ROOT}'


def problems(data) -> list:
    with pytest.raises(DiagramError) as refused:
        load_bpmn_tree(data)
    return refused.value.problems


@pytest.mark.parametrize("padding", PADDINGS, ids=list(PADDINGS))
def test_a_doctype_behind_more_than_the_scanned_bytes_is_refused(padding):
    data = document(DOCTYPES["bare"], PADDINGS[padding]).encode()
    assert data.index(b"<!DOCTYPE") > SCAN
    assert problems(data) == REFUSED
    assert load_bpmn_tree(document("", PADDINGS[padding])).tag == f"{{{BPMN_NS}}}definitions"


@pytest.mark.parametrize("doctype", DOCTYPES, ids=list(DOCTYPES))
def test_every_kind_of_doctype_behind_a_long_comment_is_refused(doctype):
    data = document(DOCTYPES[doctype], PADDINGS["a long comment"])
    assert problems(data) == REFUSED
    assert problems(data.encode()) == REFUSED


def test_a_doctype_straddling_the_end_of_the_scanned_bytes_is_refused():
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    filler = "<!--" + "x" * (SCAN - len(declaration) - 4 - 3 - 4) + "-->"
    data = (declaration + filler + DOCTYPES["bare"] + ROOT).encode()
    start = data.index(b"<!DOCTYPE")
    assert start < SCAN < start + len(b"<!DOCTYPE")  # split by the scan's edge
    assert problems(data) == REFUSED


def test_a_byte_order_mark_and_a_long_comment_before_the_doctype():
    bom = b"\xef\xbb\xbf"
    padding = PADDINGS["a long comment"]
    assert problems(bom + document(DOCTYPES["internal entity"], padding).encode()) == REFUSED
    assert load_bpmn_tree(bom + document("", padding).encode()) is not None


@pytest.mark.parametrize("encoding,codec", [
    ("UTF-16", "utf-16"),        # with a byte order mark
    ("UTF-16LE", "utf-16-le"),   # without one
    ("UTF-16BE", "utf-16-be"),
    ("UTF-32", "utf-32"),
])
@pytest.mark.parametrize("doctype", ["bare", "internal entity", "external entity"])
def test_a_doctype_in_a_wide_encoding_is_refused(encoding, codec, doctype):
    """In UTF-16 and UTF-32 the bytes of "<!DOCTYPE" and "<!ENTITY" are interleaved with zeros,
    so neither byte scan sees them, even at the very start of the file."""
    data = document(DOCTYPES[doctype], encoding=encoding).encode(codec)
    assert b"<!DOCTYPE" not in data.upper() and b"<!ENTITY" not in data.upper()
    assert problems(data) == REFUSED
    assert load_bpmn_tree(document(encoding=encoding).encode(codec)) is not None


@pytest.mark.parametrize("doctype", ["internal entity", "external entity"])
def test_a_document_using_its_entity_in_utf16_is_refused(doctype):
    xml = document(DOCTYPES[doctype], encoding="UTF-16").replace(
        '<bpmn:process id="p" isExecutable="true"/>',
        '<bpmn:process id="p" isExecutable="true">'
        '<bpmn:documentation>&e;</bpmn:documentation></bpmn:process>')
    assert problems(xml.encode("utf-16")) == REFUSED


def test_a_lower_case_doctype_is_not_xml_and_is_refused():
    refused = problems(document("<!doctype bpmn:definitions>", PADDINGS["a long comment"]))
    assert len(refused) == 1 and "not well-formed" in refused[0][1]


@pytest.mark.parametrize("where", ["first bytes", "after the scanned bytes"])
def test_an_entity_declaration_is_refused_wherever_it_is(where):
    padding = "" if where == "first bytes" else PADDINGS["blank lines"]
    data = document(DOCTYPES["external entity"], padding).encode()
    assert problems(data) == REFUSED


# -- the other rules of the loader -------------------------------------------------------------

def test_the_size_cap_counts_bytes_and_the_limit_itself_is_allowed():
    data = document(padding="<!--" + "é" * 100 + "-->")  # two bytes per é in UTF-8
    size = len(data.encode())
    assert size > len(data)
    assert load_bpmn_tree(data, max_bytes=size) is not None
    assert load_bpmn_tree(data.encode(), max_bytes=size) is not None
    with pytest.raises(DiagramError) as refused:
        load_bpmn_tree(data, max_bytes=size - 1)
    assert refused.value.problems == [(None, f"the diagram is larger than {size - 1} bytes")]


def test_the_default_cap_is_a_megabyte():
    padding = "<!--" + "x" * (DEFAULT_MAX_BYTES - len(document()) - 7) + "-->"
    assert len(document(padding=padding)) == DEFAULT_MAX_BYTES
    assert load_bpmn_tree(document(padding=padding)) is not None
    assert problems(document(padding=padding + " ")) == [
        (None, f"the diagram is larger than {DEFAULT_MAX_BYTES} bytes")]


def test_text_that_is_not_xml_is_refused_with_the_parser_message():
    (problem,) = problems(b"<bpmn:definitions")
    assert problem[0] is None and problem[1].startswith("the file is not well-formed XML: ")


def test_a_document_that_is_not_a_bpmn_diagram_is_refused():
    assert problems('<?xml version="1.0"?><definitions/>') == [
        (None, "the file is not a BPMN 2.0 diagram (bpmn:definitions)")]
    other = ROOT.replace(BPMN_NS, "http://example.com/not-bpmn")
    assert problems(other) == [(None, "the file is not a BPMN 2.0 diagram (bpmn:definitions)")]


def test_comments_and_processing_instructions_do_not_reach_the_tree():
    data = document(padding="<!-- before -->").replace(
        '<bpmn:process id="p" isExecutable="true"/>',
        '<bpmn:process id="p" isExecutable="true"><!-- inside --><?pi inside?></bpmn:process>')
    root = load_bpmn_tree(data)
    kinds = (etree._Comment, etree._ProcessingInstruction)
    assert not [n for n in root.iter() if isinstance(n, kinds)]
    assert root.getprevious() is None


# -- what the parser itself is allowed to do (from the mutation run) ---------------------------

BROKEN = "<bpmn:process"  # a document that stops here is not well-formed


def test_a_doctype_or_an_entity_declaration_is_refused_before_the_parser_reads_on():
    """The byte scan answers first: a broken document behind a DOCTYPE in the first bytes, or
    behind an entity declaration anywhere, gets the DOCTYPE answer, not the parser's."""
    head = f'<?xml version="1.0"?>{DOCTYPES["bare"]}<bpmn:definitions xmlns:bpmn="{BPMN_NS}">'
    assert problems((head + BROKEN).encode()) == REFUSED
    late = (f'<?xml version="1.0"?>{PADDINGS["blank lines"]}{DOCTYPES["internal entity"]}'
            f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}">{BROKEN}').encode()
    assert late.index(b"<!ENTITY") > SCAN
    assert problems(late) == REFUSED


@pytest.mark.parametrize("encoding,codec", [("UTF-16", "utf-16"), ("UTF-32", "utf-32")])
def test_an_external_entity_is_never_read(tmp_path, encoding, codec):
    """In a wide encoding the byte scan is blind and the parser reads the DOCTYPE; it must not
    load the file an entity names. This one is not well-formed, so reading it would end in the
    parser's error, not in the DOCTYPE refusal."""
    target = tmp_path / "entity.xml"
    target.write_text("<unclosed")
    doctype = f'<!DOCTYPE bpmn:definitions [<!ENTITY e SYSTEM "{target.as_uri()}">]>'
    xml = document(doctype, encoding=encoding).replace(
        '<bpmn:process id="p" isExecutable="true"/>',
        '<bpmn:process id="p" isExecutable="true">'
        '<bpmn:documentation>&e;</bpmn:documentation></bpmn:process>')
    assert problems(xml.encode(codec)) == REFUSED


def test_a_document_nested_too_deeply_is_refused():
    """libxml2's own limit (256 levels) stays on: no huge_tree, so no 2048-level trees for the
    code that walks the diagram afterwards."""
    def nested(depth: int) -> str:
        return document().replace('<bpmn:process id="p" isExecutable="true"/>',
                                  "<x>" * depth + "</x>" * depth)

    assert load_bpmn_tree(nested(200)) is not None
    (problem,) = problems(nested(300))
    assert problem[1].startswith("the file is not well-formed XML: ") and "depth" in problem[1]


def test_the_message_names_each_problem_with_its_element():
    error = DiagramError([("Task_1", "no handler"), (None, "no start event")])
    assert str(error) == "Task_1: no handler; no start event"
    assert error.problems == [("Task_1", "no handler"), (None, "no start event")]
