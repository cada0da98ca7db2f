"""Accounts: passwords (hashing, rules, change, reset) and single-use links (invitation,
reset) sent by e-mail through the outbox; log out everywhere.

- ``passwords``: hashing (argon2id; older hashes upgraded at login) and the rules of a new one;
- ``links``: single-use links whose token is stored nowhere (only its SHA-256);
- ``invitations``: ``invite(user, invited_by)`` and ``accepted(user)``, for the People page;
- ``resets``: "forgot password", throttled and silent about which addresses exist;
- ``mail`` and ``wording``: their e-mails, in the one outbox, in Spanish and English;
- ``views`` (pages) and ``api`` (/api/v1/me/..., /api/v1/password-resets).
"""


def init_app(app) -> None:
    from app.accounts import views

    app.register_blueprint(views.bp)


def init_api(api) -> None:
    from app.accounts import api as accounts_api

    api.register_blueprint(accounts_api.blp)
