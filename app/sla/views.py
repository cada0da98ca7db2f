"""Pages under /sla (being written)."""


def init_app(app) -> None:
    return None
