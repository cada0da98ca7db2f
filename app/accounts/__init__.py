"""Accounts: passwords (hashing, rules, change, reset) and single-use links (invitation,
reset) sent by e-mail through the outbox; log out everywhere."""


def init_app(app) -> None:
    pass


def init_api(api) -> None:
    pass
