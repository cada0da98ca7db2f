"""Which data names decide where a process goes right after a task.

A task's outcome is read by the gateways that follow it (through gateways that only merge or
split on further conditions): ``names_read_after(compiled, "Task_Confirm")`` is
``{"solved"}`` for the default diagram. A host uses it to offer an answer only where the
diagram can route it.
"""

import ast

from app.engine.expressions import ExpressionError, parse_expression

MAX_GATEWAYS = 20  # gateways followed in a row (a diagram chains a few at most)


def _is_gateway(spec) -> bool:
    return type(spec).__name__.endswith("Gateway")


def _condition_names(spec) -> set[str]:
    names = set()
    for condition, _target in getattr(spec, "cond_task_specs", ()) or ():
        text = (getattr(condition, "args", None) or ("",))[0] if condition is not None else ""
        if not isinstance(text, str) or not text.strip():
            continue
        try:
            tree = parse_expression(text.strip())
        except ExpressionError:
            continue
        names.update(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))
    return names


def names_read_after(compiled, task_id: str) -> frozenset[str]:
    """The names the conditions of the gateways right after ``task_id`` read (empty if the
    task is unknown or no gateway follows it)."""
    spec = compiled.spec.task_specs.get(task_id)
    if spec is None:
        return frozenset()
    names: set[str] = set()
    seen: set[str] = set()
    frontier = [o for o in spec.outputs if _is_gateway(o)]
    while frontier and len(seen) < MAX_GATEWAYS:
        gateway = frontier.pop()
        if gateway.name in seen:
            continue
        seen.add(gateway.name)
        names |= _condition_names(gateway)
        frontier.extend(o for o in gateway.outputs if _is_gateway(o))
    return frozenset(names)
