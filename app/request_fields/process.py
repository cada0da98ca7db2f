"""What a process may read of its requests' category fields, for checking a diagram before
it is deployed: the fields of the company's categories that follow the process join the data
vocabulary (``passengers`` is a known name; a choice field's values are its options) and the
sample data the deploy walk sends through the diagram (``engine.pathdata``).

A request starts with each field of its category (None when unanswered) and None for the
other categories' fields (``values.task_data``), so the samples are, per category, its
fields' sample answers (``pathdata.form_samples``) with None for every other field: a
condition that would fail on a request of another category (``passengers > 10`` when the
request has no passengers) is found at deploy, as an unanswered optional form field is.
"""

from dataclasses import replace

from sqlalchemy import select

from app.engine.pathdata import HostData, form_samples
from app.engine.vocabulary import Vocabulary, diagram_names
from app.extensions import db
from app.models import Category
from app.request_fields.specs import form_of


def forms_following(tenant_id: int, process_key: str) -> list:
    """The request templates of the company's categories that follow ``process_key``, as
    ``FormSpec``s (empty ones included: those requests have no fields)."""
    found = db.session.scalars(select(Category).where(
        Category.tenant_id == tenant_id, Category.process_key == process_key)
        .order_by(Category.id))
    return [form_of(category) for category in found]


def start_samples(base: tuple[dict, ...], forms: list) -> tuple[dict, ...]:
    """``base`` (what the host starts every request with) combined with each category's
    sample answers, every other category's fields None. Interleaved, so the first samples
    already cover every category and every base sample."""
    names = {f.name for form in forms for f in form.fields}
    if not names:
        return base
    answers = []
    for form in forms:
        for sample in form_samples(form) if form.fields else ({},):
            answers.append({**dict.fromkeys(names), **sample})
    count = max(len(base), len(answers))
    return tuple({**base[i % len(base)], **answers[i % len(answers)]} for i in range(count))


def extended(tenant_id: int, process_key: str, vocabulary: Vocabulary,
             host: HostData) -> tuple[Vocabulary, HostData]:
    """``vocabulary`` and ``host`` with the fields of the categories following the process."""
    forms = forms_following(tenant_id, process_key)
    names = diagram_names({form.task_id: form for form in forms}, set())
    if not names:
        return vocabulary, host
    return (vocabulary.extended(names),
            replace(host, start=start_samples(host.start, forms)))


def known_names(tenant_id: int, process_key: str) -> list[dict]:
    """The fields a process's conditions may read, for the modeler's "data you can use"."""
    seen: dict[str, dict] = {}
    for category in db.session.scalars(select(Category).where(
            Category.tenant_id == tenant_id, Category.process_key == process_key)
            .order_by(Category.name)):
        for spec in form_of(category).fields:
            entry = seen.setdefault(spec.name, {"name": spec.name, "label": spec.label,
                                                "type": spec.type, "categories": [],
                                                "values": []})
            entry["categories"].append(category.name)
            if spec.type == "choice":
                entry["values"] = list(dict.fromkeys(
                    [*entry["values"], *(repr(o.value) for o in spec.options)]))
            elif spec.type == "boolean":
                entry["values"] = ["True", "False"]
    return list(seen.values())
