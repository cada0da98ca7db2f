"""Request templates per category: the extra fields a category asks for when a request is
filed (Transporte: origin, destination, date, passengers).

One field engine: the fields are the diagram forms' (``app.engine.forms.FieldSpec``), kept as
JSON on the category and read by the same parser; answers are checked by the same schema
(``app.handlers.form``) and kept on the request (``service_requests.fields``).

- ``specs``: a category's fields, and the tenant admin's edit checked;
- ``editor``: the admin page's rows <-> the JSON list;
- ``values``: answers checked when filing, kept, handed to the workflow (top-level names in
  its task data, so a gateway condition reads ``passengers > 10``);
- ``process``: the fields a process's diagram may read, for deploy checks and the modeler;
- ``display``: answers on the request page, in lists and in exports;
- ``api``: each category's fields and JSON schema (``/api/v1/categories/{id}/fields``).
"""


def init_app(app) -> None:
    from app.request_fields import display

    display.init_app(app)


def init_api(api) -> None:
    from app.request_fields import api as fields_api

    api.register_blueprint(fields_api.blp)
