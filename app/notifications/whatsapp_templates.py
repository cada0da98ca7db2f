"""Which approved WhatsApp template a tenant sends for each event.

WhatsApp lets a business start a conversation only with a template Meta approved for its
account; each tenant names its own, per event: the template's name, its language code and the
notice's values that fill its body's parameters, in order. Kept in the tenant's settings as
``whatsapp_templates = {event: {"name", "language", "parameters"}}``.
"""

import re

from flask_babel import gettext as _

from app.models import Tenant
from app.notifications.sandbox import VARIABLES

NAME = re.compile(r"^[a-z0-9_]{1,512}$")          # Meta's rule for template names
LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")  # es, en_US, pt_BR...
MAX_PARAMETERS = 10


def template_for(tenant: Tenant, event: str) -> dict | None:
    chosen = ((tenant.settings or {}).get("whatsapp_templates") or {}).get(event)
    return chosen if chosen and chosen.get("name") else None


def clean(value: dict) -> dict:
    """A template choice as stored, or ValueError saying what is wrong."""
    name = str(value.get("name") or "").strip()
    language = str(value.get("language") or "").strip()
    parameters = [str(p).strip() for p in value.get("parameters") or [] if str(p).strip()]
    if not NAME.match(name):
        raise ValueError(_("A WhatsApp template name has lowercase letters, digits and _ only."))
    if not LANGUAGE.match(language):
        raise ValueError(_("Give the template's language code, such as es or en_US."))
    if len(parameters) > MAX_PARAMETERS:
        raise ValueError(_("At most %(n)s parameters.", n=MAX_PARAMETERS))
    unknown = [p for p in parameters if p not in VARIABLES]
    if unknown:
        raise ValueError(_("Unknown values: %(names)s. Available: %(all)s.",
                           names=", ".join(unknown), all=", ".join(VARIABLES)))
    return {"name": name, "language": language, "parameters": parameters}
