"""Passwords: hashing, the rules a new one must meet.

``UNUSABLE`` is the hash of a person who has no password yet (invited, not yet accepted):
nothing matches it, so they cannot log in until they set one through their link.

New hashes are argon2id (``argon2-cffi``), with the cost of PASSWORD_HASH_TIME_COST,
PASSWORD_HASH_MEMORY_KIB and PASSWORD_HASH_PARALLELISM. Hashes written before (werkzeug's
``scrypt:`` and ``pbkdf2:``) still verify; ``needs_rehash`` tells the login to rewrite them,
and argon2 hashes of an older cost, with the current one.

``problems`` is the one check of a new password, wherever one is set (change, reset,
invitation, API): long enough, not too long, not the person's e-mail or name, and not one of
the most common passwords (the list shipped with the ``zxcvbn`` package, read when first
needed; see the README).
"""

import re
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash

UNUSABLE = "!"
MAX_LENGTH = 1024
_WERKZEUG_PREFIXES = ("scrypt:", "pbkdf2:")


def is_usable(password_hash: str | None) -> bool:
    """A hash some password can match (not UNUSABLE, not empty)."""
    return bool(password_hash) and not password_hash.startswith(UNUSABLE)


@lru_cache(maxsize=4)
def _hasher_of(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                          parallelism=parallelism, type=Type.ID)


def hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher_of(int(config.get("PASSWORD_HASH_TIME_COST", 3)),
                      int(config.get("PASSWORD_HASH_MEMORY_KIB", 65536)),
                      int(config.get("PASSWORD_HASH_PARALLELISM", 4)))


def hash_password(password: str) -> str:
    return hasher().hash(password)


@lru_cache(maxsize=4)
def _dummy_of(params: tuple) -> str:
    return _hasher_of(*params).hash("not a password")


def dummy_hash() -> str:
    """A hash of the current cost that no one's password is: checked against when there is no
    real one to check (an unknown e-mail, a person without a password), so every attempt costs
    the same one hash."""
    h = hasher()
    return _dummy_of((h.time_cost, h.memory_cost, h.parallelism))


def verify(password_hash: str | None, password: str) -> bool:
    """Does ``password`` match ``password_hash``? Never for UNUSABLE (the same work is done)."""
    password = str(password or "")
    if not is_usable(password_hash):
        _verify_argon2(dummy_hash(), password)
        return False
    if password_hash.startswith(_WERKZEUG_PREFIXES):
        return check_password_hash(password_hash, password)
    return _verify_argon2(password_hash, password)


def _verify_argon2(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str | None) -> bool:
    """A usable hash not made with argon2id at the current cost (to rewrite at login)."""
    if not is_usable(password_hash):
        return False
    if not password_hash.startswith("$argon2id$"):
        return True
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# -- rules of a new password ---------------------------------------------------------------------

@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The most common passwords (30,000, from leaked password lists), as zxcvbn ships them."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


_TAIL = re.compile(r"[\d\W_]+$")


def _is_common(password: str) -> bool:
    """The password, or it with digits and symbols added at its end ("dragon2024!"), is one of
    the most common ones."""
    lowered = password.lower()
    common = common_passwords()
    if lowered in common:
        return True
    base = _TAIL.sub("", lowered)
    return len(base) >= 4 and base in common


def _squash(text: str) -> str:
    """Lower case letters and digits only, accents dropped ("Gómez 1" -> "gomez1")."""
    plain = unicodedata.normalize("NFKD", text.lower())
    return re.sub(r"[\W_]+", "", "".join(c for c in plain if not unicodedata.combining(c)))


def min_length() -> int:
    return int(current_app.config.get("PASSWORD_MIN_LENGTH", 10))


def problems(password, *, email: str | None = None, name: str | None = None) -> list[str]:
    """What is wrong with ``password`` as a new password for the person with this e-mail and
    name, in the reader's language (empty: it may be used)."""
    if not isinstance(password, str) or not password:
        return [_("Type a password.")]
    shortest = min_length()
    if len(password) < shortest:
        return [_("Use at least %(num)d characters.", num=shortest)]
    if len(password) > MAX_LENGTH:
        return [_("Use at most %(num)d characters.", num=MAX_LENGTH)]
    personal = set()
    if email:
        personal |= {_squash(email), _squash(email.partition("@")[0])}
    if name:
        personal |= {_squash(name)} | {_squash(part) for part in name.split()}
    personal = {word for word in personal if len(word) >= 4}
    base = _squash(_TAIL.sub("", password.lower()))
    if _squash(password) in personal or base in personal:
        return [_("Do not use your e-mail address or your name as your password.")]
    if _is_common(password):
        return [_("This password is one of the most common ones; choose another.")]
    return []

