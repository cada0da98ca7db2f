"""Followers: a person may follow a request they can see and then hears of what happens to it
(its lifecycle and its comments) as an in-app notice and by their chosen channels, through the
one outbox (``app.notifications.notices``).

A follower who meanwhile lost sight of the request hears nothing, and internal notes reach only
followers who may read them. Someone already told of the same step (the requester, the worker,
someone mentioned) is told once: a follower's notice ranks below every other.
"""

from sqlalchemy import select

from app import policy
from app.conversation.models import Follower
from app.extensions import db
from app.models import ServiceRequest, User

# The notices about a request its followers hear of as well (the requester's lifecycle
# events, comments, and the request closing itself)
FOLLOWED = frozenset({
    "request.authorized", "request.rejected", "request.approved", "request.returned",
    "ticket.assigned", "ticket.started", "ticket.on_hold", "ticket.resumed", "ticket.finished",
    "ticket.reopened", "ticket.replanned", "request.comment", "ticket.comment",
    "request.mention",
})
EVENT = "request.followed"


def is_following(user: User, req: ServiceRequest) -> bool:
    return db.session.scalar(select(Follower.id).where(
        Follower.tenant_id == req.tenant_id, Follower.request_id == req.id,
        Follower.user_id == user.id)) is not None


def follow(user: User, req: ServiceRequest) -> bool:
    """``user`` follows ``req`` (True if they did not already); PermissionError if they may
    not see it."""
    if not policy.can_view_request(user, req):
        raise PermissionError("not visible")
    if is_following(user, req):
        return False
    db.session.add(Follower(tenant_id=req.tenant_id, request_id=req.id, user_id=user.id))
    db.session.flush()
    return True


def unfollow(user: User, req: ServiceRequest) -> bool:
    """``user`` stops following ``req`` (True if they followed it)."""
    row = db.session.scalar(select(Follower).where(
        Follower.tenant_id == req.tenant_id, Follower.request_id == req.id,
        Follower.user_id == user.id))
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def following_query(user: User):
    """The requests ``user`` follows and still may see, the latest followed first."""
    return (select(ServiceRequest)
            .join(Follower, (Follower.request_id == ServiceRequest.id)
                  & (Follower.tenant_id == ServiceRequest.tenant_id))
            .where(Follower.tenant_id == user.tenant_id, Follower.user_id == user.id,
                   policy.request_visibility(user))
            .order_by(Follower.id.desc()))


def followers_of(req: ServiceRequest) -> list[User]:
    """The active people following ``req`` who may still see it."""
    people = db.session.scalars(
        select(User).join(Follower, Follower.user_id == User.id)
        .where(Follower.tenant_id == req.tenant_id, Follower.request_id == req.id,
               User.tenant_id == req.tenant_id, User.active.is_(True))
        .order_by(User.name, User.id))
    return [person for person in people if policy.can_view_request(person, req)]


def notices_for(session, pending: list) -> list:
    """The followers' notices of the notices a step wrote (before it commits): for each
    followed notice about a request, one to each of its followers who may see it, and who may
    read it if it tells of an internal note. One query for the step's requests' followers."""
    from app.notifications.notices import Notice

    about = [n for n in pending if n.event in FOLLOWED and n.request is not None
             and n.request.id is not None]
    if not about:
        return []
    request_ids = sorted({n.request.id for n in about})
    rows = session.execute(select(Follower.request_id, User).join(
        User, User.id == Follower.user_id).where(
        Follower.request_id.in_(request_ids), User.active.is_(True),
        User.tenant_id == Follower.tenant_id)).all()
    if not rows:
        return []
    by_request: dict[int, list[User]] = {}
    for request_id, person in rows:
        by_request.setdefault(request_id, []).append(person)
    out = []
    for notice in about:
        req = notice.request
        internal = notice.cause is not None and notice.cause.internal
        allowed = policy.can_see_internal if internal else policy.can_view_request
        to = [p.id for p in by_request.get(req.id, []) if p.tenant_id == req.tenant_id
              and allowed(p, req)]
        if to:
            out.append(Notice(EVENT, req, to, actor=notice.actor, comment=notice.comment,
                              cause=notice.cause))
    return out
