"""Tenant administration: a company runs itself (people, units, categories, settings, CSV
import, and the audit of every administrative change).

- ``models``: the audit entries; ``audit``: recording them;
- ``people``, ``units``, ``categories``, ``settings``, ``importing``: the rules of each;
- ``views`` (pages under /admin) and ``api`` (/api/v1/admin/...), scoped by ``app.policy``.
"""


def init_app(app) -> None:
    pass


def init_api(api) -> None:
    pass
