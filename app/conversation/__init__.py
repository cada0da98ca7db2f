"""Conversation and followers: public comments and internal notes, canned responses, mentions,
and the followers of a request.

- ``comments``: a comment (public, or an internal note for the service unit's people only),
  its mentions and notices; every reader of the history gets internal notes only through
  ``policy.can_see_internal`` (``app.services.history``);
- ``mentions``: ``@e-mail`` (or a chosen person) among those who may see the request;
- ``canned``: canned responses per company and service unit, rendered in the one sandbox of
  tenant-written text (``app.notifications.sandbox``);
- ``followers``: follow / unfollow, and the followers' notices (added to every step's notices
  by ``app.notifications.notices``);
- ``models``, ``views`` (buttons and partials on the request page, admin pages), ``api``.
"""


def init_app(app) -> None:
    from app.conversation import views

    views.init_app(app)


def init_api(api) -> None:
    from app.conversation import api as conversation_api

    api.register_blueprint(conversation_api.blp)
