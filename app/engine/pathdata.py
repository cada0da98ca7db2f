"""What data each step of a diagram sees at run time, found by walking sample data along it.

Deploy cannot run a diagram, but it can walk it. The host says what task data a request starts
with and what each kind of step writes, as a few *samples* (an authorization writes
``decision`` = 'authorize' or 'reject'; a form writes each of its fields, unanswered ones as
None). From the start samples, each step adds what it writes, each gateway sends a sample only
along the flows whose conditions hold for it (so a branch sees only the data that leads there),
and every expression the engine will evaluate (conditions, timers, service parameters,
multi-instance counts) is evaluated on every sample that reaches it. An expression that reads a
name not set on some path, or fails on some sample (a division by zero, ``None > 8``), a timer
value out of bounds, or a gateway no flow leaves for some sample, is reported with that sample:
the same failure would stop a request at run time.

The walk is bounded: at most MAX_SAMPLES samples reach each step, so its cost grows with the
size of the diagram, not with its number of paths. It finds what the samples reach; what they
do not is left to the run-time incident (``services.incidents``).
"""

import ast
import hashlib
import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from app.engine import timers
from app.engine.expressions import ExpressionError, evaluate, parse_expression
from app.engine.forms import FORM_KIND, FieldSpec, FormSpec
from app.engine.xml import BPMN_NS, SPIFF_NS

B = f"{{{BPMN_NS}}}"
S = f"{{{SPIFF_NS}}}"
MAX_SAMPLES = 16            # samples kept per step
MAX_FORM_SAMPLES = 6        # samples a form's answers are spread over
MAX_PROBLEMS_PER_ELEMENT = 2
MAX_INSTANCES = 100         # engine.runner.MAX_INSTANCES, repeated to keep this module pure
MAX_CELLS = 1_000_000       # values the walk may copy into samples, in all
_EXPRESSION_TAGS = {"conditionExpression", "timeDuration", "timeDate", "timeCycle",
                    "loopCardinality", "completionCondition"}
_TIMER_TAGS = {"timeDuration": "duration", "timeDate": "date", "timeCycle": "cycle"}
_SCOPES = {"subProcess", "transaction", "adHocSubProcess"}
_FLOW_NODES = {"task", "userTask", "serviceTask", "scriptTask", "manualTask", "sendTask",
               "receiveTask", "businessRuleTask", "callActivity", "exclusiveGateway",
               "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
               "startEvent", "intermediateCatchEvent", "intermediateThrowEvent", "endEvent",
               "boundaryEvent"} | _SCOPES


@dataclass(frozen=True)
class HostData:
    """What the host writes into task data, as samples: what a request starts with, what
    each user-task handler may write, and what each service operation may return."""

    start: tuple[dict, ...]
    handlers: dict[str, tuple[dict, ...]] = field(default_factory=dict)
    operations: dict[str, tuple] = field(default_factory=dict)


@dataclass(frozen=True)
class _Sample:
    data: dict                 # only the names some expression of the diagram reads
    via: tuple[str, ...] = ()  # the steps that wrote into it, most recent last
    key: str = ""              # the same for samples made the same way (to drop repeats)

    def written(self, values: dict, step: str, walk: "_Walk") -> "_Sample":
        values = {k: v for k, v in values.items() if k in walk.read}
        via = self.via if step in self.via[-1:] else (*self.via, step)[-4:]
        if not values:
            return _Sample(self.data, via, self.key)
        walk.spend(len(self.data) + len(values))
        key = hashlib.blake2b(f"{self.key}|{_encoded(values)}".encode(),
                              digest_size=12).hexdigest()
        return _Sample({**self.data, **values}, via, key)


def _encoded(values: dict) -> str:
    return json.dumps(values, sort_keys=True, default=str)


_FAILED = object()


def _local(el) -> str:
    return el.tag[len(B):] if isinstance(el.tag, str) and el.tag.startswith(B) else ""


def _field_values(spec: FieldSpec) -> list:
    """Values a form field's answer may take, as the form handler writes them."""
    values: list = []
    if spec.type == "choice":
        values = [o.value for o in spec.options]
    elif spec.type == "boolean":
        values = [True, False]
    elif spec.type == "number":
        low = spec.minimum if spec.minimum is not None else Decimal(-1)
        high = spec.maximum if spec.maximum is not None else Decimal(10**6)
        values = [v for v in dict.fromkeys((low, Decimal(0), Decimal(1), high)) if low <= v <= high]
        values = [int(v) if v == v.to_integral_value() else float(v) for v in values]
    elif spec.type == "date":
        low = spec.minimum or date.today()
        high = spec.maximum or low + timedelta(days=30)
        values = [low.isoformat(), high.isoformat()]
    else:  # text, longtext
        values = ["x" * max(spec.min_length or 1, 1)]
        if not spec.required and not spec.min_length:
            values.append("")
    if not spec.required:
        values.append(None)
    return values or [None]


def form_samples(form: FormSpec) -> tuple[dict, ...]:
    """A few complete answers to ``form`` that, together, give each field each of its values
    (not every combination: that would grow with the product of the fields' options)."""
    columns = {spec.name: _field_values(spec) for spec in form.fields}
    count = min(max((len(v) for v in columns.values()), default=1), MAX_FORM_SAMPLES)
    return tuple({name: values[i % len(values)] for name, values in columns.items()}
                 for i in range(count))


def _read_names(tree: ast.Expression) -> set[str]:
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and id(node) not in called}


def _shown(sample: _Sample, names) -> str:
    shown = ", ".join(f"{name} = {sample.data[name]!r}"[:80] for name in sorted(names)
                      if name in sample.data)
    return shown or "the data it has"


class _Exhausted(Exception):
    """The walk has built as much sample data as it may (MAX_CELLS)."""


class _Problems:
    def __init__(self):
        self.items: list[tuple[str | None, str]] = []
        self._seen: set = set()
        self._per_element: dict = {}

    def add(self, element_id, message) -> None:
        if (element_id, message) in self._seen:
            return
        if self._per_element.get(element_id, 0) >= MAX_PROBLEMS_PER_ELEMENT:
            return
        self._seen.add((element_id, message))
        self._per_element[element_id] = self._per_element.get(element_id, 0) + 1
        self.items.append((element_id, message))


class _Walk:
    """The samples reaching each step of one scope (a process or a subprocess)."""

    def __init__(self, scope, host: HostData, forms: dict, problems: _Problems,
                 read: frozenset, cells: list[int]):
        self.host, self.forms, self.problems = host, forms, problems
        self.read = read    # names any expression of the diagram reads: all a sample keeps
        self.cells = cells  # [values the walk may still copy], shared with inner walks
        self.nodes = {el.get("id"): el for el in scope if _local(el) in _FLOW_NODES}
        self.outgoing: dict[str, list] = {}
        incoming: dict[str, list] = {}
        for flow in scope.findall(f"{B}sequenceFlow"):
            self.outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
            incoming.setdefault(flow.get("targetRef"), []).append(flow.get("id"))
        self.boundaries: dict[str, list[str]] = {}
        for node_id, el in self.nodes.items():
            if _local(el) == "boundaryEvent":
                self.boundaries.setdefault(el.get("attachedToRef"), []).append(node_id)
        self.joins = {node_id: incoming[node_id] for node_id, el in self.nodes.items()
                      if _local(el) == "parallelGateway" and len(incoming.get(node_id, ())) > 1}
        self.join_inputs: dict[str, dict[str, dict]] = {j: {} for j in self.joins}
        self.seen: dict[str, dict[str, _Sample]] = {}
        self.ends: dict[str, _Sample] = {}
        self.inner: dict[str, _Walk] = {}
        self.queue: deque = deque()

    def spend(self, cells: int) -> None:
        self.cells[0] -= cells
        if self.cells[0] < 0:
            raise _Exhausted

    # -- moving samples ---------------------------------------------------------------------

    def start(self, samples) -> list[_Sample]:
        """Walk ``samples`` in from every start event; returns the new samples at the ends."""
        before = set(self.ends)
        for node_id, el in self.nodes.items():
            if _local(el) == "startEvent":
                self._arrive(node_id, samples)
        while self.queue:
            node_id, batch = self.queue.popleft()
            self._visit(node_id, batch)
        return [sample for key, sample in self.ends.items() if key not in before]

    def _arrive(self, node_id, samples, flow_id=None) -> None:
        if node_id not in self.nodes:
            return
        if node_id in self.joins:
            samples = self._joined(node_id, flow_id, samples)
        seen = self.seen.setdefault(node_id, {})
        new = []
        for sample in samples:
            if len(seen) >= MAX_SAMPLES:
                break
            if sample.key not in seen:
                seen[sample.key] = sample
                new.append(sample)
        if new:
            self.queue.append((node_id, new))

    def _joined(self, node_id, flow_id, samples) -> list[_Sample]:
        """A parallel join goes on with the data of every branch merged, once each branch has
        brought some."""
        inputs = self.join_inputs[node_id]
        branch = inputs.setdefault(flow_id, {})
        for sample in samples:
            if len(branch) < MAX_SAMPLES:
                branch.setdefault(sample.key, sample)
        if any(not inputs.get(f) for f in self.joins[node_id]):
            return []
        merged = []
        for combo in itertools.islice(
                itertools.product(*(list(inputs[f].values()) for f in self.joins[node_id])),
                MAX_SAMPLES * 4):
            data, via = {}, ()
            for part in combo:
                data.update(part.data)
                via = (*via, *part.via)[-4:]
            self.spend(len(data))
            merged.append(_Sample(data, via, hashlib.blake2b(
                "|".join(part.key for part in combo).encode(), digest_size=12).hexdigest()))
        return merged

    def _send(self, source_id, samples) -> None:
        for flow in self.outgoing.get(source_id, ()):
            condition = _text(flow.find(f"{B}conditionExpression"))
            passing = samples
            if condition and _local(self.nodes[source_id]) not in (
                    "exclusiveGateway", "inclusiveGateway"):
                passing = [s for s in samples
                           if self._value(condition, s, flow.get("id"), "condition")
                           not in (_FAILED, False, None, 0, "")]
            self._arrive(flow.get("targetRef"), passing, flow.get("id"))

    # -- steps ------------------------------------------------------------------------------

    def _visit(self, node_id, samples) -> None:
        el = self.nodes[node_id]
        kind = _local(el)
        for boundary in self.boundaries.get(node_id, ()):
            self._arrive(boundary, samples)  # fires while the step waits: the data before it
        self._check_events(el, samples)
        if kind == "userTask":
            self._check_loop(el, samples)
            samples = self._written(samples, self._user_task_writes(el), node_id)
        elif kind == "serviceTask":
            samples = self._service(el, samples)
        elif kind in _SCOPES:
            walk = self.inner.get(node_id)
            if walk is None:
                walk = self.inner[node_id] = _Walk(el, self.host, self.forms, self.problems,
                                                   self.read, self.cells)
            samples = walk.start(samples)
        elif kind == "endEvent":
            for sample in samples:
                if len(self.ends) < MAX_SAMPLES:
                    self.ends.setdefault(sample.key, sample)
            return
        if kind in ("exclusiveGateway", "inclusiveGateway"):
            self._route(el, samples)
        else:
            self._send(node_id, samples)

    def _written(self, samples, writes, step) -> list[_Sample]:
        out = []
        for sample, values in itertools.product(samples, writes):
            out.append(sample.written(values, step, self))
            if len(out) >= MAX_SAMPLES * 2:
                break
        return out

    def _user_task_writes(self, el) -> tuple[dict, ...]:
        names = _handler_names(el)
        writes: list[dict] = []
        if FORM_KIND in names or (not names and el.get("id") in self.forms):
            form = self.forms.get(el.get("id"))
            writes.extend(form_samples(form) if form else ({},))
        for name in names:
            writes.extend(self.host.handlers.get(name, ({},)))
        # Handlers that write nothing still let the data through.
        return tuple({json.dumps(w, sort_keys=True, default=str): w
                      for w in writes}.values()) or ({},)

    def _service(self, el, samples) -> list[_Sample]:
        operator = el.find(f"{B}extensionElements/{S}serviceTaskOperator")
        if operator is None:
            return samples
        for param in operator.iter(f"{S}parameter"):
            expression = (param.get("value") or "").strip()
            if expression:
                for sample in samples:
                    self._value(expression, sample, el.get("id"),
                                f"parameter '{param.get('id')}'")
        result = operator.get("resultVariable")
        if not result:
            return samples
        values = self.host.operations.get(operator.get("id"), (None,))
        return self._written(samples, tuple({result: v} for v in values), el.get("id"))

    def _check_events(self, el, samples) -> None:
        for definition in el.findall(f"{B}timerEventDefinition"):
            for child in definition:
                kind = _TIMER_TAGS.get(_local(child))
                expression = _text(child)
                if kind is None or not expression:
                    continue
                for sample in samples:
                    value = self._value(expression, sample, el.get("id"), "timer")
                    if value is _FAILED:
                        continue
                    try:
                        timers.check(kind, value)
                    except timers.TimerValueError as exc:
                        self.problems.add(el.get("id"), f"timer: {exc} (when "
                                          f"{_shown(sample, _names_of(expression))})")

    def _check_loop(self, el, samples) -> None:
        loop = el.find(f"{B}multiInstanceLoopCharacteristics")
        expression = _text(loop.find(f"{B}loopCardinality")) if loop is not None else None
        if not expression:
            return
        for sample in samples:
            value = self._value(expression, sample, el.get("id"), "multi-instance expression")
            if value is not _FAILED and not (isinstance(value, int)
                                             and not isinstance(value, bool)
                                             and 0 <= value <= MAX_INSTANCES):
                self.problems.add(el.get("id"), "multi-instance expression: the number of "
                                  f"instances must be a whole number from 0 to {MAX_INSTANCES}"
                                  f" (it is {str(value)[:30]!r} when "
                                  f"{_shown(sample, _names_of(expression))})")

    def _route(self, gateway, samples) -> None:
        """Each sample goes along the first flow whose condition holds (exclusive) or every
        one (inclusive); else along the default flow."""
        gateway_id = gateway.get("id")
        default = gateway.get("default")
        flows = [f for f in self.outgoing.get(gateway_id, ()) if f.get("id") != default]
        by_flow: dict[str, list] = {}
        inclusive = _local(gateway) == "inclusiveGateway"
        for sample in samples:
            taken = []
            for flow in flows:
                condition = _text(flow.find(f"{B}conditionExpression"))
                if not condition:
                    taken.append(flow)  # only the engine's own check refuses this (reported)
                elif self._value(condition, sample, flow.get("id"), "condition") not in (
                        _FAILED, False, None, 0, ""):
                    taken.append(flow)
                if taken and not inclusive:
                    break
            if not taken and default:
                taken = [f for f in self.outgoing.get(gateway_id, ()) if f.get("id") == default]
            if not taken and flows:
                read = set().union(*(_names_of(_text(f.find(f"{B}conditionExpression")))
                                     for f in flows))
                self.problems.add(gateway_id, "no outgoing flow's condition holds when "
                                  f"{_shown(sample, read)}, and the gateway has no default "
                                  "flow")
            for flow in taken:
                by_flow.setdefault(flow.get("id"), []).append(sample)
        for flow in self.outgoing.get(gateway_id, ()):
            if flow.get("id") in by_flow:
                self._arrive(flow.get("targetRef"), by_flow[flow.get("id")], flow.get("id"))

    # -- expressions ------------------------------------------------------------------------

    def _value(self, expression, sample: _Sample, element_id, what):
        """The expression's value on ``sample``, or _FAILED (the problem is recorded)."""
        try:
            tree = parse_expression(expression)
        except ExpressionError:
            return _FAILED  # reported by the expression check
        missing = sorted(_read_names(tree) - set(sample.data))
        if missing:
            path = (" on the path through " + ", ".join(sample.via)) if sample.via else (
                " when the request is filed")
            names = ", ".join(f"'{n}'" for n in missing)
            self.problems.add(element_id, f"{what}: {names} {'is' if len(missing) == 1 else 'are'}"
                              f" not set{path}")
            return _FAILED
        try:
            return evaluate(expression, sample.data)
        except ExpressionError as exc:
            self.problems.add(element_id, f"{what} fails when "
                              f"{_shown(sample, _read_names(tree))}: {exc.reason}")
            return _FAILED


def _text(el) -> str | None:
    if el is None:
        return None
    return (el.text or "").strip() or None


def _names_of(expression: str | None) -> set[str]:
    if not expression:
        return set()
    try:
        return _read_names(parse_expression(expression))
    except ExpressionError:
        return set()


def _handler_names(task) -> list[str]:
    for prop in task.iter(f"{S}property"):
        if prop.get("name") == "handlers":
            return [h.strip() for h in (prop.get("value") or "").split(",") if h.strip()]
    return []


def read_names(root) -> frozenset:
    """Every name the diagram's expressions read (conditions, timers, service parameters,
    multi-instance counts)."""
    return _all_read_names(root)


def _all_read_names(root) -> frozenset:
    texts = [el.text for el in root.iter() if isinstance(el.tag, str) and el.tag.startswith(B)
             and _local(el) in _EXPRESSION_TAGS]
    texts += [p.get("value") for p in root.iter(f"{S}parameter")]
    return frozenset().union(*(_names_of((t or "").strip()) for t in texts))


def check(root, host: HostData, forms: dict[str, FormSpec]) -> list[tuple[str | None, str]]:
    """Problems found by walking ``host``'s sample data through every process of ``root``
    (a diagram that passed the structural checks). The walk stops quietly after copying
    MAX_CELLS values: what it has not reached is left to the run-time incident."""
    problems = _Problems()
    read = _all_read_names(root)
    cells = [MAX_CELLS]
    # Start samples that differ only in names nothing reads are one sample (the host may
    # give many: one per category field's answer, say).
    kept = ({k: v for k, v in data.items() if k in read} for data in host.start)
    samples = [_Sample(data, (), _encoded(data)) for data in kept] or [_Sample({})]
    try:
        for process in root.iter(f"{B}process"):
            _Walk(process, host, forms, problems, read, cells).start(samples)
    except _Exhausted:
        pass
    return problems.items
