"""The account e-mails' wording, in Spanish and English: (subject, text). Placeholders are
``str.format`` names filled with the message's values; the HTML is made from the text (its
values escaped). The product's own wording: tenants do not rewrite it."""

LOCALES = ("es", "en")

_ES = {
    "account.invite": (
        "{inviter} le invita a {tenant_name}",
        "Hola {recipient_name}:\n\nPara entrar en la mesa de servicios de {tenant_name}, a la "
        "que le invitó {inviter}, elija su contraseña en este enlace:\n\n{link}\n\n"
        "El enlace sirve una sola vez y vence el {expires}. Si vence, pida otra invitación a "
        "quien le invitó.\n\nSi no esperaba esta invitación, ignore este mensaje.",
    ),
    "account.reset": (
        "Restablecer su contraseña de {tenant_name}",
        "Hola {recipient_name}:\n\nAlguien (probablemente usted) pidió restablecer la "
        "contraseña de su cuenta en la mesa de servicios de {tenant_name}; para elegir una "
        "nueva, abra este enlace:\n\n{link}\n\nEl enlace sirve una sola vez y vence el "
        "{expires}.\n\nSi no lo pidió usted, ignore este mensaje: su contraseña no cambia.",
    ),
}

_EN = {
    "account.invite": (
        "{inviter} invites you to {tenant_name}",
        "Hello {recipient_name},\n\nTo come into the service desk of {tenant_name}, where "
        "{inviter} invited you, choose your password at this link:\n\n{link}\n\n"
        "The link works once and expires on {expires}. If it expires, ask whoever invited "
        "you for a new invitation.\n\nIf you did not expect this invitation, ignore this "
        "message.",
    ),
    "account.reset": (
        "Reset your password for {tenant_name}",
        "Hello {recipient_name},\n\nSomeone (probably you) asked to reset the password of "
        "your account on the service desk of {tenant_name}; to choose a new one, open this "
        "link:\n\n{link}\n\nThe link works once and expires on {expires}.\n\nIf you did not "
        "ask for it, ignore this message: your password does not change.",
    ),
}

BUTTON = {"es": {"account.invite": "Elegir mi contraseña",
                 "account.reset": "Elegir una contraseña nueva"},
          "en": {"account.invite": "Choose my password",
                 "account.reset": "Choose a new password"}}
FOOTER = {"es": "Recibe este mensaje porque se pidió para esta dirección. No lo reenvíe: el "
                "enlace da acceso a su cuenta.",
          "en": "You receive this message because it was asked for this address. Do not "
                "forward it: the link gives access to your account."}
# Who invited, when no person did (the operators' command line)
NOBODY = {"es": "El equipo de la mesa de servicios", "en": "The service desk team"}

_ALL = {"es": _ES, "en": _EN}


def wording(event: str, locale: str) -> tuple[str, str]:
    return _ALL[locale if locale in _ALL else LOCALES[0]][event]
