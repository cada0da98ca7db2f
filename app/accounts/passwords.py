"""Passwords: hashing, the rules a new one must meet.

``UNUSABLE`` is the hash of a person who has no password yet (invited, not yet accepted):
nothing matches it, so they cannot log in until they set one through their link."""

UNUSABLE = "!"


def is_usable(password_hash: str | None) -> bool:
    """A hash some password can match (not UNUSABLE, not empty)."""
    return bool(password_hash) and not password_hash.startswith(UNUSABLE)
