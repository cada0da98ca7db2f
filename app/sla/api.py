"""/api/v1/admin/sla (being written)."""


def init_api(api) -> None:
    return None
