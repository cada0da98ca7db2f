"""What a diagram's expressions may read: names in task data and, where known, their values.

The host (the service desk) writes some names itself (who filed, the decisions its forms
record...); a diagram adds its own forms' fields and its service tasks' result variables. An
expression naming anything else would fail, or silently take a default flow, at run time, so
validation refuses it with a suggestion ("did you mean 'decision'?").
"""

import ast
import difflib
from dataclasses import dataclass
from functools import cached_property

ANY = None  # a name whose values are not a small known set


@dataclass(frozen=True)
class Vocabulary:
    """``values[name]`` is the tuple of values the name may take, or ANY."""

    values: dict

    @cached_property
    def text_values(self) -> frozenset:
        """Every known text value of any name (a bare word that is one was meant as text)."""
        return frozenset(v for vs in self.values.values() if vs is not ANY for v in vs
                         if isinstance(v, str))

    def extended(self, more: dict) -> "Vocabulary":
        merged = dict(self.values)
        for name, values in more.items():
            if name not in merged:
                merged[name] = values
            elif merged[name] is ANY or values is ANY:
                merged[name] = ANY
            else:
                merged[name] = tuple(dict.fromkeys((*merged[name], *values)))
        return Vocabulary(merged)


def diagram_names(forms: dict, result_variables: set[str]) -> dict:
    """The names a diagram itself puts in task data, with the values of choice and yes/no
    fields."""
    names = {name: ANY for name in result_variables}
    for form in forms.values():
        for field in form.fields:
            if field.type == "choice":
                names[field.name] = tuple(o.value for o in field.options) + (None,)
            elif field.type == "boolean":
                names[field.name] = (True, False, None)
            else:
                names[field.name] = ANY
    return names


def _shown(value) -> str:
    return repr(value)


def check_names(tree: ast.Expression, vocabulary: Vocabulary) -> list[str]:
    """Problems with the names ``tree`` reads and the literal values it compares them to."""
    problems = []
    known = vocabulary.values
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called and node.id not in known:
            problems.append(_unknown(node.id, vocabulary))
        elif isinstance(node, ast.Compare):
            problems.extend(_impossible_values(node, known))
    return problems


MAX_CANDIDATES = 40  # names compared with an unknown one for a "did you mean" hint


def _unknown(name: str, vocabulary: Vocabulary) -> str:
    if name in vocabulary.text_values:
        return f"unknown name '{name}': text goes in quotes, '{name}'"
    # Only names of about the same length can be close; comparing a few keeps the hint cheap
    # whatever the number of names a diagram defines (a typo seldom hits the first letter).
    candidates = [n for n in vocabulary.values
                  if abs(len(n) - len(name)) <= 3 and n[:1] == name[:1]][:MAX_CANDIDATES]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    if close:
        hint = f"; did you mean '{close[0]}'?"
    elif len(vocabulary.values) <= 30:
        hint = "; the data it can read: " + ", ".join(sorted(vocabulary.values))
    else:
        hint = ""
    return f"unknown name '{name}'{hint}"


def _impossible_values(node: ast.Compare, known: dict) -> list[str]:
    """``decision == 'autorizada'``: a value the name never takes makes the flow dead."""
    operands = [node.left, *node.comparators]
    problems = []
    for (left, right), op in zip(zip(operands, operands[1:], strict=False), node.ops,
                                 strict=False):
        if not isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
            continue
        for name_node, other in ((left, right), (right, left)):
            if not isinstance(name_node, ast.Name) or known.get(name_node.id, ANY) is ANY:
                continue
            allowed = known[name_node.id]
            literals = ([other.value] if isinstance(other, ast.Constant)
                        else [e.value for e in getattr(other, "elts", [])
                              if isinstance(e, ast.Constant)])
            for value in literals:
                if value not in allowed:
                    choices = ", ".join(_shown(v) for v in allowed if v is not None)
                    problems.append(f"'{name_node.id}' is never {_shown(value)} "
                                    f"(its values: {choices})")
    return problems
