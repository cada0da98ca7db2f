"""Kinds of work: what a process handles (a request for service, an incident, a change, a
security incident), written in its diagram, stored on each version at deploy and copied to
each request when it is filed, so that lists, filters, indicators, exports and the API can show
and narrow by it. Constants only: the engine, the models and the pages all import it."""

KINDS = ("request", "incident", "change", "security_incident")
DEFAULT_KIND = "request"
# The process-level property of the diagram that names it
KIND_PROPERTY = "kind"
