"""The one sandbox tenant-written text is rendered in: notification templates, and canned
replies (``app.conversation.canned``, with its own list of variables).

Two fences. First, a template may only use what a message needs: the listed variables (plain
strings, never a model), text, ``{% if %}`` with comparisons, ``and``/``or``/``not``, ``~``
and a few filters that cannot grow their input (``upper``, ``truncate``...). No loops, calls,
attributes, items, arithmetic, assignments, macros or includes: ``{{ ''.__class__ }}``, ``{{
comment * 100000 }}`` or ``{% for %}`` are refused when the template is saved and again when it
is rendered. So rendering costs one pass over the template, and what comes out is at most the
template's size times the longest variable. Second, what is left renders in Jinja's immutable
sandbox, with autoescape for HTML.
"""

from functools import lru_cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

VARIABLES = (
    "recipient_name", "tenant_name", "event", "request_number", "request_title",
    "request_status", "ticket_number", "step", "actor_name", "worker_name", "comment", "link",
    "preferences_link", "sla_target", "sla_due",
    # the confirmation's link to rate without logging in (app.survey); empty when none
    "survey_link",
    # a monthly summary of the indicators (app.indicators.monthly)
    "summary_period", "summary_scope", "filed", "completed", "backlog", "on_time",
    "sla_decision", "sla_start", "sla_resolution", "mean_rating",
    # a security incident's alert (app.checklists.alerts): low, medium, high, critical
    "severity",
)
FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "truncate", "default",
                     "d", "e", "escape", "striptags"})
TESTS = frozenset({"defined", "undefined", "none"})
ALLOWED = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const,
           nodes.If, nodes.CondExpr, nodes.Filter, nodes.Test, nodes.Compare, nodes.Operand,
           nodes.And, nodes.Or, nodes.Not, nodes.Concat)
MAX_SOURCE = 8000     # characters of one template
MAX_VALUE = 2000      # characters of one variable's value
MAX_OUTPUT = 40000    # characters of what one template renders


class TemplateRefused(ValueError):
    """The template may not be used; ``str()`` says why, for the person who wrote it."""


def _env(html: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(autoescape=html, auto_reload=False)
    env.filters = {name: env.filters[name] for name in FILTERS}
    env.tests = {name: env.tests[name] for name in TESTS}
    env.globals = {}
    return env


_ENVS = {False: _env(False), True: _env(True)}


def check(source: str, names: tuple[str, ...] = VARIABLES) -> None:
    """Raise TemplateRefused unless ``source`` keeps to what a message template may use
    (``names``: the variables it may show; a notification's unless told otherwise)."""
    if len(source) > MAX_SOURCE:
        raise TemplateRefused(_("The template is longer than %(n)s characters.", n=MAX_SOURCE))
    try:
        tree = _ENVS[False].parse(source)
    except (RecursionError, ValueError, MemoryError):  # nested too deep, a number too long
        raise TemplateRefused(_("The template is too complex.")) from None
    except TemplateSyntaxError as exc:
        raise TemplateRefused(_(
            "Line %(line)s is not well written: check that each {{ … }} is closed and each "
            "{%% if … %%} has its {%% endif %%}.", line=exc.lineno)) from None
    _check_shape(tree)
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, ALLOWED):
            raise TemplateRefused(_("%(what)s is not allowed in a message template.",
                                    what=_what(node)))
        if isinstance(node, nodes.Name) and node.name not in names:
            raise TemplateRefused(_("Unknown variable '%(name)s'. Available: %(names)s.",
                                    name=node.name, names=", ".join(names)))
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
            raise TemplateRefused(_("The filter '%(name)s' is not allowed. Available: "
                                    "%(names)s.", name=node.name,
                                    names=", ".join(sorted(FILTERS))))
        if isinstance(node, nodes.Test) and node.name not in TESTS:
            raise TemplateRefused(_("The test '%(name)s' is not allowed.", name=node.name))
        if isinstance(node, nodes.Const) and isinstance(node.value, str) \
                and len(node.value) > MAX_VALUE:
            raise TemplateRefused(_("A quoted text in the template is too long."))


MAX_NAMES = 60       # values a template may show: its output stays within that many of them
MAX_DEPTH = 24       # nested ifs and expressions
MAX_CONCAT = 10      # operands of one ~ chain


def _check_shape(tree) -> None:
    """What keeps one render cheap whatever the template: few values, shallow nesting, and
    filters only on a value (a filter over a long concatenation would copy it again)."""
    names = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TemplateRefused(_("The template is too complex."))
        if isinstance(node, nodes.Name):
            names += 1
        if isinstance(node, nodes.Concat) and len(node.nodes) > MAX_CONCAT:
            raise TemplateRefused(_("At most %(n)s values joined with ~.", n=MAX_CONCAT))
        if isinstance(node, nodes.Filter) and node.node is not None and not isinstance(
                node.node, nodes.Name | nodes.Const | nodes.Filter):
            raise TemplateRefused(_("A filter applies to one value, such as "
                                    "{{ request_title|upper }}."))
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    if names > MAX_NAMES:
        raise TemplateRefused(_("A template may show at most %(n)s values.", n=MAX_NAMES))


def _what(node: nodes.Node) -> str:
    names = {
        nodes.Getattr: _l("Reading an attribute (a.b)"),
        nodes.Getitem: _l("Reading an item (a[b])"),
        nodes.Call: _l("Calling a function"), nodes.For: _l("A loop ({% for %})"),
        nodes.Assign: _l("An assignment ({% set %})"), nodes.Macro: _l("A macro"),
        nodes.Include: _l("An include"), nodes.Import: _l("An import"),
        nodes.Extends: _l("Extending another template"),
    }
    for kind, label in names.items():
        if isinstance(node, kind):
            return str(label)
    if isinstance(node, nodes.BinExpr | nodes.UnaryExpr):
        return str(_l("Arithmetic"))
    return f"'{type(node).__name__}'"


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool, names: tuple[str, ...]):
    check(source, names)
    return _ENVS[html].from_string(source)


def render(source: str, variables: dict, html: bool = False,
           names: tuple[str, ...] = VARIABLES) -> str:
    """``source`` rendered with ``variables`` (unknown names render empty); raises
    TemplateRefused for a template that may not be used. ``names``: the variables it may
    show (a notification's unless told otherwise)."""
    values = {name: str(variables.get(name) or "")[:MAX_VALUE] for name in names}
    try:
        out = _compiled(source, html, names).render(values)
    except SecurityError as exc:  # the first fence should make this unreachable
        raise TemplateRefused(str(exc)) from None
    return out[:MAX_OUTPUT]
