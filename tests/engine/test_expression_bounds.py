"""Expressions cannot make unbounded values: every attack ends in a clear ExpressionError, and the
memory an evaluation allocates stays small (measured with tracemalloc, not timed)."""

import tracemalloc

import pytest

from app.engine.expressions import (
    MAX_CACHED_NODES,
    MAX_DEPTH,
    MAX_MADE,
    MAX_SIZE,
    ExpressionError,
    evaluate,
    parse_expression,
    size_of,
)

PEAK_LIMIT = 3_000_000  # bytes an evaluation may allocate, refused or not

DATA = {
    "description": "x" * 20_000,  # a long-text answer at its largest
    "subject": "Impresora del piso 3",
    "decision": "authorize",
    "priority": "urgent",
    "hours": 9,
    "estimated_cost": 1200.5,
    "items": list(range(30_000)),
    "many": list(range(100_000)),
    "huge": 10**4000,  # a number field with an absurd answer: read it, yes; compute with it, no
    "nested": {"unit": {"name": "TI", "people": ["ana", "luis"]}},
    "nothing": None,
    "auto_close_after": "P7D",
}

TOO_LARGE = "the result is too large"
TOO_MUCH = "makes too much data"
NUMBER = "the number is too large"
NOT_FINITE = "not a finite number"
FORMATTING = "remainder of two numbers"
NOT_ALLOWED = "is not allowed"
DEEP = "nested too deeply"


def nest(opening, middle, closing, times):
    return opening * times + middle + closing * times


ATTACKS = [
    # % formatting: conditions need the remainder of numbers only
    ("'%0999999999d' % 1", FORMATTING),
    ("'%*d' % (999999999, 1)", FORMATTING),
    ("'%s%s%s' % (subject, subject, subject)", FORMATTING),
    ("'%s' % description", FORMATTING),
    ("description % ()", FORMATTING),
    ("'%c' % 65", FORMATTING),
    ("1 % 'a'", FORMATTING),
    # repetition, alone and nested in containers
    ("'a' * 999999999", TOO_LARGE),
    ("999999999 * 'a'", TOO_LARGE),
    ("description * 3", TOO_LARGE),
    ("[0] * 999999999", TOO_LARGE),
    ("[[1] * 9999] * 9999", TOO_LARGE),
    ("9999 * [9999 * [1]]", TOO_LARGE),
    ("[('a' * 9999,) * 9999]", TOO_LARGE),
    ("[[[[0] * 99] * 99] * 99]", TOO_LARGE),
    ("[{1: 'a' * 9999}] * 9999", TOO_LARGE),
    ("[{'a' * 9999}] * 9999", TOO_LARGE),
    ("({('a' * 9999,) * 9999})", TOO_LARGE),
    ("{1: [0] * 9999, 2: [0] * 9999, 3: [0] * 9999, 4: [0] * 9999, 5: [0] * 9999, 6: [0]}",
     TOO_LARGE),
    ("[[0] * 9999, [0] * 9999, [0] * 9999, [0] * 9999, [0] * 9999, [0] * 9999]", TOO_LARGE),
    ("[description] * 3", TOO_LARGE),
    ("[huge] * huge", TOO_LARGE),
    ("huge * 'a'", TOO_LARGE),
    ("[[0] * 9999] * 9999 == [[0] * 9999] * 9999", TOO_LARGE),
    ("len([items] * 2)", TOO_LARGE),
    # values each under MAX_SIZE, many of them: bounded by MAX_MADE
    ("['a' * 49999, 'a' * 49999, 'a' * 49999, 'a' * 49999, 'a' * 49999]", TOO_MUCH),
    ("['\U0010ffff' * 49999, ['\U0010ffff' * 49999, ['\U0010ffff' * 49999, "
     "['\U0010ffff' * 49999, ['\U0010ffff' * 49999]]]]]", TOO_MUCH),
    (" + ".join(["len('a' * 49999)"] * 5), TOO_MUCH),
    (" + ".join(["len(items + [])"] * 8), TOO_MUCH),
    # concatenation growing over several operations
    ("description + description + description", TOO_LARGE),
    ("(description + description) + (description + description)", TOO_LARGE),
    ("[description] + [description] + [description]", TOO_LARGE),
    ("items + items", TOO_LARGE),
    ("many + []", TOO_LARGE),
    ("'a' * 40000 + 'a' * 40000", TOO_LARGE),
    ("(description,) + (description,) + (description,)", TOO_LARGE),
    # slicing a large value makes a large value
    ("many[::1]", TOO_LARGE),
    ("many[-60000:]", TOO_LARGE),
    # integers: literals, conversions, arithmetic, rounding
    ("1" + "0" * 40, NUMBER),
    ("int('9' * 40) * int('9' * 40)", NUMBER),
    ("100000000000000000000 * 100000000000000000000", NUMBER),
    ("int('9' * 4000)", "at most 100 characters"),
    ("int('1' * 101)", "at most 100 characters"),
    ("float('1' * 4000)", "at most 100 characters"),
    ("int(description)", "at most 100 characters"),
    ("int('f' * 99, 16)", NUMBER),
    ("round(5, -1000000000)", "round() keeps at most 40 digits"),
    ("round(5, 1000000000)", "round() keeps at most 40 digits"),
    ("round(2.5, -1000000000)", "round() keeps at most 40 digits"),
    ("round(1e300)", NUMBER),
    ("round(huge, -40)", NUMBER),
    ("int(1e300)", NUMBER),
    ("-huge", NUMBER),
    ("huge + 1", NUMBER),
    ("huge // 1", NUMBER),
    ("abs(huge)", NUMBER),
    ("max(huge, 1)", NUMBER),
    ("float(huge)", TOO_LARGE),
    ("2 ** 4000000", NOT_ALLOWED),
    ("1 << 100000", NOT_ALLOWED),
    ("~1", NOT_ALLOWED),
    ("5 ^ 3", NOT_ALLOWED),
    # floats stay finite
    ("1e308 * 10", NOT_FINITE),
    ("-1e308 - 1e308", NOT_FINITE),
    ("1 / 1e-320", NOT_FINITE),
    ("1e999", NOT_FINITE),
    ("float('inf')", NOT_FINITE),
    ("float('nan')", NOT_FINITE),
    ("1j", "only numbers, texts"),
    ("b'%d'", "only numbers, texts"),
    ("...", "only numbers, texts"),
    # str() of a container could write out every shared item again
    ("str([{1: 'a' * 9999}] * 9)", TOO_LARGE),
    ("str(items)", "str() converts"),
    ("str({1: 2})", "str() converts"),
    ("str(nested)", "str() converts"),
    ("{**nested}", "'**' is not allowed"),
    # what simpleeval would have let through, refused when parsed
    ("[x for x in items]", NOT_ALLOWED),
    ("f'{description:>999999999}'", NOT_ALLOWED),
    ("[*items, *items]", NOT_ALLOWED),
    ("min(items, key=len)", "keyword arguments"),
    ("list(items)", "may be called"),
    ("description.center(999999999)", "may be called"),
    ("(lambda: 1)()", "may be called"),
    ("lambda: 1", NOT_ALLOWED),
    # deep nesting: never a RecursionError, in parsing or evaluating
    (nest("-", "1", "", 498), DEEP),
    (nest("+", "1", "", 498), DEEP),
    (nest("not ", "1", "", 124), DEEP),
    (nest("[", "1", "]", 199), DEEP),
    (nest("[", "1", "]", 240), "too many nested parentheses"),
    (nest("{1: ", "1", "}", 60), DEEP),
    (nest("abs(", "1", ")", 60), DEEP),
    (nest("(1, ", "1", ")", 60), DEEP),
    (" + ".join(["1"] * 120), DEEP),
    (" + ".join(["description"] * 35), TOO_LARGE),
]


def _measured(expression, data):
    """The error an evaluation raised (or None) and the peak bytes it allocated."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        evaluate(expression, data)
    except ExpressionError as exc:
        return exc, tracemalloc.get_traced_memory()[1]
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return None, peak


@pytest.mark.parametrize(("expression", "reason"), ATTACKS, ids=[a[0][:50] for a in ATTACKS])
def test_an_unbounded_expression_is_refused_with_little_memory(expression, reason):
    error, peak = _measured(expression, DATA)
    assert error is not None, f"{expression[:60]!r} was evaluated"
    assert reason in error.reason, error.reason
    assert peak < PEAK_LIMIT, f"{peak} bytes allocated"


@pytest.mark.parametrize("expression", [a[0] for a in ATTACKS if a[1] in (DEEP, NOT_ALLOWED)],
                         ids=lambda e: e[:50])
def test_a_refused_text_is_refused_when_parsed(expression):
    """Diagram validation (parse_expression) reports these before the diagram is deployed."""
    with pytest.raises(ExpressionError):
        parse_expression(expression)


LEGITIMATE = [
    ("decision == 'authorize' and priority in ['high', 'urgent']", True),
    ("requester_is_head == True", False),
    ("decision == 'return'", False),
    ("estimated_cost > 1000 and hours >= 8", True),
    ("1 < hours < 10", True),
    ("hours if hours else 0", 9),
    ("'long' if hours > 10 else 'short'", "short"),
    ("not nothing", True),
    ("nothing is None", True),
    ("'PT48H'", "PT48H"),
    ("auto_close_after", "P7D"),
    ("len(description) > 100 and 'urgent' in description", False),
    ("'xxx' in description", True),
    ("description[:5]", "xxxxx"),
    ("len(subject + ': ' + description)", 20_022),
    ("len(description + description)", 40_000),
    ("len(many) + len(items)", 130_000),
    ("many[99999]", 99_999),
    ("len(many[:100])", 100),
    ("nested['unit']['people'][1]", "luis"),
    ("'ana' in nested['unit']['people']", True),
    ("huge > 5", True),
    ("[0] * 3", [0, 0, 0]),
    ("'-' * 5", "-----"),
    ("[] * 999999999", []),
    ("'a' * -3", ""),
    ("len('a' * 50000)", MAX_SIZE),
    ("len([0] * 49999)", 49_999),
    ("7 % 3", 1),
    ("7.5 % 2", 1.5),
    ("round(2.567, 2)", 2.57),
    ("round(1234, -2)", 1200),
    ("round(5, -40)", 0),
    ("int(' 42 ')", 42),
    ("int('ff', 16)", 255),
    ("float('3.5')", 3.5),
    ("str(42) + 'h'", "42h"),
    ("str(None)", "None"),
    ("str(estimated_cost)", "1200.5"),
    ("min(hours, 8)", 8),
    ("max([1, 5, 3])", 5),
    ("min(description)", "x"),
    ("abs(-3)", 3),
    ("bool(0)", False),
    ("{1, 2} - {1}", {2}),
    ("{'a': 1}['a']", 1),
    ("(1, 2)[1]", 2),
    ("170141183460469231731687303715884105727 + 1", 2**127),
    ("1e308 + 1", 1e308),
    ("7 / 2", 3.5),
    ("-7 // 2", -4),
]


@pytest.mark.parametrize(("expression", "expected"), LEGITIMATE, ids=[e for e, _ in LEGITIMATE])
def test_a_legitimate_expression_still_works(expression, expected):
    data = {**DATA, "requester_is_head": False}
    assert evaluate(expression, data) == expected


def test_the_bounds_are_exact():
    assert len(evaluate(f"'a' * {MAX_SIZE}", {})) == MAX_SIZE
    with pytest.raises(ExpressionError, match=TOO_LARGE):
        evaluate(f"'a' * {MAX_SIZE + 1}", {})
    assert evaluate("340282366920938463463374607431768211455", {}) == 2**128 - 1
    with pytest.raises(ExpressionError, match=NUMBER):
        evaluate("340282366920938463463374607431768211455 + 1", {})
    def made(values):  # each len() and + makes a number too, which counts 1
        return " + ".join([f"len('a' * {MAX_SIZE})"] * values)

    assert evaluate(made(MAX_MADE // MAX_SIZE - 1), {}) == MAX_MADE - MAX_SIZE
    with pytest.raises(ExpressionError, match=TOO_MUCH):
        evaluate(made(MAX_MADE // MAX_SIZE), {})


def test_errors_are_expression_errors_with_the_reason():
    for expression, data in (("missing > 1", {}), ("1 / 0", {}), ("items[5]", {"items": []}),
                             ("'a' + 1", {}), ("len(5)", {})):
        with pytest.raises(ExpressionError) as info:
            evaluate(expression, data)
        assert info.value.expression == expression
        assert info.value.reason


@pytest.mark.parametrize(("value", "size"), [
    (5, 1), (None, 1), ("", 1), ("abc", 3), ([], 1), ([1, 2.5, None], 4), (["ab", ""], 4),
    ((1, (2, "xyz")), 7), ({1: "ab"}, 4), ({(1, 2)}, 4), ([[1] * 3] * 2, 9),
    ([{"a": [1, "xyz"]}], 8),
])
def test_the_size_counts_every_item_and_character(value, size):
    assert size_of(value) == size


def test_the_size_of_a_huge_shared_structure_is_counted_quickly():
    shared = [[[0] * 1000] * 1000] * 1000  # a billion items, a few KB of memory
    assert MAX_SIZE < size_of(shared) < 3 * MAX_SIZE


def test_depth_is_bounded_not_the_stack():
    assert evaluate(nest("-", "1", "", MAX_DEPTH - 4), {}) == 1
    assert evaluate(nest("[", "1", "]", MAX_DEPTH // 2 - 2), {})
    assert evaluate(nest("(", "1", ")", 199), {}) == 1  # parentheses are not nodes
    assert evaluate("1" + " if 1 else 1" * 40, {}) == 1  # as deep as 500 characters go


def test_checked_trees_kept_for_reuse_are_bounded_in_memory():
    # Each text parses to a tree of ~250 nodes (~90 KB): 1200 of them would keep ~100 MB.
    texts = ["[" + ",".join([str(i)] * 99)[:497] + "]" for i in range(100_000, 101_200)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for text in texts:
            parse_expression(text)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < MAX_CACHED_NODES * 500, f"{kept} bytes kept"
    assert parse_expression(texts[-1]) is parse_expression(texts[-1])


# -- from the mutation run ---------------------------------------------------------------------

def test_long_data_values_are_not_joined_before_the_size_is_checked():
    """Task data is not measured when read, so two long answers joined would be far above
    MAX_SIZE: their lengths are added up before anything is allocated."""
    data = {"text": "x" * 2_000_000, "list": [0] * 500_000}
    for expression in ("text + text", "list + list", "(text,) + (text,)"):
        error, peak = _measured(expression, data)
        assert error is not None and TOO_LARGE in error.reason, expression
        assert peak < PEAK_LIMIT, f"{expression}: {peak} bytes allocated"


def test_the_limits_of_conversion_and_rounding_are_inclusive():
    assert evaluate("int('" + " " * 98 + "42')", {}) == 42           # 100 characters
    assert evaluate("float('" + "0" * 97 + "1.5')", {}) == 1.5
    with pytest.raises(ExpressionError, match="at most 100 characters"):
        evaluate("int('" + " " * 99 + "42')", {})
    assert evaluate("round(1.5, 40)", {}) == 1.5
    assert evaluate("round(15, -40)", {}) == 0
    with pytest.raises(ExpressionError, match="round\\(\\) keeps at most 40 digits"):
        evaluate("round(1.5, 41)", {})


def test_functions_called_without_a_value_answer_as_python_does():
    assert [evaluate(f"{name}()", {}) for name in ("str", "int", "float")] == ["", 0, 0.0]
    assert type(evaluate("float()", {})) is float


def test_a_missing_name_is_named():
    with pytest.raises(ExpressionError) as info:
        evaluate("cost > 1000 and decision == 'approve'", {"decision": "approve"})
    assert info.value.reason == "name 'cost' is not defined"


@pytest.mark.parametrize("expression,message", [
    ('"a" + 1', "can only concatenate str"),
    ("x + 1", "can only concatenate str"),
    ("[1] + None", "can only concatenate list"),
    ("(1,) + 2", "can only concatenate tuple"),
    ('1 + "a"', "unsupported operand"),
    ("None + x", "unsupported operand"),
])
def test_adding_a_sequence_to_something_else_says_what_was_added(expression, message):
    """The owner reads this message in the incident: it names the operation, not a detail of
    the size check (which only measures two sequences)."""
    with pytest.raises(ExpressionError, match=message):
        evaluate(expression, {"x": "t"})
